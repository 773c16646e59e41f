"""The Django admin: every record of the lab, and actions that go through the services.

What the workers own (status, progress, heartbeats, results) is read-only here: jobs,
evaluations, predictions and regrades open as read-only pages, and data sets edit only
their name and visibility. Actions cancel, re-run and rebuild through the same services
and model methods as the lab's pages, and each says what it did and what it skipped.
"""

import json
from collections import Counter

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .i18n import describe
from .ml.messages import Refusal
from .models import (
    Assignment,
    Course,
    Dataset,
    Enrollment,
    EpochMetric,
    Evaluation,
    JobStatus,
    LoginAddress,
    LoginFailure,
    Prediction,
    Profile,
    Regrade,
    TrainingJob,
)
from .ratelimit import RateLimitedAdminAuthenticationForm
from .roles import role_of
from .templatetags.lab import percent, seconds

# The admin's own log-in page counts failures with the lab's page, so it is no way
# around the login rate limits.
admin.site.login_form = RateLimitedAdminAuthenticationForm

#: What the worker writes on every kind of job.
JOB_STATE_FIELDS = (
    "status",
    "error_text",
    "attempts",
    "cancel_requested",
    "created_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "dispatched_at",
)


def column(path, description, ordering=None):
    """A list column showing ``obj.<path>`` (dotted), under a translated heading."""

    def value(obj):
        for name in path.split("."):
            obj = getattr(obj, name) if obj is not None else None
        return "–" if obj is None else obj

    value.__name__ = path.replace(".", "_")
    return admin.display(description=description, ordering=ordering)(value)


OWNER = column("owner.username", _("owner"), "owner__username")


class CharacterSearchMixin:
    """Search that also finds characters in the JSON lists named by ``char_search_fields``.

    JSON may be stored with Hangul escaped (SQLite keeps ``"\\uac00"``), so each word is
    looked for as typed and as JSON writes it.
    """

    char_search_fields = ()

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not self.char_search_fields or not search_term.strip():
            return found, may_have_duplicates
        in_lists = Q()
        for word in search_term.split():
            escaped = json.dumps(word)[1:-1]
            for name in self.char_search_fields:
                in_lists |= Q(**{f"{name}__icontains": word})
                in_lists |= Q(**{f"{name}__icontains": escaped})
        return found | queryset.filter(in_lists), may_have_duplicates


