"""Data sets: recording PHD08 imports and font renderings, and building them.

Data sets of labelled images (an archive of scans) are made in ``labelled_images``;
their builds run through ``run_dataset_build`` like every other.
"""

import logging
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError

from ..i18n import message_of
from ..ml import build, fonts, preprocess, sources, store
from ..ml.convert import ConversionSettings
from ..ml.messages import Refusal, _
from ..ml.render import RenderSettings
from ..models import Dataset, JobStatus
from . import labelled_images
from .failures import job_run
from .grading import corpus
from .predictions import model_input

logger = logging.getLogger(__name__)

#: The data set ``manage.py setup_demo`` renders (the tutorial's 8 characters from the
#: installed fonts): where a new user's first training starts.
DEMO_DATASET = "tutorial8-fonts"

# Progress is written at most this often: every write is a database round trip, and
# SQLite has one writer at a time.
PROGRESS_INTERVAL = 0.5


def collect_phd08_inputs(paths: Sequence[Path | str]) -> list[sources.Phd08Input]:
    """The PHD08 files under ``paths``, checked against the configured zip limits."""
    return sources.collect_phd08_inputs(
        paths,
        max_zip_bytes=settings.LAB_ZIP_MAX_BYTES,
        max_zip_members=settings.LAB_ZIP_MAX_MEMBERS,
        max_member_bytes=settings.LAB_ZIP_MAX_MEMBER_BYTES,
    )


@transaction.atomic
def create_phd08_dataset(
    *,
    name: str,
    paths: Sequence[Path | str],
    conversion: ConversionSettings,
    user=None,
    dispatch: bool = True,
    allowed_roots: Sequence[Path | str] | None = None,
    hidden: bool = False,
) -> Dataset:
    """Record a PHD08 import of ``paths`` (checked first) and queue it; ``hidden`` keeps
    it from students (a test set), as for every data set.

    With ``allowed_roots`` (the web form: ``LAB_IMPORT_ROOTS``), every path, and every
    file found under them (a symlink may point anywhere), must lie inside those folders.
    ``None`` reads any path: the ``import_phd08`` command, run on the server's shell by
    someone who can read those files anyway.
    """
    if allowed_roots is not None:
        paths = [sources.check_import_path(path, allowed_roots) for path in paths]
    inputs = collect_phd08_inputs(paths)
    if allowed_roots is not None:
        for item in inputs:
            sources.check_import_path(item.path, allowed_roots)
    dataset = Dataset.objects.create(
        name=name,
        source=Dataset.Source.PHD08,
        height=conversion.height,
        width=conversion.width,
        created_by=user,
        files_total=len(inputs),
        is_hidden=hidden,
        params={
            "conversion": asdict(conversion),
            "paths": [str(p) for p in paths],
            # The worker checks each file against LAB_IMPORT_ROOTS again as it reads it.
            "server_folders": allowed_roots is not None,
        },
    )
    if dispatch:
        dataset.dispatch()
    return dataset


