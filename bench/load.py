"""Benchmark the lab under a class's load: 50 students at once for a minute, over HTTP.

    python bench/load.py [--students 50] [--seconds 60] [--rate 5] [--port 8777]

Starts a throw-away lab exactly as ``make run`` does (``manage.py runlab``: the embedded
Redis, the Celery workers and gunicorn) on its own database and media folder, after
preparing in-process: the demo data set (the tutorial's 8 characters
rendered from the installed fonts, 40 per font), one student account per simulated
student (``bench-student-NN``, all with one password), and for each of them a finished
Tutorial MLP job of their own (one trained for real, the others copies of its row, its
epochs, model and evaluation). Once the lab is up, ``bench-student-00`` submits a CNN
job (200 epochs, more than the minute) through the queue, and the students start when
the train worker has taken it, so a real training job runs throughout, and after one
prediction has loaded TensorFlow into the predict worker (it is left out of the figures).

Each student is a thread with its own ``requests.Session``. It arrives within the first
``RAMP_SECONDS``, logs in through the log-in form (with CSRF), then, with a few seconds'
thought between actions, until the time is up:

- predicts on a timer of its own, every ``students / rate`` seconds on average
  (uniformly 0.5 to 1.5 times that, from its previous prediction; the first one within
  that time of logging in), so ``--rate`` a second in all once every student is in; a
  prediction that falls due waits for the action in progress, or for the next poll of
  a job page. It opens the Predict page, takes a moment to draw, uploads a 640x480 photo, a canvas
  drawing or a 12-megapixel photo of a tutorial character to the API
  (``/api/predictions/``) with its own model, and polls the prediction's status JSON every
  0.3 s, as the prediction page does, until it SUCCEEDED or FAILED; then, as a browser
  does, it opens the result page (which holds the probability bar graph, drawn in the
  page as SVG) and its images (the preprocessing steps), recorded as pages;
- or opens its job page with its images (curves, confusion matrix, mistakes) and stays
  on it a while, polling the status JSON every second and fetching the curves again
  when the version changes, as ``static/js/poll.js`` does. Student 00 mostly watches the
  running job; students see only their own jobs, so the others poll their finished job
  instead, a stand-in that costs the server at least as much;
- or opens the job list, or the prediction history (with its thumbnails).

Every page fetches its own images (``<img src>``, not static files) as a browser does,
one after the other. Every request is recorded: its kind (login, page, poll,
prediction), endpoint, latency and status. A prediction's latency runs from the upload
to having the result. Errors are 5xx answers, other unexpected statuses, requests that
got no answer and FAILED predictions; a prediction accepted but not finished
``LOST_AFTER`` seconds after the run ended is lost. A GET whose connection broke is
sent once more, as browsers do (gunicorn closes kept-alive connections after 2 s), and
counted apart.

Printed: requests served and errors per kind, their 50th/95th/99th latency percentiles
and the targets (no 5xx, no lost prediction, log-in p95 < 3 s, page p95 < 300 ms overall and
while the students arrive, prediction p95 < 500 ms),
the prediction rate achieved, and what tells where the time goes: each endpoint's
latency beside gunicorn's own time for it (from its access log, whose format is set
through ``GUNICORN_CMD_ARGS``; the difference is time spent waiting for a gunicorn
thread), how busy gunicorn's threads were, how long predictions waited for the
predict worker and ran there (from their rows), the CPU used by each of the lab's
processes, this benchmark and everything else on the machine, the lab's peak memory
(RSS), and errors in the lab's log. ``--keep DIR`` keeps the lab's folder (database,
media, ``runlab.log``) for a closer look.
"""

import argparse
import contextlib
import html
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests
from lab import (
    ROLES,
    lab_processes,
    login,
    percentile,
    post_prediction,
    prediction_status,
    setup_django,
    start_lab,
    stop_lab,
)

