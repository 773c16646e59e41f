"""Running Python in a process of its own, as another web process or a command would."""

import os
import subprocess
import sys

from .paths import REPO


def run_python(
    *args: str, env: dict | None = None, timeout=120, cwd=REPO
) -> subprocess.CompletedProcess:
    """``python args...`` in ``cwd`` (the repository), with this environment and ``env``
    on top, its output captured as text; its exit status is the caller's to check."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_django(script: str, database=None, **env) -> subprocess.CompletedProcess:
    """``script`` run after ``django.setup()`` with the lab's settings, reaching the
    test ``database`` (a ``settings.DATABASES`` entry) when given."""
    from .workers import database_env

    env = {"DJANGO_SETTINGS_MODULE": "labsite.settings", **env}
    if database is not None:
        env.update(database_env(database))
    return run_python("-c", "import django; django.setup()\n" + script, env=env)
