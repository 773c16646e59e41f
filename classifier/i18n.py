"""What ``classifier.ml`` says, in the reader's language.

``classifier.ml`` writes its messages as :class:`~classifier.ml.messages.Message`
(English text that remembers its template and values). These helpers look the template
up in the active language's catalogue, and store a message so that it can be looked up
again later, in whichever language the next reader chose.
"""

from django.utils.translation import gettext

from .ml.messages import Message


def translate(text) -> str:
    """``text`` in the active language; text without a catalogue entry stays as it is."""
    if not text:
        return ""
    if isinstance(text, Message):
        return translate_stored(text.template, text.params)
    return gettext(str(text))


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
    return translated % params if params else translated


def stored(text) -> tuple[str, dict]:
    """``text`` as the template and values to keep in the database."""
    if isinstance(text, Message):
        return text.template, text.params
    return str(text), {}
