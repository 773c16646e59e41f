"""Turning PHD08 0/1 bitmaps into uint8 training images (ink 255 on a dark 0), fast.

Two modes:

* default: pad the bitmap with background to the target's aspect ratio (centred),
  blur it with a gaussian, resize it bilinearly, scale ink to 255 and round.
* ``reference=True``: the arithmetic of the seed tutorial's converter, which blurred
  (``scipy.ndimage.gaussian_filter``), min-max scaled each sample to 0..255 and rounded
  (``scipy.misc.bytescale``), then resized the uint8 image with Pillow's bilinear filter,
  stretching it to the target size. The output matches it within one grey level.

Padding, blurring and resizing are linear and separable, so for each bitmap size they
collapse into two small matrices, one for the rows and one for the columns, and a
whole batch of same-sized bitmaps converts as ``rows @ X @ cols.T`` with two matrix
products. The blur operator is built here with numpy (scipy's 'reflect' boundary), the
resize operator is read off Pillow itself so it matches Pillow exactly, and both are
cached per size.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from .messages import Refusal, _
from .phd08 import label_from_filename, parse_phd08

MIN_SIDE, MAX_SIDE = 8, 256
MAX_SIGMA = 10.0
# scipy.ndimage.gaussian_filter's defaults, which the tutorial used.
TRUNCATE = 4.0
NEGLIGIBLE_SIGMA = 1e-15


@dataclass(frozen=True)
class ConversionSettings:
    """Target image size, gaussian blur, and whether to reproduce the tutorial exactly."""

    height: int = 28
    width: int = 28
    sigma: float = 0.3
    reference: bool = False

    def __post_init__(self):
        for side in (self.height, self.width):
            if not isinstance(side, int) or not MIN_SIDE <= side <= MAX_SIDE:
                raise Refusal(
                    _(
                        "image sides must be whole numbers from %(low)d to %(high)d, not %(side)r.",
                        low=MIN_SIDE,
                        high=MAX_SIDE,
                        side=side,
                    )
                )
        if not isinstance(self.sigma, int | float) or not 0 <= self.sigma <= MAX_SIGMA:
            raise Refusal(
                _(
                    "sigma must be between 0 and %(most)g, not %(sigma)r.",
                    most=MAX_SIGMA,
                    sigma=self.sigma,
                )
            )


@dataclass
class ConvertedFile:
    """The images of one PHD08 file, in file order, with their font groups."""

    label: str
    images: np.ndarray  # uint8, (N, height, width)
    groups: list[str]


def convert_file(data: bytes, name: str, settings: ConversionSettings) -> ConvertedFile:
    """Parse and convert a whole PHD08 file (``name`` gives the label and error context)."""
    label = label_from_filename(name)
    parsed = parse_phd08(data, name)
    images = np.empty((parsed.count, settings.height, settings.width), dtype=np.uint8)
    for batch in parsed.batches:
        images[batch.indices] = convert_batch(batch.bitmaps, settings)
    return ConvertedFile(label, images, parsed.groups)


def convert_batch(bitmaps: np.ndarray, settings: ConversionSettings) -> np.ndarray:
    """Convert same-sized 0/1 bitmaps (k, H, W) into uint8 images (k, height, width)."""
    if bitmaps.ndim != 3:
        raise ValueError(f"expected a (count, rows, columns) array, got shape {bitmaps.shape}.")
    _, rows, cols = bitmaps.shape
    if settings.reference:
        out = _convert_reference(bitmaps, settings)
    else:
        left, right = _default_operators(rows, cols, settings)
        out = _apply(left, bitmaps.astype(np.float32), right)
    # Every operator is non-negative with rows summing to one (times 255), so values
    # stay within 0..255 and adding 0.5 before the truncating cast rounds them.
    out += 0.5
    return out.astype(np.uint8)


def _convert_reference(bitmaps: np.ndarray, settings: ConversionSettings) -> np.ndarray:
    _, rows, cols = bitmaps.shape
    blur_left, blur_right, resize_left, resize_right = _reference_operators(rows, cols, settings)
    # float64, as scipy computed it, so that the rounding below falls the same way.
    blurred = _apply(blur_left, bitmaps.astype(np.float64), blur_right)
    low = blurred.min(axis=(1, 2), keepdims=True)
    spread = blurred.max(axis=(1, 2), keepdims=True) - low
    # bytescale: a flat image (no spread) is scaled by 255 / 1, so it becomes all zeros.
    scale = 255.0 / np.where(spread == 0, 1.0, spread)
    scaled = np.floor(((blurred - low) * scale).clip(0, 255) + 0.5).astype(np.float32)
    # Pillow resizes 8-bit images in two passes and rounds after the first; rounding once
    # at the end instead stays within half a grey level of it before the final rounding,
    # hence within one grey level after.
    return _apply(resize_left, scaled, resize_right)


def _apply(left: np.ndarray, batch: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left @ X @ right`` for every X in ``batch``."""
    # One small product per bitmap rather than one large product per batch: BLAS runs
    # small products on a single thread, so processes converting files side by side do
    # not fight over the cores.
    return left @ (batch @ right)


