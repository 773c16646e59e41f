"""Training and scoring Keras models on a data set's arrays.

The arrays are the data set's memory maps. A job's samples are gathered into memory when
they are few (the usual case in class: a handful of characters); otherwise batches are
read from the memory map as they are needed, so no job ever holds the whole data set.
Keras is imported inside the functions: importing this module costs nothing.

Progress goes to a *listener* (the job row, or a command's progress bar) that has
``on_epoch_begin(epoch)``, ``on_batch(epoch, batch, batches)``,
``on_epoch_end(epoch, metrics)`` and ``should_stop()``; epochs count from 0.
"""

import functools
import json
import logging
import math
import mmap
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import networks
from .calibration import at_temperature
from .messages import Refusal, _
from .splits import Split

logger = logging.getLogger(__name__)

OPTIMIZERS = ("adam", "sgd", "rmsprop")
# Jobs whose samples fit in this many bytes train from memory (fastest); larger ones
# stream batches from the memory map.
IN_MEMORY_BYTES = 512 * 2**20
# The class list and input size ride inside the .keras file, so a downloaded model
# says what it predicts.
METADATA_NAME = "hangul_lab.json"
CHECKPOINT_NAME = "hangul_lab_checkpoint.json"
#: Samples scored at once: at most this many, and as many as keep their activations
#: within ``ACTIVATION_BUDGET`` bytes, so that a wide network scores in fewer at a time.
PREDICT_CHUNK = 4096
ACTIVATION_BUDGET = 256 * 2**20
# A streamed pass drops the memory map's pages from the process after mapping about this
# many bytes; reading one sample maps up to FAULT_AROUND_BYTES of the file around it (the
# page it lies on and, on Linux, its neighbours already in the page cache).
RELEASE_BYTES = 32 * 2**20
FAULT_AROUND_BYTES = 64 * 2**10


@dataclass(frozen=True)
class TrainConfig:
    """How to train: the architecture and the optimiser's settings."""

    spec_text: str
    epochs: int
    batch_size: int
    optimizer: str = "adam"
    learning_rate: float = 0.001
    seed: int = 0
    recipe: networks.Recipe = field(default_factory=networks.Recipe)


@dataclass
class TrainResult:
    """The trained model, one metrics dict per finished epoch, and how training ended."""

    model: object
    history: list[dict] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0
    #: Epochs a checkpoint had already finished when this run began.
    initial_epoch: int = 0
    #: The epoch (from 1) whose weights the model ends with, when the recipe keeps the
    #: best one; None when it ends with the last epoch's.
    kept_epoch: int | None = None


@dataclass(frozen=True)
class EvaluationResult:
    """Scores of a model on some samples; labels are model outputs (0..k-1)."""

    accuracy: float
    n: int
    per_class: np.ndarray  # accuracy per class, NaN where a class has no samples
    confusion: np.ndarray  # rows: true class, columns: predicted class
    predicted: np.ndarray
    confidence: np.ndarray


def output_labels(labels, indices, chosen_labels) -> np.ndarray:
    """The model-output label (position in ``chosen_labels``) of samples ``indices``."""
    lookup = np.full(int(max(chosen_labels)) + 1, -1, dtype=np.int64)
    lookup[list(chosen_labels)] = np.arange(len(chosen_labels))
    return lookup[np.asarray(labels[indices])]


def gather(images, indices) -> np.ndarray:
    """``images[indices]`` read in file order from a memory map, in ``indices``' order."""
    indices = np.asarray(indices)
    order = np.argsort(indices, kind="stable")
    out = np.empty((len(indices), *images.shape[1:]), dtype=images.dtype)
    out[order] = images[indices[order]]
    return out


def make_optimizer(name: str, learning_rate: float):
    """A fresh Keras optimiser by name."""
    import keras

    classes = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    if name not in classes:
        raise Refusal(
            _(
                "Unknown optimizer %(name)s; use one of %(known)s.",
                name=name,
                known=", ".join(OPTIMIZERS),
            )
        )
    return classes[name](learning_rate=learning_rate)


