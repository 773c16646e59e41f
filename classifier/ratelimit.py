"""Login rate limiting: too many failed log-ins for one username, or from one address.

After ``LAB_LOGIN_MAX_FAILURES`` failures for a username, or ``LAB_LOGIN_MAX_IP_FAILURES``
from one client address, within ``LAB_LOGIN_WINDOW_SECONDS``, further attempts are
refused with a message saying when to try again, and the password is not even checked,
until enough of those failures are older than the window. Refused attempts are not
failures: hammering a locked account does not keep it locked. A successful log-in
clears its username's count (not the address's: one address may be a whole classroom
behind NAT, so only its failures count, and its limit is higher).

The counts are rows in the database (``LoginFailure``), not a per-process cache, so the
limits hold across every gunicorn worker and web machine, and while Redis is down.

An attempt writes its row *before* the password is checked, and then counts, so that
many attempts sent at once, to any number of processes, cannot all slip in under the
limit (at worst, attempts racing for the last place are all refused); a refused or
successful attempt takes its row back.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import ngettext

from .models import LoginFailure

#: The error code of a refused attempt (the view answers it with HTTP 429).
RATE_LIMITED = "rate_limited"

_VALUE_LENGTH = LoginFailure._meta.get_field("value").max_length


def client_address(request) -> str:
    """The address the request came from, as the server saw it.

    ``X-Forwarded-For`` is not read: anyone can send it, so trusting it would let an
    attacker pick a fresh address for every guess. Behind a reverse proxy, every client
    shares the proxy's address unless the proxy is configured to set ``REMOTE_ADDR``.
    """
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


@dataclass
class _Counter:
    """The failures of one kind (username or address) for one value, and this attempt's row."""

    kind: str
    value: str
    limit: int
    row: LoginFailure | None = None

    def rows(self):
        return LoginFailure.objects.filter(kind=self.kind, value=self.value)

    def reserve(self, now, window: timedelta) -> float:
        """Write this attempt's row; the seconds until it may go on (0: it may now)."""
        self.row = LoginFailure.objects.create(kind=self.kind, value=self.value, at=now)
        earlier = list(
            self.rows()
            .filter(at__gt=now - window)
            .exclude(pk=self.row.pk)
            .order_by("at")
            .values_list("at", flat=True)
        )
        if len(earlier) < self.limit:
            return 0
        # Waits until all but limit - 1 of the earlier failures have left the window.
        return (earlier[len(earlier) - self.limit] + window - now).total_seconds()

    def take_back(self):
        if self.row is not None:
            LoginFailure.objects.filter(pk=self.row.pk).delete()
            self.row = None


class LoginAttempt:
    """One log-in attempt for ``username`` from ``request``'s address, counted at once."""

    def __init__(self, request, username: str):
        window = timedelta(seconds=settings.LAB_LOGIN_WINDOW_SECONDS)
        now = timezone.now()
        LoginFailure.objects.filter(at__lte=now - window).delete()  # counted no more
        self.counters = [
            _Counter(
                LoginFailure.Kind.USERNAME,
                username[:_VALUE_LENGTH],
                settings.LAB_LOGIN_MAX_FAILURES,
            )
        ]
        if address := client_address(request):
            self.counters.append(
                _Counter(
                    LoginFailure.Kind.ADDRESS,
                    address[:_VALUE_LENGTH],
                    settings.LAB_LOGIN_MAX_IP_FAILURES,
                )
            )
        waits = [counter.reserve(now, window) for counter in self.counters]
        #: Whole seconds until this username or address may try again; 0 when it may now.
        self.retry_after = max(1, math.ceil(max(waits))) if any(waits) else 0
        if self.refused:  # a refused attempt checks no password, so it is no failure
            for counter in self.counters:
                counter.take_back()

    @property
    def refused(self) -> bool:
        return self.retry_after > 0

    def succeeded(self):
        """The password was right: the username starts afresh, the address gets its place back."""
        user, *others = self.counters
        user.rows().delete()
        for counter in others:
            counter.take_back()

    def refusal_message(self) -> str:
        minutes = math.ceil(self.retry_after / 60)
        return ngettext(
            "Too many failed log-ins for this account or from this address. "
            "Try again in %(minutes)d minute.",
            "Too many failed log-ins for this account or from this address. "
            "Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


class RateLimitedLoginMixin:
    """For an ``AuthenticationForm``: refuse a rate-limited attempt before the password is
    checked, and count each failure. ``retry_after`` tells the view how long to wait."""

    retry_after = 0

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()  # nothing is checked, so nothing is counted
        attempt = LoginAttempt(self.request, username)
        if attempt.refused:
            self.retry_after = attempt.retry_after
            raise forms.ValidationError(attempt.refusal_message(), code=RATE_LIMITED)
        cleaned = super().clean()  # a wrong password raises: the failure stays counted
        attempt.succeeded()
        return cleaned


class RateLimitedAuthenticationForm(RateLimitedLoginMixin, AuthenticationForm):
    """The log-in page's form."""


class RateLimitedAdminAuthenticationForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    """The admin site's log-in form: the same limits, so it is no way around them."""
