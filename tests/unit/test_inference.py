"""The predict worker's model cache and single-image classification (real Keras)."""

import os
import time

import numpy as np
import pytest

from classifier.ml import inference, networks, training


def _save(path, classes="가나다", size=(16, 16), seed=0):
    spec = networks.parse_spec("dense8")
    model = networks.build_model(spec, size, len(classes), seed)
    training.save_model(model, path, list(classes), size, input_style={"ink_light": True})
    return path


def test_probabilities_sum_to_one_and_the_shape_is_checked(tmp_path):
    loaded = inference.ModelCache().get(_save(tmp_path / "m.keras"))
    assert loaded.classes == ["가", "나", "다"] and loaded.input_shape == (16, 16)
    assert loaded.metadata["input_style"] == {"ink_light": True}
    probabilities = loaded.probabilities(np.zeros((16, 16), np.uint8))
    assert probabilities.shape == (3,) and probabilities.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="the model reads 16x16"):
        loaded.probabilities(np.zeros((28, 28), np.uint8))


def test_a_cached_model_is_reused_until_its_file_changes(tmp_path):
    cache = inference.ModelCache(size=2)
    path = _save(tmp_path / "m.keras")
    first = cache.get(path)
    assert cache.get(path) is first
    # A retrained model is a new file: the stale copy is replaced, not kept beside it.
    _save(path, seed=1)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    second = cache.get(path)
    assert second is not first and len(cache) == 1


def test_the_least_recently_used_model_is_dropped(tmp_path):
    cache = inference.ModelCache(size=2)
    a, b, c = (_save(tmp_path / f"{name}.keras") for name in "abc")
    first_a = cache.get(a)
    cache.get(b)
    cache.get(a)  # a is now the most recently used
    cache.get(c)  # so b goes
    assert len(cache) == 2 and cache.get(a) is first_a