@transaction.atomic
def create_uploaded_phd08_dataset(
    *,
    name: str,
    uploads: Sequence,
    conversion: ConversionSettings,
    user=None,
    hidden: bool = False,
) -> Dataset:
    """Save uploaded PHD08 files (or zips) under the data set's folder and queue the import.

    The uploads are checked the same way as server paths before the row is committed;
    on any error nothing is left behind.
    """
    dataset = Dataset.objects.create(
        name=name,
        source=Dataset.Source.PHD08,
        height=conversion.height,
        width=conversion.width,
        created_by=user,
        is_hidden=hidden,
    )
    folder = dataset.upload_dir
    saved = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for upload in uploads:
            # Uploads keep their (already validated) names, since a PHD08 file's name is
            # its label, each in a folder of its own with a random name: two uploads with
            # the same name cannot overwrite each other, and no path is guessable.
            target = folder / secrets.token_hex(8) / Path(upload.name).name
            target.parent.mkdir()
            with target.open("wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            saved.append(str(target))
        inputs = collect_phd08_inputs(saved)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    dataset.files_total = len(inputs)
    dataset.params = {"conversion": asdict(conversion), "paths": saved}
    dataset.save(update_fields=["files_total", "params"])
    dataset.dispatch()
    return dataset


@transaction.atomic
def create_font_dataset(
    *,
    name: str,
    chars: Sequence[str],
    font_specs: Sequence[str],
    rendering: RenderSettings,
    user=None,
    dispatch: bool = True,
    hidden: bool = False,
) -> Dataset:
    """Record a data set rendered from installed Hangul fonts, and queue it."""
    chosen = fonts.resolve_fonts(font_specs)
    installed = set(fonts.find_hangul_fonts())
    dataset = Dataset.objects.create(
        name=name,
        source=Dataset.Source.FONTS,
        height=rendering.height,
        width=rendering.width,
        created_by=user,
        files_total=len(chars) * len(chosen),
        is_hidden=hidden,
        params={
            "rendering": asdict(rendering),
            "chars": list(chars),
            # Installed fonts by name, so a worker on another machine finds its own copy.
            "fonts": [font.name if font in installed else str(font.path) for font in chosen],
        },
    )
    if dispatch:
        dataset.dispatch()
    return dataset


@transaction.atomic
def create_handwriting_dataset(
    *,
    name: str,
    assignments: Sequence,
    user=None,
    dispatch: bool = True,
    hidden: bool = True,
    exclude=(),
) -> Dataset:
    """Record a data set made of the verified submissions to ``assignments``
    (``grading.corpus``) but those in ``exclude``, and queue it.

    Labels are the target characters and groups the writers' pseudonyms, so a grouped
    split holds out whole writers. Images are preprocessed for the first assignment's
    grading model (its input size and style), from the stored originals. Hidden from
    students by default: it is their classmates' handwriting, and often a leaderboard's
    test set.
    """
    assignments = list(assignments)
    if not assignments:
        raise Refusal(_("Choose at least one assignment."))
    excluded = {getattr(item, "pk", item) for item in exclude}
    samples = [
        [str(s.original_path.relative_to(settings.MEDIA_ROOT)), s.expected, writer]
        for s, writer in corpus(assignments).samples
        if s.pk not in excluded
    ]
    if not samples:
        raise Refusal(
            _(
                "These assignments have no verified submissions to use: only answers marked "
                "correct, by the model or by you, become samples."
            )
        )
    present = {sample[1] for sample in samples}
    classes = [c for c in dict.fromkeys(c for a in assignments for c in a.chars) if c in present]
    (height, width), style = model_input(assignments[0].grader)
    dataset = Dataset.objects.create(
        name=name,
        source=Dataset.Source.HANDWRITING,
        height=height,
        width=width,
        created_by=user,
        files_total=len(classes),
        is_hidden=hidden,
        params={
            "assignments": [a.pk for a in assignments],
            "classes": classes,
            "style": style.as_dict(),
            "samples": samples,
        },
    )
    dataset.source_courses.set({assignment.course_id for assignment in assignments})
    if dispatch:
        dataset.dispatch()
    return dataset


def rebuild_dataset(dataset: Dataset, *, dispatch: bool = True) -> Dataset:
    """Queue a finished, failed or cancelled data set's build again, from its source.

    The units a cancelled build finished are kept and not built again. Without
    ``dispatch`` the row is left QUEUED for the caller to run (the commands).

    The source must still be there: the PHD08 files (server paths, or the uploads kept
    in the data set's folder), the fonts, or the originals of the handwriting
    submissions; a Refusal says what is missing. The old arrays stay readable until
    the new ones replace them, and a rebuild that fails leaves them in place.
    """
    if not dataset.is_terminal:
        raise Refusal(_("%(name)s is being built already.", name=dataset.name))
    units = _rebuild_units(dataset)
    with transaction.atomic():
        queued = dataset.requeue(
            files_total=units, files_done=0, samples_done=0, samples_per_second=0, eta_seconds=None
        )
        if not queued:
            raise Refusal(_("%(name)s is being built already.", name=dataset.name))
        if dispatch:
            dataset.dispatch()
    return dataset


# What a data set's params must hold for it to be built again, by source.
_REBUILD_NEEDS = {
    Dataset.Source.PHD08: {"paths", "conversion"},
    Dataset.Source.FONTS: {"chars", "fonts", "rendering"},
    Dataset.Source.HANDWRITING: {"samples", "classes", "style"},
    Dataset.Source.IMAGES: {"archive", "style"},
}


def _rebuild_units(dataset: Dataset) -> int:
    """How many units a rebuild of ``dataset`` has; a Refusal when its source is gone."""
    params = dataset.params
    if not _REBUILD_NEEDS.get(dataset.source, {""}) <= params.keys():
        raise Refusal(
            _(
                "%(name)s keeps no record of what it was built from, so it cannot be rebuilt.",
                name=dataset.name,
            )
        )
    try:
        if dataset.source == Dataset.Source.PHD08:
            return len(collect_phd08_inputs(params["paths"]))
        if dataset.source == Dataset.Source.FONTS:
            return len(params["chars"]) * len(fonts.resolve_fonts(params["fonts"]))
        if dataset.source == Dataset.Source.IMAGES:
            return labelled_images.rebuild_units(dataset)
        media = Path(settings.MEDIA_ROOT)
        if not any((media / sample[0]).exists() for sample in params["samples"]):
            raise Refusal(_("the images of its submissions are gone."))
        return len(params["classes"])
    except Refusal as exc:  # the files, fonts or archive it was made from are gone
        raise Refusal(
            _("%(name)s cannot be rebuilt: %(reason)s", name=dataset.name, reason=message_of(exc))
        ) from None


def delete_dataset(dataset: Dataset):
    """Delete a data set's row and files; a build in progress must be cancelled first.

    A data set that training jobs were trained on is kept (their pages and models need
    it): a Refusal says so. Its files go once the deletion commits (``classifier.signals``),
    so a refusal leaves them alone.
    """
    if dataset.status == JobStatus.RUNNING:
        raise Refusal(_("This data set is being built; cancel the build first."))
    try:
        with transaction.atomic():
            dataset.delete()
    except ProtectedError:
        count = dataset.training_jobs.count()
        raise Refusal(
            _("Training jobs were trained on this data set (%(n)d), so it is kept.", n=count)
        ) from None


def retry_dataset(failed: Dataset, create: Callable[[], Dataset]) -> Dataset:
    """Replace a data set whose build failed (or was cancelled) with the one ``create()``
    makes, in one transaction: the settings were edited, the name may stay the same.

    A data set still queued or building is refused (cancel it first), and so is one that
    training jobs use. The old files go once the replacement commits.
    """
    with transaction.atomic():
        current = Dataset.objects.select_for_update().filter(pk=failed.pk).first()
        if current is None or current.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise Refusal(
                _(
                    "Only a data set whose build failed or was cancelled can be edited and "
                    "built again; %(name)s is not one now.",
                    name=failed.name,
                )
            )
        delete_dataset(current)
        return create()


def run_dataset_build(
    pk: int, *, on_progress: Callable[[build.Progress], None] | None = None
) -> Dataset | None:
    """Claim data set ``pk`` and build its arrays; None if another run already claimed it.

    Every failure ends the row FAILED with a reason a person can act on, removes the
    partial files, and leaves every other data set untouched.
    """
    if not Dataset.claim(pk):
        logger.info("Data set %s is not queued; nothing to do.", pk)
        return None
    dataset = Dataset.objects.get(pk=pk)
    writer = _ProgressWriter(dataset, on_progress)
    # The files a build leaves out (unreadable images), listed on the row either way.
    skipped = []

    def discard_partial(_exc):
        # The previous arrays (a rebuild) stay; only the half-made ones go.
        shutil.rmtree(store.building_dir(dataset.store_dir), ignore_errors=True)
        Dataset.objects.filter(pk=dataset.pk).update(skipped=list(skipped))

    with job_run(dataset, on_failure=discard_partial):
        try:
            result = _build(dataset, writer, skipped)
        except build.BuildCancelled:
            dataset.stop()
            return dataset
        manifest = result.manifest
        dataset.succeed(
            classes=manifest.classes,
            counts=manifest.counts,
            group_names=manifest.group_names,
            num_samples=manifest.count,
            eta_seconds=0,
            skipped=skipped,
        )
    return dataset


def _build(dataset: Dataset, writer: "_ProgressWriter", skipped: list):
    params = dataset.params
    common = {
        "processes": settings.LAB_CONVERT_PROCESSES,
        "on_progress": writer,
        "should_stop": writer.should_stop,
    }
    if dataset.source == Dataset.Source.PHD08:
        inputs = collect_phd08_inputs(params["paths"])
        dataset.check_server_inputs(item.path for item in inputs)
        conversion = ConversionSettings(**params["conversion"])
        return build.build_phd08(inputs, dataset.store_dir, conversion, **common)
    from . import labelled_images  # which imports this module

    def left_out(name, reason):
        skipped.append(labelled_images.skipped_entry(name, reason))

    if dataset.source == Dataset.Source.HANDWRITING:
        media = Path(settings.MEDIA_ROOT)
        samples = [(str(media / path), char, writer) for path, char, writer in params["samples"]]
        return build.build_handwriting(
            samples,
            params["classes"],
            dataset.store_dir,
            (dataset.height, dataset.width),
            preprocess.InputStyle.from_dict(params["style"]),
            on_progress=writer,
            should_stop=writer.should_stop,
            on_skip=lambda name, reason: left_out(labelled_images.media_name(name), reason),
        )
    if dataset.source == Dataset.Source.IMAGES:
        return labelled_images.build_images(dataset, **common, on_skip=left_out)
    chosen = fonts.resolve_fonts(params["fonts"])
    rendering = RenderSettings.from_dict(params["rendering"])
    return build.build_rendered(
        params["chars"], chosen, dataset.store_dir, rendering, **common, on_skip=left_out
    )


class _ProgressWriter:
    """Writes build progress to the row, throttled, and notices cancel requests."""

    def __init__(self, dataset: Dataset, echo):
        self.dataset = dataset
        self.echo = echo
        self.last_write = 0.0

    def __call__(self, progress: build.Progress):
        if self.echo:
            self.echo(progress)
        now = time.monotonic()
        final = progress.units_done == progress.units_total
        if not final and now - self.last_write < PROGRESS_INTERVAL:
            return
        self.last_write = now
        self.dataset.update_progress(
            files_done=progress.units_done,
            files_total=progress.units_total,
            samples_done=progress.samples_done,
            samples_per_second=round(progress.samples_per_second, 1),
            # None until this run has built something: a resumed build starts with units
            # done and no time spent, which read as "about 0 s left".
            eta_seconds=progress.eta_seconds,
        )

    def should_stop(self) -> bool:
        return Dataset.objects.filter(pk=self.dataset.pk, cancel_requested=True).exists()
