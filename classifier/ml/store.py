"""Data sets as arrays on disk.

A data set folder holds ``images.npy`` (uint8, N x H x W), ``labels.npy`` (int32),
``groups.npy`` (int16, an index into the manifest's group names: the font or writer of
each sample) and ``manifest.json`` (format version, size, the characters in label
order, group names, counts). Readers open the arrays as memory maps, so a data set of
millions of samples never has to fit in memory.

A build writes one *part* per input (a PHD08 file, or one character in one font) into
a sibling ``<folder>.building/`` and keeps them when interrupted, so a restarted build
skips the parts already done. ``StoreBuilder.finish`` assembles the parts through a
memory map and swaps the finished folder in with a rename: nobody ever reads a
half-made data set, and a failed rebuild leaves the old one untouched.
"""

import json
import logging
import math
import os
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .messages import Refusal, _

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class StoreError(Refusal):
    """A data set folder that is missing, unreadable or of an unknown format."""


@dataclass(frozen=True)
class Manifest:
    """What a data set folder holds besides its arrays."""

    height: int
    width: int
    classes: list[str]
    group_names: list[str]
    counts: list[int]
    format_version: int = FORMAT_VERSION

    @property
    def count(self):
        return sum(self.counts)


class ArrayStore:
    """A finished data set, read through memory maps."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            data = json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(
                _(
                    "%(path)s holds no readable data set: %(error)s",
                    path=str(self.path),
                    error=str(exc),
                )
            ) from exc
        if data.get("format_version") != FORMAT_VERSION:
            raise StoreError(
                _(
                    "%(path)s has data set format %(found)s; this lab reads format %(version)d. "
                    "Rebuild the data set.",
                    path=str(self.path),
                    found=data.get("format_version"),
                    version=FORMAT_VERSION,
                )
            )
        self.manifest = Manifest(**data)

    def __len__(self):
        return self.manifest.count

    @cached_property
    def images(self) -> np.ndarray:
        return np.load(self.path / "images.npy", mmap_mode="r")

    @cached_property
    def labels(self) -> np.ndarray:
        return np.load(self.path / "labels.npy", mmap_mode="r")

    @cached_property
    def groups(self) -> np.ndarray:
        return np.load(self.path / "groups.npy", mmap_mode="r")

    def write_npz(self, out, chunk: int = 16384) -> Iterator[int]:
        """Write images, labels, groups (names) and classes into ``out`` as one ``.npz``.

        ``out`` is a path or a binary file object, which need not be seekable (an HTTP
        response): the archive is written front to back, uncompressed, ``chunk`` images
        at a time, so memory stays flat however large the data set. A generator: it
        yields the number of images written so far after each chunk. No pickles.
        """
        small = {
            "labels": np.asarray(self.labels, dtype=np.int64),
            "groups": np.asarray(self.manifest.group_names)[self.groups],
            "classes": np.asarray(self.manifest.classes),
        }
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in small.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
            images = self.images
            with archive.open("images.npy", "w", force_zip64=True) as member:
                header = np.lib.format.header_data_from_array_1_0(images)
                np.lib.format.write_array_header_1_0(member, header)
                for start in range(0, len(images), chunk):
                    stop = min(start + chunk, len(images))
                    member.write(np.ascontiguousarray(images[start:stop]).tobytes())
                    yield stop
        yield len(images)


def building_dir(final_dir: Path) -> Path:
    """Where a data set destined for ``final_dir`` is built."""
    return final_dir.with_name(final_dir.name + ".building")


def remove(final_dir: Path):
    """Delete a data set folder together with any half-built version of it."""
    final_dir = Path(final_dir)
    old = final_dir.with_name(final_dir.name + ".old")
    for folder in (final_dir, building_dir(final_dir), old):
        shutil.rmtree(folder, ignore_errors=True)


def folder_bytes(folder: Path) -> int:
    """The bytes of every file under ``folder`` (0 when there is none)."""
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def write_atomically(path: Path, data: bytes):
    """Write ``data`` to ``path`` so that readers see all of it or nothing.

    The temporary name is the writer's own, so two writers at once (web threads drawing
    the same figure) each rename a whole file.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk keeps no half-written file
        raise


def cached_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The bytes kept at ``path``; the first time, ``make()`` makes them and they are
    written there (atomically, its folder made if need be).

    The lab's figures are drawn this way, once per version and language: a class watching
    the same pages asks for the same figures again and again, and drawing one costs up to
    a second. Whoever changes what a figure shows removes the file (or names a new one).
    When the file cannot be written (a full disk, a file-size limit), the bytes are still
    returned: the figure is shown, and drawn again next time.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
    except OSError as exc:
        logger.warning("Could not keep %s (%s); it is drawn again next time.", path, exc)
    return data


