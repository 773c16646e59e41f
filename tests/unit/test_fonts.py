import pytest

from classifier.ml import fonts


def test_fonts_finds_installed_hangul_fonts_with_unique_names():
    found = fonts.find_hangul_fonts()
    assert found, f"no Hangul font installed; `make test` installs them ({fonts.INSTALL_HINT})"
    names = [font.name for font in found]
    assert len(names) == len(set(names)) and names == sorted(names)
    assert all(" " not in name for name in names)


def test_fonts_resolve_by_name_any_case_and_by_path():
    first = fonts.find_hangul_fonts()[0]
    assert fonts.resolve_fonts([first.name.upper()]) == [first]
    by_path = fonts.resolve_fonts([str(first.path)])
    assert by_path[0].path == first.path
    assert fonts.resolve_fonts([]) == fonts.find_hangul_fonts()


def test_fonts_unknown_name_lists_the_installed_ones():
    with pytest.raises(ValueError) as error:
        fonts.resolve_fonts(["NoSuchFont"])
    assert "NoSuchFont" in str(error.value)
    assert fonts.find_hangul_fonts()[0].name in str(error.value)


def test_fonts_rejects_a_file_that_is_not_a_hangul_font(tmp_path):
    fake = tmp_path / "fake.ttf"
    fake.write_bytes(b"not a font")
    with pytest.raises(ValueError, match="not a font with all 2,350"):
        fonts.resolve_fonts([str(fake)])


def test_fonts_plot_font_prefers_a_gothic_face():
    font = fonts.plot_font()
    assert font is not None
    assert font in fonts.find_hangul_fonts()
