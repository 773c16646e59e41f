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

    def request_cancel(self):
        """Cancel a queued build at once, or ask a running one to stop; False if neither."""
        rows = type(self).objects.filter(pk=self.pk)
        if rows.filter(status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now()
        ):
            return True
        return bool(rows.filter(status=JobStatus.RUNNING).update(cancel_requested=True))

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
