"""Answers a page that was asked for too often (``TooOften``, from ``classifier.rates``)
with the 429 page: the reason in the reader's language, and when to try again."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from .i18n import describe
from .ml.messages import TooOften


class TooOftenMiddleware:
    """The pages' side of the per-user work rate; the API answers it in its exception
    handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, TooOften):
            return None
        context = {"heading": _("Too many requests"), "explanation": describe(exception)}
        response = render(request, "error.html", context, status=429)
        response["Retry-After"] = str(exception.retry_after)
        return response
