"""Small files that decode to huge images cost bounded memory: shrunk in their own mode
before any float copy, and refused from the header past the limit of their format
(issue 19: a 112 KiB 16-bit PNG took 571 MiB, a 189 KiB RGBA PNG 470 MiB, a 46 KiB GIF
202 MiB, a 394 KiB lossless WebP with alpha 565 MiB).

Each case runs in a fresh interpreter, which reads the file and reports how much its
peak resident memory grew while the image was opened and preprocessed (Pillow's
buffers are outside Python's allocator, so tracemalloc would not see them)."""

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from classifier.ml import preprocess
from classifier.services import predictions
from tests.support.datasets import make_dataset
from tests.support.handwriting import photo_of
from tests.support.jobs import make_evaluated_job
from tests.support.paths import REPO

MEASURE = """
import json, resource, sys
from classifier.ml import preprocess
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    preprocess.preprocess(preprocess.open_image(data), (28, 28))
    outcome = "read"
except preprocess.ImageRejected as exc:
    outcome = str(exc)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"outcome": outcome, "mib": grown}))
"""


def _image(mode, side):
    """A mostly blank page of ``side`` x ``side`` with one dark stroke: compresses well."""
    if mode == "I;16":
        values = np.full((side, side), 60000, dtype=np.uint16)
        values[side // 3 : side // 3 + side // 20, side // 4 : -side // 4] = 2000
        return Image.fromarray(values)  # mode I;16
    if mode == "P":
        image = Image.new("P", (side, side), 0)
        image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
        image.info["transparency"] = 0
    else:
        image = Image.new(mode, (side, side), (255,) * len(mode))
    image.paste(
        (0, 0, 0, 255)[: len(image.getbands())] if mode != "P" else 1,
        (side // 4, side // 3, 3 * side // 4, side // 3 + side // 20),
    )
    return image


def _measure(path):
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


CASES = [  # (mode, format, options)
    ("I;16", "PNG", {}),
    ("RGBA", "PNG", {}),
    ("P", "GIF", {}),
    ("RGBA", "WEBP", {"lossless": True}),
]


@pytest.mark.parametrize(("mode", "kind", "options"), CASES)
def test_a_large_lossless_image_is_read_within_bounded_memory(tmp_path, mode, kind, options):
    path = tmp_path / f"page.{kind.lower()}"
    _image(mode, 3400).save(path, kind, **options)  # 11.6 megapixels: under the limit
    found = _measure(path)
    assert found["outcome"] == "read", found
    assert found["mib"] < 120, f"{mode} {kind}: {found['mib']:.0f} MiB"


@pytest.mark.parametrize(("mode", "kind", "options"), CASES)
def test_past_its_formats_limit_an_image_is_refused_before_decoding(tmp_path, mode, kind, options):
    path = tmp_path / f"poster.{kind.lower()}"
    _image(mode, 6000).save(path, kind, **options)  # 36 megapixels
    found = _measure(path)
    assert "too large" in found["outcome"] and "JPEG" in found["outcome"], found
    assert found["mib"] < 20, f"{mode} {kind}: {found['mib']:.0f} MiB"


@pytest.mark.django_db
def test_a_process_preprocesses_a_bounded_number_of_images_at_once(
    settings, monkeypatch, student_a
):
    """A class uploading at once: each image waits its turn past LAB_PREPROCESS_AT_ONCE."""
    settings.LAB_PREPROCESS_AT_ONCE = 2
    predictions._preprocessing_turns.cache_clear()
    inside, most = 0, 0
    lock = threading.Lock()
    real = preprocess.preprocess

    def counted(*args, **kwargs):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.1)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(preprocess, "preprocess", counted)
    job = make_evaluated_job(student_a, make_dataset(chars="가나다"))
    data = photo_of("가")
    threads = [
        threading.Thread(target=predictions.prepare_image, args=(job, data)) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    predictions._preprocessing_turns.cache_clear()
    assert most == 2
