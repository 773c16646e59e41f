"""Rendering characters from Hangul fonts into training images, with augmentation.

Images follow the PHD08 conversion's convention: uint8 ``(n, height, width)``, ink bright
(255) on a dark background (0), the glyph centred with its aspect ratio kept, as if its
ink box had been padded to the image's shape and resized.

Two styles. *print* augments the font's own glyph a little (PHD08-like scans);
*handwriting*, the default, makes a print font look handwritten, which is what the lab's
models read in class: stronger distortion, the jamo moved against each other, and most
samples redrawn with a pen. For one character in one font:

1. Pillow draws the glyph about four times the output size, white on black, once per
   stroke weight the batch needs (bolder with ``stroke_width``, thinner with a
   MinFilter), crops it to the ink, and blurs it just enough that sampling it at the
   output size does not alias. In the handwriting style the drawing is also taken apart
   into its jamo (``pen.split_parts``), and a share of the samples is redrawn from the
   strokes' skeleton with a round pen of its own width and pressure, tapering at the
   ends like a brush pen (``pen.pen_strokes``).
2. Every sample gets an affine map (rotation, shear, aspect, scale, shift) and an
   elastic distortion (a random displacement field smoothed with a gaussian, plus a fine
   tremor); each jamo gets a small turn, scale and shift of its own. They go into one
   sampling grid per jamo, and the batch is sampled bilinearly with vectorised gathers
   (at twice the resolution and averaged, in the handwriting style, for the thin pens).
3. Every sample gets a gaussian blur of its own strength (separable, as small matrix
   products), has its brightest ink set to 255, gets gaussian noise, and is rounded.

The random numbers come from a ``np.random.SeedSequence`` keyed by the seed and a SHA-256
of the character and the font's name, so the same seed, character and font give the same
images whatever was rendered before them, and in any process.
"""

import hashlib
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from . import pen
from .charsets import ks_x_1001
from .fonts import HangulFont, missing_chars
from .messages import Refusal, _

#: The glyph is drawn this many times the output's longer side, in pixels per em.
OVERSAMPLE = 4
#: The blur, in output pixels, that keeps the large drawing from aliasing when sampled.
ANTIALIAS_SIGMA = 0.4
#: Thinning removes at most this many drawing pixels from each side of a stroke.
MAX_THINNING = 1
#: Output pixels kept free at every border when a sample is rotated, scaled or shifted.
EDGE = 1.0
#: The most parts a glyph is taken apart into: initial, medial, final.
MAX_PARTS = 3
#: No elastic displacement is longer than this many times the field's RMS length.
ELASTIC_REACH = 1.5
#: The tremor's smoothness, as a share of the image's shorter side.
TREMOR_SIGMA = 0.035
#: A brush pen starts to lift this many pen widths before a stroke's end.
TAPER_WIDTHS = 1.5
#: Samples drawn at once in the handwriting style: bounds the pen drawings held.
CHUNK = 64

