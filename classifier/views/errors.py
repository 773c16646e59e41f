"""The error pages: what happened and what to do, in the lab's look and the reader's
language (Django's own are bare English). 500 is a static template, ``500.html``: it is
drawn without a request or the database, either of which may be what failed."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _


def _error_page(status: int, heading, explanation, *, exception_explains=False):
    """A view for the ``status`` page; with ``exception_explains``, the lab's own refusals
    (``PermissionDenied("why")``, already in the reader's language) replace the text."""

    def view(request, exception=None, reason=""):
        said = str(exception or "") if exception_explains else ""
        context = {"heading": heading, "explanation": said or explanation}
        return render(request, "error.html", context, status=status)

    return view


bad_request = _error_page(
    400,
    _("Bad request"),
    _("The lab could not read what your browser sent. Reload the page and try again."),
)
permission_denied = _error_page(
    403,
    _("Not allowed"),
    _(
        "Your account may not do this. Instructors and admins can; ask yours if you think "
        "you should."
    ),
    exception_explains=True,
)
page_not_found = _error_page(
    404,
    _("Not found"),
    _(
        "There is nothing here for you: the page does not exist, it was deleted, or it "
        "belongs to someone else."
    ),
)
csrf_failure = _error_page(
    403,
    _("The form expired"),
    _(
        "The page was open too long, or you logged in or out in another tab, so the lab "
        "could not be sure the form came from you. Go back, reload the page and send it "
        "again; what you typed may need typing again."
    ),
)
