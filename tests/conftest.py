"""Shared fixtures: personas, a real Redis, real Celery workers, a test's own media.

What tests import (builders, helpers) is in ``tests/support/``, not here."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from classifier.management.commands.runlab import DATA_WORKER, TRAIN_WORKER
from classifier.roles import INSTRUCTOR, STUDENT
from labsite import embedded_redis
from tests.support.paths import REPO
from tests.support.workers import TERMINAL, database_env
from tests.support.world import world_without_workers


@pytest.fixture(scope="session")
def django_db_modify_db_settings():
    """A SQLite test database of this run's own (pytest-django's hook for it), so that
    two runs on one machine, a developer's and CI's, never rebuild each other's."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        name = Path(database["TEST"]["NAME"])
        database["TEST"]["NAME"] = name.with_name(f"{name.stem}-{os.getpid()}{name.suffix}")


@pytest.fixture(autouse=True)
def _fast_and_isolated(request, tmp_path):
    """Quick password hashing, a media folder of the test's own, static files from their
    source folders, and English pages.

    Most tests read the English wording; tests marked ``korean`` keep the lab's real
    default language (Korean) and read the translation.
    """
    if not request.config.pluginmanager.hasplugin("django"):
        return  # pure classifier.ml tests, run with -p no:django
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    # The tests collect no static files: WhiteNoise serves them from the source folders.
    settings.WHITENOISE_USE_FINDERS = True
    if not request.node.get_closest_marker("korean"):
        settings.LANGUAGE_CODE = "en"
    # Rates are counted in a Redis the tests share, by user ids that recur from test to
    # test; the tests of rates (``shared_rates``) set their own.
    settings.LAB_API_RATE = settings.LAB_WORK_RATE = settings.LAB_SIGNUP_RATE = "1000000/s"
    settings.LAB_LIVE_RATE = "1000000/s"


def _make_user(username, role=None, **extra):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username, password="pw-" + username, **extra)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def student_a(db):
    return _make_user("student_a", STUDENT)


@pytest.fixture
def student_b(db):
    return _make_user("student_b", STUDENT)


@pytest.fixture
def instructor(db):
    return _make_user("instructor", INSTRUCTOR)


@pytest.fixture
def other_instructor(db):
    """An instructor who teaches none of ``instructor``'s courses."""
    return _make_user("other_instructor", INSTRUCTOR)


@pytest.fixture
def staff(db):
    return _make_user("staff", is_staff=True, is_superuser=True)


@pytest.fixture
def drawn_world(student_a, student_b, instructor, other_instructor, staff, settings):
    """The permission matrix's world (tests/support/world.py) with every persona, served by
    no worker; its figures are drawn for real (the unit tests' ``world`` stubs them)."""
    return world_without_workers(
        settings,
        student_a=student_a,
        student_b=student_b,
        instructor=instructor,
        other_instructor=other_instructor,
        staff=staff,
    )


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@dataclass
class EmbeddedRedis:
    """The tests' own Redis server, which fault tests may stop and start again."""

    folder: Path
    process: subprocess.Popen | None = None

    @property
    def url(self):
        return f"redis+socket://{self.folder / 'redis.sock'}"

    def start(self):
        self.process = embedded_redis.start(self.folder / "redis.sock", self.folder / "redis.log")

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="session")
def embedded_broker():
    """An embedded Redis on a private socket; None when REDIS_URL names a real server."""
    if os.environ.get("REDIS_URL"):
        yield None
        return
    # A short folder: Unix socket paths are limited to about 100 characters.
    redis = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="lab-redis-")))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def private_broker():
    """A Redis of this test's own, which no worker listens to: what is sent there stays."""
    redis = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="lab-redis-")))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="session")
def broker_url(embedded_broker):
    """REDIS_URL when given (a real server), else the embedded one."""
    return os.environ.get("REDIS_URL") or embedded_broker.url


@pytest.fixture
def shared_rates(settings, broker_url):
    """The broker's Redis, where ``classifier.rates`` counts, with nothing counted yet."""
    from classifier import rates
    from classifier.services import broker

    settings.CELERY_BROKER_URL = broker_url
    redis = broker.client(timeout=10)
    for key in redis.scan_iter("lab:rate:*"):
        redis.delete(key)
    rates._down_until.clear()  # asked afresh, whatever failed in an earlier test
    yield redis
    redis.close()


