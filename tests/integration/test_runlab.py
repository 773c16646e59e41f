"""`make run`'s server (``manage.py runlab``) stops everything it started, however
impatiently it is told to."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest
import requests

from tests.support.paths import REPO
from tests.support.processes import run_python

pytestmark = pytest.mark.worker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_lab(tmp_path, *options, prepare=()) -> tuple[subprocess.Popen, int, str]:
    """``make run``'s server on a port of its own, with the embedded defaults, once it
    says it serves, and what it said until then; ``options`` go to runlab, ``prepare``
    are manage.py commands run after migrate."""
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "SQLITE_PATH": str(tmp_path / "lab.sqlite3"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SETTINGS_MODULE": "labsite.settings",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("CELERY_BROKER_URL", "REDIS_URL", "DATABASE_URL", "DEBUG"):
        env.pop(name, None)  # the embedded defaults, as `make run` has them
    for command in (["migrate", "-v0"], *prepare):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True, timeout=120
        )
    port = _free_port()
    lab = subprocess.Popen(
        [sys.executable, "manage.py", "runlab", "--port", str(port), *options],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # Unbuffered, and read a line at a time (_lines): a buffered reader would take
        # in more than the line it was asked for, which communicate() (reading the pipe
        # itself) would then never see.
        bufsize=0,
    )
    said = ""
    for line in _lines(lab):
        said += line
        if "Hangul Lab is at" in line:
            return lab, port, said
    lab.kill()
    pytest.fail("runlab never said it was serving")


def _lines(lab):
    """The lab's output, a line at a time, as it comes."""
    for line in iter(lab.stdout.readline, b""):
        yield line.decode(errors="replace")


def _stop(lab):
    """Ctrl-C, and what the lab printed since the last read."""
    lab.send_signal(signal.SIGINT)
    try:
        said, _ = lab.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        lab.kill()
        said, _ = lab.communicate()
    return said.decode(errors="replace")


def test_ctrl_c_twice_still_stops_every_process_the_lab_started(tmp_path):
    lab, _port, _ = _start_lab(tmp_path)
    try:
        started = psutil.Process(lab.pid).children()
        assert {"redis-server", "celery", "gunicorn"} <= {_kind(child) for child in started}
        # Ctrl-C, Ctrl-C at once, then more while the shutdown runs.
        for signum in (signal.SIGINT, signal.SIGINT, signal.SIGTERM):
            lab.send_signal(signum)
        for line in _lines(lab):
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
    lab, port, _ = _start_lab(tmp_path)
    children = psutil.Process(lab.pid).children()
    try:
        sweeper = next(child for child in children if "sweep" in child.cmdline())
        redis = next(child for child in children if _kind(child) == "redis-server")
        for part in (sweeper, redis):
            part.kill()  # as the OOM killer would
        said = []
        for line in _lines(lab):
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


def _when_serving(session, url, deadline=120):
    """GET ``url`` once the web server listens: runlab says where it serves as it starts
    the server, which takes a few seconds more on a busy machine."""
    give_up = time.monotonic() + deadline
    while True:
        try:
            return session.get(url, timeout=60)
        except requests.ConnectionError:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.5)


STUDENT = (
    "from django.contrib.auth.models import User; "
    "User.objects.create_user('kim', password='pw-kim-1234')"
)


def test_serving_the_classroom_network_answers_every_address_with_debug_off(tmp_path):
    """HOST=0.0.0.0 make run: the addresses students open, a QR code of the first, and
    the lab's own 403 and 404 pages (DEBUG off), with a log that reads clean."""
    lab, port, said = _start_lab(
        tmp_path,
        "--host",
        "0.0.0.0",
        prepare=[["collectstatic", "--noinput", "-v0"], ["shell", "-c", STUDENT]],
    )
    try:
        address = next(
            a.address
            for addresses in psutil.net_if_addrs().values()
            for a in addresses
            if a.family == socket.AF_INET and not a.address.startswith("127.")
        )
        base = f"http://{address}:{port}"
        session = requests.Session()
        assert _when_serving(session, f"{base}/static/css/lab.css").status_code == 200
        page = session.get(f"{base}/accounts/login/", timeout=60)
        assert page.status_code == 200
        token = session.cookies["csrftoken"]
        answer = session.post(
            page.url,
            {"username": "kim", "password": "pw-kim-1234", "csrfmiddlewaretoken": token},
            timeout=60,
        )
        assert answer.status_code == 200 and "kim" in answer.text
        missing = session.get(f"{base}/no-such-page/", timeout=60)
        forbidden = session.get(f"{base}/people/", timeout=60)
    finally:
        log = said + _stop(lab)
    assert f"http://{address}:{port}/" in log
    assert "█" in log, "no QR code of the address"
    assert missing.status_code == 404 and "Hangul Lab" in missing.text
    assert "URLconf" not in missing.text and "DEBUG = True" not in missing.text
    assert forbidden.status_code == 403 and "Hangul Lab" in forbidden.text
    assert "Not Found: /no-such-page/" in log and "Forbidden" in log
    assert "Traceback" not in log, log
    assert "superuser privileges" not in log
    assert "/static/" not in log, "an access-log line for a static file"


def test_debug_on_refuses_to_serve_the_network(tmp_path):
    result = run_python(
        "manage.py",
        "runlab",
        "--host",
        "0.0.0.0",
        "--port",
        "1",
        env={"VAR_DIR": str(tmp_path), "DEBUG": "1"},
    )
    assert result.returncode != 0
    assert "DEBUG is on" in result.stderr
