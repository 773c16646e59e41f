"""Benchmark the whole-set PHD08 import and streaming training, on a fraction of the set.

    python bench/scale.py [--percents 1 5 10] [--model cnn] [--large-model cnn-large]
                          [--skip-all-classes] [--skip-train] [--keep DIR]

Generates PHD08 files the size of the real ones (2,187 samples of 243 sizes, about
3.2 MB each, written by the project's writer) for 1%, 5% and 10% of the full set's
2,350 characters, imports each with ``manage.py import_phd08`` in a throw-away lab (a
process per core, each file written as a part, the parts assembled through a memory
map), and prints files and samples per second, the peak memory of this process and its
workers together, the disk taken per sample, and the time the full set would take at
that speed. Targets: the full set in under 5 minutes, peak memory under 1 GB at every
size, and flat: it must not grow with the number of files.

Then trains the ``--model`` for one epoch on the smallest and on the largest set with
the train worker's training loop, reading batches from the memory map (the streaming
pipeline, as for a data set too large to gather), and prints samples per second and
peak memory; the memory must not grow with the data set either.

The 2,350-class check (``--skip-all-classes`` skips it): writes two sets of all 2,350
KS X 1001 characters, with 2 and 6 samples of each of the 9 font groups (42,300 and
126,900 samples, of small sizes), imports both the same way, checks that each has
exactly the 2,350 classes, and last trains the ``--large-model`` for one streamed epoch
on each: the model is the same for both, so its peak memory must not grow with the
data set. ``--skip-train`` skips every training, this one included.

Everything is written under a temporary folder in /tmp (about 2 GB at 10%), removed
at the end unless ``--keep`` names a folder to use and keep.
"""

import argparse
import contextlib
import functools
import io
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
from convert import PeakMemory, generate_files  # noqa: E402
from lab import setup_django  # noqa: E402

from classifier.ml.charsets import ks_x_1001  # noqa: E402
from tests.support.phd08 import write_phd08_files  # noqa: E402

FULL_SET_FILES = 2350
TARGET_FULL_SECONDS = 5 * 60
TARGET_PEAK_MIB = 1024
# "Flat" for training: what a larger set may add, the memory map's pages the pipeline
# holds between releases (training.RELEASE_BYTES) and its sample indices.
TARGET_TRAIN_GROWTH_MIB = 100
# Samples of each of the 9 font groups per character in the two 2,350-class sets.
ALL_CLASSES_PER_GROUP = (2, 6)
MiB = 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--percents",
        nargs="+",
        type=float,
        default=[1, 5, 10],
        help="sizes to import, in %% of the full set's 2,350 files",
    )
    parser.add_argument("--model", default="cnn", help="what to train: a preset or a layer spec")
    parser.add_argument(
        "--large-model",
        default="cnn-large",
        help="what to train on the 2,350-class sets (preset or spec)",
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--skip-all-classes", action="store_true", help="skip the 2,350-class import and training"
    )
    parser.add_argument("--skip-train", action="store_true", help="only import")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (files reused)")
    args = parser.parse_args()
    if not all(0 < percent <= 100 for percent in args.percents):
        parser.error("--percents: each size is more than 0 and at most 100 (percent).")
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-", dir="/tmp"))
    try:
        run(root, args)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def run(root: Path, args):
    counts = sorted({max(1, round(FULL_SET_FILES * p / 100)) for p in args.percents})
    files = generated(root / "phd08", counts[-1])
    setup_django(root / "var")
    print(
        f"machine: {os.cpu_count()} cores; files: {files[0].stat().st_size / MiB:.1f} MiB "
        f"and 2,187 samples each, in {files[0].parent}"
    )
    print()
    results = [import_files(files[:count]) for count in counts]
    # Before any training, so that their memory is measured without TensorFlow's.
    all_classes = [] if args.skip_all_classes else import_all_classes(root)
    print()
    for result in results:
        print_import(result)
    full = results[-1]["seconds"] * FULL_SET_FILES / results[-1]["files"]
    peaks = [r["peak_mib"] for r in results]
    print(
        f"full set ({FULL_SET_FILES:,} files), extrapolated from the largest run: "
        f"{full / 60:.1f} min (target < {TARGET_FULL_SECONDS // 60} min: "
        f"{verdict(full < TARGET_FULL_SECONDS)})"
    )
    print(
        f"peak memory: {min(peaks):.0f}-{max(peaks):.0f} MiB over {counts[0]}-{counts[-1]} "
        f"files (target < {TARGET_PEAK_MIB} MiB at every size: "
        f"{verdict(max(peaks) < TARGET_PEAK_MIB)})"
    )
    if all_classes:
        print_all_classes(all_classes)
    if args.skip_train:
        return
    print()
    small = train_one_epoch(results[0], args.model, args.batch_size)
    if len(results) > 1:
        print_training_growth(small, train_one_epoch(results[-1], args.model, args.batch_size))
    if all_classes:
        # The "done when": a 2,350-class model trains without its memory growing
        # with the data set.
        print()
        runs = [train_one_epoch(r, args.large_model, args.batch_size) for r in all_classes]
        print_training_growth(runs[0], runs[-1])


