"""/healthz: each part of the lab and its state, answered quickly whatever the broker
does. (With real workers running: tests/integration/test_production_services.py.)"""

import json
import signal
import time

import pytest

from classifier.services import health
from labsite import embedded_redis

pytestmark = pytest.mark.django_db


def _parts(client) -> dict:
    response = client.get("/healthz")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    return json.loads(response.content)


def test_each_part_is_reported_and_the_sweeper_by_its_beat(client, settings, broker_url):
    from labsite.celery import app

    settings.CELERY_BROKER_URL = app.conf.broker_url = broker_url
    answer = _parts(client)
    # No worker and no sweeper run beside a unit test.
    assert answer == {
        "status": "degraded",
        "parts": {
            "web": "up",
            "database": "up",
            "broker": "up",
            "worker-train": "down",
            "worker-data": "down",
            "worker-predict": "down",
            "sweeper": "down",
        },
    }
    health.sweeper_beat()
    assert _parts(client)["parts"]["sweeper"] == "up"


def test_a_broker_that_hangs_is_reported_down_without_hanging_the_page(client, settings, tmp_path):
    broker = embedded_redis.start(tmp_path / "hung.sock", tmp_path / "hung.log")
    broker.send_signal(signal.SIGSTOP)  # accepts connections, never answers
    settings.CELERY_BROKER_URL = f"redis+socket://{tmp_path / 'hung.sock'}"
    try:
        started = time.monotonic()
        parts = _parts(client)["parts"]
        waited = time.monotonic() - started
    finally:
        broker.send_signal(signal.SIGCONT)
        broker.terminate()
        broker.wait(30)
    assert parts["broker"] == "down" and parts["worker-train"] == "unknown"
    # The probe gives up after a second; 10 s is generous for a busy machine, and short
    # of a retried probe (redis-py retries a time-out three times by default: 15 s).
    assert waited < 10