class JobAdmin(CharacterSearchMixin, admin.ModelAdmin):
    """What every job's admin shares: state columns, read-only pages and cancelling.

    Rows are made by the lab's pages and commands, never here; their pages are read-only,
    while the changelist keeps its actions.
    """

    date_hierarchy = "created_at"
    actions = ("cancel_selected",)
    #: Whether a running job of this kind notices a cancel request (a training job or a
    #: data set build does, between batches or files); others can only be cancelled queued.
    stops_when_running = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        # A running job's worker still writes into the job's folder: cancel it first.
        # (Django's bulk delete asks this for every row, so it refuses a selection
        # holding a running job, and lists it.)
        running = obj is not None and obj.status == JobStatus.RUNNING
        return not running and super().has_delete_permission(request, obj)

    @admin.display(description=_("error"))
    def error_text(self, obj):
        return obj.error_text

    @admin.display(description=_("duration"))
    def duration_text(self, obj):
        return seconds(obj.duration)

    def cancel_refusal(self, obj):
        """Why ``obj`` may not be cancelled, or None."""
        if obj.is_terminal:
            return _("already finished")
        if obj.status == JobStatus.RUNNING and not self.stops_when_running:
            return _("it is running and cannot be stopped; it finishes on its own")
        return None

    @admin.action(description=_("Cancel the selected jobs"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        cancelled = stopping = 0
        skipped = Counter()
        for obj in queryset:
            refusal = self.cancel_refusal(obj)
            if refusal:
                skipped[str(refusal)] += 1
                continue
            running = obj.status == JobStatus.RUNNING
            if not obj.request_cancel():
                skipped[str(_("already finished"))] += 1
            elif running:
                stopping += 1
            else:
                cancelled += 1
        done = []
        if cancelled:
            done.append(
                ngettext("Cancelled %(n)d queued job.", "Cancelled %(n)d queued jobs.", cancelled)
                % {"n": cancelled}
            )
        if stopping:
            done.append(
                ngettext(
                    "Asked %(n)d running job to stop; it stops at its next check.",
                    "Asked %(n)d running jobs to stop; they stop at their next check.",
                    stopping,
                )
                % {"n": stopping}
            )
        report(self, request, done, skipped)


def report(model_admin, request, done, skipped, failures=()):
    """One message for what an action did, one for what it skipped and why."""
    if done:
        model_admin.message_user(request, " ".join(done), messages.SUCCESS)
    lines = [
        _("Skipped %(n)d: %(reason)s.") % {"n": n, "reason": reason}
        for reason, n in skipped.items()
    ]
    lines += failures
    if lines:
        model_admin.message_user(request, " ".join(str(line) for line in lines), messages.WARNING)
    if not done and not lines:
        model_admin.message_user(request, _("Nothing was selected."), messages.WARNING)


# --- Data sets ---------------------------------------------------------------------------


CREATED_BY = column("created_by.username", _("created by"), "created_by__username")


@admin.register(Dataset)
class DatasetAdmin(JobAdmin):
    list_display = (
        "name",
        "source",
        "status",
        "size_label",
        "characters",
        "num_samples",
        CREATED_BY,
        "created_at",
        "duration_text",
    )
    list_filter = ("status", "source", "is_hidden")
    list_select_related = ("created_by",)
    search_fields = ("name", "created_by__username")
    char_search_fields = ("classes",)
    actions = ("cancel_selected", "rebuild_selected")
    stops_when_running = True
    fields = (
        "name",
        "is_hidden",
        "hidden_test",
        "source",
        "size_label",
        "classes",
        "counts",
        "group_names",
        "num_samples",
        "created_by",
        "params",
        *JOB_STATE_FIELDS,
        "files_total",
        "files_done",
        "samples_done",
        "samples_per_second",
    )
    readonly_fields = tuple(f for f in fields if f not in ("name", "is_hidden"))

    def has_change_permission(self, request, obj=None):
        # Its name and whether students see it are the admin's to change.
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    @admin.display(description=_("size"))
    def size_label(self, obj):
        return obj.size_label

    @admin.display(description=_("characters"))
    def characters(self, obj):
        shown = " ".join(obj.classes[:10])
        return f"{len(obj.classes)} · {shown}{' …' if len(obj.classes) > 10 else ''}"

    @admin.action(
        description=_("Rebuild the selected data sets from their sources"), permissions=["change"]
    )
    def rebuild_selected(self, request, queryset):
        queued, refusals = [], []
        for dataset in queryset:
            try:
                services.rebuild_dataset(dataset)
            except Refusal as exc:
                refusals.append(describe(exc))
            else:
                queued.append(dataset.name)
        done = []
        if queued:
            done.append(
                ngettext(
                    "Queued %(n)d rebuild: %(names)s.",
                    "Queued %(n)d rebuilds: %(names)s.",
                    len(queued),
                )
                % {"n": len(queued), "names": ", ".join(queued)}
            )
        report(self, request, done, Counter(), refusals)

    def delete_model(self, request, obj):
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        # Through the service: a build in progress is kept, and says so.
        for dataset in queryset:
            try:
                services.delete_dataset(dataset)
            except Refusal as exc:
                self.message_user(request, f"{dataset.name}: {describe(exc)}", messages.ERROR)


# --- Training ----------------------------------------------------------------------------


class EpochMetricInline(admin.TabularInline):
    model = EpochMetric
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "epoch_number",
        "loss_value",
        "accuracy_value",
        "val_loss_value",
        "val_accuracy_value",
        "epoch_seconds",
    )

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("epoch"))
    def epoch_number(self, metric):
        return metric.epoch

    @admin.display(description=_("loss"))
    def loss_value(self, metric):
        return f"{metric.loss:.4f}"

    @admin.display(description=_("accuracy"))
    def accuracy_value(self, metric):
        return percent(metric.accuracy)

    @admin.display(description=_("validation loss"))
    def val_loss_value(self, metric):
        return "–" if metric.val_loss is None else f"{metric.val_loss:.4f}"

    @admin.display(description=_("validation accuracy"))
    def val_accuracy_value(self, metric):
        return percent(metric.val_accuracy)

    @admin.display(description=_("time"))
    def epoch_seconds(self, metric):
        return seconds(metric.seconds)