def train(
    images,
    labels,
    split: Split,
    classes: int,
    config: TrainConfig,
    listener,
    *,
    chosen_labels,
    in_memory_bytes: int = IN_MEMORY_BYTES,
    checkpoint: Path | None = None,
    epoch_maps=None,
) -> TrainResult:
    """Train ``config``'s network on ``split.train`` and validate each epoch on ``split.val``.

    ``labels`` are data set labels; ``chosen_labels[i]`` is the data set label of model
    output ``i``. A listener's ``should_stop()`` stops training after the current batch;
    the model then keeps the weights it has.

    With ``checkpoint``, the model (with its optimiser's state) is saved there after
    every finished epoch, and training goes on from a checkpoint already there: a job
    whose worker died resumes after its last finished epoch. With ``epoch_maps`` (an
    ``embedding.EpochMaps``), each finished epoch is mapped before it is reported.
    """
    input_shape = tuple(images.shape[1:])
    initial_epoch = checkpoint_epoch(checkpoint) if checkpoint else 0
    if initial_epoch:
        model = _load_checkpoint(checkpoint)
    else:
        spec = networks.parse_spec(config.spec_text)
        model = networks.build_model(spec, input_shape, classes, config.seed)
        steps = config.epochs * math.ceil(len(split.train) / config.batch_size)
        model.compile(
            optimizer=make_optimizer(config.optimizer, _learning_rate(config, steps)),
            loss=_loss(config.recipe.label_smoothing),
            metrics=["accuracy"],
        )
    sample_bytes = int(np.prod(input_shape)) * images.dtype.itemsize
    in_memory = (len(split.train) + len(split.val)) * sample_bytes <= in_memory_bytes
    train_y = output_labels(labels, split.train, chosen_labels)
    val_y = output_labels(labels, split.val, chosen_labels)
    if in_memory:
        train_data = {
            "x": gather(images, split.train),
            "y": train_y,
            "batch_size": config.batch_size,
            "shuffle": True,
        }
        val_data = (gather(images, split.val), val_y)
        release_pages(images)
    else:
        train_data = {
            "x": memmap_batches(
                images, split.train, train_y, config.batch_size, shuffle_seed=config.seed
            )
        }
        val_data = memmap_batches(images, split.val, val_y, max(config.batch_size, 256))
    progress = _progress_callback(
        listener,
        len(split.train),
        val_data,
        config.batch_size,
        checkpoint,
        keep_best=config.recipe.keep_best,
        epoch_maps=epoch_maps,
    )
    started = time.monotonic()
    model.fit(
        **train_data,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        callbacks=[progress],
        verbose=0,
    )
    kept_epoch = None
    if progress.best is not None and not progress.stopped:
        kept_epoch, weights = progress.best[1:]
        model.set_weights(weights)
    return TrainResult(
        model=model,
        history=progress.history,
        stopped_early=progress.stopped,
        seconds=time.monotonic() - started,
        initial_epoch=initial_epoch,
        kept_epoch=kept_epoch,
    )


def _learning_rate(config: TrainConfig, steps: int):
    """The optimiser's rate: a number, or the recipe's schedule over ``steps`` batches."""
    if config.recipe.schedule != "cosine":
        return config.learning_rate
    import keras

    warmup = min(steps // config.epochs, steps // 4)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10,
        decay_steps=max(steps - warmup, 1),
        alpha=networks.COSINE_FLOOR,
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
    )


def _loss(label_smoothing: float):
    """Sparse cross-entropy, with labels smoothed by ``label_smoothing`` when above 0."""
    if not label_smoothing:
        return "sparse_categorical_crossentropy"
    return _smoothed_loss_class()(label_smoothing)


@functools.cache
def _smoothed_loss_class():
    """The Keras loss class for smoothed sparse labels, made (and registered, so that a
    checkpoint loads) on first use: importing this module must not import Keras."""
    import keras

    @keras.saving.register_keras_serializable(package="hangul_lab")
    class SmoothedSparseCrossentropy(keras.losses.Loss):
        """Cross-entropy against one-hot targets mixed with the uniform distribution.

        Keras smooths only one-hot labels; the lab's are class indices, so the loss is
        ``(1 - s) * -log p[y] + s * mean over classes of -log p``.
        """

        def __init__(self, smoothing=0.1, name="smoothed_sparse_crossentropy", **kwargs):
            super().__init__(name=name, **kwargs)
            self.smoothing = smoothing

        def call(self, y_true, y_pred):
            ops = keras.ops
            log_p = ops.log(ops.clip(y_pred, keras.backend.epsilon(), 1.0))
            y_true = ops.cast(ops.reshape(y_true, (-1,)), "int32")
            picked = ops.take_along_axis(log_p, ops.expand_dims(y_true, -1), axis=-1)[:, 0]
            return -(1 - self.smoothing) * picked - self.smoothing * ops.mean(log_p, axis=-1)

        def get_config(self):
            return {**super().get_config(), "smoothing": self.smoothing}

    return SmoothedSparseCrossentropy


