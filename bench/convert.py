"""Benchmark the PHD08 converter against the seed tutorial's converter.

    python bench/convert.py [--files PATH ...] [--reference] [--scaling]

Converts the inputs (the shared real PHD08 samples when present, else generated files)
with the project's converter on every core and on one, and with a plain
re-implementation of the tutorial's converter; prints samples per second, the ratios
and the peak memory.

--reference  also converts with the project's reference mode and prints its largest
             difference from the tutorial (it must be at most one grey level).
--scaling    also imports 1x, 4x and 16x as many generated full-size files into a data
             set with the project's own build (conversion pool, parts, memory-mapped
             assembly), and prints the peak memory of each run: it must not grow with
             the number of files.
"""

import argparse
import math
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import ndimage  # noqa: E402

from classifier.ml.build import build_phd08  # noqa: E402
from classifier.ml.convert import ConversionSettings, convert_file  # noqa: E402
from classifier.ml.phd08 import parse_phd08  # noqa: E402
from classifier.ml.sources import collect_phd08_inputs  # noqa: E402
from tests.support.phd08 import make_phd08_bytes  # noqa: E402

SHARED_SAMPLES = REPO.parent / "shared" / "phd08-samples"
MIN_FILES = 16
SCALES = (1, 4, 16)
SETTINGS = ConversionSettings()
REFERENCE_SETTINGS = ConversionSettings(reference=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="+", type=Path, help="PHD08 .txt files to convert")
    parser.add_argument("--reference", action="store_true", help="check the reference mode")
    parser.add_argument("--scaling", action="store_true", help="check memory against input size")
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        inputs = args.files or default_inputs(Path(tmp))
        samples_per_file = {path: count_samples(path) for path in inputs}
        print(f"inputs: {len(inputs)} files, {sum(samples_per_file.values())} samples, from")
        print(f"  {inputs[0].parent}")
        print(f"machine: {workers} cores, Python {sys.version.split()[0]}, numpy {np.__version__}")
        # Enough files, one per task, to keep every core busy.
        tasks = inputs * math.ceil(MIN_FILES / len(inputs))
        total = sum(samples_per_file[path] for path in tasks)

        parallel = total / run_pool(tasks, workers, SETTINGS)[0]
        single = total / timed(lambda: [convert_path(path, SETTINGS) for path in tasks])
        tutorial_images, tutorial_seconds = tutorial_run(inputs)
        tutorial = sum(len(images) for images in tutorial_images) / tutorial_seconds
        print()
        print(
            f"project, {workers} processes: {rate(parallel)}  ({len(tasks)} files, {total} samples)"
        )
        print(f"project, 1 core:      {rate(single)}")
        print(f"tutorial, 1 core:     {rate(tutorial)}  ({len(inputs)} files, every sample)")
        print(
            f"speed-up: {parallel / tutorial:.1f}x on {workers} processes, "
            f"{single / tutorial:.1f}x on 1 core"
        )
        print_peak_memory()

        if args.reference:
            check_reference(inputs, tutorial_images, samples_per_file)
        if args.scaling:
            check_scaling(Path(tmp) / "scaling", workers)


def default_inputs(tmp: Path) -> list[Path]:
    """The shared real files when this checkout has them, else two generated files."""
    real = sorted(SHARED_SAMPLES.glob("*.txt"))
    return real or generate_files(tmp / "generated", 2)


def generate_files(folder: Path, count: int) -> list[Path]:
    """``count`` full-size PHD08 files (2187 samples of 243 sizes, like the real ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sizes = list(
        zip(rng.integers(18, 55, 243).tolist(), rng.integers(24, 53, 243).tolist(), strict=True)
    )
    paths = []
    for number in range(count):
        path = folder / f"{chr(0xAC00 + number)}.txt"
        path.write_bytes(make_phd08_bytes(n_per_group=243, seed=number, sizes=sizes))
        paths.append(path)
    return paths


def count_samples(path: Path) -> int:
    return parse_phd08(path.read_bytes(), path.name).count


def convert_path(path: Path, settings: ConversionSettings) -> int:
    """Convert one file, as a build's worker does; the number of samples."""
    return len(convert_file(path.read_bytes(), path.name, settings).images)


def warm_up(_: int) -> int:
    """Nothing: makes a fresh worker import its modules before the clock starts."""
    return 0


def run_pool(tasks: list[Path], workers: int, settings) -> tuple[float, int]:
    """Seconds and samples to convert ``tasks``, one file per task, on ``workers`` processes."""
    # "spawn", as the project's builds use: workers start cold, without the parent's caches.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        list(pool.map(warm_up, range(workers)))
        start = time.perf_counter()
        counts = pool.map(convert_path, tasks, [settings] * len(tasks))
        samples = sum(counts)
        return time.perf_counter() - start, samples


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def rate(samples_per_second: float) -> str:
    return f"{samples_per_second:>10,.0f} samples/s"


