"""Rendering characters from Hangul fonts into training images, with augmentation.

Images are uint8, ink bright (255) on a dark background (0), centred with their aspect
ratio kept, like converted PHD08 samples. Each sample's geometry (rotation, scale,
position, elastic distortion) is applied in one bilinear resampling step at twice the
output resolution, then averaged down 2x2, which keeps thin strokes from aliasing.
The same seed, character and font always give the same images, in any process.
"""

import hashlib
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .fonts import HangulFont

SUPERSAMPLE = 2
#: Share of the image left empty on each side of an unaugmented glyph.
MARGIN = 0.1
#: Stroke changes drawn from: thinner (-1), as designed (0), bolder (1, 2).
STROKES = (-1, 0, 1, 2)


@dataclass(frozen=True)
class RenderSettings:
    """Output size, samples per character and font, seed, and the augmentation ranges."""

    height: int = 28
    width: int = 28
    per_font: int = 20
    seed: int = 0
    augment: bool = True
    rotation_degrees: float = 8.0
    scale_jitter: float = 0.12
    shift_jitter: float = 0.08
    elastic_alpha: float = 0.06
    elastic_grid: int = 4
    stroke_jitter: bool = True
    blur_sigma_max: float = 0.8
    noise_std: float = 0.05

    def __post_init__(self):
        limits = {
            "height": (8, 256), "width": (8, 256), "per_font": (1, 100_000),
            "seed": (0, 2**32 - 1), "rotation_degrees": (0, 45), "scale_jitter": (0, 0.5),
            "shift_jitter": (0, 0.3), "elastic_alpha": (0, 0.3), "elastic_grid": (2, 16),
            "blur_sigma_max": (0, 5), "noise_std": (0, 0.5),
        }  # fmt: skip
        for field in fields(self):
            if field.name not in limits:
                continue
            low, high = limits[field.name]
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{field.name} must be a number, not {value!r}.")
            if not low <= value <= high:
                raise ValueError(f"{field.name} must be between {low} and {high}, not {value}.")
        for name in ("height", "width", "per_font", "seed", "elastic_grid"):
            if not isinstance(getattr(self, name), int):
                raise ValueError(f"{name} must be a whole number.")


def sample_rng(seed: int, char: str, font_name: str) -> np.random.Generator:
    """A generator that depends only on the seed, the character and the font's name."""
    digest = hashlib.sha256(f"{char}\0{font_name}".encode()).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, int.from_bytes(digest[:8])]))


@lru_cache(maxsize=64)
def _glyph(path: str, index: int, char: str, size: int, stroke: int) -> np.ndarray:
    """The character drawn ``size`` px tall, cropped to its ink, as float32 0..1."""
    font = ImageFont.truetype(path, size, index=index)
    canvas = Image.new("L", (size * 3, size * 3), 0)
    width = max(stroke, 0)
    ImageDraw.Draw(canvas).text(
        (size * 1.5, size * 1.5), char, font=font, fill=255, anchor="mm",
        stroke_width=width, stroke_fill=255,
    )  # fmt: skip
    if stroke < 0:
        thinner = canvas.filter(ImageFilter.MinFilter(3))
        # A font that is thin already would lose whole strokes: keep it as designed.
        if np.asarray(thinner).sum() > 0.6 * np.asarray(canvas).sum():
            canvas = thinner
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"The font {path} draws nothing for {char!r}.")
    return np.asarray(canvas.crop(box), dtype=np.float32) / 255


