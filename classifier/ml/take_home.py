"""A finished job as one short Python script a student can take home.

The lab grew out of a tutorial script; a student who trained a model here leaves with a
script of their own. It loads the data set as the lab exports it (``.npz``: images,
labels, classes, groups), keeps the job's characters, splits as the job did (the same
samples validate, for the same seed), builds exactly the job's network
(``networks.build_model``, layer for layer), trains with the job's settings and recipe,
plots the curves and saves the model. It needs Keras, NumPy and matplotlib, not the lab.

The comments are written with ``_`` and handed to ``translate``, so a student reads them
in their own language.
"""

import textwrap
from dataclasses import dataclass

from . import networks, splits
from .messages import Refusal, _
from .training import TrainConfig


@dataclass(frozen=True)
class TakeHomeJob:
    """What the script needs to know of a job."""

    pk: int
    dataset_name: str
    input_shape: tuple[int, int]
    classes: list[str]
    split: str
    #: The job's network and optimiser settings, as its runs train with them.
    config: TrainConfig

    @property
    def file_name(self) -> str:
        return f"hangul-lab-job{self.pk}.py"

    @property
    def model_name(self) -> str:
        return f"hangul-lab-job{self.pk}.keras"


_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}


def job_script(job: TakeHomeJob, *, translate=str) -> str:
    """The job as a script; its comments in the language ``translate`` gives."""

    def say(message) -> str:
        return "\n".join("# " + line for line in _wrapped(translate(message), 86))

    height, width = job.input_shape
    title = translate(_("Hangul Lab, job #%(pk)d, as a script.", pk=job.pk))
    how = translate(
        _(
            "Export the data set %(name)s from the lab (Data sets, then Download "
            ".npz), then run: python %(file)s %(name)s.npz",
            name=job.dataset_name,
            file=job.file_name,
        )
    )
    parts = [
        '"""' + title + "\n\n" + "\n".join(_wrapped(how, 88)) + '\n"""\n',
        "import sys\n",
        "import keras",
        "import matplotlib.pyplot as plt",
        "import numpy as np",
        "from keras import layers\n",
        say(_("The characters the model tells apart, in the order of its outputs.")),
        f"CLASSES = {list(job.classes)!r}",
        f"EPOCHS = {job.config.epochs}",
        f"BATCH_SIZE = {job.config.batch_size}",
        f"LEARNING_RATE = {job.config.learning_rate!r}",
        f"SEED = {job.config.seed}\n",
        say(_("The data set as the lab exports it: 0-255 images, labels and names.")),
        "data = np.load(sys.argv[1])",
        'images, labels, names = data["images"], data["labels"], list(data["classes"])',
        say(_("Only the job's characters: each sample's label becomes its output.")),
        "chosen = [names.index(char) for char in CLASSES]",
        "candidates = np.flatnonzero(np.isin(labels, chosen))",
        "output = np.full(len(names), -1)",
        "output[chosen] = np.arange(len(CLASSES))\n",
        *_split_lines(job.split, say),
        "x_train, y_train = images[train], output[labels[train]]",
        "x_val, y_val = images[val], output[labels[val]]\n",
        say(_("The network, layer for layer as the lab built it.")),
        "keras.utils.set_random_seed(SEED)",
        *_model_lines(job.config.spec_text, height, width),
        "model.summary()\n",
        *_compile_lines(job, say),
        "history = model.fit(",
        "    x_train,",
        "    y_train,",
        "    batch_size=BATCH_SIZE,",
        "    epochs=EPOCHS,",
        "    shuffle=True,",
        "    validation_data=(x_val, y_val),",
        "    callbacks=callbacks,",
        ")",
        f'model.save("{job.model_name}")\n',
        say(_("Loss and accuracy per epoch, training and validation.")),
        "figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))",
        'for key, axes in (("loss", loss_axes), ("accuracy", accuracy_axes)):',
        '    axes.plot(history.history[key], label="train")',
        '    axes.plot(history.history["val_" + key], label="validation")',
        '    axes.set_xlabel("epoch")',
        "    axes.set_title(key)",
        "    axes.legend()",
        f'plt.savefig("hangul-lab-job{job.pk}-curves.png")',
        "plt.show()",
    ]
    return "\n".join(parts) + "\n"


def _wrapped(text: str, width: int) -> list[str]:
    # File names and paths stay whole on their line.
    return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False)


