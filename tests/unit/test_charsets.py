import unicodedata

import pytest

from classifier.ml import charsets


def test_charsets_ks_x_1001_is_the_euc_kr_syllables():
    chars = charsets.ks_x_1001()
    assert len(chars) == 2350
    assert chars[0] == "가" and chars[-1] == "힝"
    assert all(c in chars for c in charsets.TUTORIAL8)
    assert "똠" not in chars  # a real syllable that KS X 1001 lacks
    assert list(chars) == sorted(chars)


def test_charsets_named_sets():
    assert charsets.charset("tutorial8") == list("라호댜밟자꺅갠아")
    assert len(charsets.charset("ks2350")) == 2350
    with pytest.raises(ValueError, match="ks2350, tutorial8"):
        charsets.charset("all")


def test_charsets_parse_chars_normalises_and_deduplicates():
    typed = unicodedata.normalize("NFD", "가 나, 가다")
    assert charsets.parse_chars(typed) == ["가", "나", "다"]


@pytest.mark.parametrize("text", ["가A", "가ㄱ", "가1"])
def test_charsets_parse_chars_names_what_is_not_a_syllable(text):
    with pytest.raises(ValueError, match=text[-1]):
        charsets.parse_chars(text)


def test_charsets_parse_chars_needs_something():
    with pytest.raises(ValueError, match="at least one"):
        charsets.parse_chars(" , ")
