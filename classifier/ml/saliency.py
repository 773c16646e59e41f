"""What a model looked at: integrated gradients over its input, drawn as a heat overlay.

Integrated gradients (Sundararajan, Taly and Yan, 2017) give each input pixel a share
of a class's probability: the gradient of that probability, averaged along the straight
path from a blank image to the input, times the pixel's ink. It needs only gradients,
so the tutorial's MLP and the convolutional networks are explained the same way and the
maps of two models can be compared. The blank image is all 0: the lab's inputs are
light ink on a dark background, so a pixel's share is what its ink added to the class
(positive, drawn red) or took from it (negative, blue), and the shares add up to the
class's probability on the input less its probability on a blank image.

TensorFlow is imported inside the functions: only workers, which have models loaded
anyway, compute maps; pages only show the PNGs.
"""

from collections.abc import Sequence

import numpy as np

#: Steps along the path from the blank image. 32 keeps the shares' sum within a few
#: hundredths of the probability's change for the lab's models (``completeness_gap``)
#: at a few milliseconds for a 28x28 MLP.
STEPS = 32

#: Colours of the overlay: ink that counts for the class, and ink that counts against it.
FOR_COLOUR = np.array([215, 48, 39], dtype=np.float64)
AGAINST_COLOUR = np.array([69, 117, 180], dtype=np.float64)
#: How bright the input is under the colours (its ink at full strength would hide them).
INK_SHOWN = 0.45


def integrated_gradients(model, image: np.ndarray, classes: Sequence[int], steps: int = STEPS):
    """Each input pixel's share of the probability of each of ``classes`` (indices into
    the model's output), as float32 ``(len(classes), H, W)``.

    ``model`` is a Keras model reading uint8-valued images ``(H, W)`` (as ``build_model``
    makes them); ``image`` is one such image. One forward and one backward pass of
    ``steps + 1`` images per class, the gradients averaged by the trapezoid rule.
    """
    import tensorflow as tf

    pixels = np.asarray(image, dtype=np.float32)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32).reshape(-1, 1, 1)
    path = tf.convert_to_tensor(alphas * pixels[None])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(path)
        outputs = model(path, training=False)
        wanted = [outputs[:, int(index)] for index in classes]
    maps = []
    for output in wanted:
        gradients = tape.gradient(output, path).numpy()
        average = (gradients[:-1] + gradients[1:]).mean(axis=0) / 2
        maps.append(average * pixels)
    del tape
    return np.stack(maps).astype(np.float32) if maps else np.zeros((0, *pixels.shape), np.float32)


def explain_samples(model, images: np.ndarray, classes) -> np.ndarray:
    """:func:`integrated_gradients` of each of ``images`` for its own row of ``classes``
    (an ``(n, k)`` array of class indices), as float32 ``(n, k, H, W)``."""
    classes = np.asarray(classes, dtype=np.int64)
    maps = np.zeros((*classes.shape, *images.shape[1:]), np.float32)
    for number, (image, row) in enumerate(zip(images, classes, strict=True)):
        maps[number] = integrated_gradients(model, image, row)
    return maps


def completeness_gap(model, image: np.ndarray, index: int, attribution: np.ndarray) -> float:
    """How far the shares' sum is from the class's probability on ``image`` less its
    probability on a blank image (0 for exact integrated gradients)."""
    batch = np.stack([np.zeros_like(image, dtype=np.float32), image.astype(np.float32)])
    blank, full = np.asarray(model(batch, training=False))[:, index]
    return float(abs(attribution.sum() - (full - blank)))


def shared_scale(maps: np.ndarray) -> float:
    """The share drawn at full colour for maps shown side by side: the 99th percentile of
    their magnitudes, so one extreme pixel does not wash the others out (and the maps of
    one image, on one scale, can be compared)."""
    magnitudes = np.abs(np.asarray(maps, dtype=np.float64))
    scale = float(np.percentile(magnitudes, 99)) if magnitudes.size else 0.0
    if scale <= 0:
        scale = float(magnitudes.max()) if magnitudes.size else 0.0
    return scale if scale > 0 else 1.0


def heat_overlay(image: np.ndarray, attribution: np.ndarray, scale: float) -> np.ndarray:
    """The input dimmed to grey with each pixel's share laid over it, red for, blue
    against, the stronger the more opaque: an RGB uint8 image of the input's size."""
    grey = np.asarray(image, dtype=np.float64) * INK_SHOWN
    strength = np.clip(np.asarray(attribution, dtype=np.float64) / scale, -1.0, 1.0)[..., None]
    colour = np.where(strength >= 0, FOR_COLOUR, AGAINST_COLOUR)
    opacity = np.abs(strength)
    mixed = grey[..., None] * (1 - opacity) + colour * opacity
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def overlays(image: np.ndarray, maps: np.ndarray) -> list[np.ndarray]:
    """One :func:`heat_overlay` per map of ``image``, all on their :func:`shared_scale`."""
    scale = shared_scale(maps)
    return [heat_overlay(image, attribution, scale) for attribution in maps]
