"""The API's one handler for refusals: a service's ``Refusal`` is a 400 whose
``non_field_errors`` give the reason in the caller's language, as a form's own errors
are. Every other exception goes to DRF's handler (and a bug to a 500)."""

from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from ..i18n import describe
from ..ml.messages import Refusal


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: refusals as 400s, the rest as DRF answers them."""
    if isinstance(exc, Refusal):
        exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [describe(exc)]})
    return drf_exception_handler(exc, context)
