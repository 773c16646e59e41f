"""Builders of small, real PHD08 files for tests (and benchmarks) to read.

Nothing here copies the distributed data set: bitmaps are random strokes, written with
the project's own writer in the distributed layout.
"""

from collections.abc import Sequence
from itertools import product
from pathlib import Path

import numpy as np

from classifier.ml.phd08 import PHD08_GROUPS, write_phd08

# The degradation suffixes of a font group's samples, in the order the real files use.
DEGRADATIONS = ["_".join(digits) for digits in product("012", repeat=5)]


def make_bitmap(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A glyph-like 0/1 bitmap: a few horizontal and vertical strokes on background."""
    bitmap = np.zeros((h, w), dtype=np.uint8)
    for _ in range(rng.integers(2, 5)):
        thickness = int(rng.integers(1, max(1, min(h, w) // 6) + 1))
        if rng.random() < 0.5:
            top = int(rng.integers(0, h - thickness + 1))
            left = int(rng.integers(0, w))
            right = int(rng.integers(left + 1, w + 1))
            bitmap[top : top + thickness, left:right] = 1
        else:
            left = int(rng.integers(0, w - thickness + 1))
            top = int(rng.integers(0, h))
            bottom = int(rng.integers(top + 1, h + 1))
            bitmap[top:bottom, left : left + thickness] = 1
    return bitmap


def make_phd08_samples(
    n_per_group: int = 2,
    groups: Sequence[str] = PHD08_GROUPS,
    seed: int = 0,
    sizes: Sequence[tuple[int, int]] = ((22, 29), (30, 24)),
) -> list[tuple[str, np.ndarray]]:
    """``(header, bitmap)`` pairs: ``n_per_group`` per group, cycling through ``sizes``."""
    rng = np.random.default_rng(seed)
    samples = []
    for group in groups:
        for number, degradation in enumerate(DEGRADATIONS[:n_per_group]):
            h, w = sizes[number % len(sizes)]
            samples.append((f"{group}_{degradation}", make_bitmap(rng, h, w)))
    return samples


def make_phd08_bytes(
    n_per_group: int = 2,
    groups: Sequence[str] = PHD08_GROUPS,
    seed: int = 0,
    crlf: bool = False,
    sizes: Sequence[tuple[int, int]] = ((22, 29), (30, 24)),
) -> bytes:
    """The bytes of a PHD08 file of random samples (see ``make_phd08_samples``)."""
    return write_phd08(make_phd08_samples(n_per_group, groups, seed, sizes), crlf=crlf)


def write_phd08_files(
    folder: Path, chars: str = "가나다", per_group: int = 2, seed: int = 0
) -> list[Path]:
    """Write one ``<char>.txt`` per character into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, char in enumerate(chars):
        path = folder / f"{char}.txt"
        path.write_bytes(make_phd08_bytes(per_group, seed=seed + number))
        paths.append(path)
    return paths


def upload_badly_named_file(client, tmp_path):
    """Post ``hello.txt`` (no Hangul syllable for a name) to the import form as ``client``."""
    from django.urls import reverse

    bad = tmp_path / "hello.txt"
    bad.write_text("S_0_0_0_0_0\n1 1\n1\n")
    with bad.open("rb") as fh:
        return client.post(
            reverse("classifier:dataset-import"),
            {"name": "x", "size": "28x28", "sigma": "0.3", "files": [fh]},
        )
