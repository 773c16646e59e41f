"""Rendering characters from Hangul fonts into training images, with augmentation.

Images follow the PHD08 conversion's convention: uint8 ``(n, height, width)``, ink bright
(255) on a dark background (0), the glyph centred with its aspect ratio kept, as if its
ink box had been padded to the image's shape and resized.

For one character in one font:

1. Pillow draws the glyph about four times the output size, white on black, once per
   stroke weight the batch needs (bolder with ``stroke_width``, thinner with a
   MinFilter), crops it to the ink, and blurs it just enough that sampling it at the
   output size does not alias.
2. Every sample gets an affine map (rotation, scale, shift) and an elastic distortion (a
   random displacement field smoothed with a gaussian). Both go into one sampling grid,
   and the whole batch is sampled bilinearly with one vectorised gather.
3. Every sample gets a gaussian blur of its own strength (separable, as small matrix
   products), has its brightest ink set to 255, gets gaussian noise, and is rounded.

The random numbers come from a ``np.random.SeedSequence`` keyed by the seed and a SHA-256
of the character and the font's name, so the same seed, character and font give the same
images whatever was rendered before them, and in any process.
"""

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .charsets import ks_x_1001
from .fonts import HangulFont, missing_chars
from .messages import _

#: The glyph is drawn this many times the output's longer side, in pixels per em.
OVERSAMPLE = 4
#: The blur, in output pixels, that keeps the large drawing from aliasing when sampled.
ANTIALIAS_SIGMA = 0.4
#: Thinning removes at most this many drawing pixels from each side of a stroke.
MAX_THINNING = 1
#: Output pixels kept free at every border when a sample is rotated, scaled or shifted.
EDGE = 1.0

_WHOLE_NUMBERS = {
    "height": (8, 256), "width": (8, 256), "per_font": (1, 100_000), "seed": (0, 2**64 - 1),
}  # fmt: skip
_NUMBERS = {
    "margin": (0, 0.3), "rotation_degrees": (0, 45), "scale_jitter": (0, 0.5),
    "shift_jitter": (0, 0.25), "elastic_alpha": (0, 0.1), "elastic_sigma": (0.02, 1),
    "stroke_jitter": (0, 0.1), "blur_sigma_max": (0, 0.1), "noise_std": (0, 64),
}  # fmt: skip


@dataclass(frozen=True)
class RenderSettings:
    """Image size, samples per character and font, seed, and the augmentation ranges.

    Lengths are fractions of the image's shorter side, so settings look alike at any
    size: ``shift_jitter`` (the most a glyph moves each way), ``elastic_alpha`` (the
    RMS displacement of the elastic distortion), ``elastic_sigma`` (its smoothness: how
    far apart displacements are independent), ``stroke_jitter`` (the most a stroke gets
    bolder or thinner, in total width) and ``blur_sigma_max``. ``margin`` is the share of
    each side left empty around an unaugmented glyph; ``rotation_degrees`` and
    ``scale_jitter`` (relative) are the most a glyph turns or grows each way;
    ``noise_std`` is in grey levels. Rotation, scale and shift are drawn uniformly,
    then reduced where needed so the glyph stays inside the image. With ``augment``
    off, every sample is the same clean, centred glyph.
    """

    height: int = 28
    width: int = 28
    per_font: int = 20
    seed: int = 0
    augment: bool = True
    margin: float = 0.1
    rotation_degrees: float = 8.0
    scale_jitter: float = 0.12
    shift_jitter: float = 0.08
    elastic_alpha: float = 0.03
    elastic_sigma: float = 0.12
    stroke_jitter: float = 0.03
    blur_sigma_max: float = 0.025
    noise_std: float = 6.0

    def __post_init__(self):
        for name, (low, high) in _WHOLE_NUMBERS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    _("%(name)s must be a whole number from %(low)d to %(high)d, not %(value)r.",
                      name=name, low=low, high=high, value=value)
                )  # fmt: skip
        if not isinstance(self.augment, bool):
            raise ValueError(f"augment must be True or False, not {self.augment!r}.")
        for name, (low, high) in _NUMBERS.items():
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
            ):
                raise ValueError(
                    _("%(name)s must be a number from %(low)g to %(high)g, not %(value)r.",
                      name=name, low=low, high=high, value=value)
                )  # fmt: skip


