"""Benchmark: how well models trained on PRINT fonts read HANDWRITING.

    python bench/handwriting.py [--chars tutorial8|common48|both] [--model cnn]
        [--epochs 10] [--per-font N] [--render-style STYLE] [--photos 5] [--drawings 2]
        [--unseen-print] [--seed 0] [--json PATH] [--save-images DIR]

Does in a throw-away lab (its own SQLite database and media folder under a temporary
VAR_DIR) exactly what a lab user does, through the lab's own code:

1. ``manage.py render_dataset`` renders the characters from the PRINT fonts only (the
   faces of the Debian packages fonts-nanum, fonts-unfonts-core and fonts-baekmuk), with
   the command's default augmentation and samples per font (``--per-font`` and
   ``--render-style`` override them; ``--render-style`` is passed as ``--style``).
2. ``manage.py train`` trains the CNN preset on it: 10 epochs, batch 64, a stratified
   10% validation split (``--model``, ``--epochs`` override).
3. ``services.predict_image`` (the Predict page's preprocessing and model) reads
   evaluation images in HANDWRITING-style fonts that no training set ever contains
   (fonts-nanum-extra and fonts-unfonts-extra: NanumPenScript, NanumBrushScript,
   NanumBarunpen, NanumBarunpen-Bold, UnPen, UnPenheulim), made by
   bench/handwriting_data.py from the seed: per style, ``--photos`` phone photos of each
   character (paper, uneven light, shadow, tilt, blur, noise, JPEG 60-90); and the style
   ``canvas``: ``--drawings`` finger drawings of each character per font, traced from the
   glyphs' skeletons and stroked as the Predict page's canvas does.

Each character set (the tutorial's 8; 48 common syllables) is its own data set and
model. Printed per set: per style the images, top-1 and top-3 accuracy, mean
confidence, expected calibration error (15 equal-width confidence bins) and images the
preprocessing refused; the overall accuracy; the validation accuracy on print fonts the
job reported; training time and samples/s from its epoch rows; the commonest mistakes;
the settings. ``--unseen-print`` also holds every fifth print family out of the
tutorial's 8 training set and photographs those fonts too: a sanity line for how print
fonts the model never saw fare. ``--json`` writes every figure.

Never train, tune or select on what this evaluates on: the handwriting fonts and these
images are the lab's only measure of reading handwriting, and stop being one the moment
any choice is made by looking at them. Tune on print fonts (or on your own handwriting
set); run this to measure, once, and report what it says.
"""

import argparse
import base64
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import handwriting_data
import numpy as np
from lab import setup_django

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: The packages whose faces are the training fonts, and the names they have when dpkg
#: cannot say (the faces of those packages in Debian 12 and Ubuntu 24.04).
PRINT_PACKAGES = ("fonts-nanum", "fonts-unfonts-core", "fonts-baekmuk")
PRINT_FONT_NAMES = (
    "BaekmukBatang",
    "BaekmukDotum",
    "BaekmukGulim",
    "BaekmukHeadline",
    "NanumBarunGothic",
    "NanumBarunGothic-Bold",
    "NanumGothic",
    "NanumGothic-Bold",
    "NanumGothicCoding",
    "NanumGothicCoding-Bold",
    "NanumMyeongjo",
    "NanumMyeongjo-Bold",
    "NanumSquare",
    "NanumSquare-Bold",
    "NanumSquareRound",
    "NanumSquareRound-Bold",
    "UnBatang",
    "UnBatang-Bold",
    "UnDinaru",
    "UnDinaru-Bold",
    "UnDinaru-Light",
    "UnDotum",
    "UnDotum-Bold",
    "UnGraphic",
    "UnGraphic-Bold",
    "UnGungseo",
    "UnPilgi",
    "UnPilgi-Bold",
)
#: The evaluation styles: handwriting-like faces of fonts-nanum-extra and
#: fonts-unfonts-extra. Not UnPilgia: it is a variant of the training font UnPilgi.
HANDWRITING_FONTS = (
    "NanumPenScript",
    "NanumBrushScript",
    "NanumBarunpen",
    "NanumBarunpen-Bold",
    "UnPen",
    "UnPenheulim",
)
HANDWRITING_HINT = "sudo apt-get install fonts-nanum-extra fonts-unfonts-extra"
#: 48 of the most frequent syllables of everyday written Korean (particles and endings
#: such as 이 다 는 의 에 을, and the syllables of the commonest words), as syllable
#: frequency counts of large corpora rank them: the National Institute of Korean
#: Language's 현대 국어 사용 빈도 조사 (2002) and counts over the Sejong corpus agree on
#: nearly all of them. Picked from the top of such rankings, so the order is rough. All
#: are in KS X 1001 (checked below).
COMMON48 = (
    "이다는의에하고을가지기로한대서사도리자어나수아주시"
    "인일있해게국전정부제우장보라상니들적성그면만과"
)
MODEL, EPOCHS, BATCH_SIZE, SPLIT = "cnn", 10, 64, "stratified:0.1"
#: Every fifth print family (from the second) is held out with ``--unseen-print``.
HOLD_OUT_EVERY = 5


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", choices=("tutorial8", "common48", "both"), default="both")
    parser.add_argument("--model", default=MODEL, help=f"train's --model ({MODEL})")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--per-font", type=int, help="render_dataset's --per-font (its default)")
    parser.add_argument("--render-style", help="render_dataset's --style (not passed if unset)")
    parser.add_argument("--photos", type=int, default=5, help="photos per character and style")
    parser.add_argument(
        "--drawings", type=int, default=2, help="canvas drawings per character and handwriting font"
    )
    parser.add_argument(
        "--unseen-print",
        action="store_true",
        help="hold print families out of tutorial8's training; photograph them",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluation images")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--save-images", type=Path, help="also write the evaluation images here")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-handwriting-") as var_dir:
        setup_django(Path(var_dir))
        fonts = bench_fonts()
        if fonts is None:
            return
        training, handwriting = fonts
        from django.contrib.auth.models import User

        User.objects.create_user("bench")
        print_settings(args, training, handwriting)
        results = []
        for name in ("tutorial8", "common48") if args.chars == "both" else (args.chars,):
            results.append(run_set(args, name, training, handwriting))
    total = time.perf_counter() - started
    print(f"\nwhole run: {total:.0f} s")
    if args.json:
        figures = {
            "settings": settings_of(args, training, handwriting),
            "sets": results,
            "seconds": round(total, 1),
        }
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        print(f"figures written to {args.json}")


