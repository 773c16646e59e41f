"""Benchmark `make run`'s start: how long until the lab answers, from nothing and again.

    python bench/restart.py [--restarts 3] [--port 8791] [--keep DIR]

Runs ``scripts/run.sh`` (what ``make run`` runs: set-up, then ``manage.py runlab``) on a
throw-away VAR_DIR, first with nothing there (the database, the static files and the
demo data set are made), then ``--restarts`` times again with nothing changed. Each start
is timed from the command's start until the log-in page answers 200, and stopped as
Ctrl-C stops it. Prints the first start, then the restarts' median and range.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from lab import REPO, stop_lab


def timed_start(var_dir: Path, port: int) -> float:
    """Seconds from ``scripts/run.sh``'s start until the log-in page answers."""
    env = {**os.environ, "VAR_DIR": str(var_dir), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    for name in ("CELERY_BROKER_URL", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)  # the embedded defaults, as `make run` has them
    started = time.monotonic()
    with (var_dir / "run.log").open("ab") as log:
        lab = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = started + 600
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=10).ok:
                    return time.monotonic() - started
            except requests.RequestException:  # not serving yet
                pass
            if lab.poll() is not None:
                break
            time.sleep(0.1)
        sys.exit(f"the lab did not start; see {var_dir / 'run.log'}")
    finally:
        stop_lab(lab)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--keep", type=Path, help="use this folder and keep it")
    args = parser.parse_args()
    var_dir = args.keep or Path(tempfile.mkdtemp(prefix="bench-restart-"))
    var_dir.mkdir(parents=True, exist_ok=True)

    first = timed_start(var_dir, args.port)
    restarts = [timed_start(var_dir, args.port) for _ in range(args.restarts)]
    print(f"make run from nothing: {first:.1f} s")
    print(
        f"make run again, nothing changed ({len(restarts)} restarts): median "
        f"{statistics.median(restarts):.1f} s, range {min(restarts):.1f}-{max(restarts):.1f} s"
    )


if __name__ == "__main__":
    main()
