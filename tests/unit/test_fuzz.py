"""A bad-input corpus: the PHD08 reader and the image preprocessing against garbage.

Every input either parses or is refused with the module's own error (``Phd08Error``,
``ImageRejected``) and a message; never another exception, never a hang (a deadline per
input, and a timeout per test). The inputs are generated with hypothesis from real files
made here (every PHD08 layout feature; PNG, JPEG, GIF, WebP and BMP in several modes):
random bytes, bytes flipped, deleted, inserted and truncated, other text encodings, and
numbers far past any limit. Runs are derandomized, so the corpus is the same every time.
"""

import base64
import io
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from classifier.ml.phd08 import Phd08Error, parse_phd08
from classifier.ml.preprocess import ImageRejected, InputStyle, decode_data_url, open_image
from classifier.ml.preprocess import preprocess as preprocess_image
from tests.support.phd08 import make_phd08_bytes

pytestmark = [
    pytest.mark.timeout(120),
    # Pillow's TIFF probe warns about the garbage it is shown; that is not a failure.
    pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning"),
]


def corpus(examples: int, deadline_ms: int):
    return settings(
        max_examples=examples,
        deadline=timedelta(milliseconds=deadline_ms),
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@st.composite
def mutated(draw, bases: list[bytes], tokens: list[bytes], keep: int = 0, near: int = 0) -> bytes:
    """One of ``bases`` with one to six edits at uniformly drawn places: a bit flipped,
    bytes deleted, random bytes or a token inserted, a byte set to an extreme, a line
    repeated, or the end cut off. The first ``keep`` bytes (a file signature) are mostly
    left alone, and with ``near`` a third of the edits fall before that offset (the header)."""
    rnd = draw(st.randoms(use_true_random=False))
    data = bytearray(draw(st.sampled_from(bases)))
    for _ in range(rnd.choice([1, 1, 1, 2, 2, 3, 4, 6])):
        low = keep if rnd.random() < 0.9 else 0
        high = min(len(data), near) if near and rnd.random() < 0.3 else len(data)
        at = rnd.randint(min(low, high), high)
        edit = rnd.randrange(7)
        if edit == 0 and at < len(data):
            data[at] ^= 1 << rnd.randrange(8)
        elif edit == 1:
            del data[at : at + rnd.randint(1, 24)]
        elif edit == 2:
            data[at:at] = rnd.randbytes(rnd.randint(1, 8))
        elif edit == 3:
            data[at:at] = rnd.choice(tokens)
        elif edit == 4 and at < len(data):
            data[at] = rnd.choice([0, 1, 0x7F, 0x80, 0xFF])
        elif edit == 5:
            lines = bytes(data).split(b"\n")
            lines.insert(rnd.randint(0, len(lines)), rnd.choice(lines))
            data = bytearray(b"\n".join(lines))
        else:
            del data[at:]
    return bytes(data)


# --- The PHD08 reader ------------------------------------------------------------------------

PHD08_FILES = [
    make_phd08_bytes(1, groups=("S", "G"), sizes=((3, 4), (5, 2)), seed=seed, crlf=crlf)
    for seed in range(3)
    for crlf in (False, True)
]
PHD08_TOKENS = [
    b"0",
    b"1",
    b"\n",
    b"\r",
    b"\r\n",
    b" ",
    b"\t",
    b"\x0b",
    b"\x0c",
    b"\x00",
    b"\xff",
    b"2",
    b"_",
    b"S",
    b"\n\n",
    b"S_0_0_0_0_0",
    b"H2_2_2_2_2_2",
    b"-1",
    b"0 0",
    b"512 512",
    b"513 1",
    b"1e9",
    b"99999999999999999999",
    b"9" * 5000,
    b"0" * 5000 + b"3",
    "가".encode(),
    "가".encode("utf-16"),
    "가".encode("cp949"),
]
PHD08_TEXT = st.text(alphabet="01 \n\r\t_SGMNBDYH23456789x-", max_size=600)


def _read_phd08(data: bytes):
    """Parse ``data``; a refusal must be a Phd08Error naming the file; a success must be
    self-consistent (every sample in exactly one batch, pixels 0 or 1)."""
    try:
        parsed = parse_phd08(data, "가.txt")
    except Phd08Error as error:
        assert str(error).startswith("가.txt line "), str(error)
        return
    assert parsed.count == len(parsed.headers) == len(parsed.groups)
    indices = np.concatenate([batch.indices for batch in parsed.batches] or [np.array([], int)])
    assert sorted(indices.tolist()) == list(range(parsed.count))
    for batch in parsed.batches:
        assert batch.bitmaps.dtype == np.uint8 and batch.bitmaps.max(initial=0) <= 1


@corpus(300, 1000)
@given(st.binary(max_size=3000))
def test_phd08_random_bytes(data):
    _read_phd08(data)


@corpus(300, 1000)
@given(PHD08_TEXT.map(str.encode))
def test_phd08_text_made_of_its_own_characters(data):
    _read_phd08(data)


@corpus(400, 1000)
@given(mutated(PHD08_FILES, PHD08_TOKENS))
def test_phd08_mutated_files(data):
    _read_phd08(data)


@corpus(100, 1000)
@given(
    st.sampled_from(PHD08_FILES),
    st.sampled_from(["utf-16", "utf-16-be", "utf-32", "utf-8-sig", "cp949", "euc-kr", "cp1252"]),
    st.integers(0, 10**6),
)
def test_phd08_files_in_other_encodings_and_truncated(data, encoding, cut):
    encoded = data.decode("ascii").encode(encoding)
    _read_phd08(encoded)
    _read_phd08(data[: cut % (len(data) + 1)])


@corpus(150, 1000)
@given(
    st.one_of(st.integers(-(10**40), 10**40), st.sampled_from([0, 1, 512, 513, 2**31, 2**64])),
    st.one_of(st.integers(-(10**40), 10**40), st.sampled_from([0, 1, 512, 513, 2**31, 2**64])),
    st.integers(0, 6000),
)
def test_phd08_size_lines_with_huge_numbers(height, width, zeros):
    sample = make_phd08_bytes(1, groups=("S",), sizes=((3, 4),))
    lines = sample.split(b"\n")
    lines[1] = b"0" * zeros + str(height).encode() + b" " + str(width).encode()
    _read_phd08(b"\n".join(lines))


# --- Image uploads -------------------------------------------------------------------------------


def _photo(fmt: str, mode: str = "RGB", **options) -> bytes:
    """A small photo of a dark cross on off-white paper, saved as ``fmt`` in ``mode``."""
    image = Image.new("RGB", (48, 40), (235, 230, 215))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 8, 34, 13), fill=(20, 20, 30))
    draw.rectangle((19, 8, 24, 33), fill=(20, 20, 30))
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
    elif mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


