"""Named character sets, and parsing the characters a person types."""

import unicodedata
from functools import cache

#: The seed tutorial's 8 characters, in its order.
TUTORIAL8 = "라호댜밟자꺅갠아"

FIRST_SYLLABLE, LAST_SYLLABLE = 0xAC00, 0xD7A3


def is_syllable(char: str) -> bool:
    """Whether ``char`` is one precomposed Hangul syllable (가 .. 힣)."""
    return len(char) == 1 and FIRST_SYLLABLE <= ord(char) <= LAST_SYLLABLE


@cache
def ks_x_1001() -> str:
    """The 2,350 syllables of KS X 1001: exactly those euc-kr encodes in two bytes.

    CPython's codec writes the other syllables as 8-byte jamo sequences (the KS X
    1001:1998 annex), so the test is the encoded length, not whether encoding fails.
    """
    syllables = (chr(code) for code in range(FIRST_SYLLABLE, LAST_SYLLABLE + 1))
    return "".join(c for c in syllables if len(c.encode("euc-kr")) == 2)


CHARSETS = {"tutorial8": lambda: TUTORIAL8, "ks2350": ks_x_1001}


def charset(name: str) -> list[str]:
    """The characters of a named set (``tutorial8`` or ``ks2350``)."""
    try:
        return list(CHARSETS[name]())
    except KeyError:
        known = ", ".join(sorted(CHARSETS))
        raise ValueError(f"There is no character set {name!r}; use one of {known}.") from None


def parse_chars(text: str) -> list[str]:
    """Typed characters -> distinct syllables in first-seen order (spaces, commas ignored).

    Input is NFC-normalised first, so decomposed jamo sequences become syllables.
    """
    text = unicodedata.normalize("NFC", text or "")
    chars = [c for c in text if not c.isspace() and c != ","]
    bad = sorted({c for c in chars if not is_syllable(c)})
    if bad:
        raise ValueError(
            f"Only Hangul syllables (가-힣) can be classes; remove: {' '.join(bad)}"
        )
    if not chars:
        raise ValueError("Give at least one Hangul syllable.")
    return list(dict.fromkeys(chars))
