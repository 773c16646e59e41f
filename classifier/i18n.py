"""What ``classifier.ml`` says, in the reader's language.

``classifier.ml`` writes its messages as :class:`~classifier.ml.messages.Message`
(English text that remembers its template and values). These helpers look the template
up in the active language's catalogue, and store a message so that it can be looked up
again later, in whichever language the next reader chose.

A value of a message may itself be a message (``"%(name)s line %(line)d: %(problem)s"``
with the problem as a message of its own): it is translated too, and stored as
``{"template": ..., "params": ...}``.
"""

import numbers
import re

from django.conf import settings
from django.utils.translation import get_language, gettext

from .ml.messages import Message


def translate(text) -> str:
    """``text`` in the active language; text without a catalogue entry stays as it is.

    ``text`` may be a :class:`Message`, a message kept by :func:`stored_message`, or text.
    """
    if not text:
        return ""
    if isinstance(text, Message):
        return translate_stored(text.template, text.params)
    if _is_stored_message(text):
        return translate_stored(text["template"], text["params"])
    return gettext(str(text))


def describe(exc: BaseException) -> str:
    """What ``exc`` says, in the active language: for form errors and pages."""
    return translate(message_of(exc))


def message_of(exc: BaseException):
    """What ``exc`` says: the :class:`Message` it was raised with, or its text.

    ``str(exc)`` would turn a Message into plain English text; the first argument keeps it.
    """
    if exc.args and isinstance(exc.args[0], Message):
        return exc.args[0]
    return str(exc)


def translate_stored(template: str, params: dict | None) -> str:
    """A message kept as its template and values, in the active language."""
    if not template:
        return ""
    translated = gettext(template)
    if not params:
        return translated
    values = {name: _translated_value(value) for name, value in params.items()}
    try:
        return translated % values
    except (KeyError, TypeError, ValueError):
        # A translation whose placeholders do not match its template: the English
        # template was filled in when the message was made, so it fits.
        return template % values


def _translated_value(value):
    # Other values (a file name, a number) are shown as they are.
    return translate(value) if isinstance(value, Message) or _is_stored_message(value) else value


def _is_stored_message(value) -> bool:
    return isinstance(value, dict) and value.keys() == {"template", "params"}


def stored(text) -> tuple[str, dict]:
    """``text`` as the template and values to keep in the database (as JSON)."""
    if isinstance(text, Message):
        return text.template, {name: _stored_value(value) for name, value in text.params.items()}
    return str(text), {}


def stored_message(text) -> dict:
    """``text`` as one JSON value that :func:`translate` reads back in any language."""
    template, params = stored(text)
    return {"template": template, "params": params}


def _stored_value(value):
    if isinstance(value, Message):
        return stored_message(value)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    # Anything else JSON cannot hold (a path, say) is kept as its text.
    return str(value)


def language() -> str:
    """The active language's code, safe in a file name (``ko``, ``en``): cached figures
    are drawn once per language."""
    code = (get_language() or settings.LANGUAGE_CODE).lower()
    return re.sub(r"[^a-z0-9-]", "", code) or "en"