def import_all_classes(root: Path) -> list[dict]:
    """Write and import a set of all 2,350 characters for each ``ALL_CLASSES_PER_GROUP``."""
    imported = []
    for per_group in ALL_CLASSES_PER_GROUP:
        write = functools.partial(write_all_classes, per_group=per_group)
        files = generated(root / f"phd08-all-{per_group}", FULL_SET_FILES, write)
        imported.append(import_files(files, name=f"scale-all-{per_group}"))
    return imported


def print_all_classes(imported: list[dict]):
    """The 2,350-class imports' figures, and whether each holds every character once."""
    print()
    for result in imported:
        print_import(result, full_set=False)
    expected = sorted(ks_x_1001())
    counts = " and ".join(f"{len(r['dataset'].classes):,}" for r in imported)
    every = all(sorted(r["dataset"].classes) == expected for r in imported)
    print(
        f"classes: {counts} in these sets (target: all {len(expected):,} KS X 1001 "
        f"syllables, each once: {verdict(every)})"
    )


def write_all_classes(folder: Path, count: int, per_group: int) -> list[Path]:
    """Files of the first ``count`` KS X 1001 syllables, ``per_group`` samples a font group."""
    return write_phd08_files(folder, ks_x_1001()[:count], per_group=per_group)


def print_training_growth(small: dict, large: dict):
    """How much more peak memory training took on the larger set, and the verdict."""
    grown = large["peak_mib"] - small["peak_mib"]
    print(
        f"training peak memory: {small['peak_mib']:.0f} MiB for {small['samples']:,} "
        f"samples, {large['peak_mib']:.0f} MiB for {large['samples']:,} ({grown:+.0f} MiB "
        f"for {large['samples'] / small['samples']:.0f}x the samples; target: flat, under "
        f"{TARGET_TRAIN_GROWTH_MIB} MiB more: {verdict(grown < TARGET_TRAIN_GROWTH_MIB)})"
    )


def generated(folder: Path, count: int, write=generate_files) -> list[Path]:
    """``count`` PHD08 files in ``folder``, written by ``write(folder, count)`` unless there.

    ``write`` defaults to full-size files (2,187 samples of 243 sizes).
    """
    existing = sorted(folder.glob("*.txt"))
    if len(existing) >= count:
        return existing[:count]
    started = time.perf_counter()
    paths = write(folder, count)
    print(f"generated {count} files in {folder.name} in {time.perf_counter() - started:.0f} s")
    return paths