def bench_fonts():
    """(print fonts, handwriting fonts), or None (after saying why) when some are missing."""
    from classifier.ml import fonts

    installed = {font.name: font for font in fonts.find_hangul_fonts()}
    missing = [name for name in HANDWRITING_FONTS if name not in installed]
    if missing:
        print(
            f"The handwriting fonts {', '.join(missing)} are not installed; install them "
            f"with:  {HANDWRITING_HINT}"
        )
        return None
    training = print_fonts(list(installed.values()))
    if not training:
        print(f"No print font is installed; install some with:  {fonts.INSTALL_HINT}")
        return None
    handwriting = [installed[name] for name in HANDWRITING_FONTS]
    # The rule of this benchmark: no evaluation font is ever a training font.
    assert not {font.name for font in training} & set(HANDWRITING_FONTS)
    assert not {font.path for font in training} & {font.path for font in handwriting}
    return training, handwriting


def print_fonts(installed) -> list:
    """The installed faces that come from ``PRINT_PACKAGES`` (by dpkg, else by name)."""
    if shutil.which("dpkg") is None:
        return [font for font in installed if font.name in PRINT_FONT_NAMES]
    paths = sorted({str(font.path) for font in installed})
    listed = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True).stdout
    package_of = {}
    for line in listed.splitlines():
        packages, _, path = line.partition(": ")
        package_of[path.strip()] = {package.strip() for package in packages.split(",")}
    return [
        font for font in installed if package_of.get(str(font.path), set()) & set(PRINT_PACKAGES)
    ]


def held_out_families(training) -> list:
    """The print faces ``--unseen-print`` keeps out of training: every fifth family."""
    families = sorted({font.family for font in training})
    held = set(families[1::HOLD_OUT_EVERY])
    return [font for font in training if font.family in held]


def charset(name: str) -> list[str]:
    from classifier.ml import charsets

    if name == "common48":
        chars = list(COMMON48)
        assert len(set(chars)) == 48 and all(c in charsets.ks_x_1001() for c in chars)
        return chars
    return charsets.charset(name)


# -- one character set ----------------------------------------------------------------


