"""Log-in limits that slow a guesser down without letting anyone lock the class out.

Failures are counted per username *and* address. After ``LAB_LOGIN_MAX_FAILURES`` of
them within ``LAB_LOGIN_WINDOW_SECONDS``, each further attempt waits
``LAB_LOGIN_FIRST_DELAY_SECONDS`` after the last failure, and the wait doubles with
every failure after that (up to the window), so a student who mistypes waits seconds
while a guesser gets a handful of tries an hour. Two wider counts stop guessing spread
over many addresses or many usernames: ``LAB_LOGIN_MAX_USER_FAILURES`` per username from
anywhere and ``LAB_LOGIN_MAX_IP_FAILURES`` per address for any username, with the same
growing waits. Neither slows an account at an address it logged in from before with
the right password (``LoginAddress``): failures typed by somebody else, for the account
or from the shared classroom address, do not keep its owner out. The address is the
client's as ``classifier.addresses`` reads it, through trusted proxies only.

Refused attempts are not failures: hammering a slowed account does not slow it further.
A right password forgets that username's failures from that address.

The counts are rows in the database (``LoginFailure``), not a per-process cache, so the
limits hold across every gunicorn worker and web machine, and while Redis is down. An
attempt writes its row *before* the password is checked, and then counts, so that many
attempts sent at once, to any number of processes, cannot all slip in under a limit (at
worst, attempts racing for the last place are all refused); a refused attempt takes its
row back.
"""

import math
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import ngettext

from .addresses import client_address
from .models import LoginAddress, LoginFailure

#: The error code of a refused attempt (the view answers it with HTTP 429).
RATE_LIMITED = "rate_limited"

_USERNAME_LENGTH = LoginFailure._meta.get_field("username").max_length
_ADDRESS_LENGTH = LoginFailure._meta.get_field("address").max_length


def delay_after(extra: int, window: timedelta) -> timedelta:
    """The wait after the last failure once ``extra`` failures went past a limit (0 is
    the first): the first delay, doubled for each one since, and never above the window."""
    first = timedelta(seconds=settings.LAB_LOGIN_FIRST_DELAY_SECONDS)
    return min(window, first * 2 ** min(extra, 32))


def _wait(failures: QuerySet, limit: int, now: datetime, window: timedelta) -> float:
    """Seconds until these failures let one more attempt through (0 or less: now)."""
    count = failures.count()
    if count < limit:
        return 0
    last = failures.aggregate(last=Max("at"))["last"]
    return (last + delay_after(count - limit, window) - now).total_seconds()


class LoginAttempt:
    """One log-in attempt for ``username`` from ``request``'s client, counted at once."""

    def __init__(self, request, username: str):
        window = timedelta(seconds=settings.LAB_LOGIN_WINDOW_SECONDS)
        now = timezone.now()
        LoginFailure.objects.filter(at__lte=now - window).delete()  # counted no more
        self.username = username[:_USERNAME_LENGTH]
        self.address = client_address(request)[:_ADDRESS_LENGTH]
        self.row = LoginFailure.objects.create(username=self.username, address=self.address)
        earlier = LoginFailure.objects.filter(at__gt=now - window).exclude(pk=self.row.pk)
        counts = [
            (
                earlier.filter(username=self.username, address=self.address),
                settings.LAB_LOGIN_MAX_FAILURES,
            )
        ]
        if not self.known_address():
            counts.append(
                (earlier.filter(username=self.username), settings.LAB_LOGIN_MAX_USER_FAILURES)
            )
            if self.address:
                counts.append(
                    (earlier.filter(address=self.address), settings.LAB_LOGIN_MAX_IP_FAILURES)
                )
        wait = max(_wait(failures, limit, now, window) for failures, limit in counts)
        #: Whole seconds until this attempt could have gone on; 0 when it goes on now.
        self.retry_after = math.ceil(wait) if wait > 0 else 0
        if self.refused:  # a refused attempt checks no password, so it is no failure
            self.row.delete()

    def known_address(self) -> bool:
        """Whether the account logged in from this address before."""
        return bool(self.address) and (
            LoginAddress.objects.filter(user__username=self.username, address=self.address).exists()
        )

    @property
    def refused(self) -> bool:
        return self.retry_after > 0

    def succeeded(self, user):
        """The password was right: forget the username's failures from this address,
        and remember the address as one ``user`` logs in from."""
        LoginFailure.objects.filter(username=self.username, address=self.address).delete()
        if self.address:
            LoginAddress.objects.update_or_create(
                user=user, address=self.address, defaults={"last_at": timezone.now()}
            )

    def refusal_message(self) -> str:
        if self.retry_after < 60:
            return ngettext(
                "Too many failed log-ins for this account or from this address. "
                "Try again in %(seconds)d second.",
                "Too many failed log-ins for this account or from this address. "
                "Try again in %(seconds)d seconds.",
                self.retry_after,
            ) % {"seconds": self.retry_after}
        minutes = math.ceil(self.retry_after / 60)
        return ngettext(
            "Too many failed log-ins for this account or from this address. "
            "Try again in %(minutes)d minute.",
            "Too many failed log-ins for this account or from this address. "
            "Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


class RateLimitedLoginMixin:
    """For an ``AuthenticationForm``: refuse a slowed-down attempt before the password is
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
        attempt.succeeded(self.get_user())
        return cleaned


class RateLimitedAuthenticationForm(RateLimitedLoginMixin, AuthenticationForm):
    """The log-in page's form."""


class RateLimitedAdminAuthenticationForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    """The admin site's log-in form: the same limits, so it is no way around them."""
