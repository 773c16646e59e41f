"""Rendering glyphs into training images: shape, geometry, augmentation, reproducibility."""

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from classifier.ml import fonts
from classifier.ml.charsets import TUTORIAL8
from classifier.ml.fonts import HangulFont
from classifier.ml.messages import Refusal
from classifier.ml.render import RenderSettings, render_samples
from tests.support.fonts import build_font, write_font

REPO = Path(__file__).resolve().parents[2]
CLEAN = RenderSettings(per_font=1, augment=False, style="print")
# The print style: the font's own glyph, with the original augmentations only.
NO_JITTER = RenderSettings(
    per_font=8,
    style="print",
    rotation_degrees=0,
    scale_jitter=0,
    shift_jitter=0,
    elastic_alpha=0,
    stroke_jitter=0,
    blur_sigma_max=0,
    noise_std=0,
)
# Only the geometric jitter, so that shapes can be measured exactly.
GEOMETRY_ONLY = replace(
    NO_JITTER, per_font=40, rotation_degrees=8, scale_jitter=0.12, shift_jitter=0.08
)


@pytest.fixture(scope="module")
def two_fonts() -> tuple[HangulFont, HangulFont]:
    """A gothic and a serif face when installed (they differ most), else the first and last."""
    found = fonts.find_hangul_fonts()
    assert len(found) >= 2, f"`make test` installs Hangul fonts ({fonts.INSTALL_HINT})"
    by_name = {font.name: font for font in found}
    if "NanumGothic" in by_name and "UnBatang" in by_name:
        return by_name["NanumGothic"], by_name["UnBatang"]
    return found[0], found[-1]


@pytest.fixture(scope="module")
def box_font(tmp_path_factory) -> HangulFont:
    """A built font that draws every syllable as a rectangle 400 wide and 800 tall."""
    path = tmp_path_factory.mktemp("fonts") / "box.ttf"
    write_font(path, build_font("Lab Box", box=(100, 0, 500, 800)))
    return HangulFont("LabBox", "Lab Box", "Regular", path, 0)


def ink_box(image: np.ndarray, level: int = 127) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the pixels brighter than ``level``, inclusive."""
    rows, cols = np.nonzero(image > level)
    return rows.min(), rows.max(), cols.min(), cols.max()


def ink_centre(image: np.ndarray) -> tuple[float, float]:
    """The ink's centre of mass, (row, column), in pixel-centre coordinates."""
    weights = image.astype(float)
    rows, cols = np.indices(image.shape)
    return (rows * weights).sum() / weights.sum(), (cols * weights).sum() / weights.sum()


def aligned_distance(image: np.ndarray, reference: np.ndarray, reach: int = 3) -> float:
    """The mean absolute difference of ``image`` and ``reference`` at their best shift."""
    return min(
        np.abs(np.roll(image, (dy, dx), axis=(0, 1)) - reference).mean()
        for dy in range(-reach, reach + 1)
        for dx in range(-reach, reach + 1)
    )


@pytest.mark.parametrize(("height", "width"), [(28, 28), (32, 24), (20, 40), (64, 64)])
@pytest.mark.parametrize("augment", [True, False])
def test_render_shape_dtype_and_range(two_fonts, height, width, augment):
    settings = RenderSettings(height=height, width=width, per_font=6, augment=augment)
    images = render_samples("가", two_fonts[0], settings)
    assert images.shape == (6, height, width) and images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    # Plenty of ink; a fine-liner pen of the handwriting style draws less of it.
    least = 0.05 if not augment else 0.03
    for image in images:
        assert (image > 128).sum() > least * min(height, width) ** 2


def test_render_is_reproducible_and_seeded(two_fonts):
    font = two_fonts[0]
    a = render_samples("밟", font, RenderSettings(per_font=5, seed=1))
    assert np.array_equal(a, render_samples("밟", font, RenderSettings(per_font=5, seed=1)))
    assert not np.array_equal(a, render_samples("밟", font, RenderSettings(per_font=5, seed=2)))
    assert len({image.tobytes() for image in a}) == 5  # every sample differs


def test_render_does_not_depend_on_what_was_rendered_before(two_fonts):
    settings = RenderSettings(per_font=4, seed=7)
    alone = render_samples("꺅", two_fonts[1], settings)
    for char in TUTORIAL8:
        for font in two_fonts:
            render_samples(char, font, settings)
    assert np.array_equal(render_samples("꺅", two_fonts[1], settings), alone)


