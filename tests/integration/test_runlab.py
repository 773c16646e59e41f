"""`make run`'s server (``manage.py runlab``) stops everything it started, however
impatiently it is told to."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import psutil
import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.worker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_lab(tmp_path) -> tuple[subprocess.Popen, int]:
    """``make run``'s server on a port of its own, with the embedded defaults, once it
    says it serves."""
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
    for line in lab.stdout:
        if "Hangul Lab is at" in line:
            return lab, port
    lab.kill()
    pytest.fail("runlab never said it was serving")


def test_ctrl_c_twice_still_stops_every_process_the_lab_started(tmp_path):
    lab, _port = _start_lab(tmp_path)
    try:
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


def test_a_part_that_dies_is_started_again_and_the_lab_goes_on_serving(tmp_path):
    lab, port = _start_lab(tmp_path)
    children = psutil.Process(lab.pid).children()
    try:
        sweeper = next(child for child in children if "sweep" in child.cmdline())
        redis = next(child for child in children if _kind(child) == "redis-server")
        for part in (sweeper, redis):
            part.kill()  # as the OOM killer would
        said = []
        for line in lab.stdout:
            said.append(line)
            if sum("started again" in line for line in said) == 2:
                break
        text = "".join(said)
        assert "sweeper stopped" in text and "redis stopped" in text, text
        now = {_kind(child) for child in psutil.Process(lab.pid).children()}
        assert "redis-server" in now
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as page:
            assert json.loads(page.read())["parts"]["broker"] == "up"
    finally:
        lab.send_signal(signal.SIGINT)
        try:
            lab.wait(timeout=90)
        except subprocess.TimeoutExpired:
            lab.kill()
        for child in psutil.Process().children(recursive=True):
            if child.pid in {c.pid for c in children}:
                child.kill()
