"""Evaluation images for bench/handwriting.py: phone photos and canvas drawings of
characters in handwriting-style fonts, made deterministically from a seed.

``phone_photo`` writes the glyph large in dark ink on a sheet of paper and photographs
it: off-white or tinted paper with a faint texture, the character off centre and at a
size of its own in a 640x480 frame (sometimes portrait), a slight rotation and
perspective tilt, light that falls off across the sheet, a soft shadow, a vignette,
camera blur (defocus, sometimes a little shake), sensor noise, and a JPEG at quality
60-90: the file a phone uploads.

``canvas_drawing`` draws the character as a person does on the Predict page's canvas
(static/js/canvas.js, templates/_handwriting_input.html): the glyph's skeleton is traced
into polylines, wobbled as a finger would, and stroked black on a 280x280 white canvas
with round caps and joins, ``280 / 18`` pixels wide, anti-aliased as a browser draws it,
and saved as the RGBA PNG that ``canvas.toDataURL("image/png")`` sends.

Every image's random numbers come from a ``SeedSequence`` keyed by the seed and a
SHA-256 of (kind, font, character, number), so an image does not depend on what was made
before it.
"""

import hashlib
import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage
from skimage.morphology import skeletonize

#: The Predict page's canvas (templates/_handwriting_input.html) and its pen (canvas.js).
CANVAS_SIDE = 280
CANVAS_LINE_WIDTH = CANVAS_SIDE / 18
#: Browsers anti-alias strokes; drawing this many times larger and averaging does too.
CANVAS_OVERSAMPLE = 4
PHOTO_SIZE = (640, 480)
#: The longer side of the character's ink in a photo, in pixels of the frame (an em of
#: about 190 to 320 pixels for a font whose glyphs fill 90% of it).
PHOTO_INK = (170, 290)
JPEG_QUALITY = (60, 90)
#: The em the skeletons are traced at.
SKELETON_EM = 256

# Paper and ink colours (RGB), picked from at random and then varied a little.
PAPERS = [
    (242, 238, 226),
    (236, 232, 218),
    (245, 243, 236),
    (232, 234, 236),
    (240, 232, 205),
    (226, 232, 222),
    (238, 228, 226),
]
INKS = [(22, 22, 28), (28, 34, 86), (18, 30, 110), (52, 52, 58), (40, 28, 30)]


def rng_for(seed: int, *key) -> np.random.Generator:
    """A generator for one image, independent of every other image's."""
    digest = hashlib.sha256("\0".join(map(str, key)).encode()).digest()
    key = (int.from_bytes(digest[:16]),)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@lru_cache(maxsize=4096)
def glyph(path: str, index: int, char: str, em: int) -> np.ndarray:
    """``char`` drawn at ``em`` pixels per em, cropped to its ink: float32 0..1 coverage."""
    font = ImageFont.truetype(path, em, index=index)
    left, top, right, bottom = font.getbbox(char)
    pad = em // 8
    image = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad))
    ImageDraw.Draw(image).text((pad - left, pad - top), char, font=font, fill=255)
    box = image.getbbox()
    if box is None:
        raise ValueError(f"{path} draws {char!r} without ink")
    return np.asarray(image.crop(box), np.float32) / 255


def smooth_field(rng, shape, cells: int, low: float, high: float) -> np.ndarray:
    """A smooth random field over ``shape``, from ``low`` to ``high``: noise on a coarse
    grid of about ``cells`` along the longer side, upsampled bicubically."""
    height, width = shape
    grid = (max(2, round(cells * height / max(shape))), max(2, round(cells * width / max(shape))))
    coarse = Image.fromarray(rng.uniform(0, 1, grid).astype(np.float32), mode="F")
    field = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC))
    field = (field - field.min()) / max(float(np.ptp(field)), 1e-6)
    return low + (high - low) * field


# -- phone photos ---------------------------------------------------------------------


def perspective_coefficients(source, target) -> list[float]:
    """PIL's PERSPECTIVE data: the map from ``target`` (output) points to ``source``."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return np.linalg.solve(np.array(rows, float), np.array(values, float)).tolist()


def perspective_point(coefficients, x: float, y: float) -> tuple[float, float]:
    """Where PIL's PERSPECTIVE map with ``coefficients`` sends the point (x, y)."""
    a, b, c, d, e, f, g, h = coefficients
    w = g * x + h * y + 1
    return (a * x + b * y + c) / w, (d * x + e * y + f) / w