def write_part(parts_dir: Path, key: str, label: str, images: np.ndarray, groups: Sequence[str]):
    """Save one input's converted images atomically (safe from worker processes)."""
    if len(images) != len(groups):
        raise ValueError("every image needs a group")
    tmp = parts_dir / f"{key}.npz.tmp"
    with tmp.open("wb") as fh:
        np.savez(fh, images=images, groups=np.asarray(groups, dtype=str), label=np.asarray(label))
    tmp.replace(parts_dir / f"{key}.npz")


def _create_npy(path: Path, shape: tuple[int, ...]) -> int:
    """Create the ``.npy`` file of a uint8 array of ``shape``; return where its data starts.

    Its disk space is reserved at once, so that a full disk is an OSError here rather
    than a SIGBUS later, when a memory-mapped page finds no room to be written.
    """
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)
    offset = array.offset
    del array
    with path.open("r+b") as fh:
        os.posix_fallocate(fh.fileno(), 0, offset + math.prod(shape))
    return offset


def _write_rows(path: Path, offset: int, start: int, rows: np.ndarray):
    """Write ``rows`` from row ``start`` on into the uint8 ``.npy`` at ``path``.

    Written through a memory map of those rows alone, unmapped at once: the pages
    written leave this process for the page cache, so the memory of a build stays flat
    however many samples the data set has.
    """
    if not len(rows):
        return
    window = np.memmap(path, np.uint8, "r+", offset + start * rows[0].nbytes, rows.shape)
    window[:] = rows
    del window


class StoreBuilder:
    """Builds a data set from parts, resumably, and publishes it atomically.

    ``fingerprint`` describes the build (settings and inputs): a leftover build folder
    with another fingerprint is discarded instead of being resumed.
    """

    def __init__(self, final_dir: Path, height: int, width: int, fingerprint: dict):
        self.final_dir = Path(final_dir)
        self.height, self.width = height, width
        self.work_dir = building_dir(self.final_dir)
        self.parts_dir = self.work_dir / "parts"
        stamp = self.work_dir / "fingerprint.json"
        wanted = json.dumps(fingerprint, sort_keys=True, ensure_ascii=False)
        if self.work_dir.exists() and (not stamp.exists() or stamp.read_text() != wanted):
            shutil.rmtree(self.work_dir)
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(wanted)

    def has_part(self, key: str) -> bool:
        return (self.parts_dir / f"{key}.npz").exists()

    def write_part(self, key: str, label: str, images: np.ndarray, groups: Sequence[str]):
        write_part(self.parts_dir, key, label, images, groups)

    def remove_part(self, key: str):
        """Forget one part (a class left out of the data set)."""
        (self.parts_dir / f"{key}.npz").unlink(missing_ok=True)

    def finish(self, classes: Sequence[str]) -> ArrayStore:
        """Assemble every part into the final arrays, ordered by class, and publish them."""
        parts = self._parts_by_class(classes)
        counts = [sum(n for _, n in parts[c]) for c in classes]
        empty = [c for c, n in zip(classes, counts, strict=True) if n == 0]
        if empty:
            raise StoreError(_("No samples for: %(chars)s.", chars=" ".join(empty)))
        out = self.work_dir / "out"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        total = sum(counts)
        images_path = out / "images.npy"
        offset = _create_npy(images_path, (total, self.height, self.width))
        labels = np.empty(total, dtype=np.int32)
        groups = np.empty(total, dtype=np.int16)
        group_names: list[str] = []
        start = 0
        for label, char in enumerate(classes):
            for path, n in parts[char]:
                with np.load(path, allow_pickle=False) as part:
                    _write_rows(images_path, offset, start, part["images"])
                    names, inverse = np.unique(part["groups"], return_inverse=True)
                group_names.extend(str(g) for g in names if str(g) not in group_names)
                codes = np.asarray([group_names.index(str(g)) for g in names], dtype=np.int16)
                groups[start : start + n] = codes[inverse]
                labels[start : start + n] = label
                start += n
        np.save(out / "labels.npy", labels)
        np.save(out / "groups.npy", groups)
        manifest = Manifest(self.height, self.width, list(classes), group_names, counts)
        (out / MANIFEST).write_text(json.dumps(asdict(manifest), ensure_ascii=False))
        self._publish(out)
        return ArrayStore(self.final_dir)

    def discard(self):
        """Forget the build: remove every part."""
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def _parts_by_class(self, classes):
        parts = {c: [] for c in classes}
        for path in sorted(self.parts_dir.glob("*.npz")):
            with np.load(path, allow_pickle=False) as part:
                label, n = str(part["label"]), len(part["groups"])
            if label not in parts:
                raise StoreError(
                    _(
                        "Part %(part)s holds %(label)r, which is not a class.",
                        part=path.name,
                        label=label,
                    )
                )
            parts[label].append((path, n))
        return parts

    def _publish(self, out: Path):
        old = self.final_dir.with_name(self.final_dir.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.final_dir.exists():
            self.final_dir.rename(old)
        out.rename(self.final_dir)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(self.work_dir, ignore_errors=True)
