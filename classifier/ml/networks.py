"""Model architectures written as short layer specs, e.g. ``conv32-pool-conv64-pool-dense128``.

A spec is a list of hidden layers joined by ``-``:

- ``conv<filters>`` or ``conv<filters>x<kernel>``: a 2-D convolution, ReLU, same padding
  (3x3 unless told);
- ``pool``: 2x2 max pooling;
- ``dropout<rate>``: dropout, ``0 < rate < 1``;
- ``dense<units>``: a fully connected ReLU layer (the image is flattened before the first);
- ``bn``: batch normalisation.

Every model starts by scaling the 0-255 pixels to 0-1 and ends with a softmax ``Dense``
layer of one unit per character. Shapes and parameter counts are pure arithmetic, so
forms and pages can show them without importing TensorFlow; only ``build_model`` does.
"""

import math
import re
from dataclasses import dataclass

from .messages import Refusal, _

PRESETS = {
    # The seed tutorial's network: Flatten -> Dense(128, relu) -> Dense(k, softmax).
    "mlp": "dense128",
    # Small enough to train in seconds on a CPU, and above 99% on unseen fonts for the
    # tutorial's 8 characters. A third, narrower convolution block than the first lab
    # CNN (conv32-pool-conv64-pool-dense128) at the same cost per image: it reads jamo
    # that lean and touch better (48 syllables on held-out print fonts in the
    # handwriting style, 88.3% against 86.7%, both at 3,200-3,500 samples/s).
    "cnn": "conv24-pool-conv48-pool-conv96-pool-dropout0.3-dense256-dropout0.3",
    # For hundreds or thousands of characters (the full KS X 1001 set). Batch
    # normalisation after every layer, the dense one included: the first cnn-large
    # (conv32-bn-conv32-pool-conv64-bn-conv64-pool-dropout0.25-dense512-dropout0.4) sat
    # at chance on 2,350 classes because its dense layer's outputs were not normalised
    # (adding "bn" after it alone made the first epoch learn: 9.2% on validation instead
    # of 0.2%; the warm-up did not). Pooling after each convolution makes it about 1.3
    # times as fast as that one, with a better first epoch (13.8%); with less dropout it fits
    # its training samples sooner but validates no better (bench/hangul2350.py).
    "cnn-large": "conv32-bn-pool-conv64-bn-pool-conv128-bn-pool-dropout0.3-dense512-bn-dropout0.3",
}


@dataclass(frozen=True)
class Recipe:
    """How a model trains beyond the job's own settings (epochs, batch, optimiser, rate).

    ``label_smoothing`` moves that share of each target's probability evenly onto every
    class, so the model is not pushed to certainties it cannot have on handwriting;
    ``schedule`` is ``constant`` or ``cosine`` (the rate rises from a tenth over the
    first epoch, then falls along a cosine to ``COSINE_FLOOR`` of it); ``keep_best`` ends
    on the weights of the epoch with the lowest validation loss. ``learning_rate`` is the
    rate a job of this model trains at unless it asks for another.
    """

    label_smoothing: float = 0.0
    schedule: str = "constant"
    keep_best: bool = False
    learning_rate: float = 0.001

    @property
    def is_plain(self) -> bool:
        return self == Recipe()


#: The convolutional presets train this way; the tutorial's MLP and a spec written by
#: hand train plainly, as the seed tutorial did.
RECIPES = {
    "cnn": Recipe(label_smoothing=0.1, schedule="cosine", keep_best=True),
    # Chosen on the validation split of the 2,350-class font set (bench/hangul2350.py):
    # at 0.003 it validated at 76.4% after 6 epochs where 0.001 reached 71.3%.
    "cnn-large": Recipe(
        label_smoothing=0.1, schedule="cosine", keep_best=True, learning_rate=0.003
    ),
}
COSINE_FLOOR = 0.05


def recipe(text: str) -> Recipe:
    """The recipe of the preset named ``text``; the plain one for anything else."""
    return RECIPES.get((text or "").strip().lower(), Recipe())


MAX_LAYERS = 20
MAX_UNITS = 1024
MAX_FILTERS = 512
MAX_KERNEL = 9
MAX_PARAMS = 50_000_000
# Multiply-adds per image: about 20 times the large CNN's on 28x28 images. Beyond that a
# job would hold the class's train worker for hours; the parameter count misses it (a
# stack of wide convolutions has few weights but costs a great deal per image).
MAX_MULTIPLY_ADDS = 500_000_000

_TOKEN = re.compile(
    r"^(?:conv(?P<filters>\d+)(?:x(?P<kernel>\d+))?|pool|bn|dense(?P<units>\d+)"
    r"|dropout(?P<rate>\d*\.?\d+))$"
)


