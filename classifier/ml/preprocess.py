"""Turning a photo or a canvas drawing into the kind of image the lab's models learnt from.

The lab's data sets (see render.py and convert.py) hold uint8 ``(height, width)`` images
with the ink bright (255) on a dark background (0) and the glyph centred with its aspect
ratio kept. A phone photo is the opposite in almost every way: dark ink on light paper,
unevenly lit, off centre, millions of pixels, often stored sideways with an EXIF
orientation. ``open_image`` checks and decodes an upload; ``preprocess`` then works on a
copy at most ``WORKING_SIDE`` pixels on its longer side and keeps every step as a small
picture for the prediction page:

1. ``original``: the upright image, transparency composited onto a contrasting sheet.
2. ``gray``: its brightness, 0..1.
3. ``normalised``: the ink, bright on dark. The polarity is the side of the brightness
   distribution with the longer tail (the ink is the minority). The paper is estimated
   on a coarse grid, where robust statistics erase the strokes, and divided out, so
   uneven light, shadows and off-white paper turn into a flat zero; the contrast is
   stretched so the strokes reach full strength and the paper's noise vanishes. An
   image with no stroke clearly above both a fixed contrast and its own noise is
   refused.
4. ``cropped``: the ink's box, found from the ink's row and column sums so that small
   specks apart from the character are left out.
5. ``square``: the box centred on a background padded to the input's shape (a square
   for a square input) so that its longer side fills ``InputStyle.extent`` of it.
6. ``input``: resized to the model's input with area averaging, the strongest ink at
   255, and inverted when the model was trained on dark ink.
"""

import base64
import io
import struct
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageOps

from .messages import Message, Refusal, _

ALLOWED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF"})
#: Larger images are refused from their header, before decoding (decompression bombs).
MAX_PIXELS = 40_000_000
#: The limit for every format but JPEG, whose decoder shrinks a photo as it decodes:
#: the others decode whole, a palette or an alpha channel becomes 4 bytes a pixel on the
#: way, and a small file can hold a huge image (a 46 KiB GIF decoded to 202 MiB). A phone's
#: screenshots and drawings are far smaller; photos come as JPEG.
LOSSLESS_MAX_PIXELS = 12_000_000

#: The longer side of the copy that preprocessing works on.
WORKING_SIDE = 512
#: JPEGs decode at the smallest power-of-two reduction (done by the decoder, from the
#: DCT, as good as averaging blocks) that keeps both sides at least this long: a
#: 4000 x 3000 photo decodes at 500 x 375, in half the time of a full decode.
DECODE_SIDE = WORKING_SIDE // 2
#: The longer side of the pictures of the steps (the model input excepted).
DISPLAY_SIDE = 256
#: The paper is estimated on a grid of blocks this many along the longer side: each
#: block's ``PAPER_QUANTILE`` (the paper unless ink covers nearly all of it), then the
#: median of the blocks within ``BACKGROUND_RADIUS``, which erases what ink is left
#: (strokes up to about a tenth of the side wide) and follows lighting that varies smoothly.
BACKGROUND_GRID = 48
PAPER_QUANTILE = 0.25
BACKGROUND_RADIUS = 4
#: Ink must reach this contrast (share of full scale) in at least ``INK_SHARE`` of the
#: image, and ``NOISE_FACTOR`` times the paper's noise: a faint pencil line (0.25) passes,
#: camera noise (whose tail at that share is about 3 of its deviations) does not.
MIN_CONTRAST = 0.08
NOISE_FACTOR = 6.0
INK_SHARE = 0.001
#: Where the paper is this dark, the contrast is measured against this brightness
#: rather than amplifying the noise of a deep shadow.
MIN_HEADROOM = 0.2
#: Ink weaker than this many noise deviations, or than this share of a typical stroke,
#: is paper.
FLOOR_NOISE = 4.0
FLOOR_SHARE = 0.15
#: Rows or columns holding this share of the ink at either end may be specks ...
SPECK_MASS = 0.005
#: ... and are kept only when joined to the rest by sums above this share of the largest.
JOIN_SHARE = 0.01
#: The margin of the ``cropped`` picture, as a share of the ink box's longer side.
CROP_MARGIN = 0.05

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_HIGH_DEPTH_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "RGBa", "La"})
_NOT_AN_IMAGE = _("This file is not an image the lab can read (JPEG, PNG, WebP, BMP or GIF).")
_DAMAGED = _(
    "The image is damaged or incomplete, so it cannot be read: save or export it again "
    "and upload the new file."
)
_NO_INK = _(
    "No writing was found in the image. Write with dark ink on light paper and let the "
    "character fill most of the frame."
)
_NOT_PNG = _("The drawing did not arrive as a PNG image; draw it again.")
# Pillow's decoders report bad data with any of these.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
)
# Pillow refuses an image past twice its own pixel limit as it opens it. Its warning
# below that is never reached: ``max_pixels`` is checked first, from the header. (A
# warnings filter would be no help anyway: it is process-wide, not per thread.)
_BOMBS = (Image.DecompressionBombError,)
_DATA_URL_PREFIX = "data:image/png;base64,"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageRejected(Refusal):
    """The image cannot be used; ``str(exc)`` is a clear message for the user, and
    ``exc.args[0]`` the :class:`~classifier.ml.messages.Message` to translate."""


