"""How a page shows a refusal: the one place pages catch :class:`Refusal`.

A service refuses with a reason (``Refusal``); the page shows that reason in the
reader's language, as an error message on the next page or as an error of the form the
user is filling in. Any other exception is a bug, and Django's 500 page reports it.
"""

from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404

from ..i18n import describe
from ..ml.messages import NotAllowed, Refusal


@dataclass
class Outcome:
    """What became of the block: ``reason`` is the refusal's text, "" when it went through."""

    reason: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.reason)


@contextmanager
def refusals_shown(request=None, *, form=None, field=None, level=messages.ERROR):
    """Run the block; a Refusal raised in it ends the block and its reason is shown: as a
    message of ``level`` for ``request``, or as an error of ``form`` (on ``field``; None:
    the whole form). The rest of the block (a success message, say) runs only when
    nothing was refused::

        with refusals_shown(request) as outcome:
            services.remove_student(course, student)
            messages.success(request, _("Removed."))
        if outcome.refused:
            ...
    """
    outcome = Outcome()
    try:
        yield outcome
    except Refusal as exc:
        outcome.reason = describe(exc)
        if form is not None:
            form.add_error(field, outcome.reason)
        else:
            messages.add_message(request, level, outcome.reason)


@contextmanager
def refusal_as_404():
    """Run the block; a Refusal raised in it (the file a picture is drawn from is gone,
    say) becomes a 404 page that gives the reason."""
    try:
        yield
    except Refusal as exc:
        raise Http404(describe(exc)) from None


@contextmanager
def not_allowed_as_403():
    """Run the block; a NotAllowed raised in it (the user may see this, not act on it)
    becomes a 403 page that gives the reason."""
    try:
        yield
    except NotAllowed as exc:
        raise PermissionDenied(describe(exc)) from None
