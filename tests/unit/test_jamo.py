"""Taking Hangul syllables apart into their jamo, and putting them back together."""

import pytest

from classifier.ml import jamo


def test_every_syllable_round_trips_through_its_jamo():
    syllables = [chr(code) for code in range(jamo.FIRST_SYLLABLE, jamo.LAST_SYLLABLE + 1)]
    assert len(syllables) == 11_172
    for char in syllables:
        parts = jamo.decompose(char)
        assert parts.char == char
        assert jamo.compose(parts.initial, parts.medial, parts.final) == char


@pytest.mark.parametrize(
    ("char", "letters", "layout"),
    [
        ("가", ("ㄱ", "ㅏ", ""), "vertical"),
        ("밟", ("ㅂ", "ㅏ", "ㄼ"), "vertical"),
        ("호", ("ㅎ", "ㅗ", ""), "horizontal"),
        ("꺅", ("ㄲ", "ㅑ", "ㄱ"), "vertical"),
        ("권", ("ㄱ", "ㅝ", "ㄴ"), "combined"),
        ("의", ("ㅇ", "ㅢ", ""), "combined"),
        ("힣", ("ㅎ", "ㅣ", "ㅎ"), "vertical"),
        ("흙", ("ㅎ", "ㅡ", "ㄺ"), "horizontal"),
    ],
)
def test_a_syllable_names_its_jamo_and_layout(char, letters, layout):
    parts = jamo.decompose(char)
    assert parts.jamo == letters
    assert parts.layout == layout


@pytest.mark.parametrize("char", ["A", "ㄱ", "가나", "", "\uac00\u0301", chr(0xD7A4)])
def test_anything_but_one_syllable_has_no_jamo(char):
    assert jamo.decompose(char) is None


def test_compose_refuses_jamo_out_of_range():
    with pytest.raises(ValueError, match="No syllable"):
        jamo.compose(19, 0)
    assert jamo.compose(18, 20, 27) == "힣"
