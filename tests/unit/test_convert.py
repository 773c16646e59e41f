"""The bitmap converter: reference mode against the tutorial, default mode's geometry."""

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from classifier.ml.convert import ConversionSettings, convert_batch, convert_file
from classifier.ml.messages import Refusal
from classifier.ml.phd08 import Phd08Error, parse_phd08
from tests.support.phd08 import make_bitmap, make_phd08_bytes

REAL_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "phd08-samples"
SHAPES = [(22, 29), (30, 24), (54, 52), (18, 26), (8, 8), (5, 3), (28, 28), (60, 20)]


def tutorial_convert(bitmap: np.ndarray, height: int, width: int, sigma: float) -> np.ndarray:
    """The seed tutorial's converter, written out plainly (scipy.misc.imresize inlined)."""
    blurred = ndimage.gaussian_filter(bitmap.astype(float), sigma)
    # scipy.misc.bytescale
    cmin, cmax = blurred.min(), blurred.max()
    cscale = cmax - cmin
    if cscale == 0:
        cscale = 1
    scale = 255.0 / cscale
    bytedata = ((blurred - cmin) * scale + 0).clip(0, 255) + 0.5
    image = Image.fromarray(bytedata.astype(np.uint8))
    resized = image.resize((width, height), Image.BILINEAR)
    return np.asarray(resized).astype(np.float32)


