"""The parts of a Hangul syllable: its initial consonant, medial vowel and final consonant.

Every precomposed syllable U+AC00..U+D7A3 is ``0xAC00 + (initial * 21 + medial) * 28 +
final`` (Unicode's arithmetic, chapter 3.12), with 19 initials, 21 medials and 28 finals,
final 0 meaning none. How a syllable is laid out follows from its vowel: a *vertical*
vowel (ㅏ, ㅣ, ...) stands right of the initial, a *horizontal* one (ㅗ, ㅡ, ...) below
it, and a *combined* one (ㅘ, ㅢ, ...) wraps below and right; a final sits at the bottom.
"""

from dataclasses import dataclass

FIRST_SYLLABLE = 0xAC00
LAST_SYLLABLE = 0xD7A3
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
#: Index 0 is "no final consonant".
FINALS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")

_HORIZONTAL = frozenset("ㅗㅛㅜㅠㅡ")
_COMBINED = frozenset("ㅘㅙㅚㅝㅞㅟㅢ")


@dataclass(frozen=True)
class Syllable:
    """A syllable's jamo as indices into ``INITIALS``, ``MEDIALS`` and ``FINALS``."""

    initial: int
    medial: int
    final: int

    @property
    def jamo(self) -> tuple[str, str, str]:
        """The three parts as letters; the final is ``""`` when there is none."""
        return INITIALS[self.initial], MEDIALS[self.medial], FINALS[self.final]

    @property
    def layout(self) -> str:
        """``vertical``, ``horizontal`` or ``combined``: where the vowel stands."""
        vowel = MEDIALS[self.medial]
        if vowel in _HORIZONTAL:
            return "horizontal"
        return "combined" if vowel in _COMBINED else "vertical"

    @property
    def char(self) -> str:
        """The syllable these parts make."""
        return compose(self.initial, self.medial, self.final)


def is_syllable(char: str) -> bool:
    """Whether ``char`` is one precomposed Hangul syllable."""
    return len(char) == 1 and FIRST_SYLLABLE <= ord(char) <= LAST_SYLLABLE


def decompose(char: str) -> Syllable | None:
    """The jamo of the syllable ``char``; None for anything that is not one."""
    if not is_syllable(char):
        return None
    code = ord(char) - FIRST_SYLLABLE
    return Syllable(code // 588, code % 588 // 28, code % 28)


def compose(initial: int, medial: int, final: int = 0) -> str:
    """The syllable of the given jamo indices (ValueError when one is out of range)."""
    if not (
        0 <= initial < len(INITIALS) and 0 <= medial < len(MEDIALS) and 0 <= final < len(FINALS)
    ):
        raise ValueError(f"No syllable has jamo ({initial}, {medial}, {final}).")
    return chr(FIRST_SYLLABLE + (initial * len(MEDIALS) + medial) * len(FINALS) + final)
