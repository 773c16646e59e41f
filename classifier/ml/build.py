"""Building data sets: PHD08 conversion, font rendering and handwriting, resumably.

A build is a list of *units* (one PHD08 file, one character in one font, or one
character's handwritten submissions). Each unit
is converted in a worker process, which writes its part to disk itself, so memory stays
flat however many units there are; the parent only counts. Units whose part already
exists (an interrupted build of the same inputs) are skipped.
"""

import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import preprocess
from .convert import ConversionSettings, convert_file
from .fonts import HangulFont
from .render import RenderSettings, render_samples
from .sources import Phd08Input
from .store import ArrayStore, StoreBuilder, write_part

logger = logging.getLogger(__name__)


class BuildCancelled(Exception):
    """The build was asked to stop; the parts made so far are kept for a resume."""


@dataclass
class Progress:
    """How far a build has come; handed to the ``on_progress`` callback."""

    units_done: int
    units_total: int
    samples_done: int
    started: float

    @property
    def samples_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.samples_done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if not self.units_done:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.units_done * (self.units_total - self.units_done)


ProgressCallback = Callable[[Progress], None]


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
) -> ArrayStore:
    """Render every character in every font into a data set; classes keep ``chars``' order."""
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
    return builder.finish(list(chars))


def build_handwriting(
    samples: Sequence[tuple[str, str, str]],
    classes: Sequence[str],
    out_dir: Path,
    size: tuple[int, int],
    style: preprocess.InputStyle,
    *,
    processes: int = 1,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ArrayStore:
    """A data set of handwriting: each ``(image path, character, writer)`` preprocessed
    like a photo for a model of ``size`` and ``style``; the writer is the sample's group.

    One unit a character. An image that can no longer be read is left out; a character
    left with no images fails the build with its name.
    """
    fingerprint = {
        "kind": "handwriting",
        "size": list(size),
        "style": style.as_dict(),
        "samples": [list(sample) for sample in samples],
    }
    builder = StoreBuilder(out_dir, size[0], size[1], fingerprint)
    by_char = {char: [(path, writer) for path, c, writer in samples if c == char]
               for char in classes}  # fmt: skip
    units = {f"{ord(char):05x}": (char, by_char[char], size, style) for char in classes}
    _run_units(builder, units, _handwriting_unit, processes, on_progress, should_stop)
    return builder.finish(list(classes))


def _convert_unit(parts_dir: Path, key: str, item: Phd08Input, settings: ConversionSettings):
    converted = convert_file(item.read_bytes(), item.file_name, settings)
    write_part(parts_dir, key, converted.label, converted.images, converted.groups)
    return len(converted.images)


def _render_unit(parts_dir: Path, key: str, char: str, font: HangulFont, settings: RenderSettings):
    images = render_samples(char, font, settings)
    write_part(parts_dir, key, char, images, [font.name] * len(images))
    return len(images)


def _handwriting_unit(parts_dir: Path, key: str, char: str, samples, size, style):
    images, writers = [], []
    for path, writer in samples:
        try:
            image = preprocess.open_image(Path(path).read_bytes())
            images.append(preprocess.preprocess(image, size, style).input)
        except (OSError, preprocess.ImageRejected):
            continue
        writers.append(writer)
    stack = np.stack(images) if images else np.empty((0, *size), dtype=np.uint8)
    write_part(parts_dir, key, char, stack, writers)
    return len(images)


def _run_units(builder, units, work, processes, on_progress, should_stop):
    todo = [key for key in units if not builder.has_part(key)]
    progress = Progress(len(units) - len(todo), len(units), 0, time.monotonic())
    if progress.units_done:
        logger.info("Resuming: %d of %d units were built before.", progress.units_done,
                    len(units))  # fmt: skip

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
    # resumes from them.
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_interrupts)
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


def _ignore_interrupts():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