PASSWORD = "bench-student-password"
TARGET_LOGIN_P95_MS = 3000
TARGET_PAGE_P95_MS = 300
TARGET_PREDICTION_P95_MS = 500
# Students arrive (and log in) spread over the first seconds of the run.
RAMP_SECONDS = 10
# Seconds a student thinks between two actions, stays on a job page, and draws.
THINK_SECONDS = (1, 4)
DWELL_SECONDS = (5, 15)
DRAW_SECONDS = (0.5, 1.5)
# How often the open job page and the prediction page poll (poll.js, data-interval).
JOB_POLL_SECONDS = 1.0
PREDICTION_POLL_SECONDS = 0.3
# What a student does when it is not predicting, with weights.
BROWSING = {"job page": 4, "job list": 3, "history": 3}
# A prediction without its result this long after the run ended is lost.
LOST_AFTER = 30
REQUEST_TIMEOUT = 30
# The running job: more epochs than the minute lasts (it is cancelled afterwards).
RUNNING_SPEC, RUNNING_EPOCHS = "cnn", 200
# gunicorn writes each request's own duration into the lab's log in this form.
ACCESS_LOG_FORMAT = "load-bench %(M)s %(s)s %(m)s %(U)s %(p)s"
ACCESS_LINE = re.compile(r"load-bench (\d+) (\d+) (\S+) (\S+) <(\d+)>")
NUMBER_IN_PATH = re.compile(r"/\d+(?=/|$)")
IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="([^"]+)"')
# Every process runlab starts, told apart by their command lines.
LAB_ROLES = {**ROLES, "manage.py sweep": "sweeper", "redis-server": "redis"}


@dataclass
class Sample:
    """One request (or, for a prediction, upload to result) as the student saw it."""

    kind: str  # "login", "page", "poll" or "prediction"
    endpoint: str  # e.g. "GET jobs/<pk>/status.json"
    at: float  # when it started, seconds into the run
    seconds: float
    status: int  # the HTTP status; 0 when no answer came
    error: str = ""  # why it counts as an error; "" when it does not
    retried: bool = False  # sent twice: the first connection broke


class Clock:
    """The run's time line: it starts now, ends after ``seconds``, then a grace period."""

    def __init__(self, seconds: float, grace: float):
        self.start = time.perf_counter()
        self.end = self.start + seconds
        self.lost_after = self.end + grace

    def over(self) -> bool:
        """Whether the run's time is up."""
        return time.perf_counter() >= self.end

    def sleep(self, seconds: float):
        """Sleep ``seconds``, or until the run ends if that comes first."""
        time.sleep(max(0.0, min(seconds, self.end - time.perf_counter())))


def endpoint_of(method: str, path: str) -> str:
    """``GET /jobs/12/status.json?v=3`` -> ``GET jobs/<pk>/status.json``."""
    path = NUMBER_IN_PATH.sub("/<pk>", path.split("?")[0])
    return f"{method} {path.lstrip('/')}"