@lru_cache(maxsize=4096)
def _default_operators(rows: int, cols: int, settings: ConversionSettings):
    """The default mode's (left, right) float32 operators for rows x cols bitmaps."""
    scale = max(rows / settings.height, cols / settings.width)
    # max(): guards against round() landing a hair below the bitmap's own size.
    padded_rows = max(rows, round(settings.height * scale))
    padded_cols = max(cols, round(settings.width * scale))
    left = _pad_blur_resize(rows, padded_rows, settings.height, settings.sigma)
    right = _pad_blur_resize(cols, padded_cols, settings.width, settings.sigma).T
    # Ink is scaled to 255 once, in the left operator.
    return _contiguous(255.0 * left, np.float32), _contiguous(right, np.float32)


@lru_cache(maxsize=4096)
def _reference_operators(rows: int, cols: int, settings: ConversionSettings):
    """The reference mode's blur (float64) and resize (float32) operator pairs."""
    return (
        _gaussian_operator(rows, settings.sigma),
        _contiguous(_gaussian_operator(cols, settings.sigma).T, np.float64),
        _contiguous(_resize_operator(rows, settings.height), np.float32),
        _contiguous(_resize_operator(cols, settings.width).T, np.float32),
    )


def _contiguous(operator: np.ndarray, dtype) -> np.ndarray:
    # Matrix products run fastest on C-ordered operands.
    return np.ascontiguousarray(operator, dtype=dtype)


def _pad_blur_resize(size: int, padded: int, target: int, sigma: float) -> np.ndarray:
    """The (target x size) matrix that pads centred to ``padded``, blurs and resizes."""
    pad = np.zeros((padded, size))
    before = (padded - size) // 2
    pad[before : before + size] = np.eye(size)
    return _resize_operator(padded, target) @ _gaussian_operator(padded, sigma) @ pad


@lru_cache(maxsize=1024)
def _gaussian_operator(size: int, sigma: float) -> np.ndarray:
    """The (size x size) matrix of scipy.ndimage.gaussian_filter1d, mode 'reflect'."""
    if sigma <= NEGLIGIBLE_SIGMA:
        # scipy skips the filter for such sigmas; so does the tutorial's converter.
        return np.eye(size)
    radius = int(TRUNCATE * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 / (sigma * sigma) * offsets**2)
    weights /= weights.sum()
    # 'reflect' mirrors about the edge (d c b a | a b c d | d c b a), repeating with
    # period 2 * size for kernels wider than the image.
    sources = (np.arange(size)[:, None] + offsets) % (2 * size)
    sources = np.where(sources < size, sources, 2 * size - 1 - sources)
    operator = np.zeros((size, size))
    np.add.at(operator, (np.arange(size)[:, None], sources), weights)
    return operator


@lru_cache(maxsize=1024)
def _resize_operator(size: int, target: int) -> np.ndarray:
    """The (target x size) matrix of Pillow's bilinear resize along one axis.

    Read off Pillow by resizing an identity image in float mode, so that Pillow's
    antialiasing when shrinking is reproduced exactly.
    """
    identity = Image.fromarray(np.eye(size, dtype=np.float32))
    resized = identity.resize((target, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float64).T
