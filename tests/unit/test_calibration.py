"""Calibration arithmetic: ECE, reliability bins and temperature scaling (pure numpy)."""

import numpy as np
import pytest

from classifier.ml import calibration


def _softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _drawn_labels(probabilities, rng):
    """One label per row, drawn from the row's distribution: the truth of a model whose
    probabilities are exactly right."""
    cumulative = probabilities.cumsum(axis=1)
    return (rng.random((len(probabilities), 1)) > cumulative).sum(axis=1)


def test_a_perfectly_calibrated_set_has_no_calibration_error():
    # In each bin, the share of right answers is exactly the confidence they were given.
    confidence = np.repeat([0.3, 0.5, 0.8, 1.0], 10)
    correct = np.concatenate([[1] * 3 + [0] * 7, [1] * 5 + [0] * 5, [1] * 8 + [0] * 2, [1] * 10])
    ece = calibration.expected_calibration_error(confidence, correct)
    assert ece == pytest.approx(0, abs=1e-12)


def test_an_over_confident_model_has_the_closed_form_error():
    """Always 90% sure, right 60% of the time: ECE is 0.3. A second group, 70% sure and
    right half the time, adds its gap weighted by its share: 0.75 x 0.3 + 0.25 x 0.2."""
    sure = np.full(100, 0.9)
    right = np.arange(100) < 60
    assert calibration.expected_calibration_error(sure, right) == pytest.approx(0.3)
    confidence = np.concatenate([np.full(300, 0.9), np.full(100, 0.7)])
    correct = np.concatenate([np.arange(300) < 180, np.arange(100) < 50])
    expected = 0.75 * 0.3 + 0.25 * 0.2
    assert calibration.expected_calibration_error(confidence, correct) == pytest.approx(expected)
    assert np.isnan(calibration.expected_calibration_error([], []))


def test_reliability_bins_are_fifteen_equal_widths_with_count_confidence_and_accuracy():
    confidence = np.array([0.05, 0.9, 0.92, 0.93, 1.0, 14 / 15])
    correct = np.array([0, 1, 0, 1, 1, 1])
    bins = calibration.reliability_bins(confidence, correct)
    assert len(bins) == 15 and bins[0]["lower"] == 0 and bins[-1]["upper"] == 1
    np.testing.assert_allclose([b["upper"] - b["lower"] for b in bins], 1 / 15, atol=1e-5)
    assert sum(b["count"] for b in bins) == 6
    assert bins[0] == {
        "lower": 0.0,
        "upper": round(1 / 15, 6),
        "count": 1,
        "confidence": 0.05,
        "accuracy": 0.0,
    }
    # (13/15, 14/15]: 0.9, 0.92, 0.93 and 14/15 exactly (upper edges belong to their bin).
    assert bins[13]["count"] == 4 and bins[13]["accuracy"] == pytest.approx(0.75)
    assert bins[13]["confidence"] == pytest.approx((0.9 + 0.92 + 0.93 + 14 / 15) / 4, abs=1e-6)
    assert bins[14]["count"] == 1 and bins[14]["accuracy"] == 1
    assert bins[5] == {**bins[5], "count": 0, "confidence": None, "accuracy": None}


def test_temperature_scaling_recovers_a_known_temperature():
    """Labels drawn from softmax(logits); a model that reports softmax(T x logits) is
    calibrated again by dividing its log-probabilities by T, which the fit finds."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, size=(20000, 10))
    labels = _drawn_labels(_softmax(logits), rng)
    for true_temperature in (2.5, 0.5):
        reported = _softmax(logits * true_temperature)
        fitted = calibration.fit_temperature(reported, labels)
        assert fitted == pytest.approx(true_temperature, rel=0.05)


def test_temperature_scaling_reduces_the_error_of_an_over_confident_set():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1.5, size=(3000, 5))
    labels = _drawn_labels(_softmax(logits), rng)
    result = calibration.calibrate(_softmax(logits * 3), labels)
    assert result.measured and result.n == 3000 and not result.at_bound
    assert result.temperature == pytest.approx(3, rel=0.1)
    assert result.ece_before > 0.15 and result.ece_after < 0.03
    assert sum(b["count"] for b in result.bins_after) == 3000
    # The temperature changes no answer: every bin's right answers are the same in total.
    right = [
        sum(b["count"] * b["accuracy"] for b in bins if b["count"])
        for bins in (result.bins_before, result.bins_after)
    ]
    assert right[0] == pytest.approx(right[1])


def test_at_temperature_is_the_renormalised_power_and_one_changes_nothing():
    p = np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]], dtype=np.float32)
    powered = p.astype(np.float64) ** (1 / 2.0)
    expected = powered / powered.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(calibration.at_temperature(p, 2.0), expected, atol=1e-15)
    # p ** 20 would underflow to 0 / 0 here; in log space it is [1, 2^20, 3^20] / sum.
    sharp = calibration.at_temperature(np.array([1e-20, 2e-20, 3e-20]), 0.05)
    expected = np.array([1, 2**20, 3**20]) / (1 + 2**20 + 3**20)
    np.testing.assert_allclose(sharp, expected, rtol=1e-9)
    row = np.array([0.2, 0.3, 0.5000001])
    assert np.array_equal(calibration.at_temperature(row, 1.0), row / row.sum())


def test_too_few_validation_samples_keep_the_temperature_at_one():
    p = _softmax(np.random.default_rng(2).normal(0, 3, size=(19, 4)))
    result = calibration.calibrate(p, np.zeros(19, dtype=int))
    assert not result.measured and result.temperature == 1.0 and result.n == 19
    assert result.as_dict()["ece_before"] is None and result.as_dict()["bins_after"] == []
    empty = calibration.calibrate(np.empty((0, 4)), np.empty(0, dtype=int))
    assert not empty.measured and empty.n == 0


def test_a_set_without_mistakes_is_sharpened_up_to_the_bound():
    """Right every time yet only 60-70% sure: the likelihood keeps rising as T falls, so
    the fit stops at the lower bound, and says so."""
    p = np.tile([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]], (30, 1))
    labels = np.tile([0, 1], 30)
    result = calibration.calibrate(p, labels)
    assert result.at_bound and result.temperature == pytest.approx(0.05, rel=0.01)
    assert result.ece_before > 0.3 and result.ece_after < 0.01


def test_a_large_validation_split_is_fitted_on_a_bounded_draw(monkeypatch):
    monkeypatch.setattr(calibration, "FIT_VALUES", 1000)
    indices = np.arange(5000) * 3
    drawn = calibration.fitting_sample(indices, classes=10, seed=4)
    assert len(drawn) == 100 and np.all(np.diff(drawn) > 0) and set(drawn) <= set(indices)
    assert np.array_equal(drawn, calibration.fitting_sample(indices, classes=10, seed=4))
    assert np.array_equal(calibration.fitting_sample(indices[:100], classes=10), indices[:100])


def test_old_models_have_temperature_one():
    assert calibration.temperature_of({"classes": ["가"], "input_shape": [28, 28]}) == 1.0
    assert calibration.temperature_of({"calibration": {"temperature": 1.7}}) == 1.7
