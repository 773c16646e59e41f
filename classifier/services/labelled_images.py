"""Data sets of labelled images (real handwriting), and the handwriting corpus exported
in the same layout.

An admin brings a zip archive of scans or a public handwriting collection (the layouts
are in ``classifier.ml.labelled``). Its files are checked when the data set is made:
what cannot be a sample is listed on the row, and an archive with nothing usable is
refused. The ``data`` worker then preprocesses every image as Predict does and lists the
ones it cannot read; neither list ever fails the build while some image is left.

A data set of the students' submissions (``Source.HANDWRITING``) or of labelled images
exports the images it was built from, as they were, in that layout, so it can come back
in through the import (another lab, another preprocessing size).
"""

import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ..i18n import stored_message
from ..ml import build, labelled, preprocess, sources
from ..ml.messages import Message, Refusal, _
from ..models import Dataset
from ..roles import is_admin

#: What the images are turned into: the style of the lab's own data sets (ink bright on
#: dark, the glyph filling most of the square), so they train alongside PHD08 and fonts.
STYLE = preprocess.InputStyle()


def read_archive(path: Path | str) -> labelled.LabelledArchive:
    """The labelled images of the zip at ``path``, checked against the configured limits."""
    return labelled.read_labelled_zip(
        path,
        max_bytes=settings.LAB_ZIP_MAX_BYTES,
        max_members=settings.LAB_IMAGE_ZIP_MAX_MEMBERS,
        max_image_bytes=settings.LAB_IMAGE_MAX_BYTES,
    )


def skipped_entry(name: str, reason) -> dict:
    """A file left out, as the row keeps it (the reason readable in any language)."""
    return {"name": name, "reason": stored_message(reason)}


def _usable(path: Path, archive: labelled.LabelledArchive) -> labelled.LabelledArchive:
    if archive.images:
        return archive
    if not archive.skipped:
        raise sources.SourceError(_("%(archive)s holds no files.", archive=path.name))
    first = archive.skipped[0]
    raise sources.SourceError(
        _(
            "%(archive)s holds no labelled image the lab can use: all %(count)d files were left "
            "out, the first, %(file)s, because: %(reason)s",
            archive=path.name,
            count=len(archive.skipped),
            file=first.name,
            reason=first.reason,
        )
    )


def _record(*, name, path, archive, size, user, hidden, server_folders=False) -> Dataset:
    return Dataset.objects.create(
        name=name,
        source=Dataset.Source.IMAGES,
        height=size[0],
        width=size[1],
        created_by=user,
        is_hidden=hidden,
        files_total=len(archive.classes),
        params={
            "archive": str(path),
            "style": STYLE.as_dict(),
            "layout": archive.layout,
            "manifest": archive.manifest,
            # The worker checks the archive against LAB_IMPORT_ROOTS again as it reads it.
            "server_folders": server_folders,
        },
        skipped=[skipped_entry(skip.name, skip.reason) for skip in archive.skipped],
    )


@transaction.atomic
def create_image_dataset(
    *,
    name: str,
    path: Path | str,
    size: tuple[int, int],
    user=None,
    dispatch: bool = True,
    hidden: bool = False,
    allowed_roots: Sequence[Path | str] | None = None,
) -> Dataset:
    """Record a data set of the labelled images in the zip at ``path`` (checked first)
    and queue its build.

    With ``allowed_roots`` (the web form: ``LAB_IMPORT_ROOTS``) the archive must lie
    inside those folders; ``None`` reads any path (the ``import_images`` command).
    Raises SourceError for an archive that cannot be read safely or holds nothing usable.
    """
    path = Path(path)
    if allowed_roots is not None:
        path = sources.check_import_path(path, allowed_roots)
    archive = _usable(path, read_archive(path))
    dataset = _record(
        name=name,
        path=path.resolve(),
        archive=archive,
        size=size,
        user=user,
        hidden=hidden,
        server_folders=allowed_roots is not None,
    )
    if dispatch:
        dataset.dispatch()
    return dataset


