"""A jamo model: three heads read a syllable's initial consonant, vowel and final
consonant, and the syllable is composed from them.

A one-head model learns each syllable as a class of its own and can never name one it
was not trained on. Hangul is written in jamo: the 11,172 syllables are built from 19
initials, 21 vowels and 28 finals (one of them "none"), so a network whose heads read
the parts can name any syllable whose parts it has seen, even in another combination.
The probability of a syllable is the product of its parts' probabilities, normalised
over the syllables it may be (the candidates: for instance every combination of the
parts seen in training).
"""

from collections.abc import Sequence

import numpy as np

from . import jamo, networks
from .messages import Refusal, _

#: The heads, in the order of :func:`jamo_targets`' columns: name and classes.
HEADS = (
    ("initial", len(jamo.INITIALS)),
    ("medial", len(jamo.MEDIALS)),
    ("final", len(jamo.FINALS)),
)
HEAD_NAMES = tuple(name for name, _size in HEADS)


def jamo_targets(chars: Sequence[str]) -> np.ndarray:
    """The initial, medial and final index of each syllable in ``chars``: int64 ``(n, 3)``.
    A character that is not a Hangul syllable is refused: it has no parts to learn."""
    rows = []
    for char in chars:
        parts = jamo.decompose(char)
        if parts is None:
            raise Refusal(
                _("%(char)r is not a Hangul syllable, so a jamo model cannot learn it.", char=char)
            )
        rows.append((parts.initial, parts.medial, parts.final))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def combinations(chars: Sequence[str]) -> list[str]:
    """Every syllable made of an initial, a vowel and a final seen in ``chars``, in
    Unicode order: the syllables a jamo model trained on ``chars`` may name."""
    parts = jamo_targets(chars)
    initials, medials, finals = (sorted(set(parts[:, column])) for column in range(3))
    return sorted(jamo.compose(i, m, f) for i in initials for m in medials for f in finals)


def build(spec: networks.Spec, input_shape: tuple[int, int], seed: int = 0):
    """The network of ``spec`` with the three jamo heads (``networks.build_model``)."""
    total = sum(size for _name, size in HEADS)
    return networks.build_model(spec, input_shape, total, seed, heads=HEADS)


def head_targets(targets: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`jamo_targets`' columns by head name, as Keras fits a three-head model."""
    return {name: targets[:, column] for column, name in enumerate(HEAD_NAMES)}


def head_probabilities(model, images, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Each head's probabilities for ``images``, by head name."""
    out = {name: [] for name in HEAD_NAMES}
    for start in range(0, len(images), batch_size):
        answer = model(np.asarray(images[start : start + batch_size]), training=False)
        for name in HEAD_NAMES:
            out[name].append(np.asarray(answer[name], dtype=np.float64))
    return {
        name: np.concatenate(parts) if parts else np.zeros((0, dict(HEADS)[name]))
        for name, parts in out.items()
    }


def syllable_probabilities(heads: dict[str, np.ndarray], candidates: Sequence[str]) -> np.ndarray:
    """The probability of each of ``candidates`` (syllables) for each sample: the product
    of its three parts' probabilities, normalised over the candidates. ``(n, len(candidates))``."""
    parts = jamo_targets(candidates)
    product = np.ones((len(heads[HEAD_NAMES[0]]), len(parts)))
    for column, name in enumerate(HEAD_NAMES):
        product *= heads[name][:, parts[:, column]]
    total = product.sum(axis=1, keepdims=True)
    return np.divide(
        product, total, out=np.full_like(product, 1 / max(1, len(parts))), where=total > 0
    )
