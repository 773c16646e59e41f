"""The predict worker's model cache and single-image classification (real Keras)."""

import os
import time

import numpy as np
import pytest

from classifier.ml import inference, networks, training
from classifier.ml.messages import Refusal


def _save(path, classes="가나다", size=(16, 16), seed=0, calibration=None, scrambled=False):
    spec = networks.parse_spec("dense8")
    model = networks.build_model(spec, size, len(classes), seed)
    if scrambled:  # an untrained network answers almost uniformly: give it opinions
        rng = np.random.default_rng(seed)
        model.set_weights([rng.normal(0, 0.3, w.shape) for w in model.get_weights()])
    training.save_model(
        model, path, list(classes), size, input_style={"ink_light": True}, calibration=calibration
    )
    return path


def _image(seed=0, size=(16, 16)):
    return np.random.default_rng(seed).integers(0, 256, size=size, dtype=np.uint8)


def _softmax_output(loaded, image):
    """What the network itself says of ``image``: its uncalibrated softmax."""
    return np.asarray(loaded.model(image[None], training=False), dtype=np.float64)[0]


def test_probabilities_sum_to_one_and_the_shape_is_checked(tmp_path):
    loaded = inference.ModelCache().get(_save(tmp_path / "m.keras"))
    assert loaded.classes == ["가", "나", "다"] and loaded.input_shape == (16, 16)
    assert loaded.metadata["input_style"] == {"ink_light": True}
    probabilities = loaded.probabilities(np.zeros((16, 16), np.uint8))
    assert probabilities.shape == (3,) and probabilities.sum() == pytest.approx(1.0)
    with pytest.raises(Refusal, match="the model reads 16x16"):
        loaded.probabilities(np.zeros((28, 28), np.uint8))


def test_a_calibrated_model_raises_its_softmax_to_one_over_its_temperature(tmp_path):
    path = _save(
        tmp_path / "m.keras",
        scrambled=True,
        calibration={"method": "temperature", "temperature": 0.5},
    )
    loaded = inference.ModelCache().get(path)
    assert loaded.temperature == 0.5
    for seed in range(3):
        image = _image(seed)
        raw = _softmax_output(loaded, image)
        expected = raw ** (1 / 0.5) / (raw ** (1 / 0.5)).sum()
        calibrated = loaded.probabilities(image)
        np.testing.assert_allclose(calibrated, expected, rtol=1e-9)
        assert calibrated.argmax() == raw.argmax() and calibrated.max() > raw.max() + 1e-3


def test_a_model_saved_before_calibration_predicts_exactly_as_before(tmp_path):
    loaded = inference.ModelCache().get(_save(tmp_path / "m.keras", scrambled=True))
    assert "calibration" not in loaded.metadata and loaded.temperature == 1
    image = _image()
    raw = _softmax_output(loaded, image)
    assert np.array_equal(loaded.probabilities(image), raw / raw.sum())


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
