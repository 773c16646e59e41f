"""What ``/healthz`` reports: each part of the lab and its state, answered within about
two seconds whatever the broker does (a broker that hangs is asked with one-second
time-outs, and the workers only when it answers).

Parts: the web server (answering this), the database, the broker, a worker for each
queue (train, data, predict: asked over the broker who consumes what) and the sweeper
(whose loop touches a file under the media folder every round, a folder every process
of the lab shares, also under docker-compose).
"""

import time
from pathlib import Path

import redis
from django.conf import settings
from django.db import DatabaseError, connection

from . import broker

UP, DOWN, UNKNOWN = "up", "down", "unknown"
#: The queues a worker must consume, by the part's name.
WORKER_QUEUES = {"worker-train": "train", "worker-data": "data", "worker-predict": "predict"}
#: One second for the broker to connect and to answer.
PROBE_SECONDS = 1.0


def report() -> dict:
    """``{"status": "ok" | "degraded", "parts": {part: "up" | "down" | "unknown"}}``."""
    parts = {"web": UP, "database": _database(), "broker": _broker()}
    queues = _consumed_queues() if parts["broker"] == UP else None
    for part, queue in WORKER_QUEUES.items():
        parts[part] = UNKNOWN if queues is None else (UP if queue in queues else DOWN)
    parts["sweeper"] = _sweeper()
    return {"status": "ok" if set(parts.values()) == {UP} else "degraded", "parts": parts}


def sweeper_beat():
    """Say the sweeper is alive (its loop calls this every round)."""
    path = _sweeper_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{time.time():.0f}\n")


def _sweeper_file() -> Path:
    return Path(settings.MEDIA_ROOT) / "health" / "sweeper"


def _sweeper() -> str:
    try:
        age = time.time() - _sweeper_file().stat().st_mtime
    except FileNotFoundError:
        return DOWN
    return UP if age < 3 * settings.LAB_SWEEP_SECONDS + 5 else DOWN


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return DOWN
    return UP


def _broker() -> str:
    client = broker.client(timeout=PROBE_SECONDS)
    if client is None:
        return UNKNOWN  # a broker the lab does not know how to ask
    try:
        client.ping()
    except redis.RedisError:
        return DOWN
    finally:
        client.close()
    return UP


def _consumed_queues() -> set[str] | None:
    from labsite.celery import app

    try:
        replies = app.control.inspect(timeout=PROBE_SECONDS).active_queues() or {}
    except Exception:  # the broker went away between the two questions
        return None
    return {queue["name"] for queues in replies.values() for queue in queues}
