"""Course forms: creating and joining courses, publishing models, assignments, regrades,
and data sets made of the handwriting students submitted."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..i18n import describe
from ..ids import parse_ids
from ..ml import charsets
from ..ml.messages import Refusal
from ..models import (
    Assignment,
    Course,
    Dataset,
    JobStatus,
    Prediction,
    TrainingJob,
    dataset_name_validator,
)
from ..services.courses import check_grader, graders_for
from .handwriting import ModelChoice

# What a datetime-local input sends and expects back.
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ("name",)


class JoinCourseForm(forms.Form):
    code = forms.CharField(
        label=_("Join code"),
        max_length=32,
        help_text=_("The code your instructor gave you, for example K7QW3MZP."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class PublishModelForm(forms.Form):
    """A finished model the instructor may act on (their own, their students'), not yet
    published to ``course``."""

    job = ModelChoice(label=_("Model"), queryset=TrainingJob.objects.none())

    def __init__(self, *args, course: Course, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["job"].queryset = (
            TrainingJob.actionable_by(user)
            .filter(status=JobStatus.SUCCEEDED)
            .exclude(pk__in=course.published_models.values("pk"))
        )


class AssignmentForm(forms.ModelForm):
    """A new assignment of ``course``, graded by one of the models published to it."""

    chars = forms.CharField(
        label=_("Target characters"),
        max_length=1000,
        help_text=_(
            "The syllables to write, for example 라 호 댜 밟. The grading model must know each."
        ),
    )
    grader = ModelChoice(label=_("Grading model"), queryset=TrainingJob.objects.none())
    due_at = forms.DateTimeField(
        label=_("Due"),
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    attempts_allowed = forms.IntegerField(
        label=_("Attempts per character"), min_value=1, max_value=20, initial=3
    )
    # In percent, as the lab shows every confidence; stored as a share.
    review_below = forms.FloatField(
        label=_("Review answers less sure than (%)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_(
            "An answer read as another character with less confidence than this "
            "goes to your review instead of being marked incorrect, as does one whose "
            "character is among the model's best three. Empty: the grading model's "
            "own threshold, from how right it was on its validation data."
        ),
    )

    class Meta:
        model = Assignment
        fields = (
            "title",
            "instructions",
            "chars",
            "grader",
            "due_at",
            "attempts_allowed",
            "grade_policy",
            "review_below",
            "accept_late",
        )
        widgets = {
            "instructions": forms.Textarea(attrs={"rows": 4}),
            "grade_policy": forms.RadioSelect,
        }

    def __init__(self, *args, course: Course, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.course = course
        self.fields["grader"].queryset = graders_for(course).select_related("dataset", "owner")
        if self.instance.chars:
            self.initial["chars"] = " ".join(self.instance.chars)
        if self.instance.review_below is not None:
            self.initial["review_below"] = round(100 * self.instance.review_below, 2)
        self.fields["grade_policy"].required = False
        if not self.instance.pk:
            due = timezone.localtime() + timedelta(days=7)
            self.initial.setdefault("due_at", due.replace(second=0, microsecond=0))

    def clean_grade_policy(self):
        # A form sent without it (an older page, a script) keeps the default: the best.
        return self.cleaned_data["grade_policy"] or Assignment.GradePolicy.BEST

    def clean_review_below(self):
        percent = self.cleaned_data["review_below"]
        return None if percent is None else percent / 100

    def clean_chars(self):
        try:
            return charsets.parse_chars(self.cleaned_data["chars"])
        except Refusal as exc:
            raise forms.ValidationError(describe(exc)) from None

    def clean(self):
        cleaned = super().clean()
        chars, grader = cleaned.get("chars"), cleaned.get("grader")
        if chars and grader:
            try:
                check_grader(grader, chars)
            except Refusal as exc:
                self.add_error("chars", describe(exc))
        return cleaned


class VerdictForm(forms.Form):
    """The teacher's verdict on a submission, and a comment the student sees."""

    verdict = forms.ChoiceField(
        label=_("Verdict"),
        required=False,
        widget=forms.RadioSelect,
        choices=[
            ("correct", _("Correct")),
            ("incorrect", _("Incorrect")),
            ("", _("The model's verdict")),
        ],
    )
    comment = forms.CharField(
        label=_("Comment for the student"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RosterForm(forms.Form):
    roster = forms.FileField(
        label=_("Roster (CSV)"),
        help_text=_(
            "One student a row: username, real name, student number (a header row "
            "is fine). Each is enrolled in the course, and their name and number "
            "are set."
        ),
    )


class CoInstructorForm(forms.Form):
    username = forms.CharField(label=_("Instructor's username"), max_length=150)


class RegradeForm(forms.Form):
    grader = ModelChoice(label=_("Grade again with"), queryset=TrainingJob.objects.none())

    def __init__(self, *args, assignment: Assignment, **kwargs):
        kwargs.setdefault("initial", {"grader": assignment.grader_id})
        super().__init__(*args, **kwargs)
        self.fields["grader"].queryset = graders_for(assignment.course).select_related(
            "dataset", "owner"
        )
        self.assignment = assignment

    def clean_grader(self):
        grader = self.cleaned_data["grader"]
        try:
            check_grader(grader, self.assignment.chars)
        except Refusal as exc:
            raise forms.ValidationError(describe(exc)) from None
        return grader


class AssignmentChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, assignment):
        return f"{assignment.course} · {assignment.title} · {' '.join(assignment.chars)}"


class HandwritingDatasetForm(forms.Form):
    """A data set made of the graded submissions to some of the instructor's assignments."""

    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        validators=[dataset_name_validator],
        help_text=_("Letters, digits, dots, hyphens and underscores."),
    )
    assignments = AssignmentChoice(
        label=_("Assignments"),
        queryset=Assignment.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Every verified answer becomes a sample, labelled with its character: "
            "one the model read right, or one you accepted. Each student is a "
            "sample group, named writer-1, writer-2 ..."
        ),
    )
    #: Verified answers the teacher leaves out, ticked on the samples grid.
    exclude = forms.ModelMultipleChoiceField(
        queryset=Prediction.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    hidden = forms.BooleanField(
        label=_("Hidden from students"),
        required=False,
        initial=True,
        help_text=_(
            "Students see their classmates' handwriting only if you clear this. "
            "Keep it hidden for a leaderboard test set."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignments"].queryset = Assignment.visible_to(user).select_related("grader")
        self.fields["exclude"].queryset = Prediction.objects.filter(
            assignment__in=self.fields["assignments"].queryset
        )

    def chosen_assignments(self) -> list[Assignment]:
        """The assignments ticked (as sent, or as first offered), for the samples grid."""
        picked = parse_ids(self["assignments"].value() or [])
        return list(self.fields["assignments"].queryset.filter(pk__in=picked))

    def clean_name(self):
        name = self.cleaned_data["name"]
        if Dataset.objects.filter(name=name).exists():
            raise forms.ValidationError(_("A data set with this name already exists."))
        return name
