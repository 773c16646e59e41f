"""Asking the broker directly: is it there, which jobs' messages does it hold, and has
the prediction a request waits for finished?

The lab's broker is Redis (embedded, or ``CELERY_BROKER_URL``), which kombu uses as
lists, one per queue (a queue with priorities has a list per priority step), and a hash
``unacked`` of the messages consumers took but have not acknowledged, with their
delivery times in ``unacked_index``. A message a consumer took and died with before it
wrote the hash (Redis hands it over with BRPOP, and the consumer records it a moment
later) is in neither: the job waits until the sweeper notices it is nowhere and sends it
again (``recovery.sweep``).
"""

import ast
import json
import logging
import time

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# A signal outlives its waiter's time-out by far, and expires unread when nobody waited.
SIGNAL_SECONDS = 60


def client(timeout: float) -> redis.Redis | None:
    """A Redis client for the broker with ``timeout`` seconds to connect and answer, and
    no retries (redis-py retries a time-out three times by default); None for a broker
    that is not Redis."""
    url = settings.CELERY_BROKER_URL
    options = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }
    if url.startswith("redis+socket://"):
        return redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"), **options)
    if url.startswith(("redis://", "rediss://")):
        return redis.Redis.from_url(url, **options)
    return None


def held_messages(taken_within: float) -> set[tuple[str, int]] | None:
    """``(task name, row pk)`` of every message waiting in a queue, or taken by a
    consumer less than ``taken_within`` seconds ago and not yet acknowledged (one taken
    longer ago while its row is still queued was taken by a consumer that died).

    None when the broker cannot be asked (down, or not Redis): the caller cannot tell a
    lost message from a waiting one.
    """
    broker = client(timeout=2.0)
    if broker is None:
        return None
    try:
        raw = []
        for queue in {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}:
            for key in broker.scan_iter(match=f"{queue}*", count=100):
                if broker.type(key) == b"list":
                    raw.extend(broker.lrange(key, 0, -1))
        recent = broker.zrangebyscore("unacked_index", time.time() - taken_within, "+inf")
        if recent:
            raw.extend(json.loads(entry)[0] for entry in broker.hmget("unacked", recent) if entry)
    except redis.RedisError:
        return None
    finally:
        broker.close()
    return {key for key in map(_job_of, raw) if key is not None}


def queue_length(queue: str) -> int | None:
    """Messages waiting in ``queue`` (every priority step of it); None when the broker
    cannot be asked."""
    broker = client(timeout=1.0)
    if broker is None:
        return None
    try:
        keys = [key for key in broker.scan_iter(match=f"{queue}*", count=100)]
        return sum(broker.llen(key) for key in keys if broker.type(key) == b"list")
    except redis.RedisError:
        return None
    finally:
        broker.close()


def _job_of(message) -> tuple[str, int] | None:
    """``(task name, pk)`` of one of the lab's messages (``send_task(name, args=[pk])``)."""
    try:
        if isinstance(message, bytes | str):
            message = json.loads(message)
        headers = message["headers"]
        args = ast.literal_eval(headers["argsrepr"])
        return headers["task"], int(args[0])
    except (ValueError, KeyError, TypeError, IndexError, SyntaxError):
        return None  # not one of the lab's messages


def notify(key: str, value: str = "1") -> None:
    """Tell whoever waits (or will wait) on ``key`` that it happened, with ``value``: a
    list the waiter pops, so neither side has to come first. A broker that cannot be told
    is logged: the waiter then waits out its time and the page polls."""
    broker = client(timeout=2.0)
    if broker is None:
        return
    try:
        broker.pipeline().rpush(key, value).expire(key, SIGNAL_SECONDS).execute()
    except redis.RedisError as exc:
        logger.warning("Could not signal %s to a waiting request: %s", key, exc)
    finally:
        broker.close()


def wait_for(key: str, seconds: float) -> bytes | None:
    """Wait up to ``seconds`` for ``notify(key, value)``; the value, or None when it did
    not come. The thread blocks on a socket meanwhile: no CPU, no database queries."""
    if seconds <= 0:  # Redis would read a time-out of 0 as "for ever"
        return None
    broker = client(timeout=seconds + 2.0)
    if broker is None:
        return None
    try:
        popped = broker.blpop([key], timeout=seconds)
    except redis.RedisError:
        return None
    finally:
        broker.close()
    return popped[1] if popped else None