STYLES = ("handwriting", "print")
# Each style's ranges: a setting not given takes its style's value. Print is the lab's
# original augmentation; handwriting adds the jamo, the pen, shear and aspect, and
# distorts more (tuned by eye so that every sample stays readable to a person).
STYLE_RANGES = {
    "print": {
        "margin": 0.1,
        "rotation_degrees": 8.0,
        "scale_jitter": 0.12,
        "shift_jitter": 0.08,
        "elastic_alpha": 0.03,
        "elastic_sigma": 0.12,
        "stroke_jitter": 0.03,
        "blur_sigma_max": 0.025,
        "noise_std": 6.0,
        "shear_degrees": 0.0,
        "aspect_jitter": 0.0,
        "jamo_shift": 0.0,
        "jamo_scale": 0.0,
        "jamo_rotation_degrees": 0.0,
        "pen_share": 0.0,
        "pen_width_min": 0.035,
        "pen_width_max": 0.1,
        "pressure_jitter": 0.0,
        "taper_share": 0.0,
        "tremor_alpha": 0.0,
    },
    "handwriting": {
        "margin": 0.05,
        "rotation_degrees": 10.0,
        "scale_jitter": 0.12,
        "shift_jitter": 0.08,
        "elastic_alpha": 0.035,
        "elastic_sigma": 0.12,
        "stroke_jitter": 0.06,
        "blur_sigma_max": 0.03,
        "noise_std": 6.0,
        "shear_degrees": 12.0,
        "aspect_jitter": 0.15,
        "jamo_shift": 0.04,
        "jamo_scale": 0.1,
        "jamo_rotation_degrees": 6.0,
        "pen_share": 0.7,
        "pen_width_min": 0.035,
        "pen_width_max": 0.1,
        "pressure_jitter": 0.25,
        "taper_share": 0.4,
        "tremor_alpha": 0.005,
    },
}
#: The augmentations a person can tell apart, each with the settings it is made of, in
#: the order the preview shows them.
EFFECTS = {
    "strokes": ("stroke_jitter",),
    "jamo": ("jamo_shift", "jamo_scale", "jamo_rotation_degrees"),
    "pen": ("pen_share", "pressure_jitter", "taper_share"),
    "geometry": (
        "rotation_degrees",
        "scale_jitter",
        "shift_jitter",
        "shear_degrees",
        "aspect_jitter",
    ),
    "elastic": ("elastic_alpha", "tremor_alpha"),
    "blur_noise": ("blur_sigma_max", "noise_std"),
}

#: What the preview calls each row, the clean glyph and all effects at once included.
EFFECT_NAMES = {
    "clean": _("clean glyph"),
    "strokes": _("stroke weight"),
    "jamo": _("jamo moved apart"),
    "pen": _("redrawn with a pen"),
    "geometry": _("turned, slanted, sized, moved"),
    "elastic": _("elastic distortion, tremor"),
    "blur_noise": _("blur and noise"),
    "all": _("all together"),
}

_WHOLE_NUMBERS = {
    "height": (8, 256),
    "width": (8, 256),
    "per_font": (1, 100_000),
    "seed": (0, 2**64 - 1),
}
_NUMBERS = {
    "margin": (0, 0.3),
    "rotation_degrees": (0, 45),
    "scale_jitter": (0, 0.5),
    "shift_jitter": (0, 0.25),
    "elastic_alpha": (0, 0.1),
    "elastic_sigma": (0.02, 1),
    "stroke_jitter": (0, 0.1),
    "blur_sigma_max": (0, 0.1),
    "noise_std": (0, 64),
    "shear_degrees": (0, 30),
    "aspect_jitter": (0, 0.4),
    "jamo_shift": (0, 0.15),
    "jamo_scale": (0, 0.4),
    "jamo_rotation_degrees": (0, 30),
    "pen_share": (0, 1),
    "pen_width_min": (0.01, 0.3),
    "pen_width_max": (0.01, 0.3),
    "pressure_jitter": (0, 1),
    "taper_share": (0, 1),
    "tremor_alpha": (0, 0.05),
}


