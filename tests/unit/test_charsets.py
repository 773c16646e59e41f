"""Character sets: KS X 1001, the named sets, and parsing what a person types."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifier.ml import charsets
from classifier.ml.messages import Refusal

syllables = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)


def test_charsets_ks_x_1001_is_the_two_byte_euc_kr_syllables():
    chars = charsets.ks_x_1001()
    assert len(chars) == len(set(chars)) == 2350
    assert chars[0] == "가" and chars[-1] == "힝"
    assert list(chars) == sorted(chars)
    assert all(char in chars for char in charsets.TUTORIAL8)
    # Real syllables KS X 1001 lacks (euc-kr writes them as 8-byte jamo sequences).
    assert not {"똠", "햏", "뷁", "힣"} & set(chars)
    # The set is exactly the EUC-KR Hangul block, rows 0xB0-0xC8.
    block = b"".join(bytes([row, col]) for row in range(0xB0, 0xC9) for col in range(0xA1, 0xFF))
    assert block.decode("euc-kr") == chars


def test_charsets_named_sets():
    assert charsets.TUTORIAL8 == "라호댜밟자꺅갠아"
    assert charsets.charset("tutorial8") == list("라호댜밟자꺅갠아")
    assert charsets.charset("ks2350") == list(charsets.ks_x_1001())
    with pytest.raises(Refusal, match="known sets: ks2350, tutorial8"):
        charsets.charset("all")


def test_charsets_parse_chars_normalises_and_deduplicates():
    typed = unicodedata.normalize("NFD", "가 나,\t가다\n나")
    assert typed != "가 나,\t가다\n나"  # really decomposed
    assert charsets.parse_chars(typed) == ["가", "나", "다"]


@given(st.lists(syllables, min_size=1), st.sampled_from([" ", ",", ", ", "\n", ""]))
def test_charsets_parse_chars_keeps_first_seen_order(chars, separator):
    assert charsets.parse_chars(separator.join(chars)) == list(dict.fromkeys(chars))


@pytest.mark.parametrize(
    ("text", "named"),
    [("가A", "'A'"), ("가ㄱ", "'ㄱ'"), ("가1나2", "'1' (U+0031), '2'"), ("가。", "U+3002")],
)
def test_charsets_parse_chars_names_what_is_not_a_syllable(text, named):
    with pytest.raises(Refusal, match="Only precomposed Hangul syllables") as error:
        charsets.parse_chars(text)
    assert named in str(error.value)


@pytest.mark.parametrize("text", ["", " , ", "\n\t,,"])
def test_charsets_parse_chars_needs_at_least_one(text):
    with pytest.raises(Refusal, match="at least one Hangul syllable"):
        charsets.parse_chars(text)
