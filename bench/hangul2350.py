"""Benchmark: the whole Hangul set (2,350 KS X 1001 syllables) from print fonts.

    python bench/hangul2350.py [--models BEFORE cnn-large] [--epochs 6] [--per-font 4]
        [--style print] [--held-out-per-font 2] [--photos 2] [--drawings 1] [--keep DIR]
        [--json PATH]

Does in a throw-away lab (``--keep`` names a folder to use and keep, so that a second
run reuses its data sets) what a lab user does, through the lab's own commands:

1. ``manage.py render_dataset --charset ks2350`` from 11 print fonts (``TRAINING_FONTS``,
   in ``--style`` with its default augmentation, ``--per-font`` samples of each
   character and font: 103,396 samples), and from the 4 print families held out
   entirely (``HELD_OUT_FONTS``, every face of them out of training, in the plain print
   style: 18,800 samples). The style is ``print`` by default, as the issue measured:
   the target is print fonts, and the handwriting style (``--style handwriting``, the
   lab's default for reading handwriting) trades print accuracy for it; measured with
   it, the same model reaches 76% on the held-out fonts where the print style gives 99%.
2. For each of ``--models``, one after the other on this machine: ``manage.py train
   --model M --epochs 6 --batch-size 128 --split stratified:0.05`` in a process of its
   own, timed from start to end, its peak memory (the process and its children)
   sampled every 0.1 s; then ``manage.py evaluate`` of that job on the held-out fonts,
   timed and sampled the same way.
3. Reads handwriting with each model: phone photos and canvas drawings of the 48
   common syllables of ``bench/handwriting.py`` in the six handwriting fonts (made the
   same way, read by the Predict page's code), when fonts-nanum-extra and
   fonts-unfonts-extra are installed.

``BEFORE`` is the ``cnn-large`` the issue measured (12 min 45 s, 94.9% on validation,
93.7% on held-out fonts): its layer spec, trained plainly as every hand-written spec is.
Printed per model: wall time of the training command, peak memory of training and of
evaluation, the per-epoch curve (loss, validation loss and accuracy, seconds), the
validation accuracy, the held-out print accuracy and the handwriting accuracy.

The held-out fonts and the handwriting are measured only: choices are made on the
training data's validation split, never on them.
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
from handwriting import COMMON48, HANDWRITING_FONTS, evaluate, summary
from lab import setup_django

REPO = Path(__file__).resolve().parents[1]

#: The old cnn-large of the issue's measurement, trained without a recipe.
BEFORE = "conv32-bn-conv32-pool-conv64-bn-conv64-pool-dropout0.25-dense512-dropout0.4"
#: Regular faces of 11 print families (no face of a held-out family). BaekmukHeadline
#: draws 쏀 empty: the build leaves those samples out and lists them.
TRAINING_FONTS = (
    "BaekmukBatang",
    "BaekmukHeadline",
    "NanumBarunGothic",
    "NanumGothic",
    "NanumGothicCoding",
    "NanumSquare",
    "UnBatang",
    "UnDinaru",
    "UnGraphic",
    "UnGungseo",
    "UnPilgi",
)
#: Four families kept out of training entirely: a serif, two sans and a rounded face.
HELD_OUT_FONTS = ("NanumMyeongjo", "UnDotum", "BaekmukGulim", "NanumSquareRound")
EPOCHS, BATCH_SIZE, SPLIT = 6, 128, "stratified:0.05"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["BEFORE", "cnn-large"],
        help="presets or layer specs; BEFORE is the old cnn-large",
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--per-font", type=int, default=4, help="training samples per font")
    parser.add_argument(
        "--style",
        default="print",
        choices=("print", "handwriting"),
        help="the training set's rendering style",
    )
    parser.add_argument("--held-out-per-font", type=int, default=2)
    parser.add_argument("--photos", type=int, default=2, help="photos per syllable and style")
    parser.add_argument("--drawings", type=int, default=1, help="drawings per syllable and font")
    parser.add_argument("--keep", type=Path, help="a folder to use and keep (data sets reused)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            var_dir = args.keep.resolve()
        else:
            var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-2350-")))
        run(args, var_dir)


def run(args, var_dir: Path):
    setup_django(var_dir)
    from django.contrib.auth.models import User

    from classifier.ml import fonts

    installed = {font.name for font in fonts.find_hangul_fonts()}
    missing = [name for name in TRAINING_FONTS + HELD_OUT_FONTS if name not in installed]
    if missing:
        sys.exit(f"Fonts missing: {', '.join(missing)}; install them with:  {fonts.INSTALL_HINT}")
    User.objects.get_or_create(username="bench")
    env = {**os.environ, "VAR_DIR": str(var_dir), "LOG_LEVEL": "WARNING"}
    training = render(
        env, f"ks2350-train-{args.style}", TRAINING_FONTS, args.per_font, style=args.style
    )
    held_out = render(env, "ks2350-held-out", HELD_OUT_FONTS, args.held_out_per_font, "print")
    print(
        f"training set: {training.num_samples:,} samples from {len(TRAINING_FONTS)} fonts; "
        f"held out: {held_out.num_samples:,} samples "
        f"from {', '.join(HELD_OUT_FONTS)}"
    )
    results = [measure(args, env, model, training, held_out) for model in args.models]
    handwriting_fonts = [
        font for font in fonts.find_hangul_fonts() if font.name in HANDWRITING_FONTS
    ]
    for result in results:
        result["handwriting"] = read_handwriting(args, result["job"], handwriting_fonts)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
        print(f"figures written to {args.json}")


def render(env, name, font_names, per_font, style):
    """The data set ``name`` (rendered now unless a kept folder already holds it)."""
    from classifier.models import Dataset, JobStatus

    dataset = Dataset.objects.filter(name=name, status=JobStatus.SUCCEEDED).first()
    if dataset is not None:
        return dataset
    command = [
        "render_dataset",
        "--name",
        name,
        "--charset",
        "ks2350",
        "--fonts",
        ",".join(font_names),
        "--per-font",
        str(per_font),
    ]
    if style:
        command += ["--style", style]
    seconds, peak, _ = timed(command, env)
    print(f"rendered {name} in {seconds:.0f} s (peak {peak:.0f} MiB)", flush=True)
    return Dataset.objects.get(name=name)


def measure(args, env, model, training, held_out) -> dict:
    """Train ``model`` and evaluate it on the held-out fonts; its figures."""
    from classifier.models import TrainingJob

    spec = BEFORE if model == "BEFORE" else model
    command = [
        "train",
        "--dataset",
        training.name,
        "--model",
        spec,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(BATCH_SIZE),
        "--split",
        SPLIT,
        "--user",
        "bench",
        "--json",
    ]
    print(f"\ntraining {model} ...", flush=True)
    train_seconds, train_peak, _ = timed(command, env)
    job = TrainingJob.objects.filter(dataset=training).latest("pk")
    assert job.status == "SUCCEEDED", job.error_text
    evaluate_seconds, evaluate_peak, out = timed(
        ["evaluate", "--job", str(job.pk), "--dataset", held_out.name, "--json"], env
    )
    scored = json.loads(out.strip().splitlines()[-1])
    curve = [
        {
            "epoch": m.epoch,
            "loss": m.loss,
            "val_loss": m.val_loss,
            "val_accuracy": m.val_accuracy,
            "seconds": round(m.seconds, 1),
            "samples_per_second": round(m.samples_per_second),
        }
        for m in job.metrics.order_by("epoch")
    ]
    result = {
        "model": model,
        "spec": job.model_spec,
        "job": job.pk,
        "train_wall_seconds": round(train_seconds, 1),
        "train_peak_mib": round(train_peak),
        "val_accuracy": job.val_accuracy,
        "held_out_accuracy": scored["accuracy"],
        "held_out_samples": scored["n"],
        "evaluate_seconds": round(evaluate_seconds, 1),
        "evaluate_peak_mib": round(evaluate_peak),
        "curve": curve,
    }
    print(
        f"  {model}: {train_seconds:.0f} s, peak {train_peak:.0f} MiB, validation "
        f"{job.val_accuracy:.2%}, held-out print {scored['accuracy']:.2%}",
        flush=True,
    )
    return result


def timed(command, env) -> tuple[float, float, str]:
    """Run ``manage.py command``: (wall seconds, peak MiB of it and its children, stdout)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", *command],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        peak, peak_at = 0.0, 0.0
        watched = psutil.Process(process.pid)
        while process.poll() is None:
            with contextlib.suppress(psutil.Error):
                tree = [watched, *watched.children(recursive=True)]
                rss = sum(_rss(p) for p in tree) / 2**20
                if rss > peak:
                    peak, peak_at = rss, time.perf_counter() - started
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        print(
            f"  manage.py {command[0]}: {seconds:.0f} s, peak {peak:.0f} MiB at {peak_at:.0f} s",
            flush=True,
        )
        out.seek(0)
        text = out.read()
    if process.returncode:
        sys.exit(f"manage.py {' '.join(command)} failed ({process.returncode}):\n{text}")
    return seconds, peak, text