class Student:
    """One simulated student: logs in, then browses, polls and predicts until time is up."""

    def __init__(self, number, base, jobs, running, images, interval, clock, samples):
        self.username = student_name(number)
        self.base = base
        self.job = jobs[number]
        self.running = running if number == 0 else None
        self.images = images
        self.interval = interval  # seconds between two predictions, on average
        self.next_prediction = float("inf")
        self.clock = clock
        self.samples = samples
        self.session = requests.Session()
        self.rng = random.Random(number)

    def run(self):
        """The student's session, from arriving to the end of the run."""
        self.clock.sleep(self.rng.uniform(0, RAMP_SECONDS))
        if not self.log_in():
            return
        self.next_prediction = time.perf_counter() + self.rng.uniform(0, self.interval)
        actions = {"job page": self.job_page, "job list": self.job_list, "history": self.history}
        while not self.clock.over():
            if self.prediction_due():
                self.predict()
            else:
                name = self.rng.choices(list(BROWSING), weights=list(BROWSING.values()))[0]
                actions[name]()
            self.clock.sleep(self.rng.uniform(*THINK_SECONDS))

    def record(self, kind, endpoint, started, status, error="", *, retried=False):
        """Keep a sample of a request that started at ``started`` and ends now."""
        seconds = time.perf_counter() - started
        at = started - self.clock.start
        self.samples.append(Sample(kind, endpoint, at, seconds, status, error, retried))

    def fetch(self, kind, path, *, expect=200) -> requests.Response | None:
        """GET ``path`` and record it; the response, or None if it failed.

        A GET whose connection broke is sent once more, as a browser does when the server
        closed a kept-alive connection just as it was reused; the sample says so.
        """
        endpoint = endpoint_of("GET", path)
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                response = self.session.get(self.base + path, timeout=REQUEST_TIMEOUT)
                break
            except requests.ConnectionError as exc:
                if attempt == 2:
                    self.record(kind, endpoint, started, 0, failure(exc), retried=True)
                    return None
            except requests.RequestException as exc:
                self.record(kind, endpoint, started, 0, failure(exc))
                return None
        error = "" if response.status_code == expect else f"HTTP {response.status_code}"
        self.record(kind, endpoint, started, response.status_code, error, retried=attempt == 2)
        return None if error else response

    def page(self, path) -> requests.Response | None:
        """Open a page and fetch its images (not static files), as a browser does."""
        response = self.fetch("page", path)
        if response is not None:
            for src in IMG_SRC.findall(response.text):
                src = html.unescape(src)
                if src.startswith("/") and not src.startswith("/static/"):
                    self.fetch("page", src)
        return response

    def log_in(self) -> bool:
        """Log in through the form: its GET, its POST and the redirects, as one sample."""
        started = time.perf_counter()
        try:
            response = login(
                self.base, self.username, PASSWORD, self.session, timeout=REQUEST_TIMEOUT
            )
        except (requests.RequestException, KeyError) as exc:
            self.record("login", "log-in form", started, 0, failure(exc))
            return False
        status = max(r.status_code for r in [*response.history, response])
        if not response.ok or "sessionid" not in self.session.cookies:
            self.record("login", "log-in form", started, status, f"HTTP {status}, not logged in")
            return False
        self.record("login", "log-in form", started, status)
        return True

    def job_list(self):
        """Open the job list."""
        self.page("/jobs/")

    def history(self):
        """Open the prediction history (its thumbnails too)."""
        self.page("/predictions/")

    def job_page(self):
        """Open a job's page and stay on it a while, polling as poll.js does."""
        pk = self.running if self.running and self.rng.random() < 0.8 else self.job
        if self.page(f"/jobs/{pk}/") is None:
            return
        leave = time.perf_counter() + self.rng.uniform(*DWELL_SECONDS)
        version = None
        while time.perf_counter() < leave and not self.clock.over():
            self.clock.sleep(JOB_POLL_SECONDS)
            if self.clock.over():
                break
            if self.prediction_due():  # off to the Predict page
                self.predict()
                return
            response = self.fetch("poll", f"/jobs/{pk}/status.json")
            if response is None:
                continue
            state = response.json()
            if state["version"] != version:  # poll.js refreshes on its first answer too
                version = state["version"]
                self.fetch("poll", f"/jobs/{pk}/curves.png?v={version}")

    def prediction_due(self) -> bool:
        """Whether this student's next prediction is due."""
        return time.perf_counter() >= self.next_prediction

    def predict(self):
        """Open the Predict page, draw, upload, and poll until the result is there."""
        gap = self.rng.uniform(0.5, 1.5) * self.interval
        self.next_prediction = time.perf_counter() + gap
        self.page("/predict/")
        self.clock.sleep(self.rng.uniform(*DRAW_SECONDS))
        if self.clock.over():
            return
        label, item = self.rng.choice(self.images)
        endpoint = f"POST predict/ to result ({label})"
        started = time.perf_counter()
        try:
            response = post_prediction(
                self.session, self.base, self.job, item, timeout=REQUEST_TIMEOUT
            )
        except requests.RequestException as exc:
            self.record("prediction", endpoint, started, 0, failure(exc))
            return
        if response.status_code != 201:
            self.record(
                "prediction",
                endpoint,
                started,
                response.status_code,
                f"HTTP {response.status_code}",
            )
            return
        result = response.json()
        while result["status"] not in ("SUCCEEDED", "FAILED"):
            if time.perf_counter() > self.clock.lost_after:
                self.record("prediction", endpoint, started, 201, "lost")
                return
            time.sleep(PREDICTION_POLL_SECONDS)
            polled = self.fetch("poll", f"/predictions/{result['id']}/status.json")
            if polled is not None:
                result = polled.json()
        error = "" if result["status"] == "SUCCEEDED" else f"FAILED: {result['error']}"
        self.record("prediction", endpoint, started, 201, error)
        if not error:
            self.page(f"/predictions/{result['id']}/")