def checkpoint_epoch(path: Path) -> int:
    """How many epochs the checkpoint at ``path`` has finished; 0 when there is none."""
    try:
        with zipfile.ZipFile(path) as archive:
            return int(json.loads(archive.read(CHECKPOINT_NAME))["epoch"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return 0


def _save_checkpoint(model, path: Path, epoch: int):
    _save_with(model, path, CHECKPOINT_NAME, {"epoch": epoch})


def _load_checkpoint(path: Path):
    import keras

    _smoothed_loss_class()  # registered, in case the checkpoint's loss is it

    # The lab's own file, written by _save_checkpoint; safe mode all the same.
    return keras.saving.load_model(path, compile=True, safe_mode=True)


def memmap_batches(images, indices, targets, batch_size, shuffle_seed=None):
    """A Keras dataset of batches ``(images[indices[i]], targets[i])``, read when asked for.

    Nothing is gathered beforehand: each batch is read from the memory map when Keras
    (which reads ahead) asks for it, and the pages read are dropped from this process as
    it goes, so memory stays flat however large the data set. With ``shuffle_seed`` the
    samples are drawn in a new order every epoch.
    """
    import keras

    class MemmapBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.order = np.arange(len(indices))
            self.epoch = 0
            self.touched = 0
            self._shuffle()

        def _shuffle(self):
            if shuffle_seed is not None:
                np.random.default_rng((shuffle_seed, self.epoch)).shuffle(self.order)

        def __len__(self):
            return math.ceil(len(indices) / batch_size)

        def __getitem__(self, batch):
            # Sorted within the batch: the memory map is read forwards; SGD is blind to
            # the order inside a batch.
            chosen = np.sort(self.order[batch * batch_size : (batch + 1) * batch_size])
            x = images[indices[chosen]]
            self.touched += len(chosen) * max(x[0].nbytes, FAULT_AROUND_BYTES)
            if self.touched >= RELEASE_BYTES:
                self.touched = 0
                release_pages(images)
            return x, targets[chosen]

        def on_epoch_end(self):
            self.epoch += 1
            self._shuffle()

    return MemmapBatches()


def _progress_callback(
    listener,
    train_samples,
    val_data,
    batch_size,
    checkpoint=None,
    *,
    keep_best=False,
    epoch_maps=None,
):
    """The Keras callback that reports to ``listener`` and validates after each epoch.

    With ``keep_best``, its ``best`` holds ``(val_loss, epoch, weights)`` of the epoch
    with the lowest validation loss so far (in this run: a resumed job compares the
    epochs since it resumed).
    """
    import keras

    class Progress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history = []
            self.stopped = False
            self.batches = 1
            self.epoch = 0
            self.epoch_started = 0.0
            self.best = None

        def on_train_begin(self, logs=None):
            self.batches = max(1, math.ceil(train_samples / batch_size))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.epoch_started = time.monotonic()
            listener.on_epoch_begin(epoch)

        def on_train_batch_end(self, batch, logs=None):
            listener.on_batch(self.epoch, batch, self.batches)
            if listener.should_stop():
                self.stopped = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if self.stopped:
                return  # a part of an epoch is not an epoch
            train_seconds = time.monotonic() - self.epoch_started
            # Validated here rather than by fit(), so that a cancel does not first
            # wait for a validation pass over a partial epoch.
            if isinstance(val_data, tuple):
                scores = self.model.evaluate(
                    *val_data, batch_size=max(batch_size, 256), verbose=0, return_dict=True
                )
            else:
                scores = self.model.evaluate(val_data, verbose=0, return_dict=True)
            metrics = {
                "loss": float(logs["loss"]),
                "accuracy": float(logs["accuracy"]),
                "val_loss": float(scores["loss"]),
                "val_accuracy": float(scores["accuracy"]),
                "seconds": time.monotonic() - self.epoch_started,
                "samples_per_second": train_samples / max(train_seconds, 1e-9),
            }
            self.history.append({"epoch": epoch + 1, **metrics})
            val_loss = metrics["val_loss"]
            better = self.best is None or val_loss < self.best[0]
            if keep_best and better and math.isfinite(val_loss):
                self.best = (val_loss, epoch + 1, self.model.get_weights())
            if epoch_maps is not None:  # before the epoch is reported, which shows it
                try:
                    epoch_maps.record(self.model, epoch + 1)
                except Exception:  # a map is not worth a job
                    logger.exception("Mapping epoch %s failed", epoch + 1)
            # Recorded first, then checkpointed: a worker killed in between leaves the
            # previous checkpoint, and the epoch is trained again on resume.
            listener.on_epoch_end(epoch, metrics)
            if checkpoint is not None:
                _save_checkpoint(self.model, checkpoint, epoch + 1)
            if listener.should_stop():
                self.stopped = True
                self.model.stop_training = True

    return Progress()


def release_pages(images):
    """Drop the pages of the read-only memory map ``images`` from this process's memory.

    The kernel leaves file pages mapped into the process once read, until memory runs
    short, so a pass over a large data set would look, to ``top`` and to anything that
    watches resident memory, like the process holding all of it. The pages stay in the
    page cache: reading them again costs no disk access while memory allows. Nothing to
    do for an array that is not a read-only memory map (a copy-on-write one would lose
    its changes).
    """
    array = images
    while isinstance(array.base, np.ndarray):  # a view of a memory map leads to it
        array = array.base
    mapping = array.base
    can_release = hasattr(mmap, "MADV_DONTNEED")  # not on Windows: there it stays mapped
    if can_release and isinstance(mapping, mmap.mmap) and not array.flags.writeable:
        mapping.madvise(mmap.MADV_DONTNEED)


def chunk_size(model) -> int:
    """How many images ``model`` scores at once: as many as fit ``ACTIVATION_BUDGET``
    with every layer's output of every image held (more than a pass holds at once),
    at most ``PREDICT_CHUNK``."""
    floats = sum(math.prod(layer.output.shape[1:]) for layer in model.layers)
    return int(max(1, min(PREDICT_CHUNK, ACTIVATION_BUDGET // (4 * max(floats, 1)))))


def _probability_chunks(model, images, indices, temperature=1.0):
    """``(start, probabilities)`` for ``images[indices]``, ``chunk_size`` samples at a
    time, at ``temperature`` (see ``calibration.at_temperature``)."""
    size = chunk_size(model)
    for start in range(0, len(indices), size):
        chunk = gather(images, indices[start : start + size])
        release_pages(images)
        # Called eagerly: predict functions would be traced anew for every model and chunk size.
        probabilities = np.asarray(model(chunk, training=False))
        if temperature != 1:
            probabilities = at_temperature(probabilities, temperature)
        yield start, probabilities


def predict_probabilities(model, images, indices=None, *, temperature=1.0) -> np.ndarray:
    """Class probabilities of ``images[indices]`` (all when None), in chunks."""
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    chunks = _probability_chunks(model, images, indices, temperature)
    out = [probabilities for _, probabilities in chunks]
    if not out:
        return np.empty((0, model.output_shape[-1]), dtype=np.float32)
    return np.concatenate(out)


def evaluate(
    model, images, labels, indices, chosen_labels, on_progress=None, *, temperature=1.0
) -> EvaluationResult:
    """Score ``model`` on samples ``indices``: accuracy, per class, confusion matrix.

    ``on_progress(done, total)``, if given, is called after each chunk of samples. The
    confidences are at the model's calibrated ``temperature``; the accuracy is the same
    at any temperature.
    """
    indices = np.asarray(indices)
    classes = len(chosen_labels)
    true = output_labels(labels, indices, chosen_labels)
    # Reduced chunk by chunk: all the probabilities of a large validation set at once
    # would take samples x classes x 4 bytes (gigabytes for the full PHD08).
    predicted = np.empty(len(indices), np.int64)
    confidence = np.empty(len(indices), np.float32)
    for start, probabilities in _probability_chunks(model, images, indices, temperature):
        stop = start + len(probabilities)
        predicted[start:stop] = probabilities.argmax(axis=1)
        confidence[start:stop] = probabilities.max(axis=1)
        if on_progress:
            on_progress(stop, len(indices))
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(confusion) / support
    n = len(indices)
    return EvaluationResult(
        accuracy=float(np.trace(confusion) / n) if n else float("nan"),
        n=n,
        per_class=per_class,
        confusion=confusion,
        predicted=predicted,
        confidence=confidence,
    )


#: The mistakes a job page shows (and explains with saliency maps).
MISTAKES_SHOWN = 25


def shown_mistakes(true, predicted, confidence, limit: int = MISTAKES_SHOWN) -> np.ndarray:
    """Positions, in an evaluation's order, of the mistakes a job page shows: the ones
    the model was surest of first, at most ``limit``."""
    true, predicted, confidence = map(np.asarray, (true, predicted, confidence))
    wrong = np.flatnonzero(predicted != true)
    return wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]


def save_model(
    model,
    path: Path,
    classes,
    input_shape,
    *,
    input_style: dict | None = None,
    calibration: dict | None = None,
):
    """Save ``model`` as ``path`` (.keras) with its characters and input size inside.

    ``input_style`` (see ``preprocess.InputStyle``) says what the training images looked
    like, so a photo can be made to look the same before the model reads it.
    ``calibration`` (``Calibration.model_entry()``) holds the temperature that every
    prediction with the model applies.
    """
    metadata = model_metadata(
        classes, input_shape, input_style=input_style, calibration=calibration
    )
    _save_with(model, Path(path), METADATA_NAME, metadata)


def model_metadata(
    classes, input_shape, *, input_style: dict | None = None, calibration: dict | None = None
) -> dict:
    """What a saved model carries beside its weights: its characters, input size, the
    look of its training images and its temperature."""
    metadata = {"classes": list(classes), "input_shape": list(input_shape)}
    if input_style is not None:
        metadata["input_style"] = input_style
    if calibration is not None:
        metadata["calibration"] = calibration
    return metadata


def first_filters(model) -> np.ndarray | None:
    """The first convolution's kernels as ``(filters, height, width)`` images (the
    patterns the network looks for in the pixels); None for a model without one."""
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            kernel = np.asarray(layer.get_weights()[0], dtype=np.float32)
            return np.transpose(kernel[:, :, 0, :], (2, 0, 1))
    return None


#: What a TensorFlow Lite user needs to know of the model's input and output.
TFLITE_NOTES = {
    "input": "float32 [1, height, width]: the grey levels 0-255 of the preprocessed "
    "character (the lab's preprocessing: ink bright on black, cropped, centred and "
    "padded to a square, then resized); the model divides by 255 itself",
    "output": "float32 [1, classes]: a probability per character, in the order of "
    "'classes'; the lab divides the log-probabilities by 'calibration.temperature' "
    "and renormalises (the top answer stays the same)",
}


def save_tflite(model, path: Path, metadata: dict):
    """``model`` as TensorFlow Lite (TensorFlow's own converter) in a zip at ``path``:
    ``model.tflite`` and ``model.json`` (``metadata`` and how to feed the model), for a
    phone app or a Raspberry Pi. Written beside and renamed over, as models are."""
    import tensorflow as tf

    flat = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    manifest = {**metadata, **TFLITE_NOTES}
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("model.tflite", flat)
            archive.writestr("model.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _save_with(model, path: Path, name: str, extra: dict):
    """Save ``model`` at ``path`` with the JSON ``extra`` inside as ``name``, atomically.

    Written beside and renamed over, so a reader (or a worker killed meanwhile) never
    sees half a file; a failed save (a full disk) leaves nothing behind.
    """
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    try:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(name, json.dumps(extra, ensure_ascii=False))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def read_metadata(path: Path) -> dict:
    """The class list and input size stored in a lab .keras file (no Keras import)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(METADATA_NAME))
    except (KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise Refusal(
            _(
                "%(name)s is not a model saved by the lab: %(error)s",
                name=Path(path).name,
                error=str(exc),
            )
        ) from exc


def load_model(path: Path):
    """``(model, classes, input_shape)`` of a model saved by ``save_model``."""
    import keras

    metadata = read_metadata(path)
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    return model, metadata["classes"], tuple(metadata["input_shape"])
