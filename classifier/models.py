"""The lab's records. Every background job is a row; Celery only carries its primary key."""

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classifier.ml import store
from classifier.roles import is_admin, is_instructor

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "QUEUED", _("Queued")
    RUNNING = "RUNNING", _("Running")
    SUCCEEDED = "SUCCEEDED", _("Succeeded")
    FAILED = "FAILED", _("Failed")
    CANCELLED = "CANCELLED", _("Cancelled")


TERMINAL_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    """What every background job shares: its status, attempts, heartbeat and error.

    Status goes QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED. Only ``claim``
    moves a row to RUNNING, with a conditional UPDATE, so a message delivered twice
    never runs a job twice.
    """

    #: The Celery task that runs this kind of job, by its registered name.
    task_name = ""

    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED,
        db_index=True,
    )  # fmt: skip
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_terminal(self):
        return self.status in TERMINAL_STATUSES

    @property
    def duration(self):
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    def dispatch(self):
        """Send this row's key to its queue once the current transaction commits.

        A broker that is down leaves the row QUEUED; it is sent again later rather
        than failing the request that created it.
        """
        from labsite.celery import app

        pk, name = self.pk, self.task_name
        transaction.on_commit(lambda: _send_quietly(app, name, pk))

    @classmethod
    def claim(cls, pk):
        """Move row ``pk`` from QUEUED to RUNNING; True only for the one caller that did."""
        now = timezone.now()
        claimed = cls.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, attempts=F("attempts") + 1, started_at=now,
            heartbeat_at=now, finished_at=None, error="",
        )  # fmt: skip
        return claimed == 1

    def update_progress(self, **fields):
        """Write progress fields and a heartbeat without touching the rest of the row."""
        fields["heartbeat_at"] = timezone.now()
        type(self).objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def finish(self, status, error=""):
        """Record the final status (and the reason, for a failure)."""
        self.update_progress(status=status, error=error, finished_at=timezone.now())

    def request_cancel(self):
        """Cancel a queued job at once, or ask a running one to stop; False if neither.

        A running job notices ``cancel_requested`` at its next check (a file, a batch).
        """
        rows = type(self).objects.filter(pk=self.pk)
        if rows.filter(status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now()
        ):
            return True
        return bool(rows.filter(status=JobStatus.RUNNING).update(cancel_requested=True))

    def is_stale(self):
        """Whether a RUNNING job's heartbeat stopped: its worker is presumably gone."""
        limit = timedelta(seconds=3 * settings.LAB_HEARTBEAT_SECONDS)
        return (
            self.status == JobStatus.RUNNING
            and self.heartbeat_at is not None
            and timezone.now() - self.heartbeat_at > limit
        )


def _send_quietly(app, task_name, pk):
    try:
        app.send_task(task_name, args=[pk])
    except Exception:  # the broker is down: the row stays QUEUED and is sent again later
        logger.exception("Could not queue %s(%s)", task_name, pk)


dataset_name_validator = RegexValidator(
    r"^[\w.-]+\Z",
    _("Use letters (Hangul too), digits, dots, hyphens and underscores only."),
)


