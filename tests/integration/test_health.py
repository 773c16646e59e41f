"""/healthz with the lab's real workers running: each queue's worker is seen."""

import json

import pytest

pytestmark = pytest.mark.worker


def test_healthz_sees_a_worker_for_each_queue(worker, train_worker, client, settings, broker_url):
    settings.CELERY_BROKER_URL = broker_url
    parts = json.loads(client.get("/healthz").content)["parts"]
    assert parts["broker"] == "up"
    assert parts["worker-train"] == parts["worker-data"] == parts["worker-predict"] == "up"