@dataclass(frozen=True)
class RenderSettings:
    """Image size, samples per character and font, seed, style and augmentation ranges.

    Lengths are fractions of the image's shorter side, so settings look alike at any
    size: ``shift_jitter`` (the most a glyph moves each way), ``elastic_alpha`` (the
    RMS displacement of the elastic distortion), ``elastic_sigma`` (its smoothness: how
    far apart displacements are independent), ``tremor_alpha`` (the RMS of a fine,
    shaky displacement), ``stroke_jitter`` (the most a stroke gets bolder or thinner, in
    total width), ``blur_sigma_max``, ``jamo_shift`` (the most a jamo moves each way),
    and ``pen_width_min`` / ``pen_width_max`` (a redrawing pen's width, from a fine
    liner to a marker). ``margin`` is the share of each side left empty around an
    unaugmented glyph; ``rotation_degrees``, ``shear_degrees`` and
    ``jamo_rotation_degrees`` are the most a glyph slants or a jamo turns each way;
    ``scale_jitter``, ``aspect_jitter`` and ``jamo_scale`` (relative) are the most a
    glyph grows, is stretched, or a jamo grows each way; ``pen_share`` is the share of
    samples redrawn with a pen, ``taper_share`` the share of those whose pen tapers at
    stroke ends (a brush pen), ``pressure_jitter`` how much the pen's width varies along
    a stroke (relative); ``noise_std`` is in grey levels. Random values are drawn
    uniformly, then the scale and shift are reduced where needed so the glyph stays
    inside the image. With ``augment`` off, every sample is the same clean, centred
    glyph. A range not given takes the ``style``'s value (``STYLE_RANGES``).
    """

    height: int = 28
    width: int = 28
    per_font: int = 20
    seed: int = 0
    augment: bool = True
    style: str = "handwriting"
    margin: float | None = None
    rotation_degrees: float | None = None
    scale_jitter: float | None = None
    shift_jitter: float | None = None
    elastic_alpha: float | None = None
    elastic_sigma: float | None = None
    stroke_jitter: float | None = None
    blur_sigma_max: float | None = None
    noise_std: float | None = None
    shear_degrees: float | None = None
    aspect_jitter: float | None = None
    jamo_shift: float | None = None
    jamo_scale: float | None = None
    jamo_rotation_degrees: float | None = None
    pen_share: float | None = None
    pen_width_min: float | None = None
    pen_width_max: float | None = None
    pressure_jitter: float | None = None
    taper_share: float | None = None
    tremor_alpha: float | None = None

    def __post_init__(self):
        for name, (low, high) in _WHOLE_NUMBERS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise Refusal(
                    _(
                        "%(name)s must be a whole number from %(low)d to %(high)d, not %(value)r.",
                        name=name,
                        low=low,
                        high=high,
                        value=value,
                    )
                )
        if not isinstance(self.augment, bool):
            raise Refusal(_("augment must be True or False, not %(value)r.", value=self.augment))
        if self.style not in STYLES:
            raise Refusal(
                _(
                    "style must be one of %(styles)s, not %(value)r.",
                    styles=", ".join(STYLES),
                    value=self.style,
                )
            )
        for name, (low, high) in _NUMBERS.items():
            value = getattr(self, name)
            if value is None:
                # Frozen, so the style's value goes in the way dataclasses do it.
                object.__setattr__(self, name, value := STYLE_RANGES[self.style][name])
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
            ):
                raise Refusal(
                    _(
                        "%(name)s must be a number from %(low)g to %(high)g, not %(value)r.",
                        name=name,
                        low=low,
                        high=high,
                        value=value,
                    )
                )
        if self.pen_width_min > self.pen_width_max:
            raise Refusal(
                _(
                    "pen_width_min (%(low)g) must not be above pen_width_max (%(high)g).",
                    low=self.pen_width_min,
                    high=self.pen_width_max,
                )
            )

    @classmethod
    def from_dict(cls, stored: dict) -> "RenderSettings":
        """Settings as ``dataclasses.asdict`` stored them; those stored before there were
        styles are the print style, which is what they rendered."""
        return cls(**{"style": "print", **stored})

    @property
    def moves_jamo(self) -> bool:
        moves = (self.jamo_shift, self.jamo_scale, self.jamo_rotation_degrees)
        return self.augment and any(value > 0 for value in moves)

    @property
    def uses_pen(self) -> bool:
        return self.augment and self.pen_share > 0

    @property
    def supersampling(self) -> int:
        """Output pixels are sampled this many times each way and averaged: thin pens
        would alias at one sample a pixel."""
        return 2 if self.style == "handwriting" else 1

    def only(self, effect: str) -> "RenderSettings":
        """These settings with every augmentation but ``effect`` (a key of ``EFFECTS``)
        switched off: what that effect alone does."""
        off = {name: 0 for names in EFFECTS.values() for name in names}
        kept = {name: getattr(self, name) for name in EFFECTS[effect]}
        return replace(self, augment=True, **{**off, **kept})