@dataclass(frozen=True)
class InputStyle:
    """What the training images look like: ink polarity and how much of the image the ink fills.

    ``ink_light``: ink bright on dark (the lab's data sets); ``extent``: the ink box's
    longer side over the image's matching side, from 0.3 to 1.
    """

    ink_light: bool = True
    extent: float = 0.9

    def __post_init__(self):
        if not isinstance(self.ink_light, bool):
            raise ValueError(f"ink_light must be True or False, not {self.ink_light!r}.")
        if not isinstance(self.extent, int | float) or not 0.3 <= self.extent <= 1:
            raise ValueError(f"extent must be between 0.3 and 1, not {self.extent!r}.")

    @classmethod
    def from_images(cls, images) -> "InputStyle":
        """The style of a sample of training images, uint8 ``(n, height, width)``.

        The background is the median of the images' borders; the ink is light when it
        raises the mean above that. The extent is the median over the images with ink
        of their ink box (pixels past half their strongest ink) over the image's side.
        An empty sample gives the defaults.
        """
        images = np.asarray(images)
        if images.ndim != 3 or images.size == 0:
            return cls()
        # A few thousand images measure a style as well as all of them.
        images = images[:: -(-len(images) // 2000)].astype(np.float32)
        border = np.concatenate(
            [images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]], axis=1
        )
        background = float(np.median(border))
        ink_light = bool(images.mean() >= background)
        ink = images - background if ink_light else background - images
        peaks = ink.max(axis=(1, 2))
        # Below this the "ink" of an image is its noise.
        with_ink = peaks >= 32
        if not with_ink.any():
            return cls(ink_light=ink_light)
        marked = ink[with_ink] > peaks[with_ink, None, None] / 2
        heights = _run_lengths(marked.any(axis=2)) / images.shape[1]
        widths = _run_lengths(marked.any(axis=1)) / images.shape[2]
        extent = float(np.median(np.maximum(heights, widths)))
        return cls(ink_light=ink_light, extent=round(min(max(extent, 0.3), 1.0), 4))

    def as_dict(self) -> dict:
        """The style as JSON-ready values, for a model's metadata."""
        return {"ink_light": self.ink_light, "extent": self.extent}

    @classmethod
    def from_dict(cls, data: dict | None) -> "InputStyle":
        """The style ``as_dict`` wrote; ``None`` or missing keys give the defaults."""
        data = data or {}
        defaults = cls()
        return cls(
            ink_light=bool(data.get("ink_light", defaults.ink_light)),
            extent=float(data.get("extent", defaults.extent)),
        )


@dataclass(frozen=True)
class Step:
    """One step of preprocessing, as a picture: uint8 ``(h, w)`` or ``(h, w, 3)``, at most
    ``DISPLAY_SIDE`` on its longer side except the ``input`` step (the model input)."""

    key: str
    title: Message
    image: np.ndarray


@dataclass(frozen=True)
class Preprocessed:
    """The model input, uint8 ``(height, width)`` in the style's polarity, and the steps."""

    input: np.ndarray
    steps: tuple[Step, ...]


def open_image(source, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open bytes or a binary file object, check it, decode it fully and apply EXIF orientation.

    Raises ``ImageRejected`` for an empty file, one that is not an image, a format outside
    ``ALLOWED_FORMATS``, more than ``max_pixels`` pixels (read from the header, before
    decoding) and a damaged or truncated image. A JPEG decodes at a reduced scale that
    keeps both sides at least ``DECODE_SIDE`` pixels; an animated image gives its first
    frame.
    """
    data = source if isinstance(source, bytes | bytearray | memoryview) else source.read()
    if not data:
        raise ImageRejected(_("The file is empty."))
    try:
        image = Image.open(io.BytesIO(data))
    except Image.UnidentifiedImageError:
        raise ImageRejected(_NOT_AN_IMAGE) from None
    except _BOMBS:
        raise _too_large(None, max_pixels) from None
    except _DECODE_ERRORS:
        raise ImageRejected(_DAMAGED) from None
    if image.format not in ALLOWED_FORMATS:
        raise ImageRejected(
            _(
                "%(format)s images are not accepted: use JPEG, PNG, WebP, BMP or GIF instead.",
                format=image.format,
            )
        )
    if image.width * image.height > max_pixels:
        raise _too_large(image.size, max_pixels)
    if image.format not in ("JPEG", "MPO") and image.width * image.height > min(
        max_pixels, LOSSLESS_MAX_PIXELS
    ):
        raise ImageRejected(
            _(
                "The image is too large (%(width)d × %(height)d pixels): the lab accepts up to "
                "%(most)g megapixels in %(format)s. Send a smaller image, or a JPEG photo.",
                width=image.width,
                height=image.height,
                most=min(max_pixels, LOSSLESS_MAX_PIXELS) / 1e6,
                format=image.format,
            )
        )
    if image.format in ("JPEG", "MPO"):
        image.draft("L" if image.mode == "L" else "RGB", (DECODE_SIDE, DECODE_SIDE))
    try:
        image.load()
        return ImageOps.exif_transpose(image)
    except _BOMBS:
        raise _too_large(image.size, max_pixels) from None
    except _DECODE_ERRORS:
        raise ImageRejected(_DAMAGED) from None


def decode_data_url(text: str, *, max_bytes: int) -> bytes:
    """The PNG bytes of a canvas's ``data:image/png;base64,...`` URL.

    Raises ``ImageRejected`` for anything else, bad base64, or more than ``max_bytes``.
    """
    if not isinstance(text, str) or text[: len(_DATA_URL_PREFIX)].lower() != _DATA_URL_PREFIX:
        raise ImageRejected(_NOT_PNG)
    payload = text[len(_DATA_URL_PREFIX) :]
    too_large = ImageRejected(
        _("The drawing is too large: the limit is %(most).3g MB.", most=max_bytes / 1024**2)
    )
    # Checked before decoding, so a huge text is never decoded.
    if len(payload) > 4 * -(-max_bytes // 3):
        raise too_large
    try:
        data = base64.b64decode(payload, validate=True)
    except ValueError:
        raise ImageRejected(_("The drawing could not be decoded; draw it again.")) from None
    if len(data) > max_bytes:
        raise too_large
    if not data.startswith(_PNG_SIGNATURE):
        raise ImageRejected(_NOT_PNG)
    return data


def preprocess(
    image: Image.Image,
    size: tuple[int, int],
    style: InputStyle = InputStyle(),
    *,
    empty_message: Message | str | None = None,
) -> Preprocessed:
    """Turn an image from ``open_image`` into the input of a model of ``size`` (height,
    width) trained on images of ``style``, keeping a picture of every step.

    Raises ``ImageRejected`` when no ink is found, with ``empty_message`` when given,
    else a sentence saying no writing was found and how to photograph it.
    """
    height, width = (int(side) for side in size)
    if height < 1 or width < 1:
        raise ValueError(f"size must be a positive (height, width), not {size!r}.")
    original, gray = _working_images(image)
    ink = _normalise(gray, empty_message or _NO_INK)
    top, bottom, left, right = _ink_box(ink)
    margin = round(CROP_MARGIN * max(bottom - top, right - left))
    cropped = ink[max(top - margin, 0) : bottom + margin, max(left - margin, 0) : right + margin]
    square = _centre(ink[top:bottom, left:right], height, width, style.extent)
    model_input = _model_input(square, height, width, style.ink_light)
    padded = (
        _("Centred and padded to a square")
        if height == width
        else _("Centred and padded to the input's shape")
    )
    steps = (
        Step("original", _("Original, upright"), original),
        Step("gray", _("Grayscale"), _display(gray)),
        Step("normalised", _("Background and contrast normalised"), _display(ink)),
        Step("cropped", _("Cropped to the ink"), _display(cropped)),
        Step("square", padded, _display(square)),
        Step(
            "input",
            _("Model input, %(height)d × %(width)d", height=height, width=width),
            model_input,
        ),
    )
    return Preprocessed(input=model_input, steps=steps)


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> ImageRejected:
    if size:
        return ImageRejected(
            _(
                "The image is too large (%(width)d × %(height)d pixels): the lab accepts up to "
                "%(most)g megapixels. Send a smaller photo.",
                width=size[0],
                height=size[1],
                most=max_pixels / 1e6,
            )
        )
    return ImageRejected(
        _(
            "The image is too large: the lab accepts up to %(most)g megapixels. "
            "Send a smaller photo.",
            most=max_pixels / 1e6,
        )
    )


def _run_lengths(marked: np.ndarray) -> np.ndarray:
    """From the first to the last true value of each row of ``marked``, inclusive."""
    first = np.argmax(marked, axis=1)
    last = marked.shape[1] - 1 - np.argmax(marked[:, ::-1], axis=1)
    return (last - first + 1).astype(np.float32)


def _fit(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    """(width, height) for Pillow: ``shape`` shrunk to at most ``side``, never enlarged."""
    rows, cols = shape[:2]
    scale = min(1.0, side / max(rows, cols))
    return max(1, round(cols * scale)), max(1, round(rows * scale))


def _resize(values: np.ndarray, size: tuple[int, int], resample=Image.Resampling.BOX):
    """A float image resized to ``size`` (width, height)."""
    if size == (values.shape[1], values.shape[0]):
        return values
    resized = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), "F")
    return np.asarray(resized.resize(size, resample))


def _display(values: np.ndarray) -> np.ndarray:
    """A 0..1 float image as a uint8 picture at most ``DISPLAY_SIDE`` long."""
    small = _resize(values, _fit(values.shape, DISPLAY_SIDE))
    return np.round(np.clip(small, 0, 1) * 255).astype(np.uint8)


def _working_images(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """The upright image as an RGB picture, and its brightness (0..1) to work on."""
    image = _shrunk(image, _fit(image.size[::-1], WORKING_SIDE))
    if image.mode in _HIGH_DEPTH_MODES:
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        low, high = float(values.min()), float(values.max())
        # Scaled by the values' own range: 16-bit images use any part of theirs.
        gray = (values - low) / (high - low) if high > low else np.zeros_like(values)
        return np.repeat(_display(gray)[..., None], 3, axis=2), gray
    if image.mode in _ALPHA_MODES:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255
        colour = _composite(rgba[..., :3], rgba[..., 3])
        rgb = Image.fromarray(np.round(colour * 255).astype(np.uint8))
    else:
        rgb = image.convert("RGB")
        colour = np.asarray(rgb, dtype=np.float32) / 255
    picture = rgb.resize(_fit(colour.shape, DISPLAY_SIDE), Image.Resampling.BOX)
    return np.asarray(picture), colour @ _LUMA


def _shrunk(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` at ``size`` (averaging pixels), shrunk in its own mode: a 16-bit,
    grey-with-alpha or RGBA image changed to another mode, or to floats, at full size
    costs many times its file (a 112 KiB 16-bit PNG took 571 MiB). Palette and 1-bit
    images become RGB(A) first (their pixels cannot be averaged), and so do images whose
    transparency is a colour key; the pixel limit bounds what that costs."""
    if image.mode in ("P", "PA", "1") or (
        image.has_transparency_data and image.mode not in _ALPHA_MODES
    ):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    elif image.mode not in (*_HIGH_DEPTH_MODES, *_ALPHA_MODES, "L", "RGB"):
        image = image.convert("RGB")  # CMYK, YCbCr ...: each pixel on its own
    return image.resize(size, Image.Resampling.BOX)


def _composite(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``colour`` over a sheet: one that contrasts with the opaque pixels when they are
    the minority (strokes on a transparent background), else one like them (a photo with
    transparent corners), so that the sheet never looks like ink."""
    opacity = float(alpha.sum())
    if opacity == 0:
        return colour
    luma = colour @ _LUMA
    if opacity < alpha.size / 2:
        sheet = 1.0 if float((luma * alpha).sum()) / opacity < 0.5 else 0.0
    else:
        sheet = float(np.median(luma[alpha >= 0.5]))
    weight = alpha[..., None]
    return colour * weight + sheet * (1 - weight)


def _normalise(gray: np.ndarray, empty_message: Message | str) -> np.ndarray:
    """The ink, 0 (paper) to 1 (a typical stroke); ``ImageRejected`` when there is none."""
    # Half the resolution tells the polarity as well, four times faster.
    ink_light = _ink_is_light(_resize(gray, _fit(gray.shape, WORKING_SIDE // 2)))
    bright = gray if ink_light else 1 - gray
    paper = _background(bright, PAPER_QUANTILE)
    # Two thirds off the pixel noise; strokes are wider than three pixels.
    contrast = _blur(np.pad(bright - paper, 1, "edge"))
    contrast -= _median(contrast)
    if _top(contrast) < max(MIN_CONTRAST, NOISE_FACTOR * _noise(contrast)):
        raise ImageRejected(empty_message)
    # The contrast as a share of what the paper leaves for ink (its brightness, for dark
    # ink), so that strokes in a shadow come out as strong as those in the light.
    relative = contrast / np.maximum(1 - paper, MIN_HEADROOM)
    peak = _top(relative)
    full = float(np.median(relative[relative > peak / 2]))
    floor = min(max(FLOOR_NOISE * _noise(relative), FLOOR_SHARE * full), full / 2)
    return np.clip((relative - floor) / (full - floor), 0, 1)


def _ink_is_light(gray: np.ndarray) -> bool:
    """Whether the ink is brighter than the paper: the side of the brightness around the
    local median where more lies beyond the noise (the ink being the minority)."""
    residual = gray - _background(gray, 0.5)
    residual -= _median(residual)
    beyond = 3 * _noise(residual)
    light = np.clip(residual - beyond, 0, None).sum()
    dark = np.clip(-residual - beyond, 0, None).sum()
    return bool(light > dark)


def _median(values: np.ndarray) -> float:
    """The median of a regular sample of about 40,000 of the values: as good, and faster."""
    step = max(1, int(np.sqrt(values.size / 40_000)))
    sample = values[::step, ::step].ravel()
    middle = len(sample) // 2
    return float(np.partition(sample, middle)[middle])


def _noise(values: np.ndarray) -> float:
    """The standard deviation of the values around 0, from their median absolute size."""
    return 1.4826 * _median(np.abs(values))


def _top(values: np.ndarray) -> float:
    """The level that ``INK_SHARE`` of the values reach."""
    rank = values.size - max(1, round(values.size * INK_SHARE))
    return float(np.partition(values.ravel(), rank)[rank])


def _background(values: np.ndarray, quantile: float) -> np.ndarray:
    """What varies slowly under the strokes: the ``quantile`` of each block of a grid,
    median filtered across blocks, smoothed, and grown back bilinearly."""
    rows, cols = values.shape
    block = -(-max(rows, cols) // BACKGROUND_GRID)
    grid_rows, grid_cols = -(-rows // block), -(-cols // block)
    padded = np.pad(values, ((0, grid_rows * block - rows), (0, grid_cols * block - cols)), "edge")
    blocks = padded.reshape(grid_rows, block, grid_cols, block).swapaxes(1, 2)
    blocks = blocks.reshape(grid_rows, grid_cols, block * block)
    rank = round(quantile * (block * block - 1))
    cells = np.partition(blocks, rank, axis=-1)[..., rank]
    # The grid goes on past the border as a linear extrapolation (an odd reflection), so
    # that the median, the mean and bilinear growing all keep a slope right up to the
    # border instead of flattening it there; the filters use up all but the last ring.
    cells = np.pad(cells, BACKGROUND_RADIUS + 2, "reflect", reflect_type="odd")
    cells = _window_median(cells, BACKGROUND_RADIUS)
    # A 3 x 3 mean rounds off the corners the median leaves.
    cells = _blur(cells)
    size = ((grid_cols + 2) * block, (grid_rows + 2) * block)
    grown = _resize(cells, size, Image.Resampling.BILINEAR)
    return grown[block : block + rows, block : block + cols]


def _window_median(values: np.ndarray, radius: int) -> np.ndarray:
    """The median of each whole square window of ``values`` (so ``radius`` smaller all round)."""
    side = 2 * radius + 1
    windows = sliding_window_view(values, (side, side))
    windows = windows.reshape(*windows.shape[:2], side * side)
    middle = side * side // 2
    return np.partition(windows, middle, axis=-1)[..., middle]


def _blur(values: np.ndarray) -> np.ndarray:
    """The mean of each whole 3 x 3 neighbourhood (so one smaller all round)."""
    rows = values[:-2] + values[1:-1] + values[2:]
    return (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) / 9


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the ink, bottom and right exclusive."""
    top, bottom = _span(ink.sum(axis=1))
    left, right = _span(ink.sum(axis=0))
    return top, bottom, left, right


def _span(profile: np.ndarray) -> tuple[int, int]:
    """The run of ``profile`` holding its mass: without the ``SPECK_MASS`` at each end,
    then grown outwards for as long as the sums stay joined to it."""
    cumulative = np.cumsum(profile) / profile.sum()
    first = int(np.argmax(cumulative > SPECK_MASS))
    last = int(np.argmax(cumulative >= 1 - SPECK_MASS))
    joined = profile > JOIN_SHARE * profile.max()
    while first > 0 and joined[first - 1]:
        first -= 1
    while last < len(profile) - 1 and joined[last + 1]:
        last += 1
    return first, last + 1


def _centre(ink: np.ndarray, height: int, width: int, extent: float) -> np.ndarray:
    """``ink`` in the middle of a background of the input's shape, its longer side (relative
    to the input's) filling ``extent`` of it."""
    rows, cols = ink.shape
    scale = max(rows / height, cols / width) / extent
    # A glyph far from the input's shape (a tall one for a wide input) would need a huge
    # background: past twice the working side, the glyph is shrunk first.
    shrink = 2 * WORKING_SIDE / (max(height, width) * scale)
    if shrink < 1:
        ink = _resize(ink, (max(1, round(cols * shrink)), max(1, round(rows * shrink))))
        rows, cols = ink.shape
        scale = max(rows / height, cols / width) / extent
    out_rows, out_cols = max(rows, round(height * scale)), max(cols, round(width * scale))
    canvas = np.zeros((out_rows, out_cols), dtype=np.float32)
    top, left = (out_rows - rows) // 2, (out_cols - cols) // 2
    canvas[top : top + rows, left : left + cols] = ink
    return canvas


def _model_input(square: np.ndarray, height: int, width: int, ink_light: bool) -> np.ndarray:
    """``square`` at the input's size, the strongest ink 255, in the style's polarity."""
    shrinking = square.shape[0] >= height and square.shape[1] >= width
    resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    small = np.clip(_resize(square, (width, height), resample), 0, None)
    scaled = np.round(small * (255 / small.max())).astype(np.uint8)
    return scaled if ink_light else 255 - scaled
