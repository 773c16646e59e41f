"""Messages for people, written in English and translatable by the web layer.

``classifier.ml`` knows nothing of Django, yet what it says (why an image was rejected,
why a layer spec is wrong) reaches Korean students. So a message is written once, as a
``%(name)s`` template marked with ``_``, and carries its template and values beside its
English text: the web layer looks the template up in its catalogue and fills the values
in, whichever language the reader chose, and may store the template and values rather
than the English text (a job's failure reason is read later, in other languages).

    raise Refusal(_("%(token)s: use 1 to %(most)d filters.", token=token, most=64))

``_`` is the name gettext's extractor looks for, so ``manage.py makemessages`` finds
these templates as it finds the web layer's own. Services write their reasons the same
way, so a reason is worded one way wherever it comes from.
"""


class Message(str):
    """The English text of ``template % params``, remembering both."""

    template: str
    params: dict

    def __new__(cls, template: str, **params):
        text = super().__new__(cls, template % params if params else template)
        text.template = template
        text.params = params
        return text

    def __reduce__(self):
        # Celery results and pickles keep the template, not only the English text.
        return _rebuild, (self.template, self.params)


def _rebuild(template, params):
    return Message(template, **params)


_ = Message


class Refusal(Exception):
    """A request the lab will not carry out, and the reason, for the person who asked.

    Raised with a :class:`Message`. Every edge (pages, the API, the admin, management
    commands) catches this and only this, and shows the reason in the reader's language;
    any other exception is a bug and is reported as one, never shown as a reason.
    """

    def __init__(self, message: Message):
        super().__init__(message)

    @property
    def message(self) -> Message:
        """What the refusal says: a :class:`Message` to translate, or to store."""
        return self.args[0]


class NotAllowed(Refusal):
    """Refused because the person asking may not do this (a submission to a course they
    are not in): the API answers 403."""


class Missing(Refusal):
    """Refused because what was asked for is not there (a figure whose data is gone):
    a page answers 404, and so does the API."""


class Conflict(Refusal):
    """Refused because of the state of what the request acts on (a job that has already
    ended, a record a course keeps): the request was well formed, and the API answers 409."""


class Busy(Refusal):
    """Refused because a part of the lab that must answer at once did not (a busy or
    unreachable worker): answered 503, and asking again later may work."""


class TooOften(Refusal):
    """Refused because the person asked for too much too quickly: pages and the API
    answer 429, with ``retry_after`` seconds in the Retry-After header."""

    def __init__(self, message: Message, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