def tutorial_run(inputs: list[Path]) -> tuple[list[np.ndarray], float]:
    """The tutorial's images of every sample of each input, and the seconds taken."""
    start = time.perf_counter()
    images = [
        np.stack(
            [
                tutorial_convert(bitmap, SETTINGS.height, SETTINGS.width, SETTINGS.sigma)
                for bitmap in tutorial_bitmaps(path)
            ]
        )
        for path in inputs
    ]
    return images, time.perf_counter() - start


def tutorial_bitmaps(path: Path):
    """Read samples line by line, as the tutorial did, into float arrays."""
    with path.open() as fh:
        lines = iter(fh)
        for line in lines:
            if not line.strip():
                continue
            rows, _ = map(int, next(lines).split())
            yield np.array([list(map(int, next(lines).strip())) for _ in range(rows)], float)


def tutorial_convert(bitmap: np.ndarray, height: int, width: int, sigma: float) -> np.ndarray:
    """The tutorial's converter: blur, scipy.misc.imresize (bytescale + Pillow), float32."""
    blurred = ndimage.gaussian_filter(bitmap, sigma)
    low, high = blurred.min(), blurred.max()
    scale = 255.0 / ((high - low) or 1)
    bytes_ = (((blurred - low) * scale).clip(0, 255) + 0.5).astype(np.uint8)
    resized = Image.fromarray(bytes_).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized).astype(np.float32)


def check_reference(inputs, tutorial_images, samples_per_file):
    """Convert with the reference mode; compare with the tutorial's images."""
    start = time.perf_counter()
    converted = [convert_file(path.read_bytes(), path.name, REFERENCE_SETTINGS) for path in inputs]
    speed = sum(samples_per_file[path] for path in inputs) / (time.perf_counter() - start)
    worst = max(
        np.abs(ours.images - theirs).max()
        for ours, theirs in zip(converted, tutorial_images, strict=True)
    )
    compared = sum(len(theirs) for theirs in tutorial_images)
    print()
    print(f"reference mode, 1 core: {rate(speed)}")
    print(
        f"reference mode vs tutorial: max |difference| = {worst:g} grey level(s) "
        f"over {compared} samples ({'OK' if worst <= 1 else 'TOO LARGE'})"
    )


def check_scaling(folder: Path, workers: int):
    """Peak memory while importing ever more files with the project's build: flat."""
    base = max(workers, 1)
    paths = generate_files(folder / "in", base * SCALES[-1])
    print()
    print(f"scaling (the project's build on {workers} processes: parts, then one memory map):")
    for scale in SCALES:
        inputs = collect_phd08_inputs(
            paths[: base * scale], max_zip_bytes=0, max_zip_members=0, max_member_bytes=0
        )
        out_dir = folder / f"set-{scale}"
        with PeakMemory() as peak:
            start = time.perf_counter()
            arrays = build_phd08(inputs, out_dir, SETTINGS, processes=workers)
            seconds = time.perf_counter() - start
        print(
            f"  {scale:>2}x: {len(inputs):>3} files, {len(arrays):>7,} samples, {seconds:6.2f} s, "
            f"peak memory (this process + workers) {peak.mib:6.1f} MiB "
            f"({peak.anon_mib:.1f} MiB their own, the rest mapped file pages)"
        )
        shutil.rmtree(out_dir)


class PeakMemory:
    """The largest resident memory of this process and its children while in the block.

    ``peak`` counts every resident page, memory-mapped file pages included; ``peak_anon``
    only the processes' own (anonymous) memory: mapped file pages are page cache, which
    the kernel drops when memory is short.
    """

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.peak = 0
        self.peak_anon = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @property
    def mib(self) -> float:
        return self.peak / 2**20

    @property
    def anon_mib(self) -> float:
        return self.peak_anon / 2**20

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def sample() -> tuple[int, int]:
        """``(resident, anonymous)`` bytes of this process and its children now."""
        me = psutil.Process()
        resident = anonymous = 0
        for process in (me, *me.children(recursive=True)):
            try:
                info = process.memory_info()
            except psutil.NoSuchProcess:
                continue
            resident += info.rss
            # On Linux, "shared" is the resident file-backed (and shmem) pages.
            anonymous += info.rss - getattr(info, "shared", 0)
        return resident, anonymous

    def _sample(self):
        while not self._stop.is_set():
            resident, anonymous = self.sample()
            self.peak = max(self.peak, resident)
            self.peak_anon = max(self.peak_anon, anonymous)
            time.sleep(self.interval)


def print_peak_memory():
    # ru_maxrss is in KiB on Linux; "children" is the largest single waited-for child.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {own:.1f} MiB, largest worker {children:.1f} MiB")


if __name__ == "__main__":
    main()
