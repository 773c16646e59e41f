"""A request waits for its prediction on the broker's word (services.broker.notify and
wait_for), whichever side comes first, and never longer than it was told."""

import threading
import time

from classifier.services import broker


def test_a_signal_sent_before_the_wait_is_not_missed(settings, private_broker):
    settings.CELERY_BROKER_URL = private_broker.url
    broker.notify("lab:test-signal")
    started = time.monotonic()
    assert broker.wait_for("lab:test-signal", 30)
    assert time.monotonic() - started < 5
    assert not broker.wait_for("lab:test-signal", 0.2), "a signal is taken once"


def test_a_waiter_wakes_when_the_signal_comes(settings, private_broker):
    settings.CELERY_BROKER_URL = private_broker.url
    later = threading.Timer(0.5, broker.notify, args=["lab:test-later"])
    later.start()
    started = time.monotonic()
    assert broker.wait_for("lab:test-later", 30)
    assert 0.4 < time.monotonic() - started < 20
    later.join()


def test_without_a_signal_or_a_broker_the_wait_ends_on_time(settings, private_broker, tmp_path):
    settings.CELERY_BROKER_URL = private_broker.url
    started = time.monotonic()
    assert not broker.wait_for("lab:never", 0.5)
    assert time.monotonic() - started < 10
    settings.CELERY_BROKER_URL = f"redis+socket://{tmp_path / 'none.sock'}"
    broker.notify("lab:never")  # logged, not raised
    assert not broker.wait_for("lab:never", 0.5)