def run_set(args, name, training, handwriting) -> dict:
    """Render, train and evaluate one character set; print its report; its figures."""
    chars = charset(name)
    unseen = held_out_families(training) if args.unseen_print and name == "tutorial8" else []
    fonts = [font for font in training if font not in unseen]
    assert not {font.name for font in fonts} & {font.name for font in handwriting}
    print(f"\n== {name}: {''.join(chars)} ({len(chars)} characters)")
    dataset, render_seconds = render(args, name, chars, fonts)
    print(
        f"  data set {dataset.name}: {dataset.num_samples:,} samples from {len(fonts)} print "
        f"fonts, {dataset.size_label}, rendered in {render_seconds:.0f} s"
    )
    job = train(args, dataset)
    metrics = list(job.metrics.order_by("epoch"))
    train_seconds = sum(row.seconds for row in metrics)
    rate = sum(row.samples_per_second for row in metrics) / max(len(metrics), 1)
    print(
        f"  job {job.pk}: {job.model_spec}, {job.epochs_done} epochs, validation accuracy "
        f"(print fonts) {job.val_accuracy:.4f}, {train_seconds:.0f} s training "
        f"({rate:,.0f} samples/s), {job.duration.total_seconds():.0f} s in all"
    )

    styles = [(font.name, "photo", [font]) for font in handwriting]
    styles.append(("canvas", "canvas", handwriting))
    if unseen:
        styles.append(("print (unseen)", "photo", unseen))
    rows, outcomes = [], []
    for style, kind, style_fonts in styles:
        evaluated_started = time.perf_counter()
        results = evaluate(args, job, chars, style, kind, style_fonts)
        rows.append(summary(style, results))
        if len(style_fonts) > 1:
            rows[-1]["by_font"] = [
                summary(font.name, [r for r in results if r["font"] == font.name])
                for font in style_fonts
            ]
        outcomes += [(style, r) for r in results]
        print(
            f"  evaluated {style}: {len(results)} images in "
            f"{time.perf_counter() - evaluated_started:.0f} s",
            flush=True,
        )
    handwritten = [r for style, r in outcomes if style != "print (unseen)"]
    overall = summary("all handwriting", handwritten)
    report_table(name, rows, overall, job, train_seconds, rate, handwritten)
    return {
        "set": name,
        "chars": "".join(chars),
        "dataset": dataset.name,
        "samples": dataset.num_samples,
        "print_fonts": [font.name for font in fonts],
        "held_out_print_fonts": [font.name for font in unseen],
        "render_seconds": round(render_seconds, 1),
        "job": job.pk,
        "model": job.model_spec,
        "epochs": job.epochs_done,
        "val_accuracy": job.val_accuracy,
        "train_seconds": round(train_seconds, 1),
        "samples_per_second": round(rate, 1),
        "job_seconds": round(job.duration.total_seconds(), 1),
        "styles": rows,
        "overall": overall,
        "confusions": confusions(handwritten, 20),
    }


def render(args, name, chars, fonts):
    """The data set built by ``render_dataset`` from ``fonts``; (dataset, seconds)."""
    from django.core.management import call_command

    from classifier.models import Dataset

    options = {
        "name": f"handwriting-bench-{name}",
        "chars": "".join(chars),
        "fonts": ",".join(font.name for font in fonts),
    }
    if args.per_font is not None:
        options["per_font"] = args.per_font
    if args.render_style is not None:
        options["style"] = args.render_style
    started = time.perf_counter()
    try:
        call_command("render_dataset", stdout=io.StringIO(), **options)
    except TypeError as exc:  # an option this version of the command lacks
        sys.exit(f"render_dataset refused the options {options}: {exc}")
    seconds = time.perf_counter() - started
    return Dataset.objects.get(name=options["name"]), seconds


def train(args, dataset):
    """The finished job ``manage.py train`` made for ``dataset``."""
    from django.core.management import call_command

    from classifier.models import JobStatus, TrainingJob

    call_command(
        "train",
        dataset=dataset.name,
        model=args.model,
        epochs=args.epochs,
        batch_size=BATCH_SIZE,
        split=SPLIT,
        user="bench",
        stdout=io.StringIO(),
    )
    job = TrainingJob.objects.filter(dataset=dataset).latest("pk")
    assert job.status == JobStatus.SUCCEEDED, job.error_text
    return job


def evaluate(args, job, chars, style, kind, fonts) -> list[dict]:
    """Make the style's images and read each with the Predict page's code."""
    from django.conf import settings

    from classifier import services
    from classifier.ml import preprocess

    results = []
    for font in fonts:
        for char in chars:
            for number in range(args.photos if kind == "photo" else args.drawings):
                if kind == "photo":
                    data = handwriting_data.phone_photo(char, font, args.seed, number)
                    suffix = "jpg"
                else:
                    png = handwriting_data.canvas_drawing(char, font, args.seed, number)
                    # What the browser sends, and the form decodes.
                    url = "data:image/png;base64," + base64.b64encode(png).decode()
                    data = preprocess.decode_data_url(url, max_bytes=settings.LAB_IMAGE_MAX_BYTES)
                    suffix = "png"
                if args.save_images:
                    folder = args.save_images / job.dataset.name / style.replace(" ", "_")
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / f"{font.name}-{char}-{number}.{suffix}").write_bytes(data)
                try:
                    _, result = services.predict_image(job, data)
                except preprocess.ImageRejected as exc:
                    results.append({"font": font.name, "char": char, "refused": str(exc)})
                    continue
                ranked = np.argsort(result["probabilities"])[::-1]
                top3 = [result["classes"][i] for i in ranked[:3]]
                results.append(
                    {
                        "font": font.name,
                        "char": char,
                        "predicted": result["predicted"],
                        "confidence": result["confidence"],
                        "top3": top3,
                    }
                )
    return results


