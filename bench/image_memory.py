"""Benchmark the memory an uploaded image costs: small files that decode to huge images.

    python bench/image_memory.py [--sides 3400 6000] [--json]

For each format that decodes whole (a 16-bit PNG, an RGBA PNG, a palette GIF with
transparency, a lossless WebP with alpha), an image of ``side`` x ``side`` pixels (a
blank page with one stroke: the files are a few KiB) is opened and preprocessed as a
prediction's upload is, in a fresh interpreter, which reports how much its peak resident
memory grew meanwhile (Pillow's buffers are outside Python's allocator). Prints one line
per image: its size on disk, the growth, and whether it was read or refused (``--json``:
a list of them, for tests/unit/test_image_memory.py).
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]

MEASURE = """
import json, resource, sys
from classifier.ml import preprocess
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    preprocess.preprocess(preprocess.open_image(data), (28, 28))
    outcome = "read"
except preprocess.ImageRejected as exc:
    outcome = "refused: " + str(exc)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"outcome": outcome, "mib": grown}))
"""

#: (mode, format, save options): the kinds of file issue 19 found costly.
CASES = [
    ("I;16", "PNG", {}),
    ("RGBA", "PNG", {}),
    ("P", "GIF", {}),
    ("RGBA", "WEBP", {"lossless": True}),
]


def page(mode: str, side: int) -> Image.Image:
    """A blank page of ``side`` x ``side`` in ``mode`` with one dark stroke."""
    stroke = (side // 4, side // 3, 3 * side // 4, side // 3 + side // 20)
    if mode == "I;16":
        values = np.full((side, side), 60000, dtype=np.uint16)
        values[stroke[1] : stroke[3], stroke[0] : stroke[2]] = 2000
        return Image.fromarray(values)
    if mode == "P":
        image = Image.new("P", (side, side), 0)
        image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
        image.info["transparency"] = 0
        image.paste(1, stroke)
        return image
    image = Image.new(mode, (side, side), (255,) * len(mode))
    image.paste((0,) * (len(mode) - 1) + (255,), stroke)
    return image


def measure(path: Path) -> dict:
    """``{"outcome", "mib"}`` of opening and preprocessing ``path`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[3400, 6000])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-image-memory-"))
    results = []
    for side in args.sides:
        for mode, kind, options in CASES:
            path = folder / f"{side}-{mode.replace(';', '')}.{kind.lower()}"
            page(mode, side).save(path, kind, **options)
            label = f"{side}x{side} {mode} {kind}"
            results.append({"image": label, "kib": path.stat().st_size / 1024, **measure(path)})
    if args.json:
        print(json.dumps(results))
        return
    print(f"{'image':<28}{'file':>9}{'peak RSS growth':>18}  outcome")
    for row in results:
        print(
            f"{row['image']:<28}{row['kib']:>7.0f} KiB{row['mib']:>14.0f} MiB  "
            f"{row['outcome'][:60]}"
        )


if __name__ == "__main__":
    main()
