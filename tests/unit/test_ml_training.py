"""The training loop, scoring, saving and the job figures, on tiny arrays (real Keras)."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifier.ml import calibration, splits, training, training_plots
from classifier.ml.messages import Refusal

CLASSES = ["가", "나", "다"]


@pytest.fixture(scope="module")
def arrays(tmp_path_factory):
    """300 16x16 samples in a memory map: each class a bright bar at its own row."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 100)
    path = tmp_path_factory.mktemp("arrays") / "images.npy"
    images = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(300, 16, 16))
    images[:] = rng.integers(0, 60, size=images.shape)
    for label in range(3):
        images[labels == label, 2 + 4 * label : 4 + 4 * label, 2:-2] = 255
    images.flush()
    groups = np.arange(300) % 2
    return np.load(path, mmap_mode="r"), labels, groups


class Recorder:
    """A listener that keeps what it is told and can ask to stop after ``stop_after`` batches."""

    def __init__(self, stop_after=None):
        self.epochs, self.batches, self.stop_after = [], 0, stop_after

    def on_epoch_begin(self, epoch):
        pass

    def on_batch(self, epoch, batch, batches):
        self.batches += 1

    def on_epoch_end(self, epoch, metrics):
        self.epochs.append((epoch, metrics))

    def should_stop(self):
        return self.stop_after is not None and self.batches >= self.stop_after


def _train(arrays, listener, **options):
    images, labels, groups = arrays
    split = splits.group(groups, ["S", "G"], np.arange(300), ["G"])
    config = training.TrainConfig("conv4-pool-dense16", epochs=2, batch_size=16, seed=1)
    return split, training.train(
        images, labels, split, 3, config, listener, chosen_labels=[0, 1, 2], **options
    )


@pytest.mark.parametrize("in_memory_bytes", [training.IN_MEMORY_BYTES, 0])
def test_training_learns_and_reports_every_epoch(arrays, in_memory_bytes):
    """From memory and streamed from the memory map alike."""
    listener = Recorder()
    _, result = _train(arrays, listener, in_memory_bytes=in_memory_bytes)
    assert [epoch for epoch, _ in listener.epochs] == [0, 1]
    assert listener.batches == 2 * 10  # 150 training samples in batches of 16
    last = listener.epochs[-1][1]
    assert last["val_accuracy"] > 0.9 and last["samples_per_second"] > 0
    assert set(last) == {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "seconds",
        "samples_per_second",
    }
    assert [row["epoch"] for row in result.history] == [1, 2] and not result.stopped_early


def test_a_stop_request_ends_training_after_the_batch_without_a_partial_epoch(arrays):
    listener = Recorder(stop_after=13)  # in the middle of the second epoch
    _, result = _train(arrays, listener)
    assert result.stopped_early
    assert listener.batches == 13
    assert [epoch for epoch, _ in listener.epochs] == [0]


def test_evaluate_scores_per_class_with_a_confusion_matrix(arrays):
    images, labels, _ = arrays
    split, result = _train(arrays, Recorder())
    # Outputs in another order than the data set's labels: 다 first.
    scored = training.evaluate(result.model, images, labels, split.val[::-1], [0, 1, 2])
    assert scored.n == 150 and scored.confusion.sum() == 150
    assert scored.confusion.sum(axis=1).tolist() == [50, 50, 50]
    assert scored.accuracy == pytest.approx(np.trace(scored.confusion) / 150)
    subset = training.evaluate(result.model, images, labels, np.flatnonzero(labels == 1), [0, 1, 2])
    assert np.isnan(subset.per_class[0]) and subset.n == 100


def test_evaluate_gives_the_confidence_at_a_temperature_and_the_same_answers(arrays):
    images, labels, _ = arrays
    split, result = _train(arrays, Recorder())
    plain = training.evaluate(result.model, images, labels, split.val, [0, 1, 2])
    softened = training.evaluate(
        result.model, images, labels, split.val, [0, 1, 2], temperature=3.0
    )
    assert softened.accuracy == plain.accuracy
    assert np.array_equal(softened.confusion, plain.confusion)
    assert np.array_equal(softened.predicted, plain.predicted)
    probabilities = training.predict_probabilities(result.model, images, split.val)
    np.testing.assert_allclose(plain.confidence, probabilities.max(axis=1))
    expected = calibration.at_temperature(probabilities, 3.0).max(axis=1)
    np.testing.assert_allclose(softened.confidence, expected, rtol=1e-6)
    assert softened.confidence.mean() < plain.confidence.mean()


def test_saved_models_carry_their_characters_and_input_size(arrays, tmp_path):
    images, _, _ = arrays
    split, result = _train(arrays, Recorder())
    path = tmp_path / "model.keras"
    training.save_model(
        result.model,
        path,
        CLASSES,
        (16, 16),
        calibration={"method": "temperature", "temperature": 1.5},
    )
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    assert training.read_metadata(path)["calibration"]["temperature"] == 1.5
    model, classes, shape = training.load_model(path)
    assert classes == CLASSES and shape == (16, 16)
    before = training.predict_probabilities(result.model, images, split.val[:20])
    after = training.predict_probabilities(model, images, split.val[:20])
    np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-6)

    foreign = tmp_path / "foreign.keras"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(Refusal, match="not a model saved by the lab"):
        training.load_model(foreign)