def phone_photo(char: str, font, seed: int, number: int) -> bytes:
    """JPEG bytes of a phone photo of ``char`` handwritten (in ``font``) on paper."""
    rng = rng_for(seed, "photo", font.name, char, number)
    width, height = PHOTO_SIZE if rng.uniform() < 0.75 else PHOTO_SIZE[::-1]
    # The sheet is larger than the frame, so tilting it never shows its edge.
    sheet_w, sheet_h = round(width * 1.4), round(height * 1.4)
    paper = np.array(PAPERS[rng.integers(len(PAPERS))], np.float32) + rng.normal(0, 4, 3)
    texture = smooth_field(rng, (sheet_h, sheet_w), 24, 0.97, 1.02)
    texture *= 1 + 0.008 * rng.standard_normal((sheet_h, sheet_w), np.float32)  # fibre
    sheet = paper * texture[..., None]

    # The camera: a small turn and a tilt (each frame corner moved a little); ``source``
    # is where the frame's corners fall on the sheet.
    angle = np.deg2rad(rng.uniform(-8, 8))
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], float)
    tilt = rng.uniform(-0.05, 0.05, (4, 2)) * [width, height]
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = (corners - [width / 2, height / 2] + tilt) @ rotation.T + [sheet_w / 2, sheet_h / 2]
    to_sheet = perspective_coefficients(source.tolist(), corners.tolist())

    # The character, large (its longer side PHOTO_INK pixels of the frame) and off centre:
    # anywhere that keeps it, turned and tilted, inside the frame with a margin.
    reference = glyph(str(font.path), font.index, char, SKELETON_EM)
    em = SKELETON_EM * rng.uniform(*PHOTO_INK) / max(reference.shape)
    ink_box = glyph(str(font.path), font.index, char, round(em))
    ink_h, ink_w = ink_box.shape
    half_w = 0.6 * (ink_w + 0.15 * ink_h) + 0.04 * width
    half_h = 0.6 * (ink_h + 0.15 * ink_w) + 0.04 * height
    cx = rng.uniform(min(half_w, width / 2), max(width - half_w, width / 2))
    cy = rng.uniform(min(half_h, height / 2), max(height - half_h, height / 2))
    sx, sy = perspective_point(to_sheet, cx, cy)
    left, top = round(sx - ink_w / 2), round(sy - ink_h / 2)
    # Pen pressure: the ink is not equally dark everywhere.
    pressure = smooth_field(rng, ink_box.shape, 6, rng.uniform(0.75, 0.9), 1.0)
    alpha = np.zeros((sheet_h, sheet_w), np.float32)
    alpha[top : top + ink_h, left : left + ink_w] = ink_box * pressure
    ink = np.array(INKS[rng.integers(len(INKS))], np.float32) + rng.normal(0, 5, 3)
    sheet = sheet * (1 - alpha[..., None]) + ink * alpha[..., None]
    page = Image.fromarray(np.clip(sheet, 0, 255).astype(np.uint8))
    frame = page.transform(
        (width, height), Image.Transform.PERSPECTIVE, to_sheet, Image.Resampling.BICUBIC
    )
    pixels = np.asarray(frame, np.float32)

    # The light: a gradient across the sheet, a vignette, a warm or cool cast, a shadow.
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    along = (x - width / 2) * np.cos(direction) + (y - height / 2) * np.sin(direction)
    along /= np.abs(along).max()
    light = 1 - rng.uniform(0.08, 0.3) * (along + 1) / 2
    radius = np.hypot((x - width / 2) / width, (y - height / 2) / height) / 0.71
    light *= 1 - rng.uniform(0.03, 0.15) * radius**2
    if rng.uniform() < 0.7:
        light *= shadow(rng, width, height)
    cast = np.array([1, rng.uniform(0.97, 1.0), rng.uniform(0.88, 1.0)], np.float32)
    pixels = pixels * light[..., None] * cast * rng.uniform(0.88, 1.05)

    # The lens and the sensor: defocus, sometimes shake, then noise.
    blurred = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    blurred = blurred.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.6)))
    pixels = np.asarray(blurred, np.float32)
    if rng.uniform() < 0.3:
        pixels = shake(rng, pixels)
    luma_noise = rng.uniform(1.5, 4.5) * rng.standard_normal((height, width, 1), np.float32)
    chroma_noise = 1.5 * rng.standard_normal((height, width, 3), np.float32)
    pixels = pixels + (luma_noise + chroma_noise) * np.sqrt(np.maximum(pixels, 1) / 128)
    photo = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    photo.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def shadow(rng, width: int, height: int) -> np.ndarray:
    """A soft shadow (the phone's, or a hand's) from one side: a light multiplier."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    # A blurred half-plane whose edge cuts the frame at a random place near a border.
    distance = (x - width / 2) * np.cos(direction) + (y - height / 2) * np.sin(direction)
    edge = rng.uniform(0.2, 0.45) * np.hypot(width, height)
    softness = rng.uniform(0.04, 0.12) * min(width, height)
    inside = 1 / (1 + np.exp(-(distance - edge) / softness))
    return 1 - rng.uniform(0.2, 0.45) * inside


def shake(rng, pixels: np.ndarray) -> np.ndarray:
    """A short straight motion blur, a hand that moved while the shutter was open."""
    length = int(rng.integers(3, 8))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1
    kernel = ndimage.rotate(kernel, rng.uniform(0, 180), reshape=False, order=1)
    kernel /= kernel.sum()
    return np.stack(
        [ndimage.convolve(pixels[..., c], kernel, mode="nearest") for c in range(3)], axis=-1
    )


# -- canvas drawings ------------------------------------------------------------------


@lru_cache(maxsize=1024)
def glyph_strokes(path: str, index: int, char: str) -> tuple[tuple[np.ndarray, int], ...]:
    """The centre lines of ``char``'s strokes: (polyline, piece) pairs, the polyline an
    (n, 2) array of (x, y) in units of the glyph's longer side, centred on the glyph's
    ink box, the piece the number of the connected part of the glyph it belongs to."""
    coverage = glyph(path, index, char, SKELETON_EM)
    mask = np.pad(coverage > 0.5, 2)
    skeleton = skeletonize(mask)
    # Half a stroke's width: spurs shorter than a few of those are skeleton artefacts.
    half_width = float(np.median(ndimage.distance_transform_edt(mask)[skeleton]))
    pieces, _ = ndimage.label(skeleton, structure=np.ones((3, 3)))
    side = max(mask.shape)
    centre = np.array([mask.shape[1] / 2, mask.shape[0] / 2])
    return tuple(
        ((simplify(line) - centre) / side, int(pieces[int(line[0, 1]), int(line[0, 0])]))
        for line in trace(skeleton, min_spur=max(4.0, 2.5 * half_width))
    )


def trace(skeleton: np.ndarray, min_spur: float) -> list[np.ndarray]:
    """A one-pixel skeleton as polylines of (x, y) between its ends and junctions;
    closed loops (the circle of ㅇ) too. Short spurs ending in nothing are dropped."""
    points = set(zip(*np.nonzero(skeleton), strict=True))
    steps = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]

    def neighbours(p):
        return [(p[0] + dy, p[1] + dx) for dy, dx in steps if (p[0] + dy, p[1] + dx) in points]

    degree = {p: len(neighbours(p)) for p in points}
    nodes = {p for p, d in degree.items() if d != 2}
    used: set[frozenset] = set()
    lines = []

    def walk(start, first):
        path, previous, current = [start, first], start, first
        used.add(frozenset((start, first)))
        while current not in nodes:
            following = [
                q
                for q in neighbours(current)
                if q != previous and frozenset((current, q)) not in used
            ]
            if not following:
                break
            previous, current = current, following[0]
            used.add(frozenset((previous, current)))
            path.append(current)
            if current == start:
                break
        return path

    for node in sorted(nodes):
        for first in neighbours(node):
            if frozenset((node, first)) not in used:
                lines.append(walk(node, first))
    for point in sorted(points):  # loops: every point on them has two neighbours
        for first in neighbours(point):
            if frozenset((point, first)) not in used:
                nodes.add(point)
                lines.append(walk(point, first))
    kept = []
    for line in lines:
        length = float(np.hypot(*np.diff(np.array(line, float), axis=0).T).sum())
        dangling = degree[line[0]] == 1 or degree[line[-1]] == 1
        joined = degree[line[0]] > 2 or degree[line[-1]] > 2
        if dangling and joined and length < min_spur:
            continue
        kept.append(np.array([(x, y) for y, x in line], float))
    return kept


def simplify(line: np.ndarray, spacing: float = 4.0) -> np.ndarray:
    """``line`` smoothed (the skeleton's pixel stairs) and resampled every ``spacing``."""
    if len(line) > 4:
        smooth = ndimage.uniform_filter1d(line, 5, axis=0, mode="nearest")
        smooth[0], smooth[-1] = line[0], line[-1]
        line = smooth
    lengths = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(line, axis=0).T))])
    if lengths[-1] == 0:
        return line[:1]
    at = np.linspace(0, lengths[-1], max(2, int(np.ceil(lengths[-1] / spacing)) + 1))
    return np.stack([np.interp(at, lengths, line[:, 0]), np.interp(at, lengths, line[:, 1])], 1)


