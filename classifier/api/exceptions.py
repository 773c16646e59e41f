"""The API's one handler for refusals: a service's ``Refusal`` answers with its reason in
the caller's language. A plain refusal is a 400 whose ``non_field_errors`` give the
reason, as a form's own errors are; a ``NotAllowed`` one is a 403, a ``Missing`` one a
404, a ``Conflict`` a 409 and a ``TooOften`` a 429 with Retry-After, each with the reason
as ``detail``. Every other exception goes to DRF's handler (and a bug to a 500)."""

from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from ..i18n import describe
from ..ml.messages import Conflict, Missing, NotAllowed, Refusal, TooOften


class ConflictError(exceptions.APIException):
    """409: the request is well formed, but the state of what it acts on forbids it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: refusals as 400, 403, 404, 409 or 429, the rest as DRF
    answers them."""
    if isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(describe(exc))
    elif isinstance(exc, Missing):
        exc = exceptions.NotFound(describe(exc))
    elif isinstance(exc, Conflict):
        exc = ConflictError(describe(exc))
    elif isinstance(exc, TooOften):
        wait = exc.retry_after
        exc = exceptions.Throttled(detail=describe(exc))  # the reason already says when
        exc.wait = wait  # for the Retry-After header
    elif isinstance(exc, Refusal):
        exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [describe(exc)]})
    return drf_exception_handler(exc, context)
