"""Finding, naming and choosing Hangul fonts: the installed ones and tiny built ones."""

import shutil
from pathlib import Path

import pytest

from classifier.ml import fonts
from classifier.ml.charsets import ks_x_1001
from classifier.ml.fonts import HangulFont
from classifier.ml.messages import Refusal
from tests.support.fonts import build_font, write_font

# Debian's packages (what `make test` installs) and the names their name tables give.
DEBIAN_FONTS = Path("/usr/share/fonts/truetype")
DEBIAN_NAMES = {
    "nanum/NanumGothic.ttf": "NanumGothic",
    "nanum/NanumGothicBold.ttf": "NanumGothic-Bold",
    # name ID 1 says "NanumSquare Bold" / "Regular"; IDs 16/17 say "NanumSquare" / "Bold".
    "nanum/NanumSquareB.ttf": "NanumSquare-Bold",
    "unfonts-core/UnBatang.ttf": "UnBatang",
    "unfonts-core/UnDinaruLight.ttf": "UnDinaru-Light",
    "baekmuk/dotum.ttf": "BaekmukDotum",
}


@pytest.fixture
def fresh_cache():
    """Each use starts and ends with nothing cached, so patched searches do not leak."""
    fonts.clear_font_cache()
    yield
    fonts.clear_font_cache()


@pytest.fixture
def installed():
    found = fonts.find_hangul_fonts()
    assert found, f"no Hangul font installed; `make test` installs them ({fonts.INSTALL_HINT})"
    return found


def test_fonts_finds_installed_hangul_fonts_with_unique_sorted_names(installed):
    names = [font.name for font in installed]
    assert len(names) == len(set(names)) and names == sorted(names)
    assert all(" " not in name for name in names)
    for font in installed:
        assert font.path.is_file()
        assert fonts.missing_chars(font, ks_x_1001()) == []


def test_fonts_names_come_from_the_name_tables(installed):
    by_path = {font.path: font.name for font in installed}
    present = {file: name for file, name in DEBIAN_NAMES.items() if (DEBIAN_FONTS / file).exists()}
    assert present, "the Debian font packages are not installed"
    for file, name in present.items():
        assert by_path[DEBIAN_FONTS / file] == name


@pytest.mark.parametrize(
    ("family", "style", "name"),
    [
        ("NanumGothic", "Regular", "NanumGothic"),
        ("Nanum Gothic", "Bold", "NanumGothic-Bold"),
        ("Un Batang", "Book", "UnBatang"),
        ("Noto Sans CJK KR", "Medium", "NotoSansCJKKR"),
        ("Lab", "Normal", "Lab"),
        ("Lab", "Bold Italic", "Lab-BoldItalic"),
    ],
)
def test_fonts_name_joins_family_and_style(family, style, name):
    assert fonts.font_name(family, style) == name


def test_fonts_found_in_extra_folders_by_typographic_names(tmp_path, fresh_cache):
    legacy = write_font(tmp_path / "a" / "legacy.ttf", build_font("Lab Serif", "Bold"))
    typographic = write_font(
        tmp_path / "b" / "typo.otf",
        build_font("Lab Sans Bold", "Regular", typographic=("Lab Sans", "Bold")),
    )
    found = fonts.find_hangul_fonts([tmp_path])
    assert HangulFont("LabSerif-Bold", "Lab Serif", "Bold", legacy, 0) in found
    assert HangulFont("LabSans-Bold", "Lab Sans", "Bold", typographic, 0) in found
    assert [font.name for font in found] == sorted(font.name for font in found)


def test_fonts_without_every_ks_x_1001_syllable_are_left_out(tmp_path, fresh_cache):
    write_font(tmp_path / "partial.ttf", build_font("Partial", chars=ks_x_1001()[:-1]))
    (tmp_path / "broken.ttf").write_bytes(b"\x00\x01\x00\x00 and then garbage")
    write_font(tmp_path / "full.ttf", build_font("Full"))
    names = {font.name for font in fonts.find_hangul_fonts([tmp_path])}
    assert "Full" in names and "Partial" not in names


def test_fonts_collection_keeps_its_korean_faces(tmp_path):
    cjk = write_font(
        tmp_path / "cjk.ttc",
        build_font("Lab CJK JP"),
        build_font("Lab CJK KR"),
        build_font("Lab CJK SC"),
    )
    plain = write_font(tmp_path / "plain.ttc", build_font("Lab One"), build_font("Lab Two"))
    assert fonts.resolve_fonts([str(cjk)]) == [
        HangulFont("LabCJKKR", "Lab CJK KR", "Regular", cjk, 1)
    ]
    assert [(font.name, font.index) for font in fonts.resolve_fonts([str(plain)])] == [
        ("LabOne", 0),
        ("LabTwo", 1),
    ]