# -- figures --------------------------------------------------------------------------


def summary(style: str, results: list[dict]) -> dict:
    """A style's figures; a refused image counts as wrong, with confidence 0."""
    from classifier.ml import calibration

    n = len(results)
    correct = np.array([r.get("predicted") == r["char"] for r in results], float)
    top3 = np.array([r["char"] in r.get("top3", ()) for r in results], float)
    confidence = np.array([r.get("confidence", 0.0) for r in results], float)
    return {
        "style": style,
        "images": n,
        "top1": float(correct.mean()) if n else None,
        "top3": float(top3.mean()) if n else None,
        "mean_confidence": float(confidence.mean()) if n else None,
        "ece": calibration.expected_calibration_error(confidence, correct) if n else None,
        "refused": sum("refused" in r for r in results),
    }


def confusions(results, count: int) -> list[list]:
    """The commonest mistakes: [written, read, times]."""
    mistakes = Counter(
        (r["char"], r["predicted"]) for r in results if r.get("predicted", r["char"]) != r["char"]
    )
    return [[written, read, times] for (written, read), times in mistakes.most_common(count)]


def report_table(name, rows, overall, job, train_seconds, rate, handwritten):
    print(f"\n  {name}: {job.model_spec}, trained on print fonts, read by services.predict_image")
    print(
        f"  {'style':26} {'images':>6} {'top-1':>7} {'top-3':>7} {'mean conf':>9} "
        f"{'ECE':>6} {'refused':>7}"
    )
    for row in [*rows, overall]:
        if row is overall:
            print(f"  {'-' * 73}")
        table_row(row["style"], row)
        for part in row.get("by_font", []):
            table_row(f"  · {part['style']}", part)
    print(
        f"  overall handwriting accuracy: {overall['top1']:.1%} (chance {1 / len(job.classes):.1%})"
    )
    print(f"  validation accuracy on print fonts (job {job.pk}): {job.val_accuracy:.1%}")
    fitted = job.calibration or {}
    if fitted.get("ece_after") is not None:
        print(
            f"  validation ECE: {fitted['ece_before']:.3f} before calibration, "
            f"{fitted['ece_after']:.3f} after (temperature {fitted['temperature']:.3g})"
        )
    print(f"  training: {train_seconds:.0f} s for {job.epochs_done} epochs, {rate:,.0f} samples/s")
    shown = ", ".join(f"{a}→{b} {n}" for a, b, n in confusions(handwritten, 8))
    print(f"  commonest mistakes (written→read times): {shown or 'none'}")


def table_row(title, row):
    print(
        f"  {title:26} {row['images']:6d} {row['top1']:7.1%} {row['top3']:7.1%} "
        f"{row['mean_confidence']:9.3f} {row['ece']:6.3f} {row['refused']:7d}"
    )


def settings_of(args, training, handwriting) -> dict:
    return {
        "chars": args.chars,
        "model": args.model,
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "split": SPLIT,
        "per_font": args.per_font if args.per_font is not None else "render_dataset default",
        "render_style": args.render_style or "render_dataset default",
        "augmentation": "render_dataset default",
        "photos": args.photos,
        "drawings": args.drawings,
        "unseen_print": args.unseen_print,
        "seed": args.seed,
        "print_fonts": [font.name for font in training],
        "handwriting_fonts": [font.name for font in handwriting],
        "photo": f"{handwriting_data.PHOTO_SIZE[0]}x{handwriting_data.PHOTO_SIZE[1]} JPEG, "
        f"ink {handwriting_data.PHOTO_INK[0]}-{handwriting_data.PHOTO_INK[1]} px, "
        f"quality {handwriting_data.JPEG_QUALITY[0]}-{handwriting_data.JPEG_QUALITY[1]}",
        "canvas": f"{handwriting_data.CANVAS_SIDE}x{handwriting_data.CANVAS_SIDE} PNG, "
        f"line {handwriting_data.CANVAS_LINE_WIDTH:.2f} px",
    }


def print_settings(args, training, handwriting):
    settings = settings_of(args, training, handwriting)
    print("settings:")
    for key, value in settings.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        print(f"  {key:18} {shown}")


if __name__ == "__main__":
    main()