@admin.register(TrainingJob)
class TrainingJobAdmin(JobAdmin):
    list_display = (
        "__str__",
        OWNER,
        "dataset",
        "status",
        "epochs_text",
        "val_accuracy_text",
        "best_val_accuracy_text",
        "created_at",
        "duration_text",
    )
    list_filter = ("status", ("dataset", admin.RelatedOnlyFieldListFilter), "optimizer")
    list_select_related = ("owner", "dataset")
    search_fields = ("owner__username", "dataset__name", "model_spec")
    char_search_fields = ("chars",)
    actions = ("cancel_selected", "rerun_selected")
    stops_when_running = True
    inlines = (EpochMetricInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "owner",
                    "dataset",
                    "chars",
                    "model_spec",
                    "param_count",
                    "optimizer",
                    "learning_rate",
                    "epochs",
                    "batch_size",
                    "seed",
                    "split",
                )
            },
        ),
        (_("Progress"), {"fields": (*JOB_STATE_FIELDS, "epochs_done", "resumed_from_epoch")}),
        (
            _("Results"),
            {
                "fields": (
                    "train_accuracy",
                    "val_accuracy",
                    "val_loss",
                    "best_val_accuracy",
                    "per_class_accuracy",
                    "split_summary",
                )
            },
        ),
    )
    readonly_fields = JOB_STATE_FIELDS

    @admin.display(description=_("epochs"))
    def epochs_text(self, job):
        return f"{job.epochs_done}/{job.epochs}"

    @admin.display(description=_("validation accuracy"), ordering="val_accuracy")
    def val_accuracy_text(self, job):
        return percent(job.val_accuracy)

    @admin.display(description=_("best validation accuracy"), ordering="best_val_accuracy")
    def best_val_accuracy_text(self, job):
        return percent(job.best_val_accuracy)

    @admin.action(
        description=_("Run the selected jobs again (a new job for the same student)"),
        permissions=["change"],
    )
    def rerun_selected(self, request, queryset):
        created, refusals = [], []
        for job in queryset.select_related("dataset", "owner"):
            try:
                created.append(services.rerun_training_job(job))
            except Refusal as exc:
                refusals.append(describe(exc))
        done = []
        if created:
            pairs = ", ".join(f"#{new.pk} ({new.owner.username})" for new in created)
            done.append(
                ngettext(
                    "Queued %(n)d new job: %(jobs)s.",
                    "Queued %(n)d new jobs: %(jobs)s.",
                    len(created),
                )
                % {"n": len(created), "jobs": pairs}
            )
        report(self, request, done, Counter(), refusals)


@admin.register(Evaluation)
class EvaluationAdmin(JobAdmin):
    list_display = (
        "__str__",
        column("job.owner.username", _("owner"), "job__owner__username"),
        column("dataset", _("data set"), "dataset__name"),
        "hidden_test",
        "status",
        "accuracy_text",
        "samples",
        "created_at",
        "duration_text",
    )
    list_filter = (
        "status",
        ("dataset", admin.RelatedOnlyFieldListFilter),
        "hidden",
    )
    list_select_related = ("job__owner", "job__dataset", "dataset")
    search_fields = ("job__owner__username", "dataset__name", "job__model_spec")
    readonly_fields = JOB_STATE_FIELDS

    @admin.display(description=_("hidden test"), boolean=True, ordering="hidden")
    def hidden_test(self, evaluation):
        return evaluation.hidden

    @admin.display(description=_("accuracy"), ordering="accuracy")
    def accuracy_text(self, evaluation):
        return percent(evaluation.accuracy)

    @admin.display(description=_("samples"), ordering="n")
    def samples(self, evaluation):
        return evaluation.n


