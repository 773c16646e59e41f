"""Data sets: labelled character images stored as arrays under MEDIA_ROOT."""

from pathlib import Path

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..i18n import language, translate
from ..ml import sources, store
from ..roles import is_admin, is_instructor
from .base import Job, JobStatus

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
        HANDWRITING = "handwriting", _("Handwriting from assignments")
        IMAGES = "images", _("Labelled images")

    name = models.CharField(
        _("name"), max_length=80, unique=True, validators=[dataset_name_validator]
    )
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    height = models.PositiveSmallIntegerField(_("height"), default=28)
    width = models.PositiveSmallIntegerField(_("width"), default=28)
    #: How the arrays are made: conversion or rendering settings, and the inputs.
    params = models.JSONField(_("build settings"), default=dict, blank=True)
    classes = models.JSONField(_("characters"), default=list, blank=True)
    counts = models.JSONField(_("samples per character"), default=list, blank=True)
    group_names = models.JSONField(_("groups"), default=list, blank=True)
    num_samples = models.PositiveIntegerField(_("samples"), default=0)
    #: The files left out of the build (unlabelled, wrongly labelled, unreadable), each
    #: ``{"name": ..., "reason": <a stored message>}``, shown in the reader's language.
    skipped = models.JSONField(_("files left out"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="datasets",
        verbose_name=_("created by"),
    )
    #: The leaderboard's test set: jobs trained on this data set are scored on it, and
    #: students never see its samples.
    hidden_test = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tests_for",
        verbose_name=_("hidden test set"),
    )
    #: Hidden test sets are seen only by instructors and admins.
    is_hidden = models.BooleanField(_("hidden from students"), default=False)
    #: Hidden only because a leaderboard took it as its test set: shown again once no
    #: leaderboard does.
    hidden_for_leaderboard = models.BooleanField(_("hidden for a leaderboard"), default=False)
    #: A handwriting data set's courses, whose students wrote it: of the instructors, only
    #: theirs (and whoever made it) see it.
    source_courses = models.ManyToManyField(
        "classifier.Course",
        blank=True,
        related_name="handwriting_datasets",
        verbose_name=_("courses written in"),
    )

    # Progress of the build while it runs.
    files_total = models.PositiveIntegerField(_("files"), default=0)
    files_done = models.PositiveIntegerField(_("files done"), default=0)
    samples_done = models.PositiveIntegerField(_("samples done"), default=0)
    samples_per_second = models.FloatField(_("samples per second"), default=0)
    eta_seconds = models.FloatField(_("seconds left"), null=True, blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("data set")
        verbose_name_plural = _("data sets")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("classifier:dataset-detail", args=[self.pk])

    @property
    def retry_url(self) -> str:
        """The form that edits this failed (or cancelled) data set's settings and builds
        it again; "" when there is none (still building, built, or made from
        submissions: the handwriting form starts afresh)."""
        route = {
            self.Source.PHD08: "classifier:dataset-import",
            self.Source.IMAGES: "classifier:dataset-import-images",
            self.Source.FONTS: "classifier:dataset-render",
        }.get(self.source)
        if route is None or self.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            return ""
        return f"{reverse(route)}?retry={self.pk}"

    @classmethod
    def visible_to(cls, user):
        """Admins see every data set; instructors the finished ones and those they started
        (a handwriting data set while it builds), but a handwriting data set only when it
        was written in a course they teach (it is their students' writing); students the
        finished, not hidden ones."""
        if is_admin(user):
            return cls.objects.all()
        if is_instructor(user):
            finished = models.Q(status=JobStatus.SUCCEEDED)
            taught = models.Q(source_courses__owner=user) | models.Q(
                source_courses__co_instructors=user
            )
            others_writing = models.Q(source=cls.Source.HANDWRITING) & ~models.Q(
                pk__in=cls.objects.filter(taught).values("pk")
            )
            return cls.objects.filter((finished & ~others_writing) | models.Q(created_by=user))
        return cls.objects.filter(status=JobStatus.SUCCEEDED, is_hidden=False)

    def check_server_inputs(self, paths) -> None:
        """Check the files a web import named on the server again as a worker reads them
        (``sources.check_server_input``: inside LAB_IMPORT_ROOTS, no symbolic link): the
        folders may have changed since the import was made. Nothing for uploads and for
        the commands, which read what they were given."""
        if self.params.get("server_folders"):
            for path in paths:
                sources.check_server_input(path, settings.LAB_IMPORT_ROOTS)

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

    def preview_png(self, kind) -> bytes:
        """The sample grid ("grid"), samples-per-character chart ("counts") or, for a
        font rendering, what each augmentation does to its first character in its first
        font ("augmentation"), cached.

        The cache lives in the data set's folder, so a rebuild replaces it. The chart's
        axis and the augmentation rows are labelled in the active language, so they are
        kept once per language; the grid shows only characters. A Refusal when a font
        rendering's font is no longer installed.
        """
        name = "preview-grid.png" if kind == "grid" else f"preview-{kind}-{language()}.png"

        def draw():
            from ..ml import fonts, plots, render

            if kind == "augmentation":
                return augmentation_png(
                    self.classes[0],
                    fonts.resolve_fonts(self.params["fonts"])[0],
                    render.RenderSettings.from_dict(self.params["rendering"]),
                )
            if kind == "grid":
                arrays = self.open_store()
                return plots.sample_grid(arrays.images, arrays.labels, self.classes)
            return plots.class_counts(self.classes, self.counts, translate=translate)

        return store.cached_file(self.store_dir / name, draw)

    @property
    def shows_augmentation(self) -> bool:
        """Whether the page can show what its augmentation does (font renderings)."""
        return self.source == self.Source.FONTS and "rendering" in self.params

    @property
    def skipped_files(self) -> list[tuple[str, str]]:
        """The files left out of the build and why, in the active language."""
        return [(item["name"], translate(item["reason"])) for item in self.skipped]

    @property
    def exports_images(self) -> bool:
        """Whether the images it was built from can be downloaded as a labelled archive."""
        return self.source in (self.Source.HANDWRITING, self.Source.IMAGES)

    def counts_by_class(self):
        return list(zip(self.classes, self.counts, strict=False))

    @property
    def file_folders(self) -> tuple[Path, ...]:
        """The arrays (and any half-built ones) and the uploads they were built from."""
        return (self.store_dir, self.upload_dir)


def augmentation_png(char: str, font, settings) -> bytes:
    """What each augmentation of ``settings`` does to ``char`` in ``font``: a PNG whose
    rows are named in the active language."""
    from ..ml import plots, render

    previews = render.effect_previews(char, font, settings, count=8)
    rows = [(render.EFFECT_NAMES[effect], images) for effect, images in previews]
    return plots.augmentation_preview(rows, translate=translate)