def _bilinear(glyph: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample ``glyph`` at fractional pixel coordinates; outside is background."""
    padded = np.pad(glyph, 1)
    ys, xs = ys + 1, xs + 1
    y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    fy, fx = ys - y0, xs - x0
    inside = (y0 >= 0) & (x0 >= 0) & (y0 < padded.shape[0] - 1) & (x0 < padded.shape[1] - 1)
    y0, x0 = np.where(inside, y0, 0), np.where(inside, x0, 0)
    value = (
        padded[y0, x0] * (1 - fy) * (1 - fx)
        + padded[y0, x0 + 1] * (1 - fy) * fx
        + padded[y0 + 1, x0] * fy * (1 - fx)
        + padded[y0 + 1, x0 + 1] * fy * fx
    )
    return np.where(inside, value, 0)


def _elastic_field(rng, count, grid, height, width, alpha):
    """Smooth random displacements: a coarse random grid, bilinearly upsampled."""
    coarse = rng.uniform(-1, 1, size=(count, 2, grid, grid))
    gy = np.linspace(0, grid - 1, height)
    gx = np.linspace(0, grid - 1, width)
    y0 = np.minimum(gy.astype(int), grid - 2)
    x0 = np.minimum(gx.astype(int), grid - 2)
    fy, fx = (gy - y0)[:, None], (gx - x0)[None, :]
    c = coarse
    field = (
        c[..., y0[:, None], x0[None, :]] * (1 - fy) * (1 - fx)
        + c[..., y0[:, None], x0[None, :] + 1] * (1 - fy) * fx
        + c[..., y0[:, None] + 1, x0[None, :]] * fy * (1 - fx)
        + c[..., y0[:, None] + 1, x0[None, :] + 1] * fy * fx
    )
    return field * alpha * max(height, width)


def render_samples(char: str, font: HangulFont, settings: RenderSettings) -> np.ndarray:
    """``settings.per_font`` images of ``char`` in ``font``: (n, height, width) uint8."""
    n, s = settings.per_font, SUPERSAMPLE
    height, width = settings.height * s, settings.width * s
    rng = sample_rng(settings.seed, char, font.name)
    augment = settings.augment
    # Drawn at about the supersampled output size, so resampling is close to 1:1.
    glyph_px = max(height, width)
    strokes = rng.choice(STROKES, size=n) if augment and settings.stroke_jitter else np.zeros(n)

    def jitter(limit, size=n):
        return rng.uniform(-limit, limit, size=size) if augment else np.zeros(size)

    angles = np.deg2rad(jitter(settings.rotation_degrees))
    scales = 1 + jitter(settings.scale_jitter)
    shifts = jitter(settings.shift_jitter, (n, 2)) * np.array([height, width])
    if augment and settings.elastic_alpha:
        field = _elastic_field(rng, n, settings.elastic_grid, height, width, settings.elastic_alpha)
    else:
        field = np.zeros((n, 2, height, width))
    blurs = rng.uniform(0, settings.blur_sigma_max, size=n) if augment else np.zeros(n)
    noise = rng.uniform(0, settings.noise_std, size=n) if augment else np.zeros(n)

    out_y, out_x = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
    images = np.empty((n, settings.height, settings.width), dtype=np.uint8)
    for i in range(n):
        glyph = _glyph(str(font.path), font.index, char, glyph_px, int(strokes[i]))
        gh, gw = glyph.shape
        fit = (1 - 2 * MARGIN) * min(height / gh, width / gw) * scales[i]
        # Output pixel -> glyph pixel: undo the shift, the scale and the rotation.
        dy = out_y - height / 2 - shifts[i, 0] + field[i, 0]
        dx = out_x - width / 2 - shifts[i, 1] + field[i, 1]
        cos, sin = np.cos(angles[i]), np.sin(angles[i])
        src_y = (cos * dy - sin * dx) / fit + gh / 2 - 0.5
        src_x = (sin * dy + cos * dx) / fit + gw / 2 - 0.5
        big = _bilinear(glyph, src_y, src_x)
        small = big.reshape(settings.height, s, settings.width, s).mean(axis=(1, 3))
        # Hairline fonts average out grey at this size; bring their ink back to full.
        small /= max(small.max(), 0.5)
        if blurs[i] > 0.05:
            image = Image.fromarray(np.uint8(np.clip(small, 0, 1) * 255 + 0.5))
            small = np.asarray(image.filter(ImageFilter.GaussianBlur(float(blurs[i]))), np.float64) / 255
        if noise[i] > 0:
            small = small + rng.normal(0, noise[i], size=small.shape)
        images[i] = np.clip(np.rint(small * 255), 0, 255).astype(np.uint8)
    return images