# --- Handwriting: predictions, submissions, regrades ------------------------------------


ASSIGNMENT = column("assignment", _("assignment"), "assignment__title")


class PredictionKindFilter(admin.SimpleListFilter):
    """Submissions to assignments, or predictions made on the Predict page."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return (("submission", _("Submissions")), ("free", _("Predictions")))

    def queryset(self, request, queryset):
        if self.value() == "submission":
            return queryset.filter(assignment__isnull=False)
        if self.value() == "free":
            return queryset.filter(assignment__isnull=True)
        return queryset


@admin.register(Prediction)
class PredictionAdmin(JobAdmin):
    """Every prediction; the "kind" filter shows the submissions to assignments alone."""

    list_display = (
        "__str__",
        OWNER,
        "model",
        ASSIGNMENT,
        "expected",
        "predicted",
        "confidence_text",
        "correct_mark",
        "verdict_text",
        "late",
        "status",
        "created_at",
        "duration_text",
    )
    list_filter = (
        PredictionKindFilter,
        "status",
        ("assignment__course", admin.RelatedOnlyFieldListFilter),
        ("assignment", admin.RelatedOnlyFieldListFilter),
        "source",
        "late",
        "doubtful",
        "teacher_verdict",
    )
    list_select_related = ("owner", "model__dataset", "assignment")
    search_fields = (
        "owner__username",
        "expected",
        "predicted",
        "assignment__title",
        "original_name",
    )
    # Verdicts are the teacher's, given on the submission's page, which records who and when.
    readonly_fields = (
        *JOB_STATE_FIELDS,
        "doubtful",
        "teacher_verdict",
        "teacher_comment",
        "reviewed_by",
        "reviewed_at",
    )

    @admin.display(description=_("verdict"))
    def verdict_text(self, prediction):
        return prediction.verdict_label if prediction.assignment_id else "–"

    @admin.display(description=_("confidence"), ordering="confidence")
    def confidence_text(self, prediction):
        return percent(prediction.confidence)

    @admin.display(description=_("correct"), boolean=True)
    def correct_mark(self, prediction):
        return prediction.correct

    def cancel_refusal(self, prediction):
        if prediction.assignment_id is not None and not prediction.is_terminal:
            # A cancelled submission would stand in the gradebook as pending, using an
            # attempt; it is graded instead.
            return _("a submission is graded, not cancelled")
        return super().cancel_refusal(prediction)


@admin.register(Regrade)
class RegradeAdmin(JobAdmin):
    list_display = (
        ASSIGNMENT,
        column("assignment.course", _("course"), "assignment__course__name"),
        column("grader", _("grading model")),
        column("requested_by.username", _("requested by"), "requested_by__username"),
        "status",
        "progress",
        "created_at",
        "duration_text",
    )
    list_filter = ("status", ("assignment__course", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("assignment__course", "grader__dataset", "requested_by")
    search_fields = ("assignment__title", "assignment__course__name", "requested_by__username")
    readonly_fields = JOB_STATE_FIELDS
    # A queued regrade has already made its model the assignment's grader; cancelling it
    # would leave the submissions graded by the old one.
    actions = ()

    @admin.display(description=_("graded"))
    def progress(self, regrade):
        return f"{regrade.done}/{regrade.total}"


# --- Courses -----------------------------------------------------------------------------


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    fields = ("student", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("student",)
    verbose_name = _("student")
    verbose_name_plural = _("students")


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "join_code", "student_count", "assignment_count", "created_at")
    list_filter = (("owner", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("owner",)
    search_fields = ("name", "owner__username", "join_code", "enrollments__student__username")
    date_hierarchy = "created_at"
    autocomplete_fields = ("owner", "co_instructors", "published_models")
    inlines = (EnrollmentInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_students=Count("enrollments", distinct=True),
                n_assignments=Count("assignments", distinct=True),
            )
        )

    @admin.display(description=_("students"), ordering="n_students")
    def student_count(self, course):
        return course.n_students

    @admin.display(description=_("assignments"), ordering="n_assignments")
    def assignment_count(self, course):
        return course.n_assignments


@admin.register(Assignment)
class AssignmentAdmin(CharacterSearchMixin, admin.ModelAdmin):
    list_display = (
        "title",
        column("course", _("course"), "course__name"),
        "characters",
        "grader",
        "due_at",
        "attempts_allowed",
        "accept_late",
        "submission_count",
    )
    list_filter = (("course", admin.RelatedOnlyFieldListFilter), "grade_policy", "accept_late")
    list_select_related = ("course", "grader__dataset")
    search_fields = ("title", "course__name", "course__owner__username")
    char_search_fields = ("chars",)
    date_hierarchy = "due_at"
    autocomplete_fields = ("course", "grader")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_submissions=Count("submissions"))

    def save_model(self, request, assignment, form, change):
        super().save_model(request, assignment, form, change)
        if change and "review_below" in form.changed_data:
            # Verdicts already given follow the new threshold, as new ones will.
            services.refresh_doubts(assignment)

    @admin.display(description=_("target characters"))
    def characters(self, assignment):
        return " ".join(assignment.chars)

    @admin.display(description=_("submissions"), ordering="n_submissions")
    def submission_count(self, assignment):
        return assignment.n_submissions


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Who is being slowed down, and from where; lifting a wait forgets the failures of
    the selected rows' usernames from their addresses at once."""

    list_display = ("username", "address", "at")
    search_fields = ("username", "address")
    date_hierarchy = "at"
    actions = ("lift_waits",)

    def has_add_permission(self, request):
        return False  # failures are counted by the log-in pages, never made up

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Lift the wait: forget these usernames' failures"))
    def lift_waits(self, request, queryset):
        usernames = set(queryset.values_list("username", flat=True))
        lifted, _kinds = LoginFailure.objects.filter(username__in=usernames).delete()
        self.message_user(
            request,
            ngettext(
                "Forgot %(n)d failed log-in of %(users)s.",
                "Forgot %(n)d failed log-ins of %(users)s.",
                lifted,
            )
            % {"n": lifted, "users": ", ".join(sorted(usernames))},
        )