def _rss(process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:  # ended meanwhile
        return 0


def read_handwriting(args, job_pk, fonts) -> dict | None:
    """Top-1 of the job's model on the 48 common syllables in handwriting, per style."""
    if len(fonts) < len(HANDWRITING_FONTS):
        print(
            "handwriting fonts not installed (sudo apt-get install fonts-nanum-extra "
            "fonts-unfonts-extra): no handwriting figure"
        )
        return None
    from classifier.models import TrainingJob

    job = TrainingJob.objects.get(pk=job_pk)
    options = SimpleNamespace(photos=args.photos, drawings=args.drawings, seed=0, save_images=None)
    chars = list(COMMON48)
    rows, everything = [], []
    for font in fonts:
        results = evaluate(options, job, chars, font.name, "photo", [font])
        rows.append(summary(font.name, results))
        everything += results
    drawings = evaluate(options, job, chars, "canvas", "canvas", fonts)
    rows.append(summary("canvas", drawings))
    everything += drawings
    return {"styles": rows, "overall": summary("all handwriting", everything)}


def report(results):
    print("\n| | " + " | ".join(r["model"] for r in results) + " |")
    print("|---|" + "---|" * len(results))
    rows = [
        ("training wall time", lambda r: f"{r['train_wall_seconds'] / 60:.1f} min"),
        ("training peak memory", lambda r: f"{r['train_peak_mib']:,} MiB"),
        ("validation accuracy", lambda r: f"{r['val_accuracy']:.2%}"),
        ("held-out print fonts", lambda r: f"{r['held_out_accuracy']:.2%}"),
        ("evaluation time", lambda r: f"{r['evaluate_seconds']:.0f} s"),
        ("evaluation peak memory", lambda r: f"{r['evaluate_peak_mib']:,} MiB"),
        (
            "handwriting, 48 syllables",
            lambda r: f"{r['handwriting']['overall']['top1']:.1%}" if r["handwriting"] else "-",
        ),
    ]
    for title, cell in rows:
        print(f"| {title} | " + " | ".join(cell(r) for r in results) + " |")
    for result in results:
        print(f"\n{result['model']} ({result['spec']}), per epoch:")
        print("| epoch | loss | val. loss | val. accuracy | seconds | samples/s |")
        print("|---|---|---|---|---|---|")
        for m in result["curve"]:
            print(
                f"| {m['epoch']} | {m['loss']:.3f} | {m['val_loss']:.3f} | "
                f"{m['val_accuracy']:.2%} | {m['seconds']} | "
                f"{m['samples_per_second']:,} |"
            )
        if result["handwriting"]:
            for row in result["handwriting"]["styles"]:
                print(
                    f"  handwriting {row['style']:20} {row['images']:5d} images  "
                    f"top-1 {row['top1']:.1%}  top-3 {row['top3']:.1%}"
                )


if __name__ == "__main__":
    main()