def plain_default(bitmap: np.ndarray, height: int, width: int, sigma: float) -> np.ndarray:
    """The default mode written out step by step: pad, blur, resize, scale, round."""
    rows, cols = bitmap.shape
    scale = max(rows / height, cols / width)
    padded_rows, padded_cols = round(height * scale), round(width * scale)
    top, left = (padded_rows - rows) // 2, (padded_cols - cols) // 2
    padded = np.zeros((padded_rows, padded_cols))
    padded[top : top + rows, left : left + cols] = bitmap
    if sigma:
        padded = ndimage.gaussian_filter(padded, sigma, mode="reflect", truncate=4.0)
    image = Image.fromarray(padded.astype(np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    return np.clip(np.round(np.asarray(image) * 255), 0, 255)


def random_bitmaps(shape, count=12, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([make_bitmap(rng, *shape) for _ in range(count)])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("height", "width", "sigma"), [(28, 28, 0.3), (64, 48, 1.0), (16, 20, 0.0), (32, 32, 2.5)]
)
def test_convert_reference_matches_the_tutorial(shape, height, width, sigma):
    bitmaps = random_bitmaps(shape)
    settings = ConversionSettings(height=height, width=width, sigma=sigma, reference=True)
    images = convert_batch(bitmaps, settings)
    expected = np.stack([tutorial_convert(b, height, width, sigma) for b in bitmaps])
    assert images.dtype == np.uint8
    assert images.shape == (len(bitmaps), height, width)
    assert np.abs(images - expected).max() <= 1


def test_convert_reference_keeps_the_tutorials_flat_image_rule():
    bitmaps = np.stack([np.zeros((20, 25), np.uint8), np.ones((20, 25), np.uint8)])
    settings = ConversionSettings(reference=True)
    np.testing.assert_array_equal(convert_batch(bitmaps, settings), 0)
    for bitmap in bitmaps:
        np.testing.assert_array_equal(tutorial_convert(bitmap, 28, 28, 0.3), 0)


@pytest.mark.skipif(not (REAL_SAMPLES / "가.txt").exists(), reason="no shared PHD08 samples")
def test_convert_reference_matches_the_tutorial_on_a_real_file():
    data = (REAL_SAMPLES / "가.txt").read_bytes()
    converted = convert_file(data, "가.txt", ConversionSettings(reference=True))
    samples = parse_phd08(data, "가.txt").iter_samples()
    worst = max(
        np.abs(image - tutorial_convert(bitmap, 28, 28, 0.3)).max()
        for image, (_, bitmap) in zip(converted.images, samples, strict=True)
    )
    assert worst <= 1


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("height", "width", "sigma"), [(28, 28, 0.3), (40, 24, 1.5), (28, 28, 0)])
def test_convert_default_matches_its_step_by_step_definition(shape, height, width, sigma):
    bitmaps = random_bitmaps(shape, seed=1)
    images = convert_batch(bitmaps, ConversionSettings(height=height, width=width, sigma=sigma))
    expected = np.stack([plain_default(b, height, width, sigma) for b in bitmaps])
    assert images.dtype == np.uint8
    assert images.shape == (len(bitmaps), height, width)
    # Only float rounding differs; exact halves may round either way.
    assert np.abs(images - expected).max() <= 1


def ink_extent(image: np.ndarray, axis: int) -> tuple[int, float]:
    """How many rows (axis=1) or columns (axis=0) hold ink, and where their centre lies."""
    profile = image.astype(float).sum(axis=axis)
    inked = np.flatnonzero(profile > 0.5 * profile.max())
    centre = (profile * np.arange(len(profile))).sum() / profile.sum()
    return len(inked), centre


def test_convert_default_keeps_a_tall_bar_tall_thin_and_centred():
    bar = np.ones((1, 60, 10), np.uint8)
    image = convert_batch(bar, ConversionSettings(sigma=0))[0]
    columns, column_centre = ink_extent(image, axis=0)
    rows, row_centre = ink_extent(image, axis=1)
    assert rows == 28
    assert 4 <= columns <= 6  # 10 / 60 of 28 columns
    assert math.isclose(column_centre, 13.5, abs_tol=0.5)
    assert math.isclose(row_centre, 13.5, abs_tol=0.5)
    assert image.max() == 255


def test_convert_default_keeps_a_wide_bar_wide_thin_and_centred():
    bar = np.ones((1, 8, 48), np.uint8)
    image = convert_batch(bar, ConversionSettings(height=28, width=42, sigma=0.3))[0]
    rows, row_centre = ink_extent(image, axis=1)
    columns, _ = ink_extent(image, axis=0)
    assert columns >= 40
    assert 6 <= rows <= 8  # padded to 32 x 48, so 8 rows of 32 become 7 of 28
    assert math.isclose(row_centre, 13.5, abs_tol=0.5)


def test_convert_default_maps_background_to_0_and_solid_ink_to_255():
    blank = convert_batch(np.zeros((1, 30, 30), np.uint8), ConversionSettings())
    solid = convert_batch(np.ones((1, 30, 30), np.uint8), ConversionSettings())
    np.testing.assert_array_equal(blank, 0)
    np.testing.assert_array_equal(solid, 255)


def test_convert_default_with_sigma_0_is_a_plain_resize():
    bitmap = np.zeros((1, 28, 28), np.uint8)
    bitmap[0, 5:20, 10:12] = 1
    image = convert_batch(bitmap, ConversionSettings(sigma=0))
    np.testing.assert_array_equal(image, bitmap * 255)


def test_convert_file_converts_every_sample_in_file_order():
    sizes = ((22, 29), (30, 24), (19, 40))
    data = make_phd08_bytes(n_per_group=4, sizes=sizes)
    settings = ConversionSettings(height=32, width=24)
    converted = convert_file(data, "phd08/각.txt", settings)
    parsed = parse_phd08(data, "각.txt")
    assert converted.label == "각"
    assert converted.groups == parsed.groups
    assert converted.images.shape == (36, 32, 24)
    assert converted.images.dtype == np.uint8
    for image, (_, bitmap) in zip(converted.images, parsed.iter_samples(), strict=True):
        np.testing.assert_array_equal(image, convert_batch(bitmap[None], settings)[0])


def test_convert_file_checks_the_name_and_the_content():
    with pytest.raises(Phd08Error, match=r"such as 가\.txt"):
        convert_file(make_phd08_bytes(), "ab.txt", ConversionSettings())
    with pytest.raises(Phd08Error, match=r"가\.txt line 1: unknown or malformed header"):
        convert_file(b"hello\n", "가.txt", ConversionSettings())


def test_convert_batch_wants_a_stack_of_bitmaps():
    with pytest.raises(ValueError, match="expected a"):
        convert_batch(np.zeros((28, 28), np.uint8), ConversionSettings())


@pytest.mark.parametrize(
    "fields",
    [
        {"height": 8, "width": 256},
        {"sigma": 0},
        {"sigma": 10},
        {"sigma": 1, "reference": True},
    ],
)
def test_conversion_settings_accept_the_limits(fields):
    assert ConversionSettings(**fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"height": 7}, "image sides must be whole numbers from 8 to 256, not 7"),
        ({"width": 257}, "not 257"),
        ({"width": 28.0}, "not 28.0"),
        ({"sigma": -0.1}, "sigma must be between 0 and 10, not -0.1"),
        ({"sigma": 10.5}, "not 10.5"),
        ({"sigma": math.nan}, "not nan"),
    ],
)
def test_conversion_settings_reject_bad_values(fields, message):
    with pytest.raises(Refusal, match=message):
        ConversionSettings(**fields)
