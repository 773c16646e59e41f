"""Building data sets: PHD08 conversion, font rendering and handwriting, resumably.

A build is a list of *units* (one PHD08 file, one character in one font, or one
character's handwritten images). Each unit
is converted in a worker process, which writes its part to disk itself, so memory stays
flat however many units there are; the parent only counts. Units whose part already
exists (an interrupted build of the same inputs) are skipped.
"""

import ctypes
import ctypes.util
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import preprocess
from .convert import ConversionSettings, convert_file
from .fonts import HangulFont
from .messages import Message, _
from .render import GlyphMissing, RenderSettings, render_samples
from .sources import FileReader, Phd08Input, SourceError, ZipMember
from .store import ArrayStore, StoreBuilder, StoreError, write_atomically, write_part

# prctl(2): the signal a process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1

logger = logging.getLogger(__name__)


class BuildCancelled(Exception):
    """The build was asked to stop; the parts made so far are kept for a resume."""


@dataclass
class Progress:
    """How far a build has come, the units an earlier run built included; handed to the
    ``on_progress`` callback. Rates and the time left are this run's own measure."""

    units_done: int
    units_total: int
    samples_done: int
    started: float
    #: What earlier runs of a resumed build had built.
    units_before: int = 0
    samples_before: int = 0

    @property
    def samples_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.samples_done - self.samples_before) / elapsed if elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left, at this run's pace; None until this run has built a unit."""
        built = self.units_done - self.units_before
        if built <= 0:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / built * (self.units_total - self.units_done)


ProgressCallback = Callable[[Progress], None]
#: Told of each image left out of a build: its name, and why (a message for people).
SkipCallback = Callable[[str, Message], None]
#: An image to read: a file's path, or a member of a zip archive.
ImageSource = str | Path | ZipMember


