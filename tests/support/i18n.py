"""Reading the Korean interface: the expected Korean is looked up in the compiled
catalogue rather than copied into the tests, and checked to be a real translation."""

import re

from django.utils import translation
from django.utils.translation import gettext

HANGUL = re.compile(r"[가-힣]")


def korean(text: str) -> str:
    """``text`` as the Korean catalogue says it, checked to be a real translation."""
    with translation.override("ko"):
        translated = gettext(text)
    assert translated != text and HANGUL.search(translated), f"{text!r} has no Korean"
    return translated