@dataclass
class Worker:
    process: subprocess.Popen
    media_root: Path
    log: Path
    #: How to start it again (``restart``): the command line and its environment.
    command: list
    env: dict

    def log_tail(self, lines=60):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self):
        """SIGKILL the worker and every process it started, as the OOM killer might."""
        processes = [self.process.pid, *_descendants(self.process.pid)]
        for pid in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)

    def restart(self):
        """Start the worker again (after ``kill``), with the same options and log."""
        _launch(self)

    def wait_for_log(self, text, timeout=30):
        """Wait until the worker's log shows ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in the worker log:\n{self.log_tail()}")
            time.sleep(0.1)

    def wait_for(self, obj, statuses=TERMINAL, timeout=120):
        """Poll ``obj``'s row until its status is one of ``statuses``; return it fresh."""
        return self.wait_until(obj, lambda row: row.status in statuses, timeout)

    def wait_until(self, obj, holds, timeout=120):
        """Poll ``obj``'s row until ``holds(row)``; return it fresh."""
        deadline = time.monotonic() + timeout
        while True:
            obj.refresh_from_db()
            if holds(obj):
                return obj
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{obj!r} is still {obj.status} (worker exit code "
                    f"{self.process.poll()}). Worker log:\n{self.log_tail()}"
                )
            time.sleep(0.2)


@pytest.fixture(scope="session")
def _worker_env(broker_url, django_db_setup, tmp_path_factory):
    """The environment of the test workers: this run's broker, database and media."""
    from labsite.celery import app

    app.conf.broker_url = broker_url
    # Messages left in a shared Redis by an earlier run name rows of another database.
    with app.connection_for_write() as connection:
        app.control.purge(connection=connection)
    media = tmp_path_factory.mktemp("worker-media")
    return media, {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "labsite.settings",
        "PYTHONUNBUFFERED": "1",
        **database_env(settings.DATABASES["default"]),
    }


def _start_worker(worker_env, name, options):
    """Start ``celery worker`` with ``options`` (those of `make run`) and wait until ready."""
    media, env = worker_env
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "labsite",
        "worker",
        "--loglevel",
        "INFO",
        *options[:-2],
        "-n",
        f"test-{name}-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    worker = Worker(None, media, media.parent / f"worker-{name}.log", command, env)
    _launch(worker)
    return worker


def _launch(worker):
    # Appended to, so a restarted worker's log follows the one before.
    with worker.log.open("ab") as out:
        start = out.tell()
        worker.process = subprocess.Popen(
            worker.command, cwd=REPO, env=worker.env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 90
    while b"ready." not in worker.log.read_bytes()[start:]:
        if worker.process.poll() is not None or time.monotonic() > deadline:
            worker.process.kill()
            pytest.fail(f"The Celery worker did not start:\n{worker.log_tail()}")
        time.sleep(0.2)


def _descendants(pid) -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process(pid).children(recursive=True)]


def _stop_worker(worker):
    worker.process.terminate()
    try:
        worker.process.wait(30)
    except subprocess.TimeoutExpired:
        worker.process.kill()


@pytest.fixture(scope="session")
def _data_worker(_worker_env):
    worker = _start_worker(_worker_env, "data", DATA_WORKER)
    yield worker
    _stop_worker(worker)


@pytest.fixture(scope="session")
def _train_worker(_worker_env):
    worker = _start_worker(_worker_env, "train", TRAIN_WORKER)
    yield worker
    _stop_worker(worker)


@pytest.fixture
def worker(_data_worker, transactional_db, settings, broker_url):
    """The data worker (a real Celery worker on a real Redis), sharing the test's
    database, media and broker (which services.broker asks too)."""
    settings.MEDIA_ROOT = _data_worker.media_root
    settings.CELERY_BROKER_URL = broker_url
    return _data_worker


@pytest.fixture
def train_worker(_train_worker, transactional_db, settings, broker_url):
    """The train-queue worker, sharing the test's database, media and broker."""
    settings.MEDIA_ROOT = _train_worker.media_root
    settings.CELERY_BROKER_URL = broker_url
    return _train_worker