def test_render_is_the_same_in_another_process(two_fonts):
    font, settings = two_fonts[0], RenderSettings(per_font=8, seed=3)
    here = hashlib.sha256(render_samples("갠", font, settings).tobytes()).hexdigest()
    script = (
        "import hashlib; from pathlib import Path\n"
        "from classifier.ml.fonts import HangulFont\n"
        "from classifier.ml.render import RenderSettings, render_samples\n"
        f"font = HangulFont({font.name!r}, {font.family!r}, {font.style!r}, "
        f"Path({str(font.path)!r}), {font.index})\n"
        "images = render_samples('갠', font, RenderSettings(per_font=8, seed=3))\n"
        "print(hashlib.sha256(images.tobytes()).hexdigest())\n"
    )
    # Another string-hash salt: nothing may hang on Python's hash().
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    there = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert there == here


def test_render_clean_glyph_is_centred_with_dark_edges(two_fonts):
    for font in two_fonts:
        images = render_samples("꺅", font, replace(CLEAN, per_font=3))
        assert all(np.array_equal(image, images[0]) for image in images)
        image = images[0]
        assert image[:2].max() == 0 and image[-2:].max() == 0
        assert image[:, :2].max() == 0 and image[:, -2:].max() == 0
        assert image[10:18, 10:18].max() > 128  # ink in the middle
        top, bottom, left, right = ink_box(image, 0)
        assert abs((top + bottom) / 2 - 13.5) <= 0.5 and abs((left + right) / 2 - 13.5) <= 0.5


@pytest.mark.parametrize(("height", "width"), [(28, 28), (28, 56), (40, 28)])
def test_render_clean_glyph_keeps_its_aspect_within_the_margin(box_font, height, width):
    # The box is twice as tall as wide: its height fills the image less the margins.
    image = render_samples("가", box_font, replace(CLEAN, height=height, width=width))[0]
    top, bottom, left, right = ink_box(image)
    fit = 0.8 * min(height / 2, width)
    assert bottom - top + 1 == pytest.approx(2 * fit, abs=1)
    assert right - left + 1 == pytest.approx(fit, abs=1)
    assert (top + bottom) / 2 == pytest.approx((height - 1) / 2, abs=0.5)
    assert (left + right) / 2 == pytest.approx((width - 1) / 2, abs=0.5)


def test_render_margin_sets_the_glyph_size(box_font):
    tight = render_samples("가", box_font, replace(CLEAN, margin=0))[0]
    top, bottom, _, _ = ink_box(tight)
    assert (top, bottom) == (0, 27)


def test_render_augmentation_with_nothing_to_vary_is_the_clean_glyph(two_fonts):
    clean = render_samples("가", two_fonts[0], CLEAN)[0]
    assert all(
        np.array_equal(image, clean) for image in render_samples("가", two_fonts[0], NO_JITTER)
    )


@pytest.mark.parametrize(
    "effect",
    [
        {"rotation_degrees": 8},
        {"scale_jitter": 0.12},
        {"shift_jitter": 0.08},
        {"elastic_alpha": 0.03},
        {"stroke_jitter": 0.03},
        {"blur_sigma_max": 0.025},
        {"noise_std": 6},
    ],
)
def test_render_each_augmentation_varies_the_samples_a_little(two_fonts, effect):
    clean = render_samples("가", two_fonts[0], CLEAN)[0]
    images = render_samples("가", two_fonts[0], replace(NO_JITTER, **effect))
    assert sum(not np.array_equal(image, clean) for image in images) >= len(images) / 2
    for image in images:
        assert np.allclose(ink_centre(image), ink_centre(clean), atol=2.5)


def test_render_jitter_keeps_the_glyph_inside_the_image(box_font):
    wild = replace(
        GEOMETRY_ONLY, margin=0, rotation_degrees=45, scale_jitter=0.5, shift_jitter=0.25
    )
    images = render_samples("가", box_font, wild)
    frame = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], 1)
    # Only the anti-aliasing's faint edge may touch the outermost pixels.
    assert frame.max() < 64
    assert len({ink_box(image) for image in images}) > 20


def test_render_jitter_moves_the_glyph_about_the_centre(two_fonts):
    images = render_samples("아", two_fonts[0], GEOMETRY_ONLY)
    clean = ink_centre(render_samples("아", two_fonts[0], CLEAN)[0])
    offsets = np.array([ink_centre(image) for image in images]) - clean
    # Within the 8% shift plus what rotation and scaling move the ink's centre.
    assert np.abs(offsets).max() < 0.08 * 28 + 1.5
    assert np.abs(offsets).max() > 0.5


