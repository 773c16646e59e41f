"""Saliency maps (integrated gradients) of real Keras models, and their heat overlay."""

import numpy as np
import pytest

from classifier.ml import networks, saliency

PATCH = (slice(2, 8), slice(2, 8))
OTHER_PATCH = (slice(20, 26), slice(20, 26))


def _planted(label, rng):
    """Scattered ink that says nothing, and a square of ink whose place is the class."""
    image = (rng.random((28, 28)) < 0.12).astype(np.uint8) * 255
    image[PATCH if label == 0 else OTHER_PATCH] = 255
    return image


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(0)
    labels = np.array([0, 1] * 150)
    return np.stack([_planted(label, rng) for label in labels]), labels, rng


@pytest.mark.parametrize("spec", ["dense16", "conv8-pool-dense16"])
def test_the_map_is_highest_where_the_planted_feature_is(planted, spec):
    images, labels, rng = planted
    model = networks.build_model(networks.parse_spec(spec), (28, 28), 2, seed=1)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(images, labels, epochs=10, batch_size=32, verbose=0)

    image = _planted(0, rng)
    maps = saliency.integrated_gradients(model, image, [0, 1])
    assert maps.shape == (2, 28, 28) and maps.dtype == np.float32

    patch = np.zeros((28, 28), bool)
    patch[PATCH] = True
    assert patch.sum() < 0.4 * (image > 0).sum()  # the square is a small part of the ink
    for_class, against = maps
    # The square is what makes it class 0: it holds more than half of what the ink adds
    # to class 0, and of what it takes from class 1.
    assert for_class.sum() > 0 and for_class[patch].sum() > 0.5 * for_class.sum()
    assert against.sum() < 0 and against[patch].sum() < 0.5 * against.sum()
    # The background has no ink, so it has no share.
    assert not maps[:, image == 0].any()
    # The shares add up to the change of the probability from a blank image.
    assert saliency.completeness_gap(model, image, 0, for_class) < 0.05


def test_no_classes_asked_for_gives_no_maps():
    model = networks.build_model(networks.parse_spec("dense8"), (16, 16), 3)
    assert saliency.integrated_gradients(model, np.zeros((16, 16), np.uint8), []).shape == (
        0,
        16,
        16,
    )


def test_the_overlay_is_red_for_and_blue_against_on_one_scale():
    image = np.zeros((4, 4), np.uint8)
    image[0, :] = 255
    maps = np.zeros((2, 4, 4), np.float32)
    maps[0, 0, 0] = 0.2  # counts for
    maps[0, 0, 1] = -0.2  # counts against
    maps[1, 0, 0] = 0.1  # the other map's half as strong share

    first, second = saliency.overlays(image, maps)
    assert first.shape == (4, 4, 3) and first.dtype == np.uint8
    assert tuple(first[0, 0]) == tuple(saliency.FOR_COLOUR.astype(int))
    assert tuple(first[0, 1]) == tuple(saliency.AGAINST_COLOUR.astype(int))
    # Ink with no share is dimmed grey, the background black.
    grey = round(255 * saliency.INK_SHOWN)
    assert tuple(first[0, 2]) == (grey, grey, grey) and tuple(first[1, 1]) == (0, 0, 0)
    # One scale for both maps: half the share, half the colour over the grey ink.
    expected = np.rint(grey * 0.5 + saliency.FOR_COLOUR * 0.5).astype(int)
    assert np.abs(second[0, 0].astype(int) - expected).max() <= 1


def test_the_scale_ignores_one_extreme_pixel_and_survives_empty_maps():
    maps = np.zeros((1, 20, 20))
    maps[0, :10, :] = 0.01
    maps[0, 19, 19] = 5.0
    assert saliency.shared_scale(maps) == pytest.approx(0.01)
    assert saliency.shared_scale(np.zeros((2, 4, 4))) == 1.0
