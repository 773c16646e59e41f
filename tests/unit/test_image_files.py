"""Uploads are cut where their image file ends: appended data is never stored."""

import io

import pytest
from PIL import Image, ImageDraw

from classifier.ml.image_files import without_trailing_data

JUNK = b"\xff\xd9\x00IEND;" * 1000 + bytes(range(256)) * 400  # end markers among it


def _drawn(mode="RGB", size=(64, 48)) -> Image.Image:
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).ellipse((8, 8, 40, 40), outline="black", width=5)
    return image


def _saved(image, fmt, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated, as phones write it
    return exif.tobytes()


CASES = {
    "png": lambda: _saved(_drawn(), "PNG"),
    "png-16-bit": lambda: _saved(_drawn("I;16"), "PNG"),
    "jpeg": lambda: _saved(_drawn(), "JPEG", quality=90),
    "jpeg-progressive-with-exif": lambda: _saved(_drawn(), "JPEG", progressive=True, exif=_exif()),
    "jpeg-with-restart-markers": lambda: _saved(_drawn(), "JPEG", restart_marker_blocks=1),
    # A whole JPEG inside a segment, with its own end marker, before the photo's scans.
    "jpeg-with-a-jpeg-in-a-segment": lambda: _saved(
        _drawn(), "JPEG", comment=_saved(_drawn(size=(16, 12)), "JPEG")
    ),
    "gif-animated": lambda: _saved(
        _drawn("P"), "GIF", save_all=True, append_images=[_drawn("P").rotate(90)]
    ),
    "webp-lossless-alpha": lambda: _saved(_drawn("RGBA"), "WEBP", lossless=True),
    "webp-lossy": lambda: _saved(_drawn(), "WEBP", quality=80),
    "bmp": lambda: _saved(_drawn(), "BMP"),
    "bmp-palette": lambda: _saved(_drawn("P", size=(61, 13)), "BMP"),
}


@pytest.mark.parametrize("name", CASES)
def test_data_after_an_image_is_cut_and_the_image_kept_byte_for_byte(name):
    image = CASES[name]()
    assert without_trailing_data(image + JUNK) == image
    assert without_trailing_data(image) == image
    Image.open(io.BytesIO(without_trailing_data(image + JUNK))).load()


def test_a_bmp_that_gives_no_size_is_measured_from_its_pixels():
    image = bytearray(_saved(_drawn(), "BMP"))
    image[2:6] = bytes(4)  # a size of 0 is allowed
    assert without_trailing_data(bytes(image) + JUNK) == bytes(image)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        _saved(_drawn(), "PNG")[:200],  # truncated: no end to find
        _saved(_drawn(), "JPEG")[:300],
        _saved(_drawn("P"), "GIF")[:40],
        _saved(_drawn(), "TIFF") + JUNK,  # a format the lab does not read
    ],
)
def test_data_whose_end_is_not_found_is_left_whole(data):
    assert without_trailing_data(data) == data