class Dataset(Job):
    """A set of labelled character images, stored as arrays under MEDIA_ROOT.

    ``classes`` lists the characters in label order: label ``i`` is ``classes[i]``.
    """

    task_name = "classifier.tasks.build_dataset"

    class Source(models.TextChoices):
        PHD08 = "phd08", _("PHD08 import")
        FONTS = "fonts", _("Rendered from fonts")

    name = models.CharField(
        _("name"), max_length=80, unique=True, validators=[dataset_name_validator]
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    height = models.PositiveSmallIntegerField(_("height"), default=28)
    width = models.PositiveSmallIntegerField(_("width"), default=28)
    #: How the arrays are made: conversion or rendering settings, and the inputs.
    params = models.JSONField(default=dict, blank=True)
    classes = models.JSONField(_("characters"), default=list, blank=True)
    counts = models.JSONField(default=list, blank=True)
    group_names = models.JSONField(_("groups"), default=list, blank=True)
    num_samples = models.PositiveIntegerField(_("samples"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="datasets",
    )  # fmt: skip
    #: The leaderboard's test set: jobs trained on this data set are scored on it, and
    #: students never see its samples.
    hidden_test = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="tests_for",
        verbose_name=_("hidden test set"),
    )  # fmt: skip
    #: Hidden test sets are seen only by instructors and admins.
    is_hidden = models.BooleanField(_("hidden from students"), default=False)

    # Progress of the build while it runs.
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    samples_done = models.PositiveIntegerField(default=0)
    samples_per_second = models.FloatField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("data set")
        verbose_name_plural = _("data sets")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("classifier:dataset-detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user):
        """Admins see every data set; instructors the finished ones; students not hidden ones."""
        if is_admin(user):
            return cls.objects.all()
        ready = cls.objects.filter(status=JobStatus.SUCCEEDED)
        return ready if is_instructor(user) else ready.filter(is_hidden=False)

    @property
    def is_ready(self):
        return self.status == JobStatus.SUCCEEDED

    @property
    def size_label(self):
        return f"{self.height}x{self.width}"

    @property
    def store_dir(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "datasets" / str(self.pk)

    @property
    def upload_dir(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "uploads" / "datasets" / str(self.pk)

    @property
    def percent_done(self):
        if self.is_ready:
            return 100
        if not self.files_total:
            return 0
        return min(100, round(100 * self.files_done / self.files_total))

    def open_store(self) -> store.ArrayStore:
        return store.ArrayStore(self.store_dir)

    def preview_png(self, kind, *, counts_label="samples") -> bytes:
        """The sample grid ("grid") or samples-per-character chart ("counts"), cached.

        The cache lives in the data set's folder, so a rebuild replaces it.
        """
        path = self.store_dir / f"preview-{kind}.png"
        if not path.exists():
            from .ml import plots

            arrays = self.open_store()
            if kind == "grid":
                png = plots.sample_grid(arrays.images, arrays.labels, self.classes)
            else:
                png = plots.class_counts(self.classes, self.counts, ylabel=counts_label)
            store.write_atomically(path, png)
        return path.read_bytes()

    def export_path(self) -> Path:
        """The data set as one ``.npz`` file (made on first use and kept)."""
        path = self.store_dir / "export.npz"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                self.open_store().export_npz(fh)
            tmp.replace(path)
        return path

    def counts_by_class(self):
        return list(zip(self.classes, self.counts, strict=False))

    def delete_files(self):
        """Remove the arrays, any half-built ones and the uploads (not the row)."""
        store.remove(self.store_dir)
        store.remove(self.upload_dir)


class TrainingJob(Job):
    """A student's request to train a Keras model on a data set, and what came of it."""

    task_name = "classifier.tasks.train_model"

    class Optimizer(models.TextChoices):
        ADAM = "adam", "Adam"
        SGD = "sgd", "SGD"
        RMSPROP = "rmsprop", "RMSprop"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_jobs"
    )
    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="training_jobs", verbose_name=_("data set")
    )
    #: The chosen characters, in the model's output order; empty means all of them.
    chars = models.JSONField(_("characters"), default=list, blank=True)
    model_spec = models.CharField(_("model"), max_length=300)
    optimizer = models.CharField(_("optimizer"), max_length=10, choices=Optimizer.choices,
                                 default=Optimizer.ADAM)  # fmt: skip
    learning_rate = models.FloatField(_("learning rate"), default=0.001)
    epochs = models.PositiveSmallIntegerField(_("epochs"), default=5)
    batch_size = models.PositiveIntegerField(_("batch size"), default=32)
    seed = models.PositiveIntegerField(_("random seed"), default=0)
    split = models.CharField(_("validation split"), max_length=200, default="stratified:0.2")
    param_count = models.PositiveBigIntegerField(_("parameters"), default=0)

    # Progress while it runs.
    epochs_done = models.PositiveSmallIntegerField(default=0)
    batch_percent = models.FloatField(default=0)
    samples_per_second = models.FloatField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)

    # Results.
    split_summary = models.JSONField(default=dict, blank=True)
    train_accuracy = models.FloatField(null=True, blank=True)
    val_accuracy = models.FloatField(_("validation accuracy"), null=True, blank=True)
    val_loss = models.FloatField(null=True, blank=True)
    best_val_accuracy = models.FloatField(null=True, blank=True)
    per_class_accuracy = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("training job")
        verbose_name_plural = _("training jobs")

    def __str__(self):
        return f"#{self.pk} {self.model_spec} on {self.dataset}"

    def get_absolute_url(self):
        return reverse("classifier:job-detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user):
        """Students see their own jobs; instructors and admins see everybody's."""
        jobs = cls.objects.select_related("dataset", "owner")
        return jobs if is_instructor(user) else jobs.filter(owner=user)

    @property
    def artifact_dir(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "jobs" / str(self.pk)

    @property
    def model_path(self) -> Path:
        return self.artifact_dir / "model.keras"

    @property
    def classes(self):
        return self.chars or self.dataset.classes

    @property
    def chosen_labels(self) -> list[int]:
        """The data set's label of each model output, in output order."""
        return [self.dataset.classes.index(char) for char in self.classes]

    @property
    def percent_done(self):
        if not self.epochs:
            return 0
        done = self.epochs_done + self.batch_percent / 100
        return min(100, round(100 * done / self.epochs))

    @classmethod
    def active_count(cls, user):
        """How many of ``user``'s jobs are queued or running."""
        return cls.objects.filter(
            owner=user, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
        ).count()

    def jobs_ahead(self):
        """How many queued jobs were submitted before this one."""
        return TrainingJob.objects.filter(
            status=JobStatus.QUEUED, created_at__lt=self.created_at
        ).count()


class EpochMetric(models.Model):
    """One finished epoch of a training job."""

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="metrics")
    epoch = models.PositiveSmallIntegerField()
    loss = models.FloatField()
    accuracy = models.FloatField()
    val_loss = models.FloatField(null=True)
    val_accuracy = models.FloatField(null=True)
    seconds = models.FloatField()
    samples_per_second = models.FloatField()

    class Meta:
        ordering = ("job", "epoch")
        constraints = [
            models.UniqueConstraint(fields=("job", "epoch"), name="one_metric_per_epoch")
        ]

    def __str__(self):
        return f"{self.job_id} epoch {self.epoch}"


class Evaluation(Job):
    """A finished job's model scored on a data set with the same characters.

    ``hidden`` evaluations are the leaderboard's: the score on an instructor's hidden
    test set, whose samples students never see.
    """

    task_name = "classifier.tasks.evaluate_job"

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="evaluations")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="evaluations")
    hidden = models.BooleanField(default=False)
    accuracy = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    per_class = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("job", "dataset"), name="one_evaluation_per_set")
        ]

    def __str__(self):
        return f"{self.job} on {self.dataset}"
