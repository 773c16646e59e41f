"""Small files that decode to huge images cost bounded memory: shrunk in their own mode
before any float copy, and refused from the header past the limit of their format
(issue 19: a 112 KiB 16-bit PNG took 571 MiB, a 189 KiB RGBA PNG 470 MiB, a 46 KiB GIF
202 MiB, a 394 KiB lossless WebP with alpha 565 MiB).

bench/image_memory.py makes the images and measures each in a fresh interpreter (Pillow's
buffers are outside Python's allocator, so tracemalloc would not see them)."""

import json
import subprocess
import sys
import threading
import time

import pytest

from classifier.ml import preprocess
from classifier.services import predictions
from tests.support.datasets import make_dataset
from tests.support.handwriting import photo_of
from tests.support.jobs import make_evaluated_job
from tests.support.paths import REPO


@pytest.fixture(scope="module")
def measured():
    """bench/image_memory.py's rows, by image: each of its four kinds at 11.6 megapixels
    (under the limit) and at 36 (past it)."""
    result = subprocess.run(
        [sys.executable, "bench/image_memory.py", "--sides", "3400", "6000", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(result.stdout)


def test_a_large_lossless_image_is_read_within_bounded_memory(measured):
    under = [row for row in measured if row["image"].startswith("3400x")]
    assert len(under) == 4
    for row in under:
        assert row["outcome"] == "read", row
        assert row["mib"] < 120, row


def test_past_its_formats_limit_an_image_is_refused_before_decoding(measured):
    over = [row for row in measured if row["image"].startswith("6000x")]
    assert len(over) == 4
    for row in over:
        assert "too large" in row["outcome"] and "JPEG" in row["outcome"], row
        assert row["mib"] < 20, row


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
