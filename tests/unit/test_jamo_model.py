"""The jamo model: targets from the decomposition, composing syllables from three heads,
and a real network naming syllables it never saw in training."""

import numpy as np
import pytest

from classifier.ml import jamo_model, networks
from classifier.ml.messages import Refusal


def test_targets_are_the_parts_of_each_syllable():
    assert jamo_model.jamo_targets(["가", "밟", "힣"]).tolist() == [
        [0, 0, 0],
        [7, 0, 11],
        [18, 20, 27],
    ]
    with pytest.raises(Refusal, match="not a Hangul syllable"):
        jamo_model.jamo_targets(["가", "A"])


def test_the_candidates_are_every_combination_of_the_parts_seen():
    assert jamo_model.combinations(["가", "난"]) == ["가", "간", "나", "난"]


def test_a_syllables_probability_is_the_product_of_its_parts_normalised():
    heads = {
        "initial": np.zeros((1, 19)),
        "medial": np.zeros((1, 21)),
        "final": np.zeros((1, 28)),
    }
    heads["initial"][0, [0, 2]] = [0.75, 0.25]  # ㄱ or ㄴ
    heads["medial"][0, 0] = 1.0  # ㅏ
    heads["final"][0, [0, 4]] = [0.6, 0.4]  # none or ㄴ
    probabilities = jamo_model.syllable_probabilities(heads, ["가", "간", "나", "난", "거"])
    assert probabilities[0] == pytest.approx([0.45, 0.3, 0.15, 0.1, 0.0])


# Eight syllables from two initials, two vowels and two finals; each part a mark of its
# own in a 16x16 image, so a network can read the parts apart.
SYLLABLES = ["가", "각", "거", "걱", "나", "낙", "너", "넉"]
NEVER_SEEN = ["각", "너"]  # every part of them is in the other six


def _images(chars, count, rng):
    images = (rng.random((len(chars) * count, 16, 16)) < 0.05).astype(np.uint8) * 255
    targets = jamo_model.jamo_targets(chars).repeat(count, axis=0)
    for image, (initial, medial, final) in zip(images, targets, strict=True):
        top = 1 if initial == 0 else 6  # ㄱ high on the left, ㄴ lower
        image[top : top + 3, 1:4] = 255
        top = 1 if medial == 0 else 6  # ㅏ high on the right, ㅓ lower
        image[top : top + 3, 10:14] = 255
        if final:  # ㄱ along the bottom
            image[12:15, 4:12] = 255
    return images, targets


def test_a_jamo_model_names_syllables_it_never_saw():
    rng = np.random.default_rng(0)
    seen = [char for char in SYLLABLES if char not in NEVER_SEEN]
    images, targets = _images(seen, 40, rng)
    model = jamo_model.build(networks.parse_spec("dense32"), (16, 16), seed=0)
    model.compile(
        "adam", loss={name: "sparse_categorical_crossentropy" for name in jamo_model.HEAD_NAMES}
    )
    model.fit(images, jamo_model.head_targets(targets), epochs=15, batch_size=16, verbose=0)

    candidates = jamo_model.combinations(seen)
    assert sorted(candidates) == sorted(SYLLABLES)  # the unseen ones are candidates too
    test_images, _targets = _images(NEVER_SEEN, 20, rng)
    heads = jamo_model.head_probabilities(model, test_images)
    probabilities = jamo_model.syllable_probabilities(heads, candidates)
    read = [candidates[i] for i in probabilities.argmax(axis=1)]
    truth = np.repeat(NEVER_SEEN, 20)
    assert np.mean(np.asarray(read) == truth) >= 0.9
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(len(truth)))
