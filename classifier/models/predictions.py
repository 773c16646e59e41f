"""Predictions: a photo or a drawing classified by a trained model, graded or not."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ..i18n import translate
from ..roles import is_admin
from .base import Job, JobStatus
from .courses import Assignment, Course
from .training import TrainingJob

TOP_K = 5

#: How long after its answer a prediction's saliency maps are waited for: the predict
#: worker draws them right after answering (tens of milliseconds, more behind a queue of
#: other answers); past this, a worker stopped before drawing them, and none come.
EXPLANATION_PATIENCE = timedelta(seconds=60)


def top_characters(classes, probabilities) -> list[tuple[str, float]]:
    """The ``TOP_K`` most probable of ``classes``, most probable first: what a prediction
    and a live reading list."""
    ranked = sorted(zip(classes, probabilities, strict=True), key=lambda p: -p[1])
    return ranked[:TOP_K]


class ExplanationState(models.TextChoices):
    """Where a prediction's saliency maps are (``Prediction.explanation_state``)."""

    READY = "ready", pgettext_lazy("saliency maps", "ready")
    PENDING = "pending", pgettext_lazy("saliency maps", "being drawn")
    FAILED = "failed", pgettext_lazy("saliency maps", "could not be drawn")
    NONE = "none", pgettext_lazy("saliency maps", "none")


class Verdict(models.TextChoices):
    """What a submission is judged: by its model, or by the teacher (correct, incorrect)."""

    CORRECT = "correct", _("correct")
    INCORRECT = "incorrect", _("incorrect")
    REVIEW = "review", _("needs review")
    PENDING = "pending", _("pending")
    FAILED = "failed", _("failed")


#: What a teacher decides: the one choice set of the model field, the form and the API.
TEACHER_VERDICTS = [(v.value, v.label) for v in (Verdict.CORRECT, Verdict.INCORRECT)]