@dataclass(frozen=True)
class Layer:
    """One hidden layer: ``kind`` is conv, pool, dropout, dense or bn."""

    kind: str
    size: int = 0  # filters of conv, units of dense
    kernel: int = 0
    rate: float = 0.0

    @property
    def token(self) -> str:
        if self.kind == "conv":
            return f"conv{self.size}" + (f"x{self.kernel}" if self.kernel != 3 else "")
        if self.kind == "dense":
            return f"dense{self.size}"
        if self.kind == "dropout":
            return f"dropout{self.rate:g}"
        return self.kind


@dataclass(frozen=True)
class Spec:
    """A parsed architecture; ``text`` is its canonical spelling."""

    layers: tuple[Layer, ...]

    @property
    def text(self) -> str:
        return "-".join(layer.token for layer in self.layers)

    @property
    def is_convolutional(self) -> bool:
        return any(layer.kind in ("conv", "pool") for layer in self.layers)


def parse_spec(text: str) -> Spec:
    """Parse a preset name or a layer spec; ValueError in words for anything else."""
    text = (text or "").strip().lower()
    text = PRESETS.get(text, text)
    if not text:
        raise Refusal(
            _(
                "Write at least one layer. Use conv<filters>[x<kernel>], pool, dropout<rate>, "
                "dense<units> and bn, joined by -."
            )
        )
    tokens = text.split("-")
    if len(tokens) > MAX_LAYERS:
        raise Refusal(
            _(
                "%(count)d layers is too many for this lab (at most %(most)d).",
                count=len(tokens),
                most=MAX_LAYERS,
            )
        )
    layers = tuple(_parse_token(token, text) for token in tokens)
    seen_dense = False
    for layer in layers:
        if layer.kind == "dense":
            seen_dense = True
        elif layer.kind in ("conv", "pool") and seen_dense:
            raise Refusal(
                _("%(layer)s comes after a dense layer; images are flat there.", layer=layer.token)
            )
    return Spec(layers)


def _parse_token(token: str, text: str) -> Layer:
    match = _TOKEN.match(token)
    if not match and not token:
        raise Refusal(
            _(
                'Unknown layer "(empty)" in %(spec)s. Use conv<filters>[x<kernel>], pool, '
                "dropout<rate>, dense<units> and bn, joined by -.",
                spec=text,
            )
        )
    if not match:
        raise Refusal(
            _(
                'Unknown layer "%(layer)s" in %(spec)s. Use conv<filters>[x<kernel>], pool, '
                "dropout<rate>, dense<units> and bn, joined by -.",
                layer=token,
                spec=text,
            )
        )
    if token.startswith("conv"):
        filters = int(match["filters"])
        kernel = int(match["kernel"] or 3)
        if not 1 <= filters <= MAX_FILTERS:
            raise Refusal(_("%(token)s: use 1 to %(most)d filters.", token=token, most=MAX_FILTERS))
        if not 1 <= kernel <= MAX_KERNEL:
            raise Refusal(
                _("%(token)s: use a kernel of 1 to %(most)d pixels.", token=token, most=MAX_KERNEL)
            )
        return Layer("conv", size=filters, kernel=kernel)
    if token.startswith("dense"):
        units = int(match["units"])
        if not 1 <= units <= MAX_UNITS:
            raise Refusal(_("%(token)s: use 1 to %(most)d units.", token=token, most=MAX_UNITS))
        return Layer("dense", size=units)
    if token.startswith("dropout"):
        rate = float(match["rate"])
        if not 0 < rate < 1:
            raise Refusal(
                _("%(token)s: the dropout rate is between 0 and 1, e.g. dropout0.25.", token=token)
            )
        return Layer("dropout", rate=rate)
    return Layer(token)