def render_samples(char: str, font: HangulFont, settings: RenderSettings) -> np.ndarray:
    """``settings.per_font`` images of ``char`` drawn in ``font``: uint8 (n, height, width).

    Raises ValueError when ``char`` is not one character, or the font has no glyph for
    it or draws it without ink.
    """
    if not isinstance(char, str) or len(char) != 1:
        raise ValueError(f"Render one character at a time, not {char!r}.")
    # Every HangulFont has the KS X 1001 syllables; only others need its cmap read.
    if char not in ks_x_1001() and missing_chars(font, char):
        raise ValueError(
            _("The font %(font)s has no glyph for %(char)r.", font=font.name, char=char)
        )
    pil_font = _pil_font(
        str(font.path), font.index, OVERSAMPLE * max(settings.height, settings.width)
    )
    base = _draw(pil_font, char, 0)
    box = base.getbbox()
    if box is None:
        raise ValueError(
            _("The font %(font)s draws %(char)r without any ink.", font=font.name, char=char)
        )
    jitter_rng, elastic_rng, noise_rng = _generators(settings.seed, char, font.name)
    jitter = _Jitter.draw(jitter_rng, settings, box[2] - box[0], box[3] - box[1])
    weights, weight_of = np.unique(jitter.strokes, return_inverse=True)
    stack, centre = _weight_stack(base, box, pil_font, char, weights, jitter.fit)
    y, x = _sampling_grid(settings, jitter, centre, elastic_rng)
    ink = _bilinear(stack, weight_of, y, x)
    if settings.augment and settings.blur_sigma_max > 0:
        rows = _gaussian_operators(settings.height, jitter.blur)
        columns = _gaussian_operators(settings.width, jitter.blur)
        ink = rows @ ink @ columns.mT
    # Thin or blurred strokes never reach full ink at small sizes; PHD08's always do.
    ink *= 255 / np.maximum(ink.max(axis=(1, 2), keepdims=True), 1e-6)
    if settings.augment and settings.noise_std > 0:
        ink += noise_rng.normal(0, settings.noise_std, size=ink.shape).astype(np.float32)
    return np.clip(np.rint(ink), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class _Jitter:
    """Each sample's rotation, scale, shift, stroke weight and blur."""

    fit: float  # output pixels per drawing pixel that fit the ink box in the margins
    angle: np.ndarray  # radians
    scale: np.ndarray  # output pixels per drawing pixel
    shift: np.ndarray  # (2, n): x and y, output pixels
    strokes: np.ndarray  # drawing pixels added to (removed from) each side of a stroke
    blur: np.ndarray  # gaussian sigma, output pixels

    @classmethod
    def draw(cls, rng, settings: RenderSettings, box_width: int, box_height: int) -> "_Jitter":
        """Random jitter for ``settings.per_font`` samples; all zero without augmentation."""
        height, width, side = settings.height, settings.width, min(settings.height, settings.width)
        fit = (1 - 2 * settings.margin) * min(height / box_height, width / box_width)
        n = settings.per_font
        unit = rng.uniform(-1, 1, size=(6, n)) if settings.augment else np.zeros((6, n))
        angle = np.deg2rad(settings.rotation_degrees * unit[0])
        scale = fit * (1 + settings.scale_jitter * unit[1])
        shift = settings.shift_jitter * side * unit[2:4]
        # Half of the change in stroke width goes to each side.
        stroke = settings.stroke_jitter * side * unit[4] / 2 / fit
        strokes = np.maximum(np.rint(stroke), -MAX_THINNING).astype(int)
        blur = settings.blur_sigma_max * side * (unit[5] + 1) / 2
        if settings.augment:
            # Reduce scale, then shift, where the turned ink box would leave the image.
            cos, sin = np.abs(np.cos(angle)), np.abs(np.sin(angle))
            half = np.stack(
                [cos * box_width + sin * box_height, sin * box_width + cos * box_height]
            )
            half *= scale / 2
            room = np.array([[width / 2 - EDGE], [height / 2 - EDGE]])
            shrink = np.minimum(1, (room / half).min(axis=0))
            scale = scale * shrink
            free = np.maximum(room - half * shrink, 0)
            shift = np.clip(shift, -free, free)
        return cls(fit, angle, scale, shift, strokes, blur)


def _generators(seed: int, char: str, font_name: str) -> list[np.random.Generator]:
    """Independent generators for the jitter, the elastic fields and the noise."""
    # Not hash(): Python salts it per process.
    digest = hashlib.sha256(f"{char}\0{font_name}".encode()).digest()
    sequence = np.random.SeedSequence(seed, spawn_key=(int.from_bytes(digest[:16]),))
    return [np.random.default_rng(child) for child in sequence.spawn(3)]


@lru_cache(maxsize=32)
def _pil_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


def _draw(pil_font: ImageFont.FreeTypeFont, char: str, stroke: int) -> Image.Image:
    """``char`` white on black, ``stroke`` pixels bolder a side, with room around it.

    Every stroke weight lands at the same place on a canvas of the same size.
    """
    left, top, right, bottom = pil_font.getbbox(char)
    # Room for the boldest stroke any setting allows; crops reaching past the canvas
    # (for a wide blur) read background there, as they should.
    pad = pil_font.size // 4 + 8
    canvas = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad))
    ImageDraw.Draw(canvas).text(
        (pad - left, pad - top), char, font=pil_font, fill=255,
        stroke_width=stroke, stroke_fill=255,
    )  # fmt: skip
    return canvas