def import_files(files: list[Path], name: str | None = None) -> dict:
    """Import ``files`` as data set ``name`` with the import_phd08 command.

    Returns its speed, memory and disk; ``name`` defaults to ``scale-<files>``.
    """
    from django.core.management import call_command

    from classifier import services
    from classifier.models import Dataset

    name = name or f"scale-{len(files)}"
    print(f"importing {len(files)} files as {name}", flush=True)
    for old in Dataset.objects.filter(name=name):  # left by an earlier run with --keep
        services.delete_dataset(old)
    # The command's progress bar (files, samples/s, time left) is kept off the report.
    with PeakMemory() as peak, contextlib.redirect_stderr(io.StringIO()):
        started = time.perf_counter()
        call_command("import_phd08", "--name", name, *map(str, files), stdout=io.StringIO())
        seconds = time.perf_counter() - started
    dataset = Dataset.objects.get(name=name)
    disk = sum(path.stat().st_size for path in dataset.store_dir.iterdir())
    return {
        "dataset": dataset,
        "files": len(files),
        "samples": dataset.num_samples,
        "seconds": seconds,
        "peak_mib": peak.mib,
        "peak_anon_mib": peak.anon_mib,
        "disk_per_sample": disk / dataset.num_samples,
        "input_per_sample": sum(path.stat().st_size for path in files) / dataset.num_samples,
    }


def print_import(r: dict, full_set: bool = True):
    """One import's figures; with ``full_set``, the full set's time at its speed in files.

    Leave ``full_set`` off for files smaller than the real ones.
    """
    extrapolated = (
        f"; full set at this speed {r['seconds'] * FULL_SET_FILES / r['files'] / 60:.1f} min"
    )
    print(
        f"{r['files']:>4} files, {r['samples']:>9,} samples: {r['seconds']:6.1f} s, "
        f"{r['files'] / r['seconds']:5.1f} files/s, {r['samples'] / r['seconds']:>8,.0f} "
        f"samples/s, peak memory {r['peak_mib']:4.0f} MiB ({r['peak_anon_mib']:.0f} MiB "
        f"anonymous), disk {r['disk_per_sample']:.0f} B/sample "
        f"(input {r['input_per_sample']:,.0f} B){extrapolated if full_set else ''}"
    )


def train_one_epoch(imported: dict, model: str, batch_size: int) -> dict:
    """One epoch of ``model`` on an imported set, streaming from its memory map."""
    from classifier.ml import splits, training

    dataset = imported["dataset"]
    arrays = dataset.open_store()
    classes = len(arrays.manifest.classes)
    split = splits.stratified(arrays.labels, np.arange(len(arrays)), 0.1, seed=0)
    config = training.TrainConfig(spec_text=model, epochs=1, batch_size=batch_size)
    listener = EpochPrinter(len(split.train), batch_size)
    print(
        f"training {model} on {dataset.name}: {len(split.train):,} samples, "
        f"{classes:,} classes, batch {batch_size}, one epoch, streamed"
    )
    before = PeakMemory.sample()
    with PeakMemory() as peak:
        result = training.train(
            arrays.images,
            arrays.labels,
            split,
            classes,
            config,
            listener,
            chosen_labels=list(range(classes)),
            in_memory_bytes=0,
        )
    epoch = result.history[-1]
    print(
        f"  {epoch['samples_per_second']:,.0f} samples/s, epoch {epoch['seconds']:.0f} s, "
        f"val accuracy {epoch['val_accuracy']:.3f} (chance {1 / classes:.2g}: the generated "
        f"glyphs are random strokes); memory {before[0] / MiB:.0f} MiB before, peak "
        f"{peak.mib:.0f} MiB ({before[1] / MiB:.0f} -> {peak.anon_mib:.0f} MiB anonymous)"
    )
    return {"samples": len(split.train), "peak_mib": peak.mib}


class EpochPrinter:
    """A training listener that prints how far the epoch has come every ten seconds."""

    def __init__(self, samples: int, batch_size: int):
        self.batches = math.ceil(samples / batch_size)
        self.started = self.last = time.monotonic()

    def on_epoch_begin(self, epoch):
        self.started = self.last = time.monotonic()

    def on_batch(self, epoch, batch, batches):
        now = time.monotonic()
        if now - self.last >= 10:
            self.last = now
            elapsed = now - self.started
            left = elapsed / (batch + 1) * (batches - batch - 1)
            print(
                f"  batch {batch + 1:,} of {batches:,}, {elapsed:.0f} s, {left:.0f} s left",
                flush=True,
            )

    def on_epoch_end(self, epoch, metrics):
        pass

    def should_stop(self):
        return False


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
