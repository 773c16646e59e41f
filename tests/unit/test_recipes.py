"""How the presets train: label smoothing, the cosine schedule, keeping the best epoch."""

from dataclasses import replace

import numpy as np
import pytest

from classifier.ml import networks, splits, training

RECIPE = networks.Recipe(label_smoothing=0.1, schedule="cosine", keep_best=True)


@pytest.fixture(scope="module")
def arrays():
    """240 12x12 samples: each of 3 classes a bright bar at its own row, in noise."""
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(3), 80)
    images = rng.integers(0, 90, size=(240, 12, 12)).astype(np.uint8)
    for label in range(3):
        images[labels == label, 1 + 4 * label : 3 + 4 * label, 2:-2] = 255
    order = rng.permutation(240)
    split = splits.Split(train=np.sort(order[:180]), val=np.sort(order[180:]), description="")
    return images, labels, split


class Epochs:
    """A listener that keeps each epoch's metrics."""

    def __init__(self):
        self.metrics = []

    def on_epoch_begin(self, epoch):
        pass

    def on_batch(self, epoch, batch, batches):
        pass

    def on_epoch_end(self, epoch, metrics):
        self.metrics.append(metrics)

    def should_stop(self):
        return False


def train(arrays, recipe, epochs=6, **options):
    images, labels, split = arrays
    config = training.TrainConfig(
        "conv4-pool-dense16",
        epochs=epochs,
        batch_size=30,
        seed=2,
        learning_rate=0.01,
        recipe=recipe,
    )
    listener = Epochs()
    result = training.train(
        images, labels, split, 3, config, listener, chosen_labels=[0, 1, 2], **options
    )
    return result, listener.metrics


def test_the_convolutional_presets_have_a_recipe_and_the_tutorial_mlp_none():
    assert networks.recipe("cnn") == RECIPE
    assert networks.recipe(" CNN-large ") == replace(RECIPE, learning_rate=0.003)
    assert networks.recipe("mlp").is_plain
    # A spec written by hand trains as the student wrote it, even the cnn's own.
    assert networks.recipe(networks.PRESETS["cnn"]).is_plain


def test_smoothed_labels_give_the_mixed_cross_entropy():
    loss = training._loss(0.2)
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    targets = np.array([0, 2])
    pairs = zip(probabilities, targets, strict=True)
    expected = np.mean([-(0.8 * np.log(p[t]) + 0.2 * np.log(p).mean()) for p, t in pairs])
    assert float(loss(targets, probabilities)) == pytest.approx(expected, rel=1e-5)
    assert training._loss(0) == "sparse_categorical_crossentropy"


def test_the_cosine_schedule_warms_up_then_ends_at_its_floor(arrays):
    result, _ = train(arrays, RECIPE)
    schedule = result.model.optimizer._learning_rate
    assert int(result.model.optimizer.iterations) == 6 * 6  # 180 samples in 30s, 6 epochs
    rates = [float(schedule(step)) for step in (0, 6, 36)]
    assert rates == pytest.approx([0.001, 0.01, 0.01 * networks.COSINE_FLOOR], rel=0.02)


def test_keeping_the_best_epoch_ends_on_the_lowest_validation_loss(arrays):
    images, labels, split = arrays
    result, metrics = train(arrays, RECIPE)
    losses = [m["val_loss"] for m in metrics]
    assert result.kept_epoch == 1 + int(np.argmin(losses))
    scored = result.model.evaluate(
        images[split.val], labels[split.val], verbose=0, return_dict=True
    )
    assert scored["loss"] == pytest.approx(min(losses), rel=1e-4)


def test_a_plain_recipe_keeps_the_last_epoch(arrays):
    result, _ = train(arrays, networks.Recipe(), epochs=2)
    assert result.kept_epoch is None
    assert float(np.asarray(result.model.optimizer.learning_rate)) == pytest.approx(0.01)


def test_a_job_with_the_recipe_resumes_from_its_checkpoint(arrays, tmp_path):
    checkpoint = tmp_path / "checkpoint.keras"
    train(arrays, RECIPE, epochs=2, checkpoint=checkpoint)
    assert training.checkpoint_epoch(checkpoint) == 2
    result, metrics = train(arrays, RECIPE, epochs=4, checkpoint=checkpoint)
    assert result.initial_epoch == 2 and len(metrics) == 2
    assert result.model.loss.smoothing == pytest.approx(0.1)


def test_a_wide_network_scores_fewer_images_at_a_time():
    small = networks.build_model(networks.parse_spec("mlp"), (28, 28), 8)
    spec = networks.parse_spec("conv512x1-conv512x1-pool-dense64")
    wide = networks.build_model(spec, (28, 28), 8)
    assert training.chunk_size(small) == training.PREDICT_CHUNK
    # Two 28x28x512 float outputs are 3.2 MB an image: about 80 fit in 256 MiB.
    assert 40 <= training.chunk_size(wide) <= 90
    images = np.random.default_rng(0).integers(0, 255, size=(200, 28, 28), dtype=np.uint8)
    chunked = training.predict_probabilities(wide, images)
    whole = np.asarray(wide(images, training=False))
    assert np.allclose(chunked, whole, atol=1e-5)


def test_the_large_preset_learns_many_classes_from_few_samples():
    """60 classes of 12 samples each, as the 2,350-class set has few per class: the large
    preset builds for 16x16 images and learns them in a few epochs. Its batch
    normalisation's moving statistics settle within the job: with Keras's default
    momentum they were still far off after 160 batches, and validation sat at chance."""
    rng = np.random.default_rng(5)
    classes, per_class = 60, 12
    patterns = rng.random((classes, 16, 16)) < 0.3
    labels = np.repeat(np.arange(classes), per_class)
    noise = rng.integers(0, 60, size=(len(labels), 16, 16))
    images = np.where(patterns[labels], 255 - noise, noise).astype(np.uint8)
    split = splits.stratified(labels, np.arange(len(labels)), 0.25, 0)
    config = training.TrainConfig(
        "cnn-large", epochs=6, batch_size=16, seed=0, recipe=networks.recipe("cnn-large")
    )
    listener = Epochs()
    training.train(
        images, labels, split, classes, config, listener, chosen_labels=list(range(classes))
    )
    assert listener.metrics[-1]["val_accuracy"] > 0.9
