import numpy as np
import pytest

from classifier.ml import fonts
from classifier.ml.render import RenderSettings, render_samples


@pytest.fixture(scope="module")
def two_fonts():
    found = fonts.find_hangul_fonts()
    assert len(found) >= 2
    return found[0], found[-1]


def test_render_shapes_dtype_and_range(two_fonts):
    images = render_samples("가", two_fonts[0], RenderSettings(height=32, width=24, per_font=6))
    assert images.shape == (6, 32, 24) and images.dtype == np.uint8
    assert images.max() == 255 and images.min() < 30


def test_render_is_reproducible_and_seeded(two_fonts):
    font = two_fonts[0]
    a = render_samples("밟", font, RenderSettings(per_font=5, seed=1))
    b = render_samples("밟", font, RenderSettings(per_font=5, seed=1))
    c = render_samples("밟", font, RenderSettings(per_font=5, seed=2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len({image.tobytes() for image in a}) == 5  # every sample differs


def test_render_clean_glyph_is_centred_with_dark_edges(two_fonts):
    image = render_samples("꺅", two_fonts[0], RenderSettings(per_font=1, augment=False))[0]
    assert image[0].max() == 0 and image[-1].max() == 0
    assert image[:, 0].max() == 0 and image[:, -1].max() == 0
    ys, xs = np.nonzero(image > 128)
    assert abs(ys.mean() - 13.5) < 3 and abs(xs.mean() - 13.5) < 3


def test_render_characters_and_fonts_differ(two_fonts):
    clean = RenderSettings(per_font=1, augment=False)
    first, last = two_fonts
    ga = render_samples("가", first, clean)[0].astype(int)
    na = render_samples("나", first, clean)[0].astype(int)
    other_font = render_samples("가", last, clean)[0].astype(int)
    assert np.abs(ga - na).mean() > 10
    assert np.abs(ga - other_font).mean() > 5


def test_render_settings_are_validated():
    with pytest.raises(ValueError, match="rotation_degrees"):
        RenderSettings(rotation_degrees=90)
    with pytest.raises(ValueError, match="per_font"):
        RenderSettings(per_font=0)