def effect_previews(char: str, font: HangulFont, settings: RenderSettings, count: int = 6):
    """``(effect, images)`` for the clean glyph and each augmentation of ``settings`` on
    its own, then all together: ``count`` samples each, as uint8 (count, height, width).

    An effect the settings switch off is left out.
    """
    base = replace(settings, per_font=count)
    rows = [("clean", render_samples(char, font, replace(base, augment=False)))]
    if settings.augment:
        for effect, names in EFFECTS.items():
            if any(getattr(settings, name) for name in names):
                rows.append((effect, render_samples(char, font, base.only(effect))))
        rows.append(("all", render_samples(char, font, base)))
    return rows


class GlyphMissing(Refusal):
    """The font cannot draw the character: it has no glyph for it, or one without ink."""


def render_samples(char: str, font: HangulFont, settings: RenderSettings) -> np.ndarray:
    """``settings.per_font`` images of ``char`` drawn in ``font``: uint8 (n, height, width).

    Raises ValueError when ``char`` is not one character, and GlyphMissing when the font
    has no glyph for it or draws it without ink.
    """
    if not isinstance(char, str) or len(char) != 1:
        raise ValueError(f"Render one character at a time, not {char!r}.")
    # Every HangulFont maps the KS X 1001 syllables; only others need its cmap read.
    if char not in ks_x_1001() and missing_chars(font, char):
        raise GlyphMissing(
            _("The font %(font)s has no glyph for %(char)r.", font=font.name, char=char)
        )
    pil_font = _pil_font(
        str(font.path), font.index, OVERSAMPLE * max(settings.height, settings.width)
    )
    base = _draw(pil_font, char, 0)
    box = base.getbbox()
    if box is None:
        # Some fonts map a syllable to an empty glyph (Baekmuk Dotum and Headline: 쏀).
        raise GlyphMissing(
            _("The font %(font)s draws %(char)r without any ink.", font=font.name, char=char)
        )
    jitter_rng, elastic_rng, noise_rng, hand_rng, pressure_rng = _generators(
        settings.seed, char, font.name
    )
    jitter = _Jitter.draw(jitter_rng, hand_rng, settings, box[2] - box[0], box[3] - box[1])
    drawing = _Drawing.make(base, box, pil_font, char, jitter, settings)
    y, x = _sampling_grid(settings, jitter, drawing.centre, elastic_rng)
    pressure = settings.pressure_jitter * np.clip(
        pressure_rng.standard_normal(size=(settings.per_font, 4, 4)), -1.5, 1.5
    ).astype(np.float32)
    ink = np.concatenate(
        [
            drawing.sample(jitter, y, x, pressure, chunk)
            for chunk in np.array_split(
                np.arange(settings.per_font), max(1, -(-settings.per_font // CHUNK))
            )
        ]
    )
    s = settings.supersampling
    if s > 1:
        ink = ink.reshape(len(ink), settings.height, s, settings.width, s).mean(axis=(2, 4))
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
    """Each sample's geometry, stroke weight, blur, jamo moves and pen."""

    fit: float  # output pixels per drawing pixel that fit the ink box in the margins
    inverse: np.ndarray  # (n, 2, 2): output offsets (x, y) to drawing offsets
    shift: np.ndarray  # (2, n): x and y, output pixels
    strokes: np.ndarray  # drawing pixels added to (removed from) each side of a stroke
    blur: np.ndarray  # gaussian sigma, output pixels
    part_inverse: np.ndarray  # (n, MAX_PARTS, 2, 2): each jamo's own turn and scale, undone
    part_shift: np.ndarray  # (n, MAX_PARTS, 2): each jamo's move, drawing pixels
    pen: np.ndarray  # bool (n,): redrawn with a pen
    pen_radius: np.ndarray  # (n,): the pen's half width, drawing pixels
    taper: np.ndarray  # (n,): pen radii before a stroke's end where the pen lifts; 0: never

    @classmethod
    def draw(
        cls, rng, hand_rng, settings: RenderSettings, box_width: int, box_height: int
    ) -> "_Jitter":
        """Random jitter for ``settings.per_font`` samples; all zero without augmentation."""
        height, width, side = settings.height, settings.width, min(settings.height, settings.width)
        fit = (1 - 2 * settings.margin) * min(height / box_height, width / box_width)
        n = settings.per_font
        unit = rng.uniform(-1, 1, size=(6, n)) if settings.augment else np.zeros((6, n))
        # Drawn for every style, so that the print style's samples are what they always were.
        hand = hand_rng.uniform(-1, 1, size=(5 + 4 * MAX_PARTS, n))
        pen_draws = hand_rng.uniform(0, 1, size=(3, n))
        if not settings.augment:
            hand[:] = 0
        pen_strokes = settings.augment & (pen_draws[0] < settings.pen_share)
        widths = np.exp(
            np.log(settings.pen_width_min)
            + pen_draws[1] * np.log(settings.pen_width_max / settings.pen_width_min)
        )
        pen_radius = widths * side / 2 / fit  # drawing pixels
        taper = np.where(pen_draws[2] < settings.taper_share, TAPER_WIDTHS, 0.0)
        angle = np.deg2rad(settings.rotation_degrees * unit[0])
        scale = fit * (1 + settings.scale_jitter * unit[1])
        shift = settings.shift_jitter * side * unit[2:4]
        # Half of the change in stroke width goes to each side.
        stroke = settings.stroke_jitter * side * unit[4] / 2 / fit
        strokes = np.maximum(np.rint(stroke), -MAX_THINNING).astype(int)
        blur = settings.blur_sigma_max * side * (unit[5] + 1) / 2
        shear = np.tan(np.deg2rad(settings.shear_degrees * hand[0]))
        aspect = np.exp(np.log1p(settings.aspect_jitter) * hand[1])
        cos, sin = np.cos(angle), np.sin(angle)
        rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
        slant = np.stack(
            [np.stack([aspect, shear / aspect], -1), np.stack([np.zeros(n), 1 / aspect], -1)], -2
        )
        forward = scale[:, None, None] * rotation @ slant
        if settings.augment:
            # Reduce scale, then shift, where the mapped ink box (grown by what the jamo
            # and the elastic fields may move) would leave the image.
            # A pen may draw wider than the font's strokes, past its ink box.
            spill = np.where(pen_strokes, pen_radius * np.exp(1.5 * settings.pressure_jitter), 0)
            box = np.stack([box_width / 2 + spill, box_height / 2 + spill], -1)
            half = (np.abs(forward) @ box[:, :, None])[:, :, 0]
            half = half.T * (1 + settings.jamo_scale)
            distortion = ELASTIC_REACH * (settings.elastic_alpha + settings.tremor_alpha)
            moved = (settings.jamo_shift + distortion) * side
            room = np.array([[width / 2 - EDGE], [height / 2 - EDGE]]) - moved
            room = np.maximum(room, 1.0)
            shrink = np.minimum(1, (room / half).min(axis=0))
            forward = forward * shrink[:, None, None]
            free = np.maximum(room - half * shrink, 0)
            shift = np.clip(shift, -free, free)
        parts = hand[5:].reshape(MAX_PARTS, 4, n)
        turn = np.deg2rad(settings.jamo_rotation_degrees * parts[:, 0]).T
        grow = (1 + settings.jamo_scale * parts[:, 1]).T
        part_cos, part_sin = np.cos(turn) / grow, np.sin(turn) / grow
        part_inverse = np.stack(
            [np.stack([part_cos, part_sin], -1), np.stack([-part_sin, part_cos], -1)], -2
        )
        part_shift = settings.jamo_shift * side * np.moveaxis(parts[:, 2:], -1, 0) / fit
        return cls(
            fit,
            np.linalg.inv(forward),
            shift,
            np.where(pen_strokes, 0, strokes),
            blur,
            part_inverse,
            part_shift,
            pen_strokes,
            pen_radius,
            taper,
        )


@dataclass(frozen=True)
class _Drawing:
    """The large drawing of one glyph, as layers to sample: each stroke weight's outline
    split into jamo, and what the pen needs. Coordinates are the layers' pixels."""

    outlines: np.ndarray  # (weights * parts, rows, columns), 0..1, with a border of zeros
    weight_of: np.ndarray  # (n,): which weight each sample's outline has
    parts: pen.GlyphParts | None  # None: the glyph is one part, drawn as the font has it
    centre: tuple[float, float]  # the ink box's centre, x and y
    softness: float  # drawing pixels over which a pen's edge falls off

    @property
    def shape(self) -> tuple[int, int]:
        return self.outlines.shape[1:]

    @property
    def part_count(self) -> int:
        return 1 if self.parts is None else self.parts.count

    @classmethod
    def make(cls, base, box, pil_font, char, jitter: _Jitter, settings) -> "_Drawing":
        weights, weight_of = np.unique(jitter.strokes, return_inverse=True)
        sigma = ANTIALIAS_SIGMA / jitter.fit
        reach = max(int(weights.max()), 0)
        if jitter.pen.any():
            # Room for the widest pen at its heaviest pressure.
            heaviest = jitter.pen_radius[jitter.pen].max() * np.exp(1.5 * settings.pressure_jitter)
            reach = max(reach, int(np.ceil(heaviest)))
        room = reach + int(np.ceil(3 * sigma)) + 1
        crop = (box[0] - room, box[1] - room, box[2] + room, box[3] + room)
        layers = []
        for stroke in weights.tolist():
            image = _draw(pil_font, char, stroke).crop(crop) if stroke > 0 else base.crop(crop)
            if stroke < 0:
                image = image.filter(ImageFilter.MinFilter(1 - 2 * stroke))
            layers.append(np.asarray(image.filter(ImageFilter.GaussianBlur(sigma)), np.float32))
        # The zero border makes every sample taken outside the crop background.
        outlines = np.pad(np.stack(layers) / 255, ((0, 0), (1, 1), (1, 1)))
        parts = None
        if settings.moves_jamo or settings.uses_pen:
            ink = np.pad(np.asarray(base.crop(crop), np.float32) / 255, 1)
            parts = pen.split_parts(ink, char)
            outlines = (outlines[:, None] * parts.masks[None]).reshape(-1, *ink.shape)
        centre = (room + (box[2] - box[0]) / 2 + 0.5, room + (box[3] - box[1]) / 2 + 0.5)
        softness = max(1.0, 0.5 / (jitter.fit * settings.supersampling))
        return cls(outlines, weight_of, parts, centre, softness)

    def sample(self, jitter: _Jitter, y, x, pressure: np.ndarray, chunk: np.ndarray) -> np.ndarray:
        """The ink of samples ``chunk`` at drawing coordinates ``(y, x)``, (n, rows, cols)
        each: every jamo sampled where its own move puts it, the brightest one kept."""
        count = self.part_count
        stack, layer = self.outlines, self.weight_of[chunk, None] * count + np.arange(count)
        drawn = chunk[jitter.pen[chunk]]
        if len(drawn):
            strokes = pen.pen_strokes(
                self.parts,
                jitter.pen_radius[drawn],
                _pressure_field(pressure[drawn], self.shape),
                jitter.taper[drawn],
                self.softness,
            )
            rank = np.cumsum(jitter.pen[chunk]) - 1
            redrawn = len(stack) + rank[:, None] * count + np.arange(count)
            layer = np.where(jitter.pen[chunk, None], redrawn, layer)
            stack = np.concatenate([stack, strokes.reshape(-1, *self.shape)])
        y, x = y[chunk], x[chunk]
        if self.parts is None:
            return _bilinear(stack, layer[:, 0], y, x)
        ink = None
        for part in range(count):
            cx, cy = self.parts.centres[part]
            inverse = jitter.part_inverse[chunk, part]
            dx = x - cx - jitter.part_shift[chunk, part, 0, None, None]
            dy = y - cy - jitter.part_shift[chunk, part, 1, None, None]
            px = inverse[:, 0, 0, None, None] * dx + inverse[:, 0, 1, None, None] * dy + cx
            py = inverse[:, 1, 0, None, None] * dx + inverse[:, 1, 1, None, None] * dy + cy
            sampled = _bilinear(stack, layer[:, part], py, px)
            ink = sampled if ink is None else np.maximum(ink, sampled)
        return ink


def _pressure_field(coarse: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """How much each pen presses over the drawing, (n, rows, columns), from the log
    pressures ``coarse`` (n, k, k) on a coarse grid: a stroke gets heavier and lighter
    over a few jamo widths, as a hand presses and eases."""
    rows, columns = (_interpolator(size, coarse.shape[1]) for size in shape)
    return np.exp(rows @ coarse @ columns.T)


def _interpolator(size: int, knots: int) -> np.ndarray:
    """(size, knots): smooth weights that spread ``knots`` values evenly over ``size``."""
    positions = np.linspace(0, knots - 1, size)[:, None]
    weights = np.exp(-0.5 * np.square(positions - np.arange(knots)[None]) / 0.6**2)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def _generators(seed: int, char: str, font_name: str) -> list[np.random.Generator]:
    """Independent generators for the jitter, the elastic fields, the noise, the
    handwriting jitter (jamo and pen) and the pens' pressure."""
    # Not hash(): Python salts it per process.
    digest = hashlib.sha256(f"{char}\0{font_name}".encode()).digest()
    sequence = np.random.SeedSequence(seed, spawn_key=(int.from_bytes(digest[:16]),))
    return [np.random.default_rng(child) for child in sequence.spawn(5)]


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
        (pad - left, pad - top),
        char,
        font=pil_font,
        fill=255,
        stroke_width=stroke,
        stroke_fill=255,
    )
    return canvas


def _sampling_grid(settings, jitter, centre, rng) -> tuple[np.ndarray, np.ndarray]:
    """Where each sample's output pixels fall in the drawing: (y, x), each (n, h, w), or
    (n, h * s, w * s) when every pixel is sampled ``s`` times each way."""
    height, width, side = settings.height, settings.width, min(settings.height, settings.width)
    s = settings.supersampling
    # Output pixel centres relative to the image centre, moved by shift and distortion.
    x = (np.arange(width * s, dtype=np.float32) + 0.5) / s - width / 2
    x = x - jitter.shift[0, :, None, None]
    y = (np.arange(height * s, dtype=np.float32)[:, None] + 0.5) / s - height / 2
    y = y - jitter.shift[1, :, None, None]
    x, y = np.broadcast_arrays(x, y)
    fields = [
        (settings.elastic_alpha, settings.elastic_sigma),
        (settings.tremor_alpha, TREMOR_SIGMA),
    ]
    for alpha, sigma in fields:
        if settings.augment and alpha > 0:
            field = _elastic_field(
                rng, settings.per_font, height * s, width * s, alpha * side, sigma * side * s
            )
            x, y = x + field[:, 0], y + field[:, 1]
    # Undo the rotation, shear, aspect and scale, around the ink box's centre.
    inverse = jitter.inverse[:, :, :, None, None]
    return (
        inverse[:, 1, 0] * x + inverse[:, 1, 1] * y + centre[1],
        inverse[:, 0, 0] * x + inverse[:, 0, 1] * y + centre[0],
    )


def _elastic_field(rng, count, height, width, alpha, sigma) -> np.ndarray:
    """Smooth random displacements (count, 2, height, width) with RMS length ``alpha``,
    none longer than ``ELASTIC_REACH`` times that (the room the glyph keeps for them)."""
    noise = rng.uniform(-1, 1, size=(count, 2, height, width)).astype(np.float32)
    sigmas = np.array([sigma])
    field = _gaussian_operators(height, sigmas) @ noise @ _gaussian_operators(width, sigmas).mT
    rms = np.sqrt(np.mean(np.square(field), axis=(1, 2, 3), keepdims=True))
    field *= alpha / rms
    length = np.sqrt(np.square(field).sum(axis=1, keepdims=True))
    return field * np.minimum(1, ELASTIC_REACH * alpha / np.maximum(length, 1e-9))


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