@transaction.atomic
def create_uploaded_image_dataset(
    *, name: str, upload, size: tuple[int, int], user=None, hidden: bool = False
) -> Dataset:
    """Save an uploaded zip of labelled images under the data set's folder and queue the
    build. The archive is checked as a server path is; on any error nothing is kept."""
    dataset = Dataset.objects.create(
        name=name,
        source=Dataset.Source.IMAGES,
        height=size[0],
        width=size[1],
        created_by=user,
        is_hidden=hidden,
    )
    folder = dataset.upload_dir
    try:
        # A folder of its own with a random name: no upload's path is guessable.
        target = folder / secrets.token_hex(8) / (Path(upload.name).stem + ".zip")
        target.parent.mkdir(parents=True)
        with target.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        archive = _usable(target, read_archive(target))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    dataset.files_total = len(archive.classes)
    dataset.params = {
        "archive": str(target),
        "style": STYLE.as_dict(),
        "layout": archive.layout,
        "manifest": archive.manifest,
    }
    dataset.skipped = [skipped_entry(skip.name, skip.reason) for skip in archive.skipped]
    dataset.save(update_fields=["files_total", "params", "skipped"])
    dataset.dispatch()
    return dataset


def rebuild_units(dataset: Dataset) -> int:
    """How many units (characters) a rebuild has; SourceError when the archive is gone."""
    path = Path(dataset.params["archive"])
    return len(_usable(path, read_archive(path)).classes)


def build_images(
    dataset: Dataset,
    *,
    processes: int,
    on_progress,
    should_stop,
    on_skip: Callable[[str, Message], None],
):
    """Build a labelled-image data set's arrays from its archive, read afresh: each image
    preprocessed as Predict does, characters in code point order, writers the groups.
    Every file left out goes to ``on_skip``; characters left with no image are dropped."""
    dataset.check_server_inputs([dataset.params["archive"]])
    archive = read_archive(dataset.params["archive"])
    for skip in archive.skipped:
        on_skip(skip.name, skip.reason)
    return build.build_handwriting(
        archive.samples,
        archive.classes,
        dataset.store_dir,
        (dataset.height, dataset.width),
        preprocess.InputStyle.from_dict(dataset.params.get("style")),
        processes=processes,
        on_progress=on_progress,
        should_stop=should_stop,
        on_skip=on_skip,
        drop_empty=True,
        max_pixels=settings.LAB_IMAGE_MAX_PIXELS,
    )


def media_name(path: str) -> str:
    """A submission's image named as the row lists it: its path under MEDIA_ROOT."""
    return os.path.relpath(path, settings.MEDIA_ROOT)


# --- Export -------------------------------------------------------------------------------


def may_see_files(user, dataset: Dataset) -> bool:
    """Whether ``user`` may see the files a data set was made from (their names, the
    images): admins, and whoever made it. Names and scans can say who wrote them, which
    the preprocessed arrays (the .npz every viewer may download) no longer do."""
    return is_admin(user) or (user.is_authenticated and dataset.created_by_id == user.pk)


def may_export_images(user, dataset: Dataset) -> bool:
    """Whether ``user`` may download the images a finished data set was built from."""
    return dataset.exports_images and dataset.is_ready and may_see_files(user, dataset)


def exported_samples(dataset: Dataset) -> list[tuple]:
    """``(image, character, writer)`` of every image the data set was built from, leaving
    out the files its build left out. A Refusal when its source is not images."""
    left_out = {item["name"] for item in dataset.skipped}
    if dataset.source == Dataset.Source.IMAGES:
        samples = read_archive(dataset.params["archive"]).samples
        return [sample for sample in samples if sample[0].name not in left_out]
    if dataset.source == Dataset.Source.HANDWRITING:
        media = Path(settings.MEDIA_ROOT)
        return [
            (media / path, char, writer)
            for path, char, writer in dataset.params.get("samples", [])
            if path not in left_out
        ]
    raise Refusal(
        _("%(name)s was not made of images, so it has none to export.", name=dataset.name)
    )


def export_images(dataset: Dataset, out) -> Iterator[int]:
    """Write the data set's images into ``out`` as a labelled archive: a folder per
    character and writer, and a ``manifest.csv`` of file, character and writer, the
    writers as they are stored. A generator yielding the samples done; see
    ``labelled.write_labelled_zip``."""
    return labelled.write_labelled_zip(out, exported_samples(dataset))
