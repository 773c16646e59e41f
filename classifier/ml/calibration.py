"""Whether a model's confidence means what it says, and temperature scaling to make it so.

Grading trusts a model's top-1 confidence: an answer given with 80% should be right
about 80% of the time, so that unsure answers can go to the teacher instead of being
marked wrong. Networks trained to a low loss tend to be over-confident (Guo et al.,
"On Calibration of Modern Neural Networks", 2017). This module measures it and fixes it:

- the *reliability bins*: answers grouped by their top-1 confidence into 15 equal-width
  bins, each with its count, mean confidence and accuracy;
- the *expected calibration error* (ECE): the bins' gaps between accuracy and mean
  confidence, weighted by the share of answers in each;
- *temperature scaling*: one number T > 0, fitted on the validation split, by which the
  model's probabilities p become p^(1/T) renormalised. The models output softmax
  probabilities, whose logs are the logits up to a constant, so this is softmax(logits/T).
  T > 1 softens an over-confident model, T < 1 sharpens a timid one; the order of the
  classes never changes, so neither does the top-1 answer nor the accuracy.

Pure numpy: no Keras, no Django.
"""

from dataclasses import dataclass, field

import numpy as np

BINS = 15
#: Fewer validation samples than this say too little to fit or measure anything.
MIN_SAMPLES = 20
TEMPERATURE_BOUNDS = (0.05, 20.0)
#: At most this many probabilities (samples x classes) are held to fit the temperature;
#: a larger validation split is represented by a random draw of its samples.
FIT_VALUES = 2**23
# Probabilities are floored before their log is taken: a float32 softmax underflows to
# exactly 0 for hopeless classes, and log(0) would make the likelihood infinite at every T.
# The floor is the least float32 above 0: an underflowed probability was below it.
PROBABILITY_FLOOR = float(np.finfo(np.float32).smallest_subnormal)
# The temperature search stops when log T is known to this precision.
LOG_TOLERANCE = 1e-4
_INVERSE_GOLDEN = (np.sqrt(5) - 1) / 2
#: Grading sends a wrong-looking answer to the teacher when the model's reading is right
#: less often than this at its confidence: below it, "the model read something else" is
#: not evidence enough to mark a student wrong.
TRUSTED_ACCURACY = 0.8
#: A reliability bin with fewer validation answers than this says too little about its
#: accuracy to move the review threshold.
MIN_BIN_COUNT = 5


def _bin_sums(confidence, correct, bins: int):
    """Per bin: the number of answers, their summed confidence and their number right."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bins are (lower, upper], as in Guo et al.; a confidence of 0 joins the first.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    return edges, counts, np.bincount(which, confidence, bins), np.bincount(which, correct, bins)


def reliability_bins(confidence, correct, bins: int = BINS) -> list[dict]:
    """The reliability diagram's bins of top-1 ``confidence`` and whether each answer was
    ``correct``: ``lower``, ``upper``, ``count``, and ``confidence`` and ``accuracy``
    (means; None for an empty bin)."""
    edges, counts, confidence_sums, correct_sums = _bin_sums(confidence, correct, bins)
    rows = []
    for b in range(bins):
        n = int(counts[b])
        rows.append(
            {
                "lower": round(float(edges[b]), 6),
                "upper": round(float(edges[b + 1]), 6),
                "count": n,
                "confidence": round(float(confidence_sums[b] / n), 6) if n else None,
                "accuracy": round(float(correct_sums[b] / n), 6) if n else None,
            }
        )
    return rows


def expected_calibration_error(confidence, correct, bins: int = BINS) -> float:
    """ECE: the sum over bins of (share of answers) x |accuracy - mean confidence|.

    0 for a perfectly calibrated model; NaN when there are no answers.
    """
    _, counts, confidence_sums, correct_sums = _bin_sums(confidence, correct, bins)
    total = counts.sum()
    if not total:
        return float("nan")
    # (n_b / n) * |correct_b / n_b - confidence_b / n_b| = |correct_b - confidence_b| / n
    return float(np.abs(correct_sums - confidence_sums).sum() / total)


def log_probabilities(probabilities) -> np.ndarray:
    """``log(p)`` in float64, with ``p`` floored at ``PROBABILITY_FLOOR``."""
    return np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), PROBABILITY_FLOOR))


def at_temperature(probabilities, temperature: float) -> np.ndarray:
    """``probabilities`` (one row per sample, or one row) at ``temperature``: p^(1/T),
    each row renormalised to sum to 1 (float64).

    At T = 1 the rows are only renormalised, exactly as uncalibrated models always were.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if temperature == 1:
        return p / p.sum(axis=-1, keepdims=True)
    # In log space: p ** (1 / T) itself underflows to 0 for small T.
    z = log_probabilities(p) / temperature
    z -= z.max(axis=-1, keepdims=True)
    out = np.exp(z)
    return out / out.sum(axis=-1, keepdims=True)


def negative_log_likelihood(log_p: np.ndarray, labels, temperature: float) -> float:
    """The mean NLL of ``labels`` under softmax(``log_p`` / ``temperature``)."""
    z = log_p / temperature
    z -= z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(z)), labels]))