def _split_lines(code: str, say) -> list[str]:
    kind, argument = splits.parse_split(code)
    if kind == "stratified":
        return [
            say(_("Validation: a share of every character's samples, chosen with SEED.")),
            "rng = np.random.default_rng(SEED)",
            "val = []",
            "for label in np.unique(labels[candidates]):",
            "    members = candidates[labels[candidates] == label]",
            f"    n_val = round(len(members) * {argument!r})",
            "    if len(members) >= 2:",
            "        n_val = min(max(n_val, 1), len(members) - 1)",
            "    val.append(rng.choice(members, size=n_val, replace=False))",
            "val = np.sort(np.concatenate(val))",
            "train = np.setdiff1d(candidates, val, assume_unique=True)",
        ]
    if kind == "group":
        return [
            say(_("Validation: every sample of the held-out groups (fonts or writers).")),
            f"held_out = {list(argument)!r}",
            'is_val = np.isin(data["groups"][candidates], held_out)',
            "train, val = candidates[~is_val], candidates[is_val]",
        ]
    return [
        say(
            _(
                "Validation as in the seed tutorial: the characters go two to a file, the "
                "first samples of each file train and the rest validate."
            )
        ),
        "picked = labels[candidates]",
        "first_seen = np.unique(picked, return_index=True)",
        "order = first_seen[0][np.argsort(first_seen[1])]",
        "train, val = [], []",
        "for start in range(0, len(order), 2):",
        "    members = candidates[np.isin(picked, order[start : start + 2])]",
        f"    train.append(members[:{argument}])",
        f"    val.append(members[{argument}:])",
        "train, val = np.sort(np.concatenate(train)), np.sort(np.concatenate(val))",
    ]


def _model_lines(spec_text: str, height: int, width: int) -> list[str]:
    spec = networks.parse_spec(spec_text)
    lines = [
        f"inputs = keras.Input(shape=({height}, {width}))",
        "x = layers.Rescaling(1 / 255)(inputs)",
    ]
    flat = not spec.is_convolutional
    lines.append(
        "x = layers.Flatten()(x)" if flat else f"x = layers.Reshape(({height}, {width}, 1))(x)"
    )
    for layer in spec.layers:
        if layer.kind == "conv":
            lines.append(
                f'x = layers.Conv2D({layer.size}, {layer.kernel}, padding="same", '
                'activation="relu")(x)'
            )
        elif layer.kind == "pool":
            lines.append("x = layers.MaxPooling2D(2)(x)")
        elif layer.kind == "bn":
            lines.append("x = layers.BatchNormalization(momentum=0.9)(x)")
        elif layer.kind == "dropout":
            lines.append(f"x = layers.Dropout({layer.rate:g})(x)")
        else:
            if not flat:
                lines.append("x = layers.Flatten()(x)")
                flat = True
            lines.append(f'x = layers.Dense({layer.size}, activation="relu")(x)')
    if not flat:
        lines.append("x = layers.Flatten()(x)")
    lines += [
        'outputs = layers.Dense(len(CLASSES), activation="softmax")(x)',
        "model = keras.Model(inputs, outputs)",
    ]
    return lines


def _compile_lines(job: TakeHomeJob, say) -> list[str]:
    recipe = job.config.recipe
    optimizer = _OPTIMIZERS.get(job.config.optimizer)
    if optimizer is None:
        raise Refusal(
            _(
                "Unknown optimizer %(name)s; use one of %(known)s.",
                name=job.config.optimizer,
                known=", ".join(_OPTIMIZERS),
            )
        )
    lines = []
    if recipe.schedule == "cosine":
        lines += [
            say(
                _(
                    "The rate rises from a tenth over the first epoch, then falls along a "
                    "cosine to %(floor)g of it.",
                    floor=networks.COSINE_FLOOR,
                )
            ),
            "steps = EPOCHS * -(-len(train) // BATCH_SIZE)",
            "warmup = min(steps // EPOCHS, steps // 4)",
            "rate = keras.optimizers.schedules.CosineDecay(",
            "    initial_learning_rate=LEARNING_RATE / 10,",
            "    decay_steps=max(steps - warmup, 1),",
            f"    alpha={networks.COSINE_FLOOR!r},",
            "    warmup_target=LEARNING_RATE,",
            "    warmup_steps=warmup,",
            ")",
        ]
    else:
        lines.append("rate = LEARNING_RATE")
    if recipe.label_smoothing:
        lines += [
            say(
                _(
                    "Label smoothing: each target gives %(share)g of itself to every class.",
                    share=recipe.label_smoothing,
                )
            ),
            "loss = keras.losses.CategoricalCrossentropy("
            f"label_smoothing={recipe.label_smoothing!r})",
            "y_train = keras.utils.to_categorical(y_train, len(CLASSES))",
            "y_val = keras.utils.to_categorical(y_val, len(CLASSES))",
        ]
    else:
        lines.append('loss = "sparse_categorical_crossentropy"')
    lines.append(
        f"model.compile(optimizer=keras.optimizers.{optimizer}(learning_rate=rate), loss=loss, "
        'metrics=["accuracy"])'
    )
    if recipe.keep_best:
        lines += [
            say(_("At the end, the weights of the epoch with the lowest validation loss.")),
            "callbacks = [",
            "    keras.callbacks.EarlyStopping(",
            '        monitor="val_loss", patience=EPOCHS, restore_best_weights=True',
            "    )",
            "]",
        ]
    else:
        lines.append("callbacks = []")
    return [*lines, ""]
