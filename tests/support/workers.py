"""What the tests' Celery workers (``tests/conftest.py``) share with the tests."""

import os
from urllib.parse import urlsplit, urlunsplit

#: The statuses a job, a data set or a prediction stays in once a worker is done with it.
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def database_env(database) -> dict:
    """How a worker process reaches the (already created) test database."""
    if database["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(database["NAME"])}
    parts = urlsplit(os.environ["DATABASE_URL"])
    return {"DATABASE_URL": urlunsplit(parts._replace(path="/" + database["NAME"]))}
