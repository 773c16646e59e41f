"""Benchmark faults: inject each fault into a running lab, several times, and count what
users would see.

    python bench/faults.py [--trials 3] [--port 8790] [--only NAME ...] [--keep DIR]

Each trial runs against a throw-away lab served exactly as ``make run`` serves it
(``manage.py runlab`` on its own VAR_DIR: the embedded Redis, both workers, the
sweeper, gunicorn), or against the command line where the fault is the command's. The
faults:

- ``train-command``: ``manage.py train`` (no --async) trains for far longer than the
  heartbeat time-out (1 s here) while a sweeper sweeps every half second;
- ``restart-queued``: jobs queued (their messages in Redis, no worker free) when
  ``make run`` stops; time until they run after it starts again;
- ``kill-redis``, ``kill-worker-train``, ``kill-worker-data``, ``kill-sweeper``: the part
  is SIGKILLed, then jobs are submitted; does the lab go on and every job run once?
- ``redis-hangs``: the embedded Redis is SIGSTOPped; how long a submission takes,
  whether /healthz answers within 2 s, and whether the jobs run once it continues;
- ``data-worker-killed-mid-build``: the data worker is SIGKILLed while a build renders in
  its pool; are its pool processes left running, and does the build finish?
- ``file-size-below-journal``: ``train`` under ulimit -f 8 KiB; a clean message or a
  traceback?

It prints one table: fault, trials, survived, jobs lost, jobs run twice, time to
recover (median and range, seconds; "-" where there is nothing to recover).
"""

import argparse
import contextlib
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from lab import REPO, lab_processes, setup_django, start_lab, stop_lab

#: Seconds a job (a tiny MLP, one epoch) gets to finish after a fault before it is lost.
JOB_DEADLINE = 180


@dataclass
class Trial:
    survived: bool
    lost: int = 0
    twice: int = 0
    recover: float | None = None
    note: str = ""


@dataclass
class Fault:
    name: str
    trials: list[Trial] = field(default_factory=list)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="trials per fault (3)")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", help="these faults")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder, kept")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="hangul-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    setup_django(work)
    global TrainingJob, JobStatus, Dataset, services, make_dataset, User
    from django.contrib.auth.models import User

    from classifier import services
    from classifier.models import Dataset, JobStatus, TrainingJob
    from tests.support.datasets import make_dataset

    owner = User.objects.get_or_create(username="faults")[0]
    if not Dataset.objects.filter(name="faults").exists():
        make_dataset("faults", chars="가나다라", per_char=300, size=(28, 28))
    base = f"http://127.0.0.1:{args.port}"
    faults = {
        "train-command": lambda: train_command(work),
        "restart-queued": lambda: restart_queued(work, args.port, owner),
        **{
            f"kill-{part}": (lambda part=part: kill_part(work, args.port, base, owner, part))
            for part in ("redis", "worker-train", "worker-data", "sweeper")
        },
        "redis-hangs": lambda: redis_hangs(work, args.port, base, owner),
        "data-worker-killed-mid-build": lambda: data_worker_killed(work, args.port),
        "file-size-below-journal": lambda: file_size_below_journal(work),
    }
    results = []
    for name, run in faults.items():
        if args.only and name not in args.only:
            continue
        fault = Fault(name)
        for number in range(args.trials):
            trial = run()
            print(f"{name} #{number + 1}: {trial}", flush=True)
            fault.trials.append(trial)
        results.append(fault)
    print()
    print(f"{'fault':<30} {'trials':>6} {'survived':>8} {'lost':>5} {'twice':>5}  recover (s)")
    for fault in results:
        trials = fault.trials
        times = [t.recover for t in trials if t.recover is not None]
        recover = (
            f"{statistics.median(times):.1f} ({min(times):.1f}-{max(times):.1f})" if times else "-"
        )
        print(
            f"{fault.name:<30} {len(trials):>6} {sum(t.survived for t in trials):>8} "
            f"{sum(t.lost for t in trials):>5} {sum(t.twice for t in trials):>5}  {recover}"
        )