def failure(exc: Exception) -> str:
    """What went wrong with a request that got no answer, in a line (no addresses)."""
    return f"{type(exc).__name__}: {re.sub(r' at 0x[0-9a-f]+', '', str(exc))}"[:160]


def student_name(number: int) -> str:
    """The user name of student ``number``."""
    return f"bench-student-{number:02d}"


def prepare(students: int):
    """The demo data set, the student accounts, and one finished job for each student."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User

    from classifier.roles import STUDENT
    from tests.support.handwriting import make_font_dataset, make_trained_job

    started = time.perf_counter()
    dataset = make_font_dataset("tutorial8-fonts", per_font=40)
    password = make_password(PASSWORD)  # hashed once: the same for every account
    users = User.objects.bulk_create(
        [User(username=student_name(n), password=password) for n in range(students)]
    )
    Group.objects.get_or_create(name=STUDENT)[0].user_set.add(*users)
    template = make_trained_job(users[0], dataset)
    jobs = [template] + [copy_job(template, user) for user in users[1:]]
    print(
        f"prepared: {dataset.name} ({dataset.num_samples} samples, {dataset.size_label}), "
        f"{students} students, each with a finished {template.model_spec} job "
        f"(validation accuracy {template.val_accuracy:.3f}), in "
        f"{time.perf_counter() - started:.0f} s"
    )
    return dataset, users, [job.pk for job in jobs]


def copy_job(template, owner):
    """A copy of finished job ``template`` owned by ``owner``: row, epochs and files."""
    from classifier.models import EpochMetric, TrainingJob

    job = TrainingJob.objects.get(pk=template.pk)
    job.pk = None
    job._state.adding = True
    job.owner = owner
    job.save()
    shutil.copytree(template.artifact_dir, job.artifact_dir)
    fields = [f.name for f in EpochMetric._meta.concrete_fields if f.name not in ("id", "job")]
    EpochMetric.objects.bulk_create(
        EpochMetric(job=job, **{name: getattr(m, name) for name in fields})
        for m in template.metrics.all()
    )
    return job


def bench_images() -> list[tuple[str, tuple[str, object, str]]]:
    """``(label, (field, payload, expected character))`` for every upload a student makes."""
    from tests.support.handwriting import TUTORIAL_CHARS, drawing_of, photo_of

    images = []
    for char in TUTORIAL_CHARS:
        images.append(("photo 640x480", ("image", photo_of(char), char)))
        images.append(("canvas 280x280", ("canvas", drawing_of(char), char)))
        images.append(("photo 4032x3024", ("image", photo_of(char, size=(3024, 4032)), char)))
    return images


def start_training(dataset, owner):
    """Submit the long training job through the queue; return once a worker runs it."""
    from classifier import services
    from classifier.models import JobStatus, TrainingJob

    job = services.create_training_job(
        owner=owner,
        dataset=dataset,
        chars=[],
        model_spec=RUNNING_SPEC,
        optimizer="adam",
        learning_rate=0.001,
        epochs=RUNNING_EPOCHS,
        batch_size=32,
        seed=0,
        split="stratified:0.2",
        dispatch=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = TrainingJob.objects.get(pk=job.pk)
        if job.status != JobStatus.QUEUED:
            break
        time.sleep(0.2)
    if job.status != JobStatus.RUNNING:
        raise RuntimeError(f"the training job #{job.pk} is {job.status}, not running: {job.error}")
    return job


def warm_up(base, job_pk, item) -> int:
    """One prediction before the run, so the predict worker has loaded TensorFlow (as a
    lab that has been up a while has); the prediction's key, to leave it out."""
    session = requests.Session()
    login(base, student_name(0), PASSWORD, session, timeout=REQUEST_TIMEOUT)
    response = post_prediction(session, base, job_pk, item, timeout=120)
    result = response.json()
    deadline = time.monotonic() + 120
    while result.get("status") not in ("SUCCEEDED", "FAILED") and time.monotonic() < deadline:
        time.sleep(0.2)
        result = prediction_status(session, base, result["id"], timeout=REQUEST_TIMEOUT).json()
    return result["id"]


