"""docker-compose.yml agrees with the settings and the Celery routes (no Docker engine here)."""

import os
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml
from django.conf import settings

from classifier.management.commands.runlab import TRAIN_PRIORITY
from tests.support.paths import REPO

APP_SERVICES = ("web", "worker-train", "worker-data", "sweeper")
COMPOSE_SECRETS = {"SECRET_KEY": "k7-Qz!p2" * 8, "POSTGRES_PASSWORD": "pw"}


@pytest.fixture(scope="module")
def compose():
    """The file as `docker-compose config` resolves it (anchors, variables)."""
    assert shutil.which("docker-compose"), (
        "docker-compose is missing; `make test` installs it (apt-get install docker-compose)"
    )
    result = subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config"],
        env={**os.environ, **COMPOSE_SECRETS},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def _command(service) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else command


def _celery(service) -> list[str]:
    """The service's command without the train worker's scheduling prefix."""
    command = _command(service)
    return command[len(TRAIN_PRIORITY) :] if command[0] == TRAIN_PRIORITY[0] else command


def _worker_queues(service) -> set[str]:
    command = _celery(service)
    return set(command[command.index("-Q") + 1].split(","))


def test_compose_refuses_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_SECRETS}
    result = subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_compose_workers_consume_every_routed_queue(compose):
    services = compose["services"]
    consumed = set().union(*(_worker_queues(services[n]) for n in ("worker-train", "worker-data")))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed <= consumed
    assert consumed == set(settings.LAB_QUEUES)
    assert _worker_queues(services["worker-train"]) == {"train"}


def test_compose_train_worker_runs_one_job_at_a_time(compose):
    command = _command(compose["services"]["worker-train"])
    # At idle priority, as `make run` starts it: training must not starve the web.
    prefix = len(TRAIN_PRIORITY)
    assert command[:prefix] == TRAIN_PRIORITY
    assert command[prefix : prefix + 4] == ["celery", "-A", "labsite", "worker"]
    assert command[command.index("-c") + 1] == "1"


def test_compose_web_serves_the_wsgi_app_after_migrating(compose):
    command = " ".join(_command(compose["services"]["web"]))
    assert "manage.py migrate" in command
    assert "gunicorn labsite.wsgi" in command
    ports = compose["services"]["web"]["ports"]
    # This machine only, for the TLS proxy: the lab trusts its X-Forwarded-Proto.
    hosts = [port["host_ip"] if isinstance(port, dict) else port.split(":")[0] for port in ports]
    assert hosts == ["127.0.0.1"] * len(ports) and ports, ports


def test_the_secrets_file_is_kept_out_of_git_and_the_image():
    assert subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO).returncode == 0
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".env" in ignored


def test_compose_services_share_database_broker_and_media(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DEBUG"] == "0"
        assert env["SECRET_KEY"] == COMPOSE_SECRETS["SECRET_KEY"]
        assert env["DATABASE_URL"].startswith("postgres://lab:pw@postgres:5432/")
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        volumes = services[name]["volumes"]
        targets = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in volumes}
        assert env["MEDIA_ROOT"] in targets, f"{name} does not mount the media volume"
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}
    assert {"redis", "postgres"} <= set(services)
    assert "media" in compose["volumes"]


def test_compose_settings_pass_the_deploy_check(compose):
    env = {**os.environ, **compose["services"]["web"]["environment"]}
    # Checked without a database connection: `check --deploy` only reads settings.
    env["DATABASE_URL"] = "postgres://lab:pw@127.0.0.1:1/lab"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_workers_match_make_run(compose):
    from classifier.management.commands.runlab import DATA_WORKER, TRAIN_WORKER

    for service, options in (("worker-data", DATA_WORKER), ("worker-train", TRAIN_WORKER)):
        command = _celery(compose["services"][service])
        assert command[4:] == ["--loglevel", "INFO", *options]


@pytest.mark.parametrize(("value", "secure"), [("", "True True True"), ("0", "False False False")])
def test_the_compose_stack_is_https_only_unless_told_otherwise(value, secure):
    """`make run` serves plain HTTP; the compose file, behind its TLS proxy, turns the
    HTTPS settings on, and plain HTTP there (a local try) is an explicit choice."""
    choice = {"SECURE_SSL_REDIRECT": value, "SECURE_COOKIES": value} if value else {}
    config = subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config"],
        env={**os.environ, **COMPOSE_SECRETS, **choice},
        capture_output=True,
        text=True,
        check=True,
    )
    web = yaml.safe_load(config.stdout)["services"]["web"]["environment"]
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, **web, "DATABASE_URL": "postgres://lab:pw@127.0.0.1:1/lab"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == secure, result.stderr
