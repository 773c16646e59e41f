"""Named character sets, and turning the characters a person types into class labels.

Classes are precomposed Hangul syllables (U+AC00 가 .. U+D7A3 힣). ``ks2350`` is the
2,350 syllables of KS X 1001, the set PHD08 covers and every Hangul font has glyphs for.
"""

import unicodedata
from functools import cache

from .messages import Refusal, _

#: The seed tutorial's 8 characters, in its order.
TUTORIAL8 = "라호댜밟자꺅갠아"

FIRST_SYLLABLE, LAST_SYLLABLE = 0xAC00, 0xD7A3


def is_syllable(char: str) -> bool:
    """Whether ``char`` is one precomposed Hangul syllable (가 .. 힣)."""
    return len(char) == 1 and FIRST_SYLLABLE <= ord(char) <= LAST_SYLLABLE


@cache
def ks_x_1001() -> str:
    """The 2,350 Hangul syllables of KS X 1001 (the EUC-KR set), in code point order."""
    # CPython's euc-kr codec also encodes the other 8,822 syllables, as 8-byte jamo
    # sequences (KS X 1001:1998 annex 3), so the test is a two-byte code, not success.
    syllables = map(chr, range(FIRST_SYLLABLE, LAST_SYLLABLE + 1))
    return "".join(char for char in syllables if len(char.encode("euc-kr")) == 2)


CHARSETS = {"tutorial8": TUTORIAL8, "ks2350": ks_x_1001()}


def charset(name: str) -> list[str]:
    """The characters of the set called ``name`` (a key of ``CHARSETS``), in order."""
    if name not in CHARSETS:
        known = ", ".join(sorted(CHARSETS))
        raise Refusal(
            _("There is no character set %(name)r; known sets: %(known)s.", name=name, known=known)
        )
    return list(CHARSETS[name])


def parse_chars(text: str) -> list[str]:
    """The distinct syllables of ``text`` in first-seen order; spaces and commas ignored.

    The text is NFC-normalised first, so decomposed input (as macOS and some keyboards
    produce) becomes syllables. Raises ValueError naming every character that is not a
    precomposed Hangul syllable, or when there is no character at all.
    """
    chars = [
        char for char in unicodedata.normalize("NFC", text) if not char.isspace() and char != ","
    ]
    bad = list(dict.fromkeys(char for char in chars if not is_syllable(char)))
    if bad:
        shown = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in bad)
        raise Refusal(
            _(
                "Only precomposed Hangul syllables (가 to 힣) can be classes, not %(shown)s.",
                shown=shown,
            )
        )
    if not chars:
        raise Refusal(_("Give at least one Hangul syllable, such as 가나다."))
    return list(dict.fromkeys(chars))