def stop_training(job):
    """Cancel the running job, so the train worker stops at once with the lab."""
    from classifier.models import TrainingJob

    job.request_cancel()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not TrainingJob.objects.get(pk=job.pk).is_terminal:
        time.sleep(0.2)


class Monitor(threading.Thread):
    """Samples the lab's memory (for its peak) and the CPU time used while students run.

    CPU time is counted for the lab's processes by role, for this benchmark, and for
    everything else on the machine (other programs compete for the same cores).
    """

    def __init__(self, lab):
        super().__init__(daemon=True)
        self.lab = lab
        self.peak: dict[str, float] = defaultdict(float)
        self.peak_total = 0.0
        self.cpu: dict[int, list] = {}  # pid: [role, CPU seconds when first seen, latest]
        self.stopped = threading.Event()

    def run(self):
        """Sample every half second until stopped."""
        self.started, machine = time.perf_counter(), _busy_seconds()
        me = psutil.Process()
        self.threads = gunicorn_threads(self.lab)
        while True:
            memory = defaultdict(float)
            processes = {**lab_processes(self.lab, LAB_ROLES), "this benchmark": [me]}
            for role, members in processes.items():
                for process in members:
                    with contextlib.suppress(psutil.Error):
                        times = process.cpu_times()
                        cpu = times.user + times.system
                        self.cpu.setdefault(process.pid, [role, cpu, cpu])[2] = cpu
                        if process is not me:
                            memory[role] += process.memory_info().rss / 2**20
            for role, mib in memory.items():
                self.peak[role] = max(self.peak[role], mib)
            self.peak_total = max(self.peak_total, sum(memory.values()))
            if self.stopped.wait(0.5):
                break
        self.seconds = time.perf_counter() - self.started
        self.machine_cpu = _busy_seconds() - machine

    def cores_used(self) -> dict[str, float]:
        """Average cores each role kept busy, and the rest of the machine ("other")."""
        used = defaultdict(float)
        for role, first, last in self.cpu.values():
            used[role] += last - first
        used["other processes"] = max(0.0, self.machine_cpu - sum(used.values()))
        return {role: seconds / self.seconds for role, seconds in used.items()}

    def stop(self):
        """Stop sampling (the figures are complete once this returns)."""
        self.stopped.set()
        self.join()


def gunicorn_threads(lab) -> int | None:
    """Threads per gunicorn worker, from its command line (``--threads N``)."""
    for process in lab_processes(lab).get("web", []):
        with contextlib.suppress(psutil.Error, ValueError, IndexError):
            command = process.cmdline()
            return int(command[command.index("--threads") + 1])
    return None


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores) since it booted."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0) - getattr(times, "guest", 0)