def test_unknown_optimizer_is_refused():
    with pytest.raises(Refusal, match="Unknown optimizer"):
        training.make_optimizer("adagrad", 0.1)


def test_job_figures_are_pngs_even_before_the_first_epoch(arrays):
    images, _, _ = arrays
    history = [
        {"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4},
        {"epoch": 2, "loss": 0.5, "accuracy": 0.8, "val_loss": None, "val_accuracy": None},
    ]
    measured = calibration.calibrate(np.array([[0.9, 0.1], [0.6, 0.4]] * 20), np.array([0, 1] * 20))
    figures = [
        training_plots.curves_png([]),
        training_plots.curves_png(history),
        training_plots.compare_png({"#1 mlp": history, "#2 cnn": history[:1]}),
        training_plots.confusion_png(np.array([[5, 1, 0], [0, 6, 0], [0, 0, 0]]), CLASSES),
        training_plots.confusion_png(np.eye(50, dtype=int), [chr(0xAC00 + i) for i in range(50)]),
        training_plots.mistakes_png(images[:3], [0, 1, 2], [1, 2, 0], [0.9, 0.6, 0.51], CLASSES),
        training_plots.mistakes_png(images[:0], [], [], [], CLASSES),
        training_plots.reliability_png(measured.as_dict()),
        training_plots.reliability_png({}),
    ]
    assert all(png.startswith(b"\x89PNG") and len(png) > 1000 for png in figures)


def test_a_confusion_matrix_of_every_syllable_is_drawn_in_blocks_of_neighbours():
    small = np.array([[5, 1], [0, 6]])
    assert training_plots.confusion_cells(small) is small
    rng = np.random.default_rng(1)
    matrix = np.diag(rng.integers(1, 5, 2350))
    matrix[7, 2000] = 3  # the 1st character read as the 401st block's
    cells = training_plots.confusion_cells(matrix)
    assert cells.shape == (470, 470) and cells.sum() == matrix.sum()  # blocks of 5
    assert cells.trace() == matrix.trace() and cells[1, 400] == 3
    png = training_plots.confusion_png(matrix, [chr(0xAC00 + i) for i in range(2350)])
    assert png.startswith(b"\x89PNG")


def test_evaluate_scores_a_large_set_chunk_by_chunk(arrays, monkeypatch):
    images, labels, _ = arrays
    split, result = _train(arrays, Recorder())
    monkeypatch.setattr(training, "PREDICT_CHUNK", 64)  # 150 samples: chunks of 64, 64, 22
    scored = training.evaluate(result.model, images, labels, split.val, [0, 1, 2])
    probabilities = training.predict_probabilities(result.model, images, split.val)
    assert probabilities.shape == (150, 3)
    assert scored.predicted.tolist() == probabilities.argmax(axis=1).tolist()
    np.testing.assert_allclose(scored.confidence, probabilities.max(axis=1))


def test_a_character_subset_streams_from_the_memory_map_without_copying_it(tmp_path):
    """A job's characters are indices into the data set's arrays: nothing is gathered up
    front, so each batch holds what the file holds when the batch is read."""
    path = tmp_path / "images.npy"
    on_disk = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(40, 2, 2))
    on_disk[:] = np.arange(40)[:, None, None]
    on_disk.flush()
    labels = np.arange(40) % 4
    chosen = np.flatnonzero(np.isin(labels, [1, 3]))  # 2 of the 4 characters
    batches = training.memmap_batches(
        np.load(path, mmap_mode="r"), chosen, labels[chosen], batch_size=8, shuffle_seed=0
    )
    on_disk[:] += 100  # the file changes after the subset was chosen
    on_disk.flush()

    def epoch():
        read = [batches[number] for number in range(len(batches))]
        for x, y in read:
            assert np.all(np.diff(x[:, 0, 0].astype(int)) > 0)  # each batch in file order
            assert np.array_equal((x[:, 0, 0] - 100) % 4, y)  # with its own labels
        return np.concatenate([x[:, 0, 0] for x, _ in read]).tolist()

    first = epoch()
    assert sorted(first) == (chosen + 100).tolist()  # read now, from the file
    batches.on_epoch_end()
    second = epoch()
    assert sorted(second) == sorted(first) and second != first  # a new order each epoch


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads Linux's /proc")
def test_released_pages_of_a_memory_map_leave_the_process(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.ones((1024, 64, 64), dtype=np.uint8))  # 4 MiB
    images = np.load(path, mmap_mode="r")
    assert int(images[::8].sum()) == 128 * 64 * 64  # every page read
    assert _resident_kib(path) >= 4096
    training.release_pages(images[10:20])  # a view leads to its memory map too
    assert _resident_kib(path) == 0
    assert int(images[::8].sum()) == 128 * 64 * 64  # and reading again still works

    changed = np.load(path, mmap_mode="c")  # copy-on-write: its changes live only in memory
    changed[0] = 7
    training.release_pages(changed)
    assert changed[0, 0, 0] == 7


def _resident_kib(path) -> int:
    """How much of the file at ``path`` is mapped into this process and resident, in KiB."""
    resident, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5:  # a mapping's first line
            inside = fields[-1] == str(path)
        elif inside and fields[0] == "Rss:":
            resident += int(fields[1])
    return resident