class Prediction(Job):
    """One image classified by ``model`` (the ``predict`` queue).

    A prediction made for an assignment is a submission: ``expected`` is its target
    character, and it is correct when the model's top-1 character is that one. Its
    files (the original upload and each preprocessing step, the last of which is the
    model's input) live in ``file_dir``.
    """

    task_name = "classifier.tasks.predict"

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Photo")
        CANVAS = "canvas", _("Drawing")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="predictions",
        verbose_name=_("owner"),
    )
    model = models.ForeignKey(
        TrainingJob, on_delete=models.CASCADE, related_name="predictions", verbose_name=_("model")
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    original_name = models.CharField(_("uploaded file name"), max_length=255, blank=True)
    #: File name of the stored upload inside ``file_dir``.
    original_file = models.CharField(_("stored file"), max_length=40)
    #: The preprocessing steps shown, as [key, title] pairs (the title as
    #: ``i18n.stored_message`` keeps it); images are ``step-<key>.png``.
    steps = models.JSONField(_("preprocessing steps"), default=list, blank=True)
    expected = models.CharField(_("expected character"), max_length=1, blank=True)
    #: The model's characters when it predicted, in the order of ``probabilities``.
    classes = models.JSONField(_("characters"), default=list, blank=True)
    probabilities = models.JSONField(_("probabilities"), default=list, blank=True)
    predicted = models.CharField(_("predicted"), max_length=1, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)

    # Submissions to an assignment.
    assignment = models.ForeignKey(
        Assignment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="submissions",
        verbose_name=_("assignment"),
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=0)
    late = models.BooleanField(_("late"), default=False)
    #: The bytes of its files (the upload and its steps), counted against its owner's
    #: storage quota (``services.storage``).
    stored_bytes = models.PositiveBigIntegerField(_("stored bytes"), default=0)
    #: Read as another character, but doubtfully (``services.grading.is_doubtful``, with
    #: the threshold in force when it was graded): the teacher decides.
    doubtful = models.BooleanField(_("needs review"), default=False)
    # The teacher's verdict, which outranks the model's; no regrade touches it.
    teacher_verdict = models.CharField(
        _("teacher's verdict"),
        max_length=10,
        blank=True,
        choices=TEACHER_VERDICTS,
    )
    teacher_comment = models.TextField(_("teacher's comment"), blank=True, max_length=2000)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    #: What the model looked at (``services.explanations``), drawn after the answer:
    #: ``{"model": pk, "maps": {"predicted": "갠", "expected": "자"}}`` once drawn (the
    #: images are ``saliency_path(role)``), ``{"model": pk, "error": message}`` when they
    #: could not be. Maps of another model (before a regrade) are not this reading's.
    explanation = models.JSONField(_("saliency maps"), default=dict, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("assignment", "owner", "expected"))]
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")

    def __str__(self):
        return gettext("#%(pk)s %(predicted)s by %(model)s") % {
            "pk": self.pk,
            "predicted": self.predicted or "?",
            "model": self.model_id,
        }

    def get_absolute_url(self):
        return reverse("classifier:prediction-detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user):
        """Everyone sees their own; instructors also the submissions to their courses."""
        rows = cls.objects.select_related("model", "owner", "assignment")
        if is_admin(user):
            return rows
        return rows.filter(
            models.Q(owner=user) | models.Q(assignment__course__in=Course.taught_by(user))
        )

    @property
    def file_dir(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "predictions" / str(self.pk)

    def step_path(self, key: str) -> Path:
        return self.file_dir / f"step-{key}.png"

    @property
    def input_path(self) -> Path:
        """The model's input: the last preprocessing step."""
        return self.step_path("input")

    #: The step a gradebook shows small: the ink as the student wrote it, cropped.
    THUMBNAIL_STEP = "cropped"

    @property
    def has_thumbnail(self) -> bool:
        return any(key == self.THUMBNAIL_STEP for key, _title in self.steps)

    @property
    def shown_steps(self) -> list[tuple[str, str]]:
        """The preprocessing steps as ``(key, title)``, titled in the active language."""
        return [(key, translate(title)) for key, title in self.steps]

    def saliency_path(self, role: str) -> Path:
        """The saliency map of ``role`` (``predicted`` or ``expected``) for this
        prediction's model: named for the model, so a run overtaken by a regrade cannot
        overwrite the regrade's maps."""
        return self.file_dir / f"saliency-{self.model_id}-{role}.png"

    @property
    def explanation_state(self) -> str:
        """An ``ExplanationState``: ``ready`` or ``failed`` once the worker drew (or could
        not draw) this reading's maps; ``pending`` for a while after the answer; else
        ``none`` (no answer yet, or a worker stopped before drawing them)."""
        if self.status != JobStatus.SUCCEEDED:
            return ExplanationState.NONE
        if self.explanation.get("model") == self.model_id:
            return (
                ExplanationState.FAILED if "error" in self.explanation else ExplanationState.READY
            )
        if self.finished_at and timezone.now() - self.finished_at < EXPLANATION_PATIENCE:
            return ExplanationState.PENDING
        return ExplanationState.NONE

    @property
    def saliency_maps(self) -> list[tuple[str, str]]:
        """The drawn maps as ``(role, character)``: the predicted one, then the expected."""
        if self.explanation_state != ExplanationState.READY:
            return []
        return list(self.explanation["maps"].items())

    @property
    def explanation_error(self) -> str:
        """Why the maps could not be drawn, in the active language ("" when they were)."""
        if self.explanation_state != ExplanationState.FAILED:
            return ""
        return translate(self.explanation["error"])

    @property
    def is_settled(self) -> bool:
        """Finished, with nothing more to come: a page following it may stop polling."""
        return self.is_terminal and self.explanation_state != ExplanationState.PENDING

    @property
    def original_path(self) -> Path:
        return self.file_dir / self.original_file

    @property
    def correct(self) -> bool | None:
        """Whether the top-1 character is the expected one; None until both are known."""
        if not self.expected or not self.predicted:
            return None
        return self.predicted == self.expected

    @property
    def verdict(self) -> str:
        """A ``Verdict``: the teacher's where given; else the model's, where a wrong
        reading it doubts is ``review``."""
        if self.teacher_verdict:
            return self.teacher_verdict
        if self.status == JobStatus.FAILED:
            return Verdict.FAILED
        if self.status != JobStatus.SUCCEEDED:
            return Verdict.PENDING
        if self.correct:
            return Verdict.CORRECT
        return Verdict.REVIEW if self.doubtful else Verdict.INCORRECT

    @property
    def verdict_label(self) -> str:
        return str(Verdict(self.verdict).label)

    @property
    def top(self) -> list[tuple[str, float]]:
        """The ``TOP_K`` most probable characters, most probable first."""
        return top_characters(self.classes, self.probabilities)

    @property
    def file_folders(self) -> tuple[Path, ...]:
        """The upload, its preprocessing steps and the bar graphs."""
        return (self.file_dir,)

    def regraded(self, model: TrainingJob, **results):
        """Any state -> SUCCEEDED: a regrade graded this submission anew with ``model``,
        in place (``results``: what it read). A run of its own still pending finds the
        row no longer queued or running, and leaves it. The teacher's verdict, if any,
        stays: it outranks any model's."""
        type(self).objects.filter(pk=self.pk).update(
            model=model,
            status=JobStatus.SUCCEEDED,
            error="",
            error_params={},
            finished_at=timezone.now(),
            **results,
        )


class Regrade(Job):
    """Re-grading every submission of an assignment with another model (``predict`` queue)."""

    task_name = "classifier.tasks.regrade"

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="regrades",
        verbose_name=_("assignment"),
    )
    grader = models.ForeignKey(
        TrainingJob,
        on_delete=models.CASCADE,
        related_name="regrades",
        verbose_name=_("grading model"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    total = models.PositiveIntegerField(_("submissions"), default=0)
    done = models.PositiveIntegerField(_("graded"), default=0)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("regrade")
        verbose_name_plural = _("regrades")

    def __str__(self):
        return gettext("regrade of %(assignment)s") % {"assignment": self.assignment}

    @property
    def percent_done(self):
        return (
            round(100 * self.done / self.total) if self.total else (100 if self.is_terminal else 0)
        )