def fit_temperature(probabilities, labels, bounds=TEMPERATURE_BOUNDS) -> float:
    """The temperature within ``bounds`` that minimises the NLL of ``labels``.

    A golden-section search on log T. The NLL is convex in 1/T (a log-sum-exp minus a
    linear term), so it has one minimum along log T, and the search cannot be led astray;
    T = 1 is kept unless the fit is strictly better.
    """
    log_p = log_probabilities(probabilities)
    labels = np.asarray(labels)

    def nll(log_t):
        return negative_log_likelihood(log_p, labels, float(np.exp(log_t)))

    a, b = np.log(bounds[0]), np.log(bounds[1])
    c, d = b - _INVERSE_GOLDEN * (b - a), a + _INVERSE_GOLDEN * (b - a)
    fc, fd = nll(c), nll(d)
    while b - a > LOG_TOLERANCE:
        if fc <= fd:  # the minimum lies in [a, d]
            b, d, fd = d, c, fc
            c = b - _INVERSE_GOLDEN * (b - a)
            fc = nll(c)
        else:  # in [c, b]
            a, c, fc = c, d, fd
            d = a + _INVERSE_GOLDEN * (b - a)
            fd = nll(d)
    best = (a + b) / 2
    return float(np.exp(best)) if nll(best) < nll(0.0) else 1.0


def fitting_sample(indices, classes: int, seed: int = 0) -> np.ndarray:
    """``indices``, or a seeded random draw of them (in their order) when holding the
    probabilities of all of them would pass ``FIT_VALUES``."""
    indices = np.asarray(indices)
    limit = max(MIN_SAMPLES, FIT_VALUES // max(classes, 1))
    if len(indices) <= limit:
        return indices
    chosen = np.random.default_rng(seed).choice(len(indices), size=limit, replace=False)
    return indices[np.sort(chosen)]


@dataclass(frozen=True)
class Calibration:
    """A model's temperature, and how calibrated its validation answers were before and
    after it. ``measured`` is False when the validation split was too small to tell."""

    temperature: float = 1.0
    measured: bool = False
    n: int = 0
    ece_before: float | None = None
    ece_after: float | None = None
    bins_before: list = field(default_factory=list)
    bins_after: list = field(default_factory=list)

    @property
    def at_bound(self) -> bool:
        """Whether the fit stopped at a bound: the likelihood wanted a still more extreme
        temperature (typically: no validation mistakes to learn how unsure to be)."""
        low, high = TEMPERATURE_BOUNDS
        return self.measured and not low * 1.01 < self.temperature < high / 1.01

    def as_dict(self) -> dict:
        """Everything, as JSON for the job's row."""
        return {
            "measured": self.measured,
            "temperature": self.temperature,
            "n": self.n,
            "at_bound": self.at_bound,
            "bins": BINS,
            "ece_before": self.ece_before,
            "ece_after": self.ece_after,
            "bins_before": self.bins_before,
            "bins_after": self.bins_after,
        }

    def model_entry(self) -> dict:
        """What the saved model carries: the temperature every prediction applies, and
        how it was measured."""
        return {
            "method": "temperature",
            "temperature": self.temperature,
            "measured": self.measured,
            "validation_samples": self.n,
            "ece_before": self.ece_before,
            "ece_after": self.ece_after,
        }


def calibrate(probabilities, labels, *, min_samples: int = MIN_SAMPLES) -> Calibration:
    """Fit the temperature on validation ``probabilities`` (samples x classes) and their
    true ``labels``, and measure the ECE before and after it.

    With fewer than ``min_samples`` samples nothing is fitted or measured: T stays 1.
    """
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    n = len(labels)
    if n < min_samples:
        return Calibration(n=n)
    temperature = round(fit_temperature(probabilities, labels), 6)
    correct = probabilities.argmax(axis=1) == labels  # the same before and after
    before = probabilities.max(axis=1)
    after = at_temperature(probabilities, temperature).max(axis=1)
    return Calibration(
        temperature=temperature,
        measured=True,
        n=n,
        ece_before=round(expected_calibration_error(before, correct), 6),
        ece_after=round(expected_calibration_error(after, correct), 6),
        bins_before=reliability_bins(before, correct),
        bins_after=reliability_bins(after, correct),
    )


def review_threshold(
    bins, accuracy: float = TRUSTED_ACCURACY, min_count: int = MIN_BIN_COUNT
) -> float:
    """The confidence under which a model's answers are doubtful, from its reliability
    ``bins`` (``reliability_bins``, measured on validation after calibration): the upper
    edge of the highest bin of at least ``min_count`` answers that were right less than
    ``accuracy`` of the time.

    Without such a bin (no bins, or every well-filled bin accurate enough) it is
    ``accuracy`` itself: a calibrated confidence is the chance of being right, so an
    answer less sure than that is right less often than that.
    """
    doubtful = [b["upper"] for b in bins if b["count"] >= min_count and b["accuracy"] < accuracy]
    return max(doubtful, default=accuracy)


def temperature_of(metadata: dict) -> float:
    """The temperature a saved model's metadata asks predictions to apply (1 for models
    saved before calibration)."""
    return float(metadata.get("calibration", {}).get("temperature", 1.0))