def test_render_stroke_jitter_changes_the_ink(two_fonts):
    strokes_only = replace(NO_JITTER, per_font=20, stroke_jitter=0.1)
    images = render_samples("가", two_fonts[0], strokes_only).astype(float)
    ink = images.sum(axis=(1, 2))
    assert ink.max() > 1.3 * ink.min()
    clean = render_samples("가", two_fonts[0], CLEAN)[0]
    assert all(np.allclose(ink_centre(image), ink_centre(clean), atol=0.5) for image in images)


def test_render_characters_and_fonts_differ(two_fonts):
    first, second = two_fonts
    ga = render_samples("가", first, CLEAN)[0].astype(int)
    na = render_samples("나", first, CLEAN)[0].astype(int)
    other_font = render_samples("가", second, CLEAN)[0].astype(int)
    assert np.abs(ga - na).mean() > 10
    assert np.abs(ga - other_font).mean() > 5


def test_render_augmented_samples_still_look_like_their_character(two_fonts):
    # Even a crude matcher (the clean image nearest at the best shift) tells most
    # augmented samples apart; about 97% over every installed font and a few seeds.
    font, settings = two_fonts[0], RenderSettings(per_font=20, style="print")
    clean = {char: render_samples(char, font, CLEAN)[0].astype(float) for char in "아밟꺅"}
    right = 0
    for char in clean:
        for image in render_samples(char, font, settings).astype(float):
            distances = {other: aligned_distance(image, ref) for other, ref in clean.items()}
            right += min(distances, key=distances.get) == char
    assert right >= 0.8 * 3 * settings.per_font


def test_render_refuses_what_it_cannot_draw(two_fonts):
    font = two_fonts[0]
    with pytest.raises(ValueError, match="one character at a time"):
        render_samples("가나", font, CLEAN)
    with pytest.raises(Refusal, match="no glyph for '😀'"):
        render_samples("😀", font, CLEAN)
    with pytest.raises(Refusal, match="without any ink"):
        render_samples(" ", font, CLEAN)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("height", 7),
        ("width", 257),
        ("width", 28.0),
        ("per_font", 0),
        ("seed", -1),
        ("seed", True),
        ("augment", "yes"),
        ("margin", 0.5),
        ("rotation_degrees", 90),
        ("scale_jitter", -0.1),
        ("shift_jitter", float("nan")),
        ("elastic_alpha", 1),
        ("elastic_sigma", 0),
        ("stroke_jitter", "0.1"),
        ("blur_sigma_max", 1),
        ("noise_std", 100),
    ],
)
def test_render_settings_are_validated(field, value):
    with pytest.raises(Refusal, match=f"^{field} must be"):
        RenderSettings(**{field: value})


def test_render_settings_survive_a_json_round_trip():
    settings = RenderSettings(height=32, width=24, per_font=3, seed=9, noise_std=0)
    assert RenderSettings(**json.loads(json.dumps(asdict(settings)))) == settings


def test_render_is_fast_enough(two_fonts):
    settings = RenderSettings(per_font=20, style="print")
    render_samples("가", two_fonts[0], settings)
    start = time.perf_counter()
    count = sum(len(render_samples(char, two_fonts[0], settings)) for char in TUTORIAL8)
    # About 6,000 a second on one core; this only catches a collapse.
    assert count / (time.perf_counter() - start) > 500


# --- The handwriting style ------------------------------------------------------

HANDWRITING = RenderSettings(per_font=24, seed=5)


def test_handwriting_is_the_default_style_and_print_is_the_original():
    assert RenderSettings().style == "handwriting"
    assert RenderSettings().pen_share > 0 and RenderSettings().jamo_shift > 0
    printed = RenderSettings(style="print")
    assert (printed.pen_share, printed.jamo_shift, printed.shear_degrees) == (0, 0, 0)
    original = (printed.rotation_degrees, printed.elastic_alpha, printed.stroke_jitter)
    assert original == (8, 0.03, 0.03)


def test_settings_stored_before_styles_existed_render_in_print():
    stored = {
        key: value
        for key, value in asdict(CLEAN).items()
        if key in ("height", "width", "per_font", "seed", "augment", "margin")
    }
    assert RenderSettings.from_dict(stored).style == "print"
    assert RenderSettings.from_dict(asdict(HANDWRITING)) == HANDWRITING


