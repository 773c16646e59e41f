"""Login rate limiting: too many failed log-ins for one username, or from one address.

After ``LAB_LOGIN_MAX_FAILURES`` failures for a username, or ``LAB_LOGIN_MAX_IP_FAILURES``
from one client address, within ``LAB_LOGIN_WINDOW_SECONDS``, further attempts are
refused with a message saying when to try again, and the password is not even checked,
until the window that began with the first failure has passed. A successful log-in
clears its username's count (not the address's: one address may be a whole classroom
behind NAT, so only its failures count, and its limit is higher).

The counts live in Django's cache. With the default local-memory cache each web process
counts on its own, so N gunicorn workers allow up to N times the limit; a shared cache
(``CACHES`` on Redis) makes the limits exact. Any cache backend works.

An attempt reserves its place in the counts (an atomic increment) *before* the password
is checked, so that many attempts sent at once cannot all slip in under the limit; a
successful one gives its place back.
"""

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils.translation import ngettext

#: The error code of a refused attempt (the view answers it with HTTP 429).
RATE_LIMITED = "rate_limited"


def _key(kind: str, value: str, part: str) -> str:
    # Hashed: cache keys must be short and free of spaces and control characters
    # (memcached), and a username may be anything.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"lab:login:{kind}:{digest}:{part}"


def client_address(request) -> str:
    """The address the request came from, as the server saw it.

    ``X-Forwarded-For`` is not read: anyone can send it, so trusting it would let an
    attacker pick a fresh address for every guess. Behind a reverse proxy, every client
    shares the proxy's address unless the proxy is configured to set ``REMOTE_ADDR``.
    """
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


@dataclass
class _Counter:
    """Failures of one kind (``user`` or ``ip``) for one value, in a fixed window."""

    kind: str
    value: str
    limit: int

    @property
    def count_key(self) -> str:
        return _key(self.kind, self.value, "count")

    @property
    def start_key(self) -> str:
        return _key(self.kind, self.value, "start")

    def reserve(self, window: int) -> int:
        """Count one more attempt; the count including it."""
        # add() only creates the keys that are missing, so the window starts with the
        # first failure and is not stretched by later ones.
        cache.add(self.start_key, time.time(), window)
        cache.add(self.count_key, 0, window)
        try:
            return cache.incr(self.count_key)
        except ValueError:  # it expired between add() and incr()
            cache.set(self.count_key, 1, window)
            return 1

    def release(self):
        """Give back one reserved attempt."""
        with contextlib.suppress(ValueError):  # the window has passed meanwhile
            cache.decr(self.count_key)

    def clear(self):
        cache.delete_many([self.count_key, self.start_key])

    def seconds_left(self, window: int) -> int:
        start = cache.get(self.start_key)
        if start is None:
            return window
        return max(1, math.ceil(start + window - time.time()))


class LoginAttempt:
    """One log-in attempt for ``username`` from ``request``'s address, counted at once."""

    def __init__(self, request, username: str):
        self.window = settings.LAB_LOGIN_WINDOW_SECONDS
        self.counters = [_Counter("user", username, settings.LAB_LOGIN_MAX_FAILURES)]
        if address := client_address(request):
            self.counters.append(_Counter("ip", address, settings.LAB_LOGIN_MAX_IP_FAILURES))
        over = [c for c in self.counters if c.reserve(self.window) > c.limit]
        #: Seconds until this username or address may try again; 0 when it may now.
        self.retry_after = max((c.seconds_left(self.window) for c in over), default=0)

    @property
    def refused(self) -> bool:
        return self.retry_after > 0

    def succeeded(self):
        """The password was right: the username starts afresh, the address gets its place back."""
        user, *others = self.counters
        user.clear()
        for counter in others:
            counter.release()

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