def run_students(args, base, jobs, running_pk, images) -> tuple[list[Sample], float]:
    """Let ``args.students`` students loose for ``args.seconds``; every sample recorded."""
    samples: list[Sample] = []
    clock = Clock(args.seconds, LOST_AFTER)
    interval = args.students / args.rate
    students = [
        Student(n, base, jobs, running_pk, images, interval, clock, samples)
        for n in range(args.students)
    ]
    threads = [threading.Thread(target=s.run, name=s.username, daemon=True) for s in students]
    for thread in threads:
        thread.start()
    deadline = clock.lost_after + REQUEST_TIMEOUT + 5
    for thread in threads:
        thread.join(max(0.1, deadline - time.perf_counter()))
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        print(f"warning: {stuck} students were still waiting for an answer at the end")
    return samples, time.perf_counter() - clock.start


@dataclass
class ServerLog:
    """gunicorn's own account of the requests, from its access log."""

    times: dict[str, list[float]]  # seconds each request took in gunicorn, by endpoint
    busy: dict[int, float]  # seconds of requests each worker process served, by pid


def server_log(log_path: Path) -> ServerLog:
    """Read gunicorn's access lines (``ACCESS_LOG_FORMAT``) from the lab's log."""
    times, busy = defaultdict(list), defaultdict(float)
    for line in log_path.read_text(errors="replace").splitlines():
        if match := ACCESS_LINE.search(line):
            millis, _status, method, path, pid = match.groups()
            times[endpoint_of(method, path)].append(int(millis) / 1000)
            busy[int(pid)] += int(millis) / 1000
    return ServerLog(times, busy)


def log_trouble(log_path: Path) -> Counter:
    """Lines in the lab's log that tell of trouble."""
    signs = {
        "Traceback": "tracebacks",
        "database is locked": '"database is locked"',
        "WORKER TIMEOUT": "gunicorn worker timeouts",
        "ERROR": "ERROR lines",
    }
    found = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        for sign, name in signs.items():
            if sign in line:
                found[name] += 1
    return found


def prediction_rows(warm_up_pk: int) -> tuple[Counter, list[float], list[float]]:
    """The run's predictions in the lab's database, by status; and for each finished one,
    the seconds from its row's creation to a worker claiming it, and from then to its result."""
    from classifier.models import Prediction

    statuses, queued, ran = Counter(), [], []
    rows = Prediction.objects.exclude(pk=warm_up_pk)
    for status, created, started, finished in rows.values_list(
        "status", "created_at", "started_at", "finished_at"
    ):
        statuses[status] += 1
        if started and finished:
            queued.append((started - created).total_seconds())
            ran.append((finished - started).total_seconds())
    return statuses, queued, ran


@dataclass
class Results:
    """What one run gave, for the report."""

    samples: list[Sample]
    seconds: float  # how long the students ran, the wait for the last results included
    running: object  # the training job, as it was at the end
    statuses: Counter  # predictions in the database, by status
    queued: list[float]  # seconds from a prediction row's creation to its claim
    ran: list[float]  # seconds from its claim to its result
    monitor: Monitor
    server: ServerLog
    trouble: Counter  # lines in the lab's log that tell of trouble