def test_a_glyph_is_taken_apart_into_its_jamo(two_fonts):
    from classifier.ml import pen

    for font in two_fonts:
        big = RenderSettings(height=64, width=64, per_font=1, augment=False)
        for char, count in [("밟", 3), ("호", 2), ("가", 2), ("A", 1)]:
            image = render_samples(char, font, big)[0].astype(np.float32) / 255
            parts = pen.split_parts(image, char)
            assert parts.count == count, (font.name, char)
            # Every pixel belongs to exactly one part.
            assert np.array_equal(parts.masks.sum(axis=0), np.ones(image.shape))
        parts = pen.split_parts(render_samples("밟", font, big)[0] / 255, "밟")
        (ix, iy), (mx, my), (_, fy) = parts.centres
        assert ix < mx and iy < fy and my < fy  # ㅂ left, ㅏ right, ㄼ below


@pytest.mark.parametrize("effect", ["strokes", "jamo", "pen", "geometry", "elastic", "blur_noise"])
def test_each_handwriting_effect_is_seeded_and_varies_the_samples(two_fonts, effect):
    settings = HANDWRITING.only(effect)
    font = two_fonts[1]
    images = render_samples("밟", font, settings)
    assert np.array_equal(images, render_samples("밟", font, settings))
    assert not np.array_equal(images, render_samples("밟", font, replace(settings, seed=6)))
    clean = render_samples("밟", font, CLEAN)[0]
    assert sum(not np.array_equal(image, clean) for image in images) >= len(images) / 2


@pytest.mark.parametrize("effect", ["jamo", "pen", "geometry", "elastic", "all"])
def test_each_handwriting_effect_keeps_the_glyph_inside_the_image(box_font, two_fonts, effect):
    # The widest geometry, jamo and pen ranges; the elastic distortion as the style has it
    # (an elastic field, unlike the rest, is not bounded, only small).
    wild = replace(
        HANDWRITING,
        per_font=40,
        rotation_degrees=30,
        shear_degrees=30,
        aspect_jitter=0.4,
        jamo_shift=0.15,
        jamo_scale=0.4,
        pen_width_max=0.3,
        blur_sigma_max=0,
        noise_std=0,
    )
    settings = wild if effect == "all" else wild.only(effect)
    for font, char in [(box_font, "가"), (two_fonts[0], "밟"), (two_fonts[1], "꺅")]:
        images = render_samples(char, font, settings)
        frame = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], 1)
        assert frame.max() < 64, (effect, font.name)


@pytest.mark.parametrize("effect", ["strokes", "jamo", "pen", "geometry", "elastic", "all"])
def test_each_handwriting_effect_keeps_the_character_readable(two_fonts, effect):
    # The crude matcher of the print test: the clean glyph nearest at the best shift.
    font = two_fonts[0]
    settings = HANDWRITING if effect == "all" else HANDWRITING.only(effect)
    chars = "아밟꺅호"
    clean = {char: render_samples(char, font, CLEAN)[0].astype(float) for char in chars}
    right = 0
    for char in chars:
        for image in render_samples(char, font, settings).astype(float):
            distances = {other: aligned_distance(image, ref) for other, ref in clean.items()}
            right += min(distances, key=distances.get) == char
    # All of them at once bend a glyph further than a pixel-by-pixel match can follow
    # (a person reads them: see the preview); still far above chance (a quarter).
    least = 0.4 if effect == "all" else 0.75
    assert right >= least * len(chars) * settings.per_font


def test_the_pen_draws_thin_and_thick_strokes(two_fonts):
    pen_only = HANDWRITING.only("pen")
    thin = replace(pen_only, pen_share=1, pen_width_min=0.03, pen_width_max=0.03, pressure_jitter=0)
    thick = replace(thin, pen_width_min=0.12, pen_width_max=0.12)
    ink = {
        name: render_samples("가", two_fonts[1], settings).astype(float).sum(axis=(1, 2))
        for name, settings in [("thin", thin), ("thick", thick)]
    }
    assert ink["thick"].min() > 1.8 * ink["thin"].max()


def test_effect_previews_show_each_effect_the_settings_use(two_fonts):
    from classifier.ml.render import effect_previews

    rows = effect_previews("밟", two_fonts[0], HANDWRITING, count=3)
    assert [effect for effect, _ in rows] == [
        "clean",
        "strokes",
        "jamo",
        "pen",
        "geometry",
        "elastic",
        "blur_noise",
        "all",
    ]
    assert all(images.shape == (3, 28, 28) for _, images in rows)
    print_style = RenderSettings(style="print")
    printed = [effect for effect, _ in effect_previews("밟", two_fonts[0], print_style)]
    assert printed == ["clean", "strokes", "geometry", "elastic", "blur_noise", "all"]
    assert [effect for effect, _ in effect_previews("밟", two_fonts[0], CLEAN)] == ["clean"]