def test_fonts_scans_the_font_folders_without_fontconfig(tmp_path, monkeypatch, fresh_cache):
    path = write_font(tmp_path / "deep" / "er" / "lab.ttf", build_font("Lab Scan"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(fonts, "SYSTEM_FONT_DIRS", (str(tmp_path),))
    assert fonts.find_hangul_fonts() == [HangulFont("LabScan", "Lab Scan", "Regular", path, 0)]


def test_fonts_results_are_cached_until_cleared(tmp_path, fresh_cache):
    write_font(tmp_path / "one.ttf", build_font("Lab One"))
    first = fonts.find_hangul_fonts([tmp_path])
    write_font(tmp_path / "two.ttf", build_font("Lab Two"))
    assert fonts.find_hangul_fonts([tmp_path]) == first
    fonts.clear_font_cache()
    assert len(fonts.find_hangul_fonts([tmp_path])) == len(first) + 1


def test_fonts_resolve_by_name_any_case_and_by_path(installed, tmp_path):
    first, last = installed[0], installed[-1]
    assert fonts.resolve_fonts([first.name.upper()]) == [first]
    assert fonts.resolve_fonts([f" {last.name.lower()} ", str(first.path), first.name]) == [
        last,
        first,
    ]
    built = write_font(tmp_path / "built.ttf", build_font("Lab Built"))
    assert fonts.resolve_fonts([str(built)]) == [
        HangulFont("LabBuilt", "Lab Built", "Regular", built, 0)
    ]
    assert fonts.resolve_fonts([]) == installed


def test_fonts_resolve_a_relative_path_to_an_absolute_one(tmp_path, monkeypatch):
    built = write_font(tmp_path / "sub" / "built.ttf", build_font("Lab Built"))
    monkeypatch.chdir(tmp_path)
    assert [font.path for font in fonts.resolve_fonts(["sub/built.ttf"])] == [built]


def test_fonts_unknown_name_lists_the_installed_ones(installed):
    with pytest.raises(Refusal, match="Unknown font 'NoSuchFont'") as error:
        fonts.resolve_fonts([installed[0].name, "NoSuchFont"])
    assert all(font.name in str(error.value) for font in installed)


def test_fonts_rejects_files_that_are_not_hangul_fonts(tmp_path):
    text = tmp_path / "fake.ttf"
    text.write_text("not a font")
    with pytest.raises(Refusal, match=r"fake\.ttf is not a Hangul font: it cannot be read"):
        fonts.resolve_fonts([str(text)])
    latin = write_font(tmp_path / "latin.ttf", build_font("Lab Latin", chars="abc"))
    with pytest.raises(Refusal, match=r"latin\.ttf is not a Hangul font: it lacks glyphs"):
        fonts.resolve_fonts([str(latin)])


def test_fonts_without_any_installed_say_how_to_install(monkeypatch):
    monkeypatch.setattr(fonts, "find_hangul_fonts", lambda extra_dirs=(): [])
    for specs in ([], ["NanumGothic"]):
        with pytest.raises(Refusal) as error:
            fonts.resolve_fonts(specs)
        assert fonts.INSTALL_HINT in str(error.value)
    assert fonts.INSTALL_HINT == "sudo apt-get install fonts-nanum fonts-unfonts-core fonts-baekmuk"
    assert fonts.plot_font() is None


def test_fonts_plot_font_prefers_nanum_gothic_then_a_regular_sans(installed, monkeypatch):
    if any(font.name == "NanumGothic" for font in installed):
        assert fonts.plot_font().name == "NanumGothic"
    else:
        assert fonts.plot_font() in installed

    def face(family, style="Regular"):
        return HangulFont(fonts.font_name(family, style), family, style, Path("x.ttf"), 0)

    serif, bold_sans, sans = face("A Myeongjo"), face("B Dotum", "Bold"), face("C Sans")
    monkeypatch.setattr(fonts, "find_hangul_fonts", lambda: [serif, bold_sans, sans])
    assert fonts.plot_font() == sans
    monkeypatch.setattr(fonts, "find_hangul_fonts", lambda: [serif, bold_sans])
    assert fonts.plot_font() == bold_sans
    monkeypatch.setattr(fonts, "find_hangul_fonts", lambda: [serif])
    assert fonts.plot_font() == serif


def test_fonts_missing_chars_reads_the_cmap(installed, tmp_path):
    assert fonts.missing_chars(installed[0], "가나😀가똠") in (["😀"], ["😀", "똠"])
    built = write_font(tmp_path / "built.ttf", build_font("Lab Built", chars="ab"))
    font = HangulFont("LabBuilt", "Lab Built", "Regular", built, 0)
    assert fonts.missing_chars(font, "a가b나") == ["가", "나"]
