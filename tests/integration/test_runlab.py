"""`make run`'s server (``manage.py runlab``) stops everything it started, however
impatiently it is told to."""

import os
import signal
import socket
import subprocess
import sys

import psutil
import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.worker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ctrl_c_twice_still_stops_every_process_the_lab_started(tmp_path):
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "SQLITE_PATH": str(tmp_path / "lab.sqlite3"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SETTINGS_MODULE": "labsite.settings",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("CELERY_BROKER_URL", "REDIS_URL", "DATABASE_URL"):
        env.pop(name, None)  # the embedded defaults, as `make run` has them
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True, timeout=120
    )
    port = _free_port()
    lab = subprocess.Popen(
        [sys.executable, "manage.py", "runlab", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in lab.stdout:
            if "Hangul Lab is at" in line:
                break
        else:
            pytest.fail("runlab never said it was serving")
        started = psutil.Process(lab.pid).children()
        assert {"redis-server", "celery", "gunicorn"} <= {_kind(child) for child in started}
        # Ctrl-C, Ctrl-C at once, then more while the shutdown runs.
        for signum in (signal.SIGINT, signal.SIGINT, signal.SIGTERM):
            lab.send_signal(signum)
        for line in lab.stdout:
            if "Stopping" in line:
                break
        lab.send_signal(signal.SIGINT)
        lab.send_signal(signal.SIGTERM)
        lab.wait(timeout=90)
    finally:
        if lab.poll() is None:
            lab.kill()
    _, alive = psutil.wait_procs(started, timeout=10)
    left = [" ".join(p.cmdline()) for p in alive]
    for process in alive:  # not left behind by a failing run
        process.kill()
    assert not left, left


def _kind(process) -> str:
    command = " ".join(process.cmdline())
    for kind in ("redis-server", "celery", "gunicorn"):
        if kind in command:
            return kind
    return command