def describe(spec: Spec, input_shape: tuple[int, int], classes: int) -> list[tuple]:
    """Each layer as ``(name, output shape, parameters)``, input scaling first.

    ValueError when the image becomes too small for a layer, or the model is too large or
    too costly to train.
    """
    height, width = input_shape
    shape: tuple[int, ...] = (height, width, 1)
    rows = [("rescale 1/255", shape, 0)]
    multiply_adds = 0
    if not spec.is_convolutional:
        shape = _flatten(shape, rows)
    for layer in spec.layers:
        if layer.kind == "conv":
            multiply_adds += shape[0] * shape[1] * layer.kernel**2 * shape[2] * layer.size
            shape, params = (shape[0], shape[1], layer.size), _conv_params(layer, shape)
        elif layer.kind == "pool":
            if shape[0] < 2 or shape[1] < 2:
                raise Refusal(
                    _(
                        "Too many pool layers for %(height)dx%(width)d images: "
                        "the image is %(rows)dx%(columns)d by then.",
                        height=height,
                        width=width,
                        rows=shape[0],
                        columns=shape[1],
                    )
                )
            shape, params = (shape[0] // 2, shape[1] // 2, shape[2]), 0
        elif layer.kind == "dense":
            if len(shape) > 1:
                shape = _flatten(shape, rows)
            multiply_adds += shape[0] * layer.size
            shape, params = (layer.size,), shape[0] * layer.size + layer.size
        elif layer.kind == "bn":
            params = 4 * shape[-1]  # scale, offset, moving mean and variance
        else:
            params = 0
        rows.append((layer.token, shape, params))
    if len(shape) > 1:
        shape = _flatten(shape, rows)
    rows.append((f"softmax {classes}", (classes,), shape[0] * classes + classes))
    multiply_adds += shape[0] * classes
    if multiply_adds > MAX_MULTIPLY_ADDS:
        raise Refusal(
            _(
                "%(total)s multiply-adds per image is too slow to train in this lab (at most "
                "%(most)s); pool earlier, or use fewer filters or smaller kernels.",
                total=f"{multiply_adds:,}",
                most=f"{MAX_MULTIPLY_ADDS:,}",
            )
        )
    total = sum(row[2] for row in rows)
    if total > MAX_PARAMS:
        raise Refusal(
            _(
                "%(total)s parameters is too many for this lab (at most %(most)s); "
                "add pool layers or use fewer units.",
                total=f"{total:,}",
                most=f"{MAX_PARAMS:,}",
            )
        )
    return rows


def _conv_params(layer: Layer, shape) -> int:
    return layer.kernel * layer.kernel * shape[-1] * layer.size + layer.size


def _flatten(shape, rows) -> tuple[int]:
    flat = (shape[0] * shape[1] * shape[2],)
    rows.append(("flatten", flat, 0))
    return flat


def activation_bytes(spec: Spec, input_shape: tuple[int, int], classes: int) -> int:
    """The float32 activations one image leaves in memory on its way through the model
    (every layer's output, kept for the backward pass): times the batch size, what a
    training step needs beside the weights."""
    return 4 * sum(
        math.prod(shape) for _name, shape, _params in describe(spec, input_shape, classes)
    )


def check_batch_memory(
    spec: Spec, input_shape: tuple[int, int], classes: int, batch_size: int, limit: int
) -> None:
    """Refuse a batch whose activations take more than ``limit`` bytes: the parameter and
    multiply-add limits miss a few wide layers trained on big batches (two 512-filter
    convolutions at 4,096 images a batch need about 18 GiB), which the operating system
    answers by killing the worker."""
    per_image = activation_bytes(spec, input_shape, classes)
    if per_image * batch_size <= limit:
        return
    raise Refusal(
        _(
            "At %(batch)d images a batch this model needs about %(need)s of memory for its "
            "activations; the lab allows %(most)s. Use a batch of at most %(fits)d images, "
            "or a smaller model.",
            batch=batch_size,
            need=_gib(per_image * batch_size),
            most=_gib(limit),
            fits=max(1, limit // per_image),
        )
    )


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f} GiB"


def count_params(spec: Spec, input_shape: tuple[int, int], classes: int) -> int:
    """The number of weights Keras will report for ``spec`` (ValueError if too large)."""
    return sum(row[2] for row in describe(spec, input_shape, classes))


def build_model(
    spec: Spec, input_shape: tuple[int, int], classes: int, seed: int = 0, *, heads=None
):
    """The Keras model of ``spec``: uint8 images ``(H, W)`` in, class probabilities out.

    With ``heads`` (``(name, classes)`` pairs), one softmax layer per head on the same
    hidden layers instead, the model answering a dict of their probabilities by name
    (the jamo model's three: ``jamo_model``).
    """
    describe(spec, input_shape, classes)  # the same size checks as the form's
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    flat = not spec.is_convolutional
    x = layers.Flatten()(x) if flat else layers.Reshape((*input_shape, 1))(x)
    for layer in spec.layers:
        if layer.kind == "conv":
            x = layers.Conv2D(layer.size, layer.kernel, padding="same", activation="relu")(x)
        elif layer.kind == "pool":
            x = layers.MaxPooling2D(2)(x)
        elif layer.kind == "bn":
            # Moving statistics that settle within tens of batches (Keras waits for
            # hundreds): a class job of a few hundred samples validates on them too.
            x = layers.BatchNormalization(momentum=0.9)(x)
        elif layer.kind == "dropout":
            x = layers.Dropout(layer.rate)(x)
        else:
            if not flat:
                x = layers.Flatten()(x)
                flat = True
            x = layers.Dense(layer.size, activation="relu")(x)
    if not flat:
        x = layers.Flatten()(x)
    if heads:
        outputs = {
            name: layers.Dense(size, activation="softmax", name=name)(x) for name, size in heads
        }
    else:
        outputs = layers.Dense(classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=spec.text.replace(".", "_") or "model")
