"""Request rates shared by every web process, counted in the broker's Redis.

One counter per key and window ("600/minute": a window of 60 seconds), incremented and
given its expiry in one round trip, so every gunicorn worker and web machine counts
together and nothing is kept per process. Rates are written as DRF writes them: a
number per second, minute, hour or day.

When the broker does not answer within ``LAB_RATE_TIMEOUT`` seconds (down, or hung), the
request goes on and the counters are left alone for a few seconds: a limit that failed
closed would take the lab down with Redis, and a hung one would make every request
wait. /healthz reports the broker itself.

django-ratelimit does the same counting in Django's cache, but lets a Redis time-out or
refused connection out of the request as an error (it only forgives a failed DNS
lookup), which is what this module must not do.
"""

import logging
import math
import re
import time
from functools import lru_cache

import redis
from django.conf import settings

from .ml.messages import TooOften, _
from .services import broker

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"(\d+)/([smhd])[a-z]*")

#: After the broker failed to answer, how long the counters are left alone.
_REST_SECONDS = 10.0
_down_until: dict[str, float] = {}


def parse(rate: str) -> tuple[int, int]:
    """``"600/minute"`` as ``(600, 60)``: requests allowed, and the window in seconds."""
    match = _RATE.fullmatch(rate)
    if match is None:
        raise ValueError(f"{rate!r} is not a rate like 600/minute")
    return int(match[1]), _PERIODS[match[2]]


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis | None:
    # One client (and connection pool) per process and broker, shared by its threads.
    return broker.client(timeout=settings.LAB_RATE_TIMEOUT)


def count(key: str, rate: str) -> int:
    """Count one request under ``key`` against ``rate``: 0 when it may go on, else the
    whole seconds until its window ends and it may."""
    limit, period = parse(rate)
    url = settings.CELERY_BROKER_URL
    now = time.time()
    if _down_until.get(url, 0) > now:
        return 0
    client = _client(url)
    if client is None:
        return 0  # a broker that is not Redis keeps no counters
    window = int(now // period)
    name = f"lab:rate:{key}:{period}:{window}"
    try:
        done, _expiry = client.pipeline().incr(name).expire(name, period + 1).execute()
    except redis.RedisError as exc:
        _down_until[url] = now + _REST_SECONDS
        logger.warning(
            "Rate limits off for %.0f s: the broker did not answer (%s)", _REST_SECONDS, exc
        )
        return 0
    if done <= limit:
        return 0
    return max(1, math.ceil((window + 1) * period - now))


def check_work(user):
    """Count one request of ``user``'s that costs the lab work (a prediction, a
    submission, a new job, an evaluation, an export, a figure drawn for it) against
    ``LAB_WORK_RATE``; raise :class:`TooOften`, saying when to try again, beyond it."""
    _check(f"work:{user.pk}", settings.LAB_WORK_RATE)


def check_live(user):
    """Count one live reading of a drawing in progress (the Predict page asks after each
    stroke) against ``LAB_LIVE_RATE``; raise :class:`TooOften` beyond it."""
    _check(f"live:{user.pk}", settings.LAB_LIVE_RATE)


def _check(key: str, rate: str):
    wait = count(key, rate)
    if wait:
        raise TooOften(
            _(
                "You asked the lab for work more often than it allows (%(rate)s). "
                "Try again in %(seconds)d s.",
                rate=rate,
                seconds=wait,
            ),
            retry_after=wait,
        )
