"""Preprocessing photos and drawings: opening uploads safely, every image mode, uneven
light, polarity, centring, refusing empty images, and the training data's style."""

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifier.ml.preprocess import (
    ImageRejected,
    InputStyle,
    Preprocessed,
    decode_data_url,
    open_image,
    preprocess,
)

KEYS = ["original", "gray", "normalised", "cropped", "square", "input"]
SIZE = (28, 28)
CANVAS_EMPTY = "The canvas is empty: draw the character first."
LAB_STYLE = InputStyle()


def glyph(width=400, height=300, box=(130, 80, 270, 220), stroke=14) -> np.ndarray:
    """A made-up character, 1 on the strokes and 0 elsewhere, inside ``box`` (left, top,
    right, bottom): a square on the left, a bar with a tick on the right. Its centre of
    mass lies close to the centre of its box."""
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    left, top, right, bottom = box
    split, inset = left + (right - left) * 6 // 10, (bottom - top) // 6
    draw.rectangle([left, top + inset, split, bottom - inset], outline=255, width=stroke)
    draw.rectangle([right - stroke, top, right, bottom], fill=255)
    middle = (top + bottom) // 2
    draw.rectangle([split + stroke, middle - stroke // 2, right, middle + stroke // 2], fill=255)
    return np.asarray(mask, dtype=np.float32) / 255


def photo(mask, paper=0.9, ink=0.1, noise=0.0, light=None, seed=0) -> np.ndarray:
    """``mask`` as ink on paper, both lit by ``light`` (1 everywhere by default), with
    gaussian noise: float brightness 0..1."""
    light = 1.0 if light is None else light
    rng = np.random.default_rng(seed)
    values = (paper + (ink - paper) * mask) * light + rng.normal(0, noise, mask.shape)
    return np.clip(values, 0, 1)


def to_image(values: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(values, 0, 1) * 255).astype(np.uint8))


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def run(image: Image.Image | bytes, size=SIZE, style=LAB_STYLE, **options) -> np.ndarray:
    if isinstance(image, bytes):
        image = open_image(image)
    return preprocess(image, size, style, **options).input


def ink_centre(image: np.ndarray) -> tuple[float, float]:
    weights = image.astype(float)
    rows, cols = np.indices(image.shape)
    return (rows * weights).sum() / weights.sum(), (cols * weights).sum() / weights.sum()


def heavy_side(image: np.ndarray) -> str:
    """The side of the image whose outer quarter holds the most ink."""
    quarter = image.shape[0] // 4
    masses = {
        "top": image[:quarter].sum(),
        "bottom": image[-quarter:].sum(),
        "left": image[:, :quarter].sum(),
        "right": image[:, -quarter:].sum(),
    }
    return max(masses, key=masses.get)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The correlation of two model inputs."""
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """The model input of the clean glyph: black on white, evenly lit."""
    return run(to_image(photo(glyph(), paper=1.0, ink=0.0)))


# --- Output and steps -------------------------------------------------------------------


def test_a_photo_gives_bright_centred_ink_on_dark_and_every_step():
    data = encode(
        to_image(photo(glyph(4000, 3000, (1300, 800, 2700, 2200), 140), noise=0.02)),
        "JPEG",
        quality=90,
    )
    result = preprocess(open_image(data), SIZE)
    assert isinstance(result, Preprocessed)
    assert result.input.dtype == np.uint8 and result.input.shape == SIZE
    assert result.input.max() == 255
    assert [step.key for step in result.steps] == KEYS
    assert all(step.title and step.image.dtype == np.uint8 for step in result.steps)
    for step in result.steps[:-1]:
        assert step.image.ndim in (2, 3) and max(step.image.shape[:2]) <= 256, step.key
    assert result.steps[0].image.shape == (192, 256, 3)
    assert result.steps[-1].image is result.input
    # Background is 0 all round the glyph.
    border = np.concatenate(
        [result.input[0], result.input[-1], result.input[:, 0], result.input[:, -1]]
    )
    assert border.max() == 0


def test_the_clean_glyph_fills_the_extent_and_is_centred(reference):
    rows, cols = np.nonzero(reference > 64)
    # 0.9 of 28 pixels: the box spans about 25 of them, starting after a 1.4-pixel margin.
    assert 24 <= max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 27
    assert reference[[0, -1]].max() == 0 and reference[:, [0, -1]].max() == 0
    centre = ink_centre(reference)
    assert abs(centre[0] - 13.5) < 1.5 and abs(centre[1] - 13.5) < 1.5


def test_ink_dark_style_gives_dark_ink_on_white(reference):
    result = run(to_image(photo(glyph(), paper=1.0, ink=0.0)), style=InputStyle(ink_light=False))
    np.testing.assert_array_equal(result, 255 - reference)


def test_a_non_square_input_keeps_the_glyphs_aspect_ratio():
    result = preprocess(to_image(photo(glyph())), (32, 24))
    assert result.input.shape == (32, 24)
    square = result.steps[KEYS.index("square")].image
    assert square.shape[0] / square.shape[1] == pytest.approx(32 / 24, rel=0.03)
    rows, cols = np.nonzero(result.input > 64)
    # The glyph's box is square: its width fills the extent, its height matches it.
    assert abs((rows.max() - rows.min()) - (cols.max() - cols.min())) <= 1


def test_a_tall_glyph_for_a_wide_input_is_centred_without_a_huge_background():
    tall = to_image(photo(glyph(400, 300, box=(180, 0, 220, 299), stroke=10), 1.0, 0.0))
    result = preprocess(tall, (8, 256), InputStyle(extent=0.3))
    assert result.input.shape == (8, 256)
    columns = np.nonzero(result.input.max(axis=0))[0]
    assert abs((columns.min() + columns.max()) / 2 - 127.5) <= 1 and len(columns) <= 3


# --- Polarity, position and lighting --------------------------------------------------


def test_light_ink_on_dark_paper_gives_the_same_input(reference):
    result = run(to_image(photo(glyph(), paper=0.15, ink=0.85, noise=0.02)))
    assert similarity(result, reference) > 0.95


def test_an_off_centre_character_is_centred():
    mask = glyph(600, 450, box=(20, 260, 180, 420), stroke=12)
    result = run(encode(to_image(photo(mask, noise=0.02)), "JPEG", quality=92))
    centre = ink_centre(result)
    assert abs(centre[0] - 13.5) < 1.5 and abs(centre[1] - 13.5) < 1.5
    # Extent 0.9 leaves a margin of 1.4 pixels each side.
    assert result[[0, -1]].max() <= 16 and result[:, [0, -1]].max() <= 16
    rows, cols = np.nonzero(result > 64)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 >= 24


def test_isolated_specks_do_not_move_the_character(reference):
    mask = glyph()
    for top, left in [(10, 10), (280, 380), (150, 20), (5, 200)]:
        mask[top : top + 4, left : left + 4] = 1
    assert similarity(run(to_image(photo(mask))), reference) > 0.97


def test_uneven_light_shadow_and_off_white_paper_still_give_a_clean_input(reference):
    mask = glyph()
    rows, cols = np.indices(mask.shape, dtype=np.float32)
    gradient = 0.55 + 0.45 * cols / mask.shape[1]
    # A soft-edged shadow (a phone's or a hand's) over the lower-left, across strokes.
    shadow = 1 - 0.45 / (1 + np.exp(-(rows - 1.2 * cols - 20) / 12))
    paper = np.array([0.93, 0.88, 0.78], dtype=np.float32)  # a yellowish sheet
    light = (gradient * shadow)[..., None]
    values = photo(
        np.repeat(mask[..., None], 3, axis=2),
        paper=paper,
        ink=paper * 0.15,
        light=light,
        noise=0.01,
    )
    result = run(encode(to_image(values), "JPEG", quality=90))
    assert result[reference == 0].max() <= 40
    assert np.median(result[reference >= 200]) >= 200
    assert similarity(result, reference) > 0.93


def test_faint_pencil_strokes_pass(reference):
    values = photo(glyph(stroke=8), paper=0.88, ink=0.63, noise=0.02)
    result = run(encode(to_image(values), "JPEG", quality=90))
    assert result.max() == 255
    assert similarity(result, run(to_image(photo(glyph(stroke=8), 1.0, 0.0)))) > 0.9


def test_a_drawing_from_the_canvas_gives_the_same_input(reference):
    canvas = Image.new("RGBA", (400, 300), "white")
    canvas.paste((0, 0, 0, 255), mask=to_image(glyph()))
    assert similarity(run(encode(canvas, "PNG")), reference) > 0.99


# --- Image modes, formats and orientation -----------------------------------------------


@pytest.mark.parametrize(
    "mode", ["RGB", "L", "1", "P", "CMYK", "RGBA", "LA", "I", "I;16", "I;16B", "F"]
)
def test_every_image_mode_gives_the_same_input(mode, reference):
    image = to_image(photo(glyph(), paper=1.0, ink=0.0)).convert("RGB")
    if mode in ("I;16", "I;16B", "F"):
        values = np.asarray(image.convert("L"), dtype=np.float32)
        dtype = {"I;16": "<u2", "I;16B": ">u2", "F": "<f4"}[mode]
        image = Image.fromarray((values / 255 if mode == "F" else values * 257).astype(dtype))
    else:
        image = image.convert(mode)
    assert image.mode == mode
    assert similarity(run(image), reference) > 0.99


def test_a_16_bit_png_uses_its_whole_range(reference):
    values = photo(glyph(), paper=0.92, ink=0.05, noise=0.01)
    data = encode(Image.fromarray(np.round(values * 65535).astype(np.uint16)), "PNG")
    image = open_image(data)
    assert image.mode == "I;16"
    assert similarity(run(image), reference) > 0.97


def test_a_cmyk_jpeg(reference):
    mask = glyph()
    cmyk = np.zeros((*mask.shape, 4), dtype=np.uint8)
    cmyk[..., 3] = np.round(mask * 230)  # black ink: the K channel
    cmyk[..., 1] = 12  # a faint magenta tint on the paper
    data = encode(Image.fromarray(cmyk, "CMYK"), "JPEG", quality=92)
    image = open_image(data)
    assert image.mode == "CMYK"
    assert similarity(run(image), reference) > 0.97


@pytest.mark.parametrize("ink", [0, 255], ids=["black", "white"])
@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_strokes_on_a_transparent_background(mode, ink, reference):
    strokes = Image.new("RGBA", (400, 300), (ink, ink, ink, 0))
    strokes.putalpha(to_image(glyph()))
    assert similarity(run(encode(strokes.convert(mode), "PNG")), reference) > 0.99


def test_a_palette_image_with_a_transparent_background(reference):
    image = Image.new("P", (400, 300), 0)
    image.putpalette([255, 255, 255, 20, 20, 20])
    image.paste(1, mask=to_image(glyph()))
    data = encode(image, "PNG", transparency=0)
    assert open_image(data).has_transparency_data
    assert similarity(run(data), reference) > 0.99


def test_an_opaque_photo_with_transparent_corners_keeps_its_paper(reference):
    values = photo(glyph(), paper=0.85, ink=0.1)
    image = to_image(values).convert("RGBA")
    alpha = np.full(values.shape, 255, dtype=np.uint8)
    alpha[:30, :30] = alpha[-30:, -30:] = 0
    image.putalpha(Image.fromarray(alpha))
    assert similarity(run(encode(image, "PNG")), reference) > 0.99


@pytest.mark.parametrize(
    ("orientation", "side"), [(1, "top"), (3, "bottom"), (6, "right"), (8, "left")]
)
def test_exif_orientation_turns_the_photo_upright(orientation, side):
    # A T: a bar along the top and a stem down the middle, as stored in the file.
    mask = Image.new("L", (400, 300), 0)
    draw = ImageDraw.Draw(mask)
    draw.rectangle([120, 60, 280, 80], fill=255)
    draw.rectangle([190, 60, 210, 240], fill=255)
    exif = Image.Exif()
    exif[0x0112] = orientation
    values = photo(np.asarray(mask, dtype=np.float32) / 255, noise=0.01)
    data = encode(to_image(values).convert("RGB"), "JPEG", quality=92, exif=exif.tobytes())
    image = open_image(data)
    assert image.size == ((400, 300) if orientation in (1, 3) else (300, 400))
    assert heavy_side(run(image)) == side


def test_an_animated_gif_gives_its_first_frame(reference):
    first = to_image(photo(glyph(), paper=1.0, ink=0.0)).convert("P")
    second = Image.new("P", first.size, 0)
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert similarity(run(data), reference) > 0.99


@pytest.mark.parametrize("format", ["PNG", "WEBP", "BMP", "GIF"])
def test_the_allowed_formats_open(format, reference):
    image = to_image(photo(glyph(), paper=1.0, ink=0.0))
    assert similarity(run(encode(image, format)), reference) > 0.97


def test_a_file_object_opens_like_bytes():
    data = encode(to_image(photo(glyph())), "PNG")
    np.testing.assert_array_equal(run(open_image(io.BytesIO(data))), run(data))


# --- Refusals -----------------------------------------------------------------------------


def test_an_empty_canvas_is_refused_with_the_canvas_message():
    data = encode(Image.new("RGBA", (400, 300), "white"), "PNG")
    with pytest.raises(ImageRejected) as caught:
        run(data, empty_message=CANVAS_EMPTY)
    assert str(caught.value) == CANVAS_EMPTY


def test_a_transparent_canvas_is_refused():
    with pytest.raises(ImageRejected, match="canvas is empty"):
        run(encode(Image.new("RGBA", (400, 300)), "PNG"), empty_message=CANVAS_EMPTY)


def no_ink(kind: str) -> np.ndarray:
    rows, cols = np.indices((300, 400), dtype=np.float32)
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.03, rows.shape)
    return {
        "uniform": np.full(rows.shape, 0.8),
        "gradient": 0.3 + 0.65 * cols / 400,
        "noisy gradient": 0.35 + 0.6 * cols / 400 + noise,
        "noisy vignette": 0.95 - 0.9 * ((rows / 300 - 0.5) ** 2 + (cols / 400 - 0.5) ** 2) + noise,
        "noisy diagonal light": 0.3 + 0.65 * (rows / 300) * (cols / 400) + noise,
        "dark noisy": 0.12 + 0.2 * rows / 300 + noise,
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "uniform",
        "gradient",
        "noisy gradient",
        "noisy vignette",
        "noisy diagonal light",
        "dark noisy",
    ],
)
def test_a_photo_without_writing_is_refused(kind):
    data = encode(to_image(no_ink(kind)), "JPEG", quality=90)
    with pytest.raises(ImageRejected) as caught:
        run(data)
    message = str(caught.value)
    assert "No writing" in message and "dark ink on light paper" in message
    assert "fill" in message


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"", "empty"), (b"hello", "not an image"), (b"\x89PNG\r\n\x1a\n", "not an image")],
)
def test_unreadable_bytes_are_refused(data, words):
    with pytest.raises(ImageRejected, match=words):
        open_image(data)


def test_a_text_file_named_png_is_refused(tmp_path):
    path = tmp_path / "character.png"
    path.write_text("This is my homework, not a picture.\n")
    with path.open("rb") as file, pytest.raises(ImageRejected, match="not an image the lab"):
        open_image(file)


@pytest.mark.parametrize("format", ["PNG", "JPEG", "GIF", "WEBP"])
def test_a_truncated_image_is_refused(format):
    data = encode(to_image(photo(glyph(), noise=0.05)).convert("RGB"), format)
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        open_image(data[: len(data) // 2])


def test_a_tiff_is_refused_by_name():
    with pytest.raises(ImageRejected, match="TIFF images are not accepted") as caught:
        open_image(encode(Image.new("L", (40, 30), 255), "TIFF"))
    assert "JPEG, PNG" in str(caught.value)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` 1-bit pixels but holds none."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("width", "height"),
    [(20_000, 20_000), (12_000, 10_000), (10_000, 5_000)],
    ids=["over-pillows-limit", "over-pillows-warning", "over-the-labs-limit"],
)
# Pillow warns as it opens an image past its own limit; the lab refuses it just after.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_from_its_header(width, height):
    with pytest.raises(ImageRejected, match="too large"):
        open_image(png_header(width, height))


def test_max_pixels_is_the_callers():
    data = encode(to_image(photo(glyph())), "PNG")
    with pytest.raises(ImageRejected, match=r"too large \(400 × 300 pixels\).*0.1 megapixels"):
        open_image(data, max_pixels=100_000)
    assert open_image(data, max_pixels=120_000).size == (400, 300)


# --- Canvas data URLs ---------------------------------------------------------------------


def data_url(data: bytes, kind="image/png") -> str:
    return f"data:{kind};base64," + base64.b64encode(data).decode()


def test_a_canvas_data_url_gives_its_png():
    png = encode(to_image(photo(glyph())), "PNG")
    assert decode_data_url(data_url(png), max_bytes=len(png)) == png


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (data_url(b"GIF89a...", "image/gif"), "PNG"),
        (data_url(b"\xff\xd8\xff\xe0 a JPEG", "image/png"), "PNG"),
        ("data:image/png;base64,not base64!", "could not be decoded"),
        ("data:image/png;base64,iVBORw0KGgo", "could not be decoded"),
        ("hello", "PNG"),
        ("", "PNG"),
    ],
    ids=["gif", "jpeg-as-png", "bad-characters", "bad-padding", "text", "nothing"],
)
def test_anything_else_is_not_a_canvas_drawing(text, words):
    with pytest.raises(ImageRejected, match=words):
        decode_data_url(text, max_bytes=1_000_000)


def test_an_over_long_data_url_is_refused():
    png = encode(to_image(photo(glyph(), noise=0.2)), "PNG")
    with pytest.raises(ImageRejected, match="too large"):
        decode_data_url(data_url(png), max_bytes=len(png) - 1)
    with pytest.raises(ImageRejected, match="too large"):
        decode_data_url("data:image/png;base64," + "A" * 10_000_000, max_bytes=1_000_000)


# --- The training data's style ---------------------------------------------------------


def rendered_like(count=40, side=28, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Bright boxes of random sizes on a dark, slightly noisy background, like the lab's
    data sets, and each box's longer side over the image's."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, side, side))
    extents = rng.uniform(0.7, 0.9, count)
    for image, extent in zip(images, extents, strict=True):
        span = round(extent * side)
        top, left = rng.integers(0, side - span + 1, 2)
        image[top : top + span, left : left + round(span * 0.6)] = 255
    images = np.clip(images + rng.normal(0, 6, images.shape), 0, 255).round().astype(np.uint8)
    return images, np.round(extents * side) / side


def test_the_style_of_rendered_like_images():
    images, extents = rendered_like()
    style = InputStyle.from_images(images)
    assert style.ink_light is True
    assert style.extent == pytest.approx(np.median(extents), abs=0.04)
    inverted = InputStyle.from_images(255 - images)
    assert inverted.ink_light is False
    assert inverted.extent == pytest.approx(style.extent, abs=0.01)


def test_the_style_of_no_images_is_the_default():
    assert InputStyle.from_images(np.zeros((0, 28, 28), dtype=np.uint8)) == InputStyle()
    assert InputStyle.from_images(np.zeros((5, 28, 28), dtype=np.uint8)) == InputStyle()


def test_the_style_round_trips_through_a_dict():
    style = InputStyle(ink_light=False, extent=0.75)
    assert style.as_dict() == {"ink_light": False, "extent": 0.75}
    assert InputStyle.from_dict(style.as_dict()) == style
    assert InputStyle.from_dict(None) == InputStyle() == InputStyle.from_dict({})
    assert InputStyle.from_dict({"extent": 0.8}) == InputStyle(ink_light=True, extent=0.8)


@pytest.mark.parametrize("extent", [0.5, 0.7, 1.0])
def test_the_extent_sets_how_much_of_the_input_the_glyph_fills(extent):
    result = run(to_image(photo(glyph(), paper=1.0, ink=0.0)), style=InputStyle(extent=extent))
    rows, cols = np.nonzero(result > 127)
    span = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    assert span == pytest.approx(extent * 28, abs=1.5)


def test_an_extent_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="extent"):
        InputStyle(extent=0.1)
