"""The map of the validation samples per epoch: PCA, its alignment across epochs, the
samples chosen, and a real network whose characters separate as it trains."""

import numpy as np
import pytest

from classifier.ml import embedding, networks


def test_the_projection_has_unit_spread_and_says_how_much_it_holds():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 3)) * [5.0, 2.0, 0.1]
    points, explained = embedding.project(features)
    assert points.shape == (200, 2)
    assert np.sqrt((points**2).sum(axis=1).mean()) == pytest.approx(1.0)
    assert explained[0] > explained[1] > 0 and explained.sum() == pytest.approx(0.999, abs=0.01)


def test_an_epoch_is_turned_and_mirrored_onto_the_last():
    rng = np.random.default_rng(1)
    previous, _ = embedding.project(rng.normal(size=(100, 4)) * [3.0, 1.0, 0.5, 0.2])
    angle = 2.0
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mirrored = (previous @ turn) * [1, -1]  # what a PCA of the same features could give
    aligned, _ = embedding.project(mirrored, previous)
    assert np.allclose(aligned, previous, atol=1e-6)


def test_degenerate_features_give_points_not_errors():
    points, explained = embedding.project(np.ones((5, 3)))
    assert np.array_equal(points, np.zeros((5, 2))) and not explained.any()
    points, explained = embedding.project(np.arange(5.0)[:, None])  # one feature
    assert points[:, 1].tolist() == [0.0] * 5 and explained[0] == pytest.approx(1.0)


def test_the_samples_are_a_fixed_even_draw_of_the_first_characters():
    labels = np.repeat(np.arange(20), 50)
    chosen = embedding.choose_samples(labels, seed=3)
    assert np.array_equal(chosen, embedding.choose_samples(labels, seed=3))
    kept, counts = np.unique(labels[chosen], return_counts=True)
    assert list(kept) == list(range(embedding.MAX_CLASSES))
    assert len(chosen) <= embedding.SAMPLES and counts.min() == counts.max()
    assert len(embedding.choose_samples(np.zeros(0, np.int64))) == 0


def _separation(points, labels) -> float:
    """How far apart the classes' clouds are, against how spread each is."""
    centres = np.stack([points[labels == c].mean(axis=0) for c in np.unique(labels)])
    within = np.mean([points[labels == c].std(axis=0).sum() for c in np.unique(labels)])
    between = np.mean(np.linalg.norm(centres[:, None] - centres[None], axis=-1))
    return between / within


def test_a_network_maps_its_characters_apart_as_it_trains(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 60)
    images = (rng.random((180, 16, 16)) < 0.1).astype(np.uint8) * 255
    for label in range(3):  # each character: a bar of its own, among scattered ink
        images[labels == label, 2 + 5 * label : 4 + 5 * label, 2:14] = 255
    model = networks.build_model(networks.parse_spec("dense16"), (16, 16), 3, seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    maps = embedding.EpochMaps(tmp_path / "maps.npz", images, labels, np.arange(180))
    maps.record(model, 1)
    for epoch in range(2, 7):
        model.fit(images, labels, epochs=1, batch_size=16, verbose=0)
        maps.record(model, epoch)

    saved = embedding.read(tmp_path / "maps.npz")
    assert list(saved["epochs"]) == [1, 2, 3, 4, 5, 6]
    assert saved["points"].shape == (6, 180, 2) and list(saved["labels"]) == list(labels)
    first, last = (_separation(saved["points"][i].astype(float), labels) for i in (0, -1))
    assert last > 2 * first, (first, last)

    # A job resumed after epoch 4 keeps the maps of the epochs it kept.
    resumed = embedding.EpochMaps(
        tmp_path / "maps.npz", images, labels, np.arange(180), keep_epochs=4
    )
    assert resumed.epochs == [1, 2, 3, 4]
    resumed.record(model, 5)
    assert list(embedding.read(tmp_path / "maps.npz")["epochs"]) == [1, 2, 3, 4, 5]