# --- The faults --------------------------------------------------------------------------


def train_command(work: Path) -> Trial:
    env = {**os.environ, "VAR_DIR": str(work), "LAB_HEARTBEAT_SECONDS": "1"}
    sweeper = subprocess.Popen(
        [sys.executable, "manage.py", "sweep", "--every", "0.5"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    before = _last_job_pk()
    try:
        command = ["train", "--dataset", "faults", "--user", "faults", "--epochs", "8"]
        answer = _manage(env, *command, "--batch-size", "8")
    finally:
        sweeper.terminate()
        sweeper.wait(30)
    job = TrainingJob.objects.filter(pk__gt=before).order_by("pk").last()
    ok = answer.returncode == 0 and job is not None and job.status == JobStatus.SUCCEEDED
    return Trial(
        survived=ok and job.attempts == 1,
        lost=0 if ok else 1,
        twice=max(0, job.attempts - 1) if job else 0,
    )


def restart_queued(work: Path, port: int, owner) -> Trial:
    lab = start_lab(work, port)
    try:
        (train,) = lab_processes(lab)["train worker"][:1]
        train.suspend()  # busy elsewhere: the messages wait in Redis
        jobs = [_queue_job(owner) for _ in range(2)]
        time.sleep(2)  # sent on commit; in Redis now
    finally:
        with contextlib.suppress(psutil.Error):
            train.kill()  # a stopped process would hold the shutdown for 15 s
        stop_lab(lab)
    lab = start_lab(work, port)
    started = time.monotonic()
    try:
        done = _wait_jobs(jobs)
        recover = time.monotonic() - started
    finally:
        stop_lab(lab)
    return Trial(
        survived=done == len(jobs) and recover <= 30 + JOB_DEADLINE,
        lost=len(jobs) - done,
        twice=_run_twice(jobs),
        recover=recover,
        note="time until both queued jobs finished after the restart",
    )


def kill_part(work: Path, port: int, base: str, owner, part: str) -> Trial:
    lab = start_lab(work, port)
    markers = {
        "redis": "redis-server",
        "worker-train": "train@",
        "worker-data": "data@",
        "sweeper": " sweep ",
    }
    try:
        victim = lab_processes(lab, {markers[part]: part}).get(part, [])[:1]
        if not victim:
            return Trial(survived=False, note=f"no {part} process found")
        victim[0].kill()
        killed = time.monotonic()
        jobs = [_queue_job(owner) for _ in range(3)]
        serving = requests.get(f"{base}/healthz", timeout=10).ok
        recover = _wait_healthy(base, killed)
        done = _wait_jobs(jobs)
        alive = lab.poll() is None
    finally:
        stop_lab(lab)
    return Trial(
        survived=alive and serving and done == len(jobs) and recover is not None,
        lost=len(jobs) - done,
        twice=_run_twice(jobs),
        recover=recover,
        note=_unfinished(jobs),
    )


def redis_hangs(work: Path, port: int, base: str, owner) -> Trial:
    lab = start_lab(work, port)
    try:
        (redis,) = lab_processes(lab, {"redis-server": "redis"})["redis"][:1]
        redis.suspend()
        started = time.monotonic()
        jobs = [_queue_job(owner) for _ in range(3)]
        submit = (time.monotonic() - started) / len(jobs)
        started = time.monotonic()
        health = requests.get(f"{base}/healthz", timeout=30).json()
        answered = time.monotonic() - started
        redis.resume()
        resumed = time.monotonic()
        done = _wait_jobs(jobs)
        recover = time.monotonic() - resumed
    finally:
        with contextlib.suppress(psutil.Error):
            redis.resume()
        stop_lab(lab)
    return Trial(
        survived=submit < 10
        and answered < 2.5
        and health["parts"]["broker"] == "down"
        and done == len(jobs),
        lost=len(jobs) - done,
        twice=_run_twice(jobs),
        recover=recover,
        note=f"a submission took {submit:.1f} s, /healthz {answered:.1f} s",
    )


def data_worker_killed(work: Path, port: int) -> Trial:
    from classifier.ml.render import RenderSettings

    lab = start_lab(work, port, env={"LAB_HEARTBEAT_SECONDS": "1"})
    try:
        dataset = services.create_font_dataset(
            name=f"killed-{time.time_ns()}",
            chars="라호댜밟자꺅갠아",
            font_specs=["NanumGothic", "UnBatang", "BaekmukDotum"],
            rendering=RenderSettings(height=48, width=48, per_font=60, seed=3),
        )
        _wait(lambda: Dataset.objects.get(pk=dataset.pk).files_done >= 4, 120)
        (worker,) = lab_processes(lab, {"data@": "data"})["data"][:1]
        pool = worker.children(recursive=True)
        worker.kill()
        killed = time.monotonic()
        time.sleep(10)
        orphans = [p for p in pool if _alive(p)]
        for process in orphans:
            process.kill()
        finished = _wait(
            lambda: Dataset.objects.get(pk=dataset.pk).status == JobStatus.SUCCEEDED, 300
        )
        recover = time.monotonic() - killed if finished else None
    finally:
        stop_lab(lab)
    return Trial(
        survived=not orphans and finished,
        lost=0 if finished else 1,
        recover=recover,
        note=f"{len(orphans)} of {len(pool)} pool processes left running",
    )


def file_size_below_journal(work: Path) -> Trial:
    env = {**os.environ, "VAR_DIR": str(work)}

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))

    answer = _manage(env, "train", "--dataset", "faults", "--user", "faults", preexec_fn=limit)
    clean = answer.returncode != 0 and "Traceback" not in answer.stderr
    return Trial(survived=clean, note=answer.stderr.strip().splitlines()[-1][:100])


