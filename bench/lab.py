"""What the HTTP benchmarks share: a throw-away lab, logging in, posting a prediction.

A benchmark calls ``setup_django`` with a temporary VAR_DIR (its own SQLite database,
media folder and embedded Redis socket), prepares rows in-process, then ``start_lab``
runs ``manage.py runlab`` on that VAR_DIR and a port of its choosing, exactly as
``make run`` serves the lab. ``stop_lab`` stops it, and kills whatever of its workers
outlived it, so a crashed benchmark leaves no Celery or gunicorn process behind.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# The lab's processes, told apart by their command lines.
ROLES = {"data@": "data+predict worker", "train@": "train worker", "gunicorn": "web"}


def setup_django(var_dir: Path):
    """Point Django at ``var_dir`` (database, media, broker socket), migrate it and
    collect the static files, as ``make run`` does."""
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labsite.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def start_lab(var_dir: Path, port: int, env: dict | None = None) -> subprocess.Popen:
    """Run ``manage.py runlab`` on ``var_dir`` and ``port``; return once it answers.

    Its output goes to ``var_dir/runlab.log``; ``env`` adds variables to its environment.
    Exits the benchmark (having stopped what it started) if the lab does not come up.
    """
    log = (var_dir / "runlab.log").open("wb")
    env = {**os.environ, "VAR_DIR": str(var_dir), "LOG_LEVEL": "WARNING", **(env or {})}
    lab = subprocess.Popen(
        [sys.executable, "manage.py", "runlab", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            # /healthz asks the workers over the broker: up to about two seconds.
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok:
                return lab
        except requests.RequestException:  # not listening yet, or still starting
            pass
        if lab.poll() is not None:
            break
        time.sleep(0.5)
    stop_lab(lab)
    sys.exit(f"the lab did not start; see {var_dir / 'runlab.log'}")


def stop_lab(lab: subprocess.Popen):
    """Stop runlab as Ctrl-C would, then kill any of its processes still running.

    runlab starts its workers in sessions of their own, so they survive it if it is
    killed; they are found beforehand and ended here.
    """
    try:
        descendants = psutil.Process(lab.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    if lab.poll() is None:
        os.killpg(lab.pid, signal.SIGINT)
        try:
            lab.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
    for process in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _gone, alive = psutil.wait_procs(descendants, timeout=10)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def lab_processes(lab: subprocess.Popen, roles=None) -> dict[str, list[psutil.Process]]:
    """The lab's processes (with their children) by role: ``roles`` maps a marker in a
    command line to a role, by default ``ROLES`` (the web server and the workers)."""
    processes: dict[str, list[psutil.Process]] = {}
    for child in psutil.Process(lab.pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:  # gone meanwhile
            continue
        for marker, role in (roles or ROLES).items():
            if marker in command:
                processes.setdefault(role, []).append(child)
                break
    return processes


def lab_memory(lab: subprocess.Popen) -> dict[str, float]:
    """Resident memory (MiB) of the lab's processes, by role."""
    memory = {}
    for role, processes in lab_processes(lab).items():
        for process in processes:
            with contextlib.suppress(psutil.Error):
                memory[role] = memory.get(role, 0) + process.memory_info().rss / 2**20
    return memory


def login(base: str, username: str, password: str, session=None, **kwargs) -> requests.Response:
    """Log ``session`` in through the log-in form, as a browser does (with its CSRF token).

    Returns the answer to the form's POST (after its redirects); the session is logged
    in when it holds a ``sessionid`` cookie. ``kwargs`` go to both requests (a timeout).
    """
    session = session if session is not None else requests.Session()
    session.get(f"{base}/accounts/login/", **kwargs).raise_for_status()
    return session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        **kwargs,
    )


def post_prediction(session, base, model_pk, item, **kwargs) -> requests.Response:
    """Upload one image to the API (``POST /api/predictions/``) for model ``model_pk``,
    with the logged-in session (and its CSRF token, as the lab's own scripts send it).

    ``item`` is ``(field, payload, expected character)``: field ``image`` for a photo
    (JPEG bytes), ``canvas`` for a drawing (a data URL). The answer is 201 with the
    prediction's JSON, finished or not yet (see ``prediction_status``).
    """
    field, data, expected = item
    form = {"model": model_pk, "expected": expected}
    files = None
    if field == "canvas":
        form["canvas"] = data
    else:
        files = {"image": ("photo.jpg", data, "image/jpeg")}
    headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base}/predict/"}
    return session.post(
        f"{base}/api/predictions/", data=form, files=files, headers=headers, **kwargs
    )


def prediction_status(session, base, pk, **kwargs) -> requests.Response:
    """The polled status JSON of prediction ``pk``."""
    return session.get(f"{base}/predictions/{pk}/status.json", **kwargs)


def percentile(values, q) -> float:
    """The ``q``-th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