IMAGES = [
    _photo("PNG"),
    _photo("PNG", "RGBA"),
    _photo("PNG", "L"),
    _photo("PNG", "P"),
    _photo("PNG", "I;16"),
    _photo("PNG", "1"),
    _photo("PNG", "LA"),
    _photo("JPEG"),
    _photo("JPEG", "L"),
    _photo("JPEG", "CMYK"),
    _photo("JPEG", progressive=True),
    _photo("GIF", "P"),
    _photo("WEBP"),
    _photo("WEBP", "RGBA"),
    _photo("WEBP", lossless=True),
    _photo("BMP"),
    _photo("BMP", "P"),
    _photo("BMP", "1"),
    _photo("BMP", "L"),
]
IMAGE_TOKENS = [b"\x00" * 4, b"\xff" * 4, b"\x7f\xff\xff\xff", b"\xff\xd9", b"IEND", b"IDAT"]
MAGIC = [
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"GIF87a",
    b"BM",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"RIFF\x00\x00\x00\x00WEBPVP8L",
    b"\xff\xd8\xff\xe0",
    b"\xff\xd8\xff\xe1",
    b"II*\x00",
    b"%!PS-Adobe-3.0 EPSF-3.0",
    b"<svg",
    b"",
]
# Smaller than the lab's limit, so a header claiming millions of pixels is refused before
# a long decode; the code path is the same.
MAX_PIXELS = 4_000_000


def _read_image(data: bytes, ink_light: bool = True):
    """Open and preprocess ``data``; anything but a result must be ImageRejected."""
    try:
        image = open_image(data, max_pixels=MAX_PIXELS)
        result = preprocess_image(image, (28, 28), InputStyle(ink_light=ink_light, extent=0.9))
    except ImageRejected as error:
        assert str(error)
        return
    assert result.input.shape == (28, 28) and result.input.dtype == np.uint8


def test_the_unmutated_images_are_read():
    for data in IMAGES:
        _read_image(data)  # and each of them gives a model input, not a refusal
        image = open_image(data)
        assert preprocess_image(image, (28, 28)).input.max() == 255


@corpus(600, 3000)
@given(mutated(IMAGES, IMAGE_TOKENS, keep=8, near=80), st.booleans())
def test_images_with_mutated_bytes(data, ink_light):
    _read_image(data, ink_light)


@corpus(200, 3000)
@given(st.sampled_from(MAGIC), st.binary(max_size=400))
def test_random_bytes_behind_image_signatures(magic, rest):
    _read_image(magic + rest)


def _as_data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


@corpus(200, 1000)
@given(
    st.one_of(
        st.text(max_size=200),
        st.binary(max_size=300).map(_as_data_url),
        mutated(IMAGES[:7], IMAGE_TOKENS, keep=8, near=80).map(_as_data_url),
    )
)
def test_canvas_data_urls(text):
    try:
        data = decode_data_url(text, max_bytes=10_000)
    except ImageRejected as error:
        assert str(error)
        return
    _read_image(data)