def _weight_stack(base, box, pil_font, char, strokes, fit):
    """The drawing at each stroke weight, cropped around the ink box and anti-aliased.

    Returns float32 (weights, rows, columns) in 0..1 with a border of zeros, and the ink
    box's centre (x, y) in the stack's pixel coordinates (pixel i spans i-0.5 .. i+0.5).
    """
    sigma = ANTIALIAS_SIGMA / fit
    room = max(int(strokes.max()), 0) + int(np.ceil(3 * sigma)) + 1
    crop = (box[0] - room, box[1] - room, box[2] + room, box[3] + room)
    layers = []
    for stroke in strokes.tolist():
        image = _draw(pil_font, char, stroke).crop(crop) if stroke > 0 else base.crop(crop)
        if stroke < 0:
            image = image.filter(ImageFilter.MinFilter(1 - 2 * stroke))
        layers.append(np.asarray(image.filter(ImageFilter.GaussianBlur(sigma)), np.float32))
    # The zero border makes every sample taken outside the crop background.
    stack = np.pad(np.stack(layers) / 255, ((0, 0), (1, 1), (1, 1)))
    centre = (room + (box[2] - box[0]) / 2 + 0.5, room + (box[3] - box[1]) / 2 + 0.5)
    return stack, centre


def _sampling_grid(settings, jitter, centre, rng) -> tuple[np.ndarray, np.ndarray]:
    """Where each sample's output pixels fall in the drawing: (y, x), each (n, h, w)."""
    height, width, side = settings.height, settings.width, min(settings.height, settings.width)
    # Output pixel centres relative to the image centre, moved by shift and distortion.
    x = np.arange(width, dtype=np.float32) + 0.5 - width / 2 - jitter.shift[0, :, None, None]
    y = np.arange(height, dtype=np.float32)[:, None] + 0.5 - height / 2
    y = y - jitter.shift[1, :, None, None]
    x, y = np.broadcast_arrays(x, y)
    if settings.augment and settings.elastic_alpha > 0:
        alpha, sigma = settings.elastic_alpha * side, settings.elastic_sigma * side
        field = _elastic_field(rng, settings.per_font, height, width, alpha, sigma)
        x, y = x + field[:, 0], y + field[:, 1]
    # Undo the rotation and the scale, around the ink box's centre in the drawing.
    cos, sin = np.cos(jitter.angle)[:, None, None], np.sin(jitter.angle)[:, None, None]
    inverse = (1 / jitter.scale)[:, None, None]
    return (cos * y - sin * x) * inverse + centre[1], (cos * x + sin * y) * inverse + centre[0]


def _elastic_field(rng, count, height, width, alpha, sigma) -> np.ndarray:
    """Smooth random displacements (count, 2, height, width) with RMS length ``alpha``."""
    noise = rng.uniform(-1, 1, size=(count, 2, height, width)).astype(np.float32)
    sigmas = np.array([sigma])
    field = _gaussian_operators(height, sigmas) @ noise @ _gaussian_operators(width, sigmas).mT
    rms = np.sqrt(np.mean(np.square(field), axis=(1, 2, 3), keepdims=True))
    return field * (alpha / rms)


def _gaussian_operators(size: int, sigmas: np.ndarray) -> np.ndarray:
    """(len(sigmas), size, size) matrices that blur along one axis, one per sigma."""
    offsets = np.arange(size, dtype=np.float32)
    squared = np.square(offsets[:, None] - offsets[None, :])
    # A sigma of 0 leaves the image as it is: the weights become the identity.
    sigmas = np.maximum(np.asarray(sigmas, dtype=np.float32), 1e-3)[:, None, None]
    weights = np.exp(-0.5 * squared / np.square(sigmas))
    # Rows sum to one, so blurring keeps the brightness, next to the borders too.
    return weights / weights.sum(axis=2, keepdims=True)


def _bilinear(stack: np.ndarray, layer: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Samples of ``stack[layer[i]]`` at pixel coordinates ``(y[i], x[i])``, bilinear."""
    _, rows, cols = stack.shape
    # Clipping onto the zero border turns every point outside into background.
    x = np.clip(x, 0, cols - 1.001)
    y = np.clip(y, 0, rows - 1.001)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    index = (layer[:, None, None] * rows + y0.astype(np.intp)) * cols + x0.astype(np.intp)
    flat = stack.ravel()
    top = flat[index] * (1 - fx) + flat[index + 1] * fx
    bottom = flat[index + cols] * (1 - fx) + flat[index + cols + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)