def main():
    """Parse the options, run the benchmark in a throw-away folder (or ``--keep``), report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=5, help="predictions a second, in all")
    parser.add_argument("--port", type=int, default=8777)
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="run the lab in DIR (new) and keep its files"
    )
    args = parser.parse_args()
    # A plain kill stops the lab too (through the finally in run), as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.keep:
        args.keep.mkdir(parents=True)
        results = run(args, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as var_dir:
            results = run(args, Path(var_dir))
    report(args, results)


def run(args, var_dir: Path) -> Results:
    """Prepare the rows, start the lab on ``var_dir``, run the students, stop the lab."""
    setup_django(var_dir)
    from tests.support import handwriting

    try:
        dataset, users, jobs = prepare(args.students)
    finally:  # the builders' copy of the trained model, in a folder of its own
        shutil.rmtree(handwriting._MODEL_CACHE, ignore_errors=True)
    images = bench_images()
    env = {"GUNICORN_CMD_ARGS": f"--access-logformat '{ACCESS_LOG_FORMAT}'"}
    lab = start_lab(var_dir, args.port, env)
    running = None
    try:
        base = f"http://127.0.0.1:{args.port}"
        running = start_training(dataset, users[0])
        warm_up_pk = warm_up(base, jobs[0], images[0][1])
        monitor = Monitor(lab)
        monitor.start()
        samples, seconds = run_students(args, base, jobs, running.pk, images)
        monitor.stop()
        running.refresh_from_db()
        statuses, queued, ran = prediction_rows(warm_up_pk)
    finally:
        if running is not None:
            stop_training(running)
        stop_lab(lab)
    log = var_dir / "runlab.log"
    return Results(
        samples, seconds, running, statuses, queued, ran, monitor, server_log(log), log_trouble(log)
    )


def ms(seconds: float) -> str:
    """Seconds in milliseconds, for the report."""
    return f"{seconds * 1000:.0f} ms"


def spread(values) -> str:
    """``p50 x ms, p95 y ms`` of ``values`` (seconds)."""
    return f"p50 {ms(percentile(values, 50))}, p95 {ms(percentile(values, 95))}" if values else "-"


def report(args, results: Results):
    """Print the figures and whether the targets are met."""
    samples, running = results.samples, results.running
    cores = psutil.cpu_count()
    print(
        f"\n{args.students} students for {args.seconds:.0f} s on {cores} CPU cores, "
        f"{args.rate:g} predictions/s asked; training job #{running.pk} "
        f"({running.model_spec}, {running.epochs} epochs) was {running.status} at the end, "
        f"{running.epochs_done} epochs done"
    )

    by_kind = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    print(f"\n{'kind':<12}{'served':>8}{'errors':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}")
    for kind in ("login", "page", "poll", "prediction"):
        of_kind = by_kind.get(kind, [])
        errors = sum(bool(s.error) for s in of_kind)
        answered = [s.seconds for s in of_kind if s.status and s.error != "lost"]
        figures = [percentile(answered, q) for q in (50, 95, 99, 100)] if answered else []
        print(
            f"{kind:<12}{len(of_kind) - errors:>8}{errors:>8}"
            + "".join(f"{ms(t):>9}" for t in figures)
        )
    print(
        "(served: answered as expected; latencies count every answer, errors too; a login "
        "is the form's GET, its POST and its redirects; a prediction runs from the upload "
        "to the result)"
    )

    predictions = by_kind.get("prediction", [])
    succeeded = sum(not s.error for s in predictions)
    logins = by_kind.get("login", [])
    all_in = max((s.at + s.seconds for s in logins), default=0.0)
    after = sum(s.at >= all_in for s in predictions) / max(1e-9, args.seconds - all_in)
    print(
        f"\npredictions (asked: {args.rate:g}/s): {len(predictions) / args.seconds:.2f}/s "
        f"posted over the run, {after:.2f}/s once every student had logged in (at "
        f"{all_in:.0f} s); {succeeded} answered"
    )
    print(
        "  in the database: "
        + ", ".join(f"{n} {status}" for status, n in sorted(results.statuses.items()))
        + f"; from the row's creation to a worker's claim {spread(results.queued)}, "
        f"from the claim to the result {spread(results.ran)}"
    )
    errors = [s for s in samples if s.error]
    five_xx = [s for s in samples if s.status >= 500]
    lost = [s for s in predictions if s.error == "lost"]
    failed = [s for s in predictions if s.error.startswith("FAILED")]
    no_answer = [s for s in errors if s.status == 0]
    other = len(errors) - len(five_xx) - len(lost) - len(failed) - len(no_answer)
    print(
        f"errors: {len(errors) - len(lost)} (5xx {len(five_xx)}, no answer {len(no_answer)}, "
        f"FAILED predictions {len(failed)}, other {other}); lost predictions: {len(lost)}"
    )
    for (endpoint, error), n in Counter((s.endpoint, s.error) for s in errors).most_common(10):
        print(f"  {n:>5} x {endpoint}: {error}")
    retried = sum(s.retried and not s.error for s in samples)
    print(f"GETs sent again because their connection broke (a browser does too): {retried}")

    print(
        f"\n{'endpoint, slowest first':<50}{'n':>6}{'p50':>9}{'p95':>9}{'max':>9}"
        f"{'gunicorn p50':>14}{'p95':>9}"
    )
    by_endpoint = defaultdict(list)
    for sample in samples:
        if sample.status:
            by_endpoint[sample.endpoint].append(sample.seconds)
    server = results.server.times
    for endpoint, seconds in sorted(by_endpoint.items(), key=lambda i: -percentile(i[1], 95)):
        own = server.get(endpoint.split(" to result")[0])
        served = f"{ms(percentile(own, 50)):>14}{ms(percentile(own, 95)):>9}" if own else ""
        print(
            f"{endpoint:<50}{len(seconds):>6}{ms(percentile(seconds, 50)):>9}"
            f"{ms(percentile(seconds, 95)):>9}{ms(max(seconds)):>9}{served}"
        )
    for endpoint in ("GET accounts/login/", "POST accounts/login/"):  # inside a login
        if own := server.get(endpoint):
            print(
                f"{endpoint + ' (of the log-in)':<50}{len(own):>6}{'':>27}"
                f"{ms(percentile(own, 50)):>14}{ms(percentile(own, 95)):>9}"
            )
    busy = ", ".join(
        f"{seconds / results.monitor.seconds:.1f}" for seconds in results.server.busy.values()
    )
    print(
        f"gunicorn threads busy on average, per worker process (of {results.monitor.threads}): "
        f"{busy}"
    )

    monitor = results.monitor
    print(
        "\nmemory (peak RSS): "
        + ", ".join(f"{role} {mib:.0f} MiB" for role, mib in sorted(monitor.peak.items()))
        + f"; the lab in all {monitor.peak_total:.0f} MiB"
    )
    used = sorted(monitor.cores_used().items(), key=lambda item: -item[1])
    print(
        f"CPU (cores busy on average, of {cores}): "
        + ", ".join(f"{role} {n:.2f}" for role, n in used)
        + f"; {sum(n for _, n in used):.2f} in all"
    )
    trouble = results.trouble
    print("lab log: " + (", ".join(f"{n} {name}" for name, n in trouble.items()) or "no errors"))

    page = [s.seconds for s in by_kind.get("page", []) if s.status]
    arriving = [s.seconds for s in by_kind.get("page", []) if s.status and s.at < RAMP_SECONDS + 5]
    settled = [s.seconds for s in by_kind.get("page", []) if s.status and s.at >= RAMP_SECONDS + 5]
    print(
        f"pages while students arrive and log in (first {RAMP_SECONDS + 5} s): "
        f"{spread(arriving)}; afterwards: {spread(settled)}"
    )
    predicted = [s.seconds for s in predictions if s.status == 201 and s.error != "lost"]
    logged_in = [s.seconds for s in logins if s.status]

    def p95_under(values, target_ms):
        if not values:
            return False, "none answered"
        p95 = percentile(values, 95)
        return p95 * 1000 < target_ms, ms(p95)

    targets = [
        ("no 5xx", not five_xx, str(len(five_xx))),
        ("no lost prediction", not lost, str(len(lost))),
        (f"login p95 < {TARGET_LOGIN_P95_MS} ms", *p95_under(logged_in, TARGET_LOGIN_P95_MS)),
        (f"page p95 < {TARGET_PAGE_P95_MS} ms", *p95_under(page, TARGET_PAGE_P95_MS)),
        (
            f"  ... while they arrive ({RAMP_SECONDS + 5} s)",
            *p95_under(arriving, TARGET_PAGE_P95_MS),
        ),
        (
            f"prediction p95 < {TARGET_PREDICTION_P95_MS} ms",
            *p95_under(predicted, TARGET_PREDICTION_P95_MS),
        ),
    ]
    print("\ntargets:")
    for name, met, figure in targets:
        print(f"  {name:<36}{'met' if met else 'MISSED':<8}({figure})")


if __name__ == "__main__":
    main()