def canvas_drawing(char: str, font, seed: int, number: int) -> bytes:
    """PNG bytes of ``char`` drawn with a finger on the Predict page's canvas, shaped
    like ``font``'s glyph."""
    rng = rng_for(seed, "canvas", font.name, char, number)
    strokes = glyph_strokes(str(font.path), font.index, char)
    scale = CANVAS_OVERSAMPLE
    side = CANVAS_SIDE * scale
    # How the person fills the canvas: size, place, a slant, a squash.
    extent = rng.uniform(0.5, 0.82) * CANVAS_SIDE
    angle = np.deg2rad(rng.uniform(-7, 7))
    squash = np.array([rng.uniform(0.85, 1.15), 1.0])
    shear = rng.uniform(-0.12, 0.12)
    linear = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = linear @ np.array([[1, shear], [0, 1]]) @ np.diag(squash) * extent
    # Room to move it by, keeping the strokes (with the pen's width) inside the canvas.
    room = max(0.0, (CANVAS_SIDE - extent) / 2 - CANVAS_LINE_WIDTH) * 0.8
    centre = CANVAS_SIDE / 2 + rng.uniform(-room, room, 2)
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    width = round(CANVAS_LINE_WIDTH * scale)
    # The finger: each part of the character lands a little off where it belongs, the
    # shapes bend smoothly (a displacement field, so strokes that meet still meet), and
    # every stroke wavers a little along its length.
    offsets = {piece: rng.normal(0, 0.02, 2) for piece in {piece for _, piece in strokes}}
    bend = Bend(rng, amplitude=0.02)
    for line, piece in strokes:
        shaped = line + offsets[piece] + bend(line)
        points = shaped @ linear.T + centre + wobble(rng, len(line), 0.004 * extent)
        points = points * scale
        if len(points) == 1:
            points = np.vstack([points, points + 0.01])
        # Round caps and joins as a disc at every point (Pillow's own curved joints
        # leave hairline gaps in wide lines).
        draw.line([tuple(p) for p in points], fill="black", width=width)
        for x, y in points:
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill="black")
    drawing = image.reduce(scale).convert("RGBA")
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG")
    return buffer.getvalue()


def wobble(rng, count: int, amplitude: float) -> np.ndarray:
    """A smooth random displacement along a stroke of ``count`` points: (count, 2)."""
    if count < 3:
        return np.zeros((count, 2))
    noise = rng.normal(0, 1, (count + 8, 2))
    smooth = ndimage.gaussian_filter1d(noise, sigma=3, axis=0)[4:-4]
    return smooth / max(float(smooth.std()), 1e-6) * amplitude


class Bend:
    """A smooth random displacement of the plane: a few long sine waves, ``amplitude``
    (in units of the glyph) at most in each direction."""

    def __init__(self, rng, amplitude: float, waves: int = 3):
        self.frequency = rng.uniform(0.5, 1.5, (waves, 2, 2)) * 2 * np.pi  # wave, out, in
        self.phase = rng.uniform(0, 2 * np.pi, (waves, 2))
        self.amplitude = amplitude / waves

    def __call__(self, points: np.ndarray) -> np.ndarray:
        shift = np.zeros_like(points)
        for frequency, phase in zip(self.frequency, self.phase, strict=True):
            shift += np.sin(points @ frequency.T + phase)
        return shift * self.amplitude