def build_phd08(
    inputs: Sequence[Phd08Input],
    out_dir: Path,
    settings: ConversionSettings,
    *,
    processes: int = 0,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ArrayStore:
    """Convert PHD08 character files into a data set at ``out_dir``; classes sorted."""
    fingerprint = {
        "kind": "phd08",
        "settings": asdict(settings),
        "inputs": [[item.display_name, item.size] for item in inputs],
    }
    builder = StoreBuilder(out_dir, settings.height, settings.width, fingerprint)
    units = {f"{ord(item.label):05x}": (item, settings) for item in inputs}
    _run_units(builder, units, _convert_unit, processes, on_progress, should_stop)
    return builder.finish(sorted(item.label for item in inputs))


def build_rendered(
    chars: Sequence[str],
    fonts: Sequence[HangulFont],
    out_dir: Path,
    settings: RenderSettings,
    *,
    processes: int = 0,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_skip: SkipCallback | None = None,
) -> ArrayStore:
    """Render every character in every font into a data set; classes keep ``chars``' order.

    A character that a font cannot draw (no glyph, or an empty one) is left out of that
    font's samples and passed to ``on_skip`` as "character (font)" with the reason, once
    the units are done; a character that no font can draw fails the build.
    """
    fingerprint = {
        "kind": "fonts",
        "settings": asdict(settings),
        "chars": list(chars),
        "fonts": [[font.name, str(font.path), font.index] for font in fonts],
    }
    builder = StoreBuilder(out_dir, settings.height, settings.width, fingerprint)
    units = {
        f"{ord(char):05x}-{number:03d}": (char, font, settings)
        for char in chars
        for number, font in enumerate(fonts)
    }
    _run_units(builder, units, _render_unit, processes, on_progress, should_stop)
    drawn = dict.fromkeys(chars, 0)
    for key, (char, _font, _settings) in units.items():
        count, skipped = _read_skipped(builder.parts_dir, key)
        # No count: a part rendered before skips were recorded, which has its samples.
        drawn[char] += 1 if count is None else count
        for name, reason in skipped:
            if on_skip:
                on_skip(name, reason)
    undrawn = [char for char, count in drawn.items() if not count]
    if undrawn:
        raise StoreError(
            _(
                "None of the fonts can draw %(chars)s; leave it out or choose other fonts.",
                chars=" ".join(undrawn),
            )
        )
    return builder.finish(list(chars))


def build_handwriting(
    samples: Sequence[tuple[ImageSource, str, str]],
    classes: Sequence[str],
    out_dir: Path,
    size: tuple[int, int],
    style: preprocess.InputStyle,
    *,
    processes: int = 1,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_skip: SkipCallback | None = None,
    drop_empty: bool = False,
    max_pixels: int = preprocess.MAX_PIXELS,
) -> ArrayStore:
    """A data set of handwriting: each ``(image, character, writer)`` preprocessed like
    a photo for a model of ``size`` and ``style``; the writer is the sample's group.

    An image is a file's path or a :class:`~classifier.ml.sources.ZipMember`. One unit
    a character. An image that cannot be read, or that preprocessing refuses, is left
    out and passed to ``on_skip`` with its name and the reason, once the units are done.
    A character left with no images fails the build with its name, or with
    ``drop_empty`` is left out of the classes (a build with no image at all fails).
    """
    fingerprint = {
        "kind": "handwriting",
        "size": list(size),
        "style": style.as_dict(),
        "samples": [[str(source), char, writer] for source, char, writer in samples],
    }
    builder = StoreBuilder(out_dir, size[0], size[1], fingerprint)
    by_char = {
        char: [(source, writer) for source, c, writer in samples if c == char] for char in classes
    }
    units = {f"{ord(char):05x}": (char, by_char[char], size, style, max_pixels) for char in classes}
    _run_units(builder, units, _handwriting_unit, processes, on_progress, should_stop)
    kept = []
    for key, char in zip(units, classes, strict=True):
        count, skipped = _read_skipped(builder.parts_dir, key)
        for name, reason in skipped:
            if on_skip:
                on_skip(name, reason)
        if count != 0 or not drop_empty:
            kept.append(char)
        else:
            builder.remove_part(key)
    if not kept:
        raise StoreError(_("None of the images could be read, so there is nothing to build."))
    return builder.finish(kept)


def source_name(source: ImageSource) -> str:
    """How an image is named to people: a zip member's name, or a file's path."""
    return source.name if isinstance(source, ZipMember) else str(source)


def _convert_unit(parts_dir: Path, key: str, item: Phd08Input, settings: ConversionSettings):
    converted = convert_file(item.read_bytes(), item.file_name, settings)
    return _write_unit(
        parts_dir, key, converted.label, converted.images, converted.groups, skipped=[]
    )


def _render_unit(parts_dir: Path, key: str, char: str, font: HangulFont, settings: RenderSettings):
    skipped = []
    try:
        images = render_samples(char, font, settings)
    except GlyphMissing as exc:
        skipped.append(_skip_record(f"{char} ({font.name})", exc.args[0]))
        images = np.empty((0, settings.height, settings.width), dtype=np.uint8)
    return _write_unit(parts_dir, key, char, images, [font.name] * len(images), skipped)


def _handwriting_unit(parts_dir: Path, key: str, char: str, samples, size, style, max_pixels):
    images, writers, skipped = [], [], []
    with FileReader() as reader:
        for source, writer in samples:
            try:
                image = preprocess.open_image(reader.read(source), max_pixels=max_pixels)
                images.append(preprocess.preprocess(image, size, style).input)
            except (preprocess.ImageRejected, SourceError) as exc:
                skipped.append(_skip_record(source, exc.args[0]))
                continue
            # A damaged archive shows as any of these, depending on where it is damaged.
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                # strerror: the reason without the server's path, which the name says.
                error = getattr(exc, "strerror", None) or str(exc)
                reason = _("It could not be read: %(error)s", error=error)
                skipped.append(_skip_record(source, reason))
                continue
            writers.append(writer)
    stack = np.stack(images) if images else np.empty((0, *size), dtype=np.uint8)
    return _write_unit(parts_dir, key, char, stack, writers, skipped)


def _write_unit(parts_dir: Path, key: str, char: str, images: np.ndarray, groups, skipped) -> int:
    """Write a unit's part and its record of what it left out; its count of images."""
    # The record goes first: a part on disk always has its list, so a resumed build
    # reports what the units it does not build again left out.
    record = {"count": len(images), "skipped": skipped}
    write_atomically(_skipped_path(parts_dir, key), json.dumps(record).encode())
    write_part(parts_dir, key, char, images, groups)
    return len(images)


def _skip_record(source, reason) -> dict:
    message = reason if isinstance(reason, Message) else Message(str(reason))
    return {"name": source_name(source), "template": message.template, "params": message.params}


def _skipped_path(parts_dir: Path, key: str) -> Path:
    return parts_dir / f"{key}.skipped.json"


def _read_skipped(parts_dir: Path, key: str) -> tuple[int | None, list[tuple[str, Message]]]:
    """A unit's count of images and what it left out, with why; a part built before
    these lists were kept has none (its count unknown)."""
    try:
        record = json.loads(_skipped_path(parts_dir, key).read_text())
    except FileNotFoundError:
        return None, []
    skipped = [
        (item["name"], Message(item["template"], **item["params"])) for item in record["skipped"]
    ]
    return record["count"], skipped


def _run_units(builder, units, work, processes, on_progress, should_stop):
    built = {key for key in units if builder.has_part(key)}
    todo = [key for key in units if key not in built]
    # A part's record counts its images; a part from before records were kept counts 0.
    samples = sum(_read_skipped(builder.parts_dir, key)[0] or 0 for key in built)
    progress = Progress(len(built), len(units), samples, time.monotonic(), len(built), samples)
    if progress.units_done:
        logger.info("Resuming: %d of %d units were built before.", progress.units_done, len(units))

    def report(samples):
        progress.units_done += 1
        progress.samples_done += samples
        if on_progress:
            on_progress(progress)

    if on_progress:
        on_progress(progress)
    workers = min(processes or os.cpu_count() or 1, len(todo))
    if workers <= 1:
        for key in todo:
            if should_stop and should_stop():
                raise BuildCancelled
            report(work(builder.parts_dir, key, *units[key]))
        return
    # "spawn": the worker that runs a build may have TensorFlow loaded, which must
    # never be forked.
    context = multiprocessing.get_context("spawn")
    # The workers leave Ctrl-C to this process, which stops handing out units and lets
    # the running ones finish, so every part on disk is whole and an interrupted build
    # resumes from them. They end with this process, however it ends.
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_pool_worker, initargs=(os.getpid(),)
    )
    with pool:
        pending = iter(todo)
        running = set()

        def submit_next():
            key = next(pending, None)
            if key is not None:
                running.add(pool.submit(work, builder.parts_dir, key, *units[key]))

        # A bounded window of submissions, so cancelling does not wait for every unit.
        for _ in range(2 * workers):
            submit_next()
        try:
            while running:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    report(future.result())
                    if should_stop and should_stop():
                        raise BuildCancelled
                    submit_next()
        except BaseException:
            for other in running:
                other.cancel()
            raise


def _pool_worker(parent: int):
    """Set up a build's pool process: Ctrl-C is left to the parent, and the process is
    killed when the parent dies, even by SIGKILL (a worker killed mid-build would
    otherwise leave its pool rendering for nobody)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