# --- Helpers -----------------------------------------------------------------------------


def _manage(env, *args, preexec_fn=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=preexec_fn,
    )


def _last_job_pk() -> int:
    return TrainingJob.objects.order_by("pk").values_list("pk", flat=True).last() or 0


def _queue_job(owner):
    """A tiny training job, saved and sent as the page does (a request of its own)."""
    return services.create_training_job(
        owner=owner,
        dataset=Dataset.objects.get(name="faults"),
        chars=[],
        model_spec="mlp",
        optimizer="adam",
        learning_rate=0.001,
        epochs=1,
        batch_size=32,
        seed=0,
        split="stratified:0.2",
        limit=False,  # the benchmark queues many at once for one account
    )


def _wait(condition, seconds) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def _wait_jobs(jobs) -> int:
    """How many of ``jobs`` finished (SUCCEEDED) within the deadline."""
    rows = TrainingJob.objects.filter(pk__in=[job.pk for job in jobs])
    _wait(lambda: not rows.exclude(status=JobStatus.SUCCEEDED).exists(), JOB_DEADLINE)
    return rows.filter(status=JobStatus.SUCCEEDED).count()


def _unfinished(jobs) -> str:
    """The jobs that did not succeed, with their state, to tell a loss from a slow run."""
    rows = TrainingJob.objects.filter(pk__in=[job.pk for job in jobs])
    return ", ".join(
        f"job {row.pk} {row.status} ({row.attempts} runs) {row.error[:60]}".strip()
        for row in rows.exclude(status=JobStatus.SUCCEEDED)
    )


def _run_twice(jobs) -> int:
    """Jobs that more than one run trained (a run twice of one message, not a restart)."""
    return TrainingJob.objects.filter(pk__in=[job.pk for job in jobs], attempts__gt=1).count()


def _wait_healthy(base: str, since: float) -> float | None:
    """Seconds from ``since`` until /healthz says every part is up (None: never)."""

    def healthy():
        try:
            return requests.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
        except (requests.RequestException, ValueError):
            return False

    return time.monotonic() - since if _wait(healthy, 120) else None


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