@admin.register(LoginAddress)
class LoginAddressAdmin(admin.ModelAdmin):
    """The addresses each account logged in from, where others' failures do not slow it;
    deleting a row makes the address a stranger to the account again."""

    list_display = ("user", "address", "last_at")
    search_fields = ("user__username", "address")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


# The lab's User admin: Django's, with the real name and student number, and the roles as
# list actions (the lab's People page does the same).
admin.site.unregister(User)


@admin.register(User)
class LabUserAdmin(UserAdmin):
    inlines = (ProfileInline,)
    list_display = (*UserAdmin.list_display, "role")
    search_fields = (*UserAdmin.search_fields, "profile__real_name", "profile__student_number")
    actions = ("make_instructors", "make_students")

    @admin.display(description=_("role"))
    def role(self, user):
        return role_of(user)

    @admin.action(description=_("Make the selected users instructors"))
    def make_instructors(self, request, queryset):
        self._set_role(request, queryset, instructor=True)

    @admin.action(description=_("Make the selected users students"))
    def make_students(self, request, queryset):
        self._set_role(request, queryset, instructor=False)

    def _set_role(self, request, queryset, *, instructor):
        changed = 0
        for user in queryset:
            try:
                services.set_instructor(user, instructor)
            except Refusal as exc:
                self.message_user(request, describe(exc), messages.WARNING)
            else:
                changed += 1
        self.message_user(
            request,
            ngettext("%(n)d user changed.", "%(n)d users changed.", changed) % {"n": changed},
        )
