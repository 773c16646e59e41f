import io
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil
import segno
from django.conf import settings
from django.core.management.base import CommandError

from classifier.management.base import LabCommand
from labsite import embedded_redis

# The data worker runs its tasks in threads: a conversion starts its own process pool,
# which multiprocessing refuses to a prefork (daemonic) child, and predictions share
# one cache of loaded models. docker-compose.yml starts the same worker.
DATA_WORKER = ["-Q", "data,predict", "-P", "threads", "-c", "2", "-n", "data@%h"]
# TensorFlow uses every core: one training job per worker, in a prefork child.
TRAIN_WORKER = ["-Q", "train", "-c", "1", "-n", "train@%h"]
# Training takes every core it gets. Under SCHED_IDLE it runs only on CPU time nobody
# else wants, so pages and predictions answer at once while a class trains on the same
# machine (bench/load.py, 50 students: page p95 341 -> 100 ms, prediction p95 539 ->
# 403 ms, training 8% slower than at nice 10). docker-compose.yml starts it the same way.
TRAIN_PRIORITY = ["chrt", "--idle", "0"]
# The start of celery.platforms.ROOT_DISCOURAGED, which a worker run as root prints.
CELERY_ROOT_WARNING = "You're running the worker with superuser privileges"
# A part that stops is started again after these pauses (then the last one each time),
# as process managers do; one that stops this often within a minute is left stopped
# (/healthz shows it down), so a part that cannot start does not spin.
RESTART_PAUSES = (1, 2, 5, 10, 30)
MAX_RESTARTS_PER_MINUTE = 5


@dataclass
class Child:
    """A part of the lab: how to start it, and its process."""

    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen
    #: When it was started again (monotonic seconds), for the pause and the cap.
    restarts: list[float] = field(default_factory=list)
    #: When it is due to start again after it stopped; None while it runs.
    due: float | None = None
    given_up: bool = False


class Command(LabCommand):
    help = (
        "Serve the lab: the embedded Redis (unless CELERY_BROKER_URL is set), a Celery "
        "worker for the train queue, one for the data and predict queues, the sweeper "
        "that recovers jobs of dead workers, and the web server. A part that stops is "
        "started again (the web server's stopping stops the lab). Ctrl-C stops them all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="The address to serve on: 0.0.0.0 serves the classroom's network.",
        )
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        addresses = self.addresses(host)
        self.children = []
        # Ctrl-C reaches only this process (children run in their own sessions), so the
        # shutdown below happens in order: web, then workers, then the broker.
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.start_all(host, port)
            self.announce(addresses, port)
            self.watch()
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            self.stop_all()

    def addresses(self, host) -> list[str]:
        """The addresses students open, and the web server's ALLOWED_HOSTS with them:
        every address of this machine's network interfaces when serving them all."""
        if _is_loopback(host):
            return [host]
        if settings.DEBUG:
            raise CommandError(
                "DEBUG is on: anyone on the network would see Django's debug pages, with "
                "the lab's URLs and settings. Serve the network with DEBUG off."
            )
        addresses = _interface_addresses() if host in ("0.0.0.0", "::") else [host]
        # The web server inherits this: Django answers only to the names it lists.
        allowed = [*settings.ALLOWED_HOSTS, *map(_url_host, addresses), socket.gethostname()]
        os.environ["ALLOWED_HOSTS"] = ",".join(dict.fromkeys(allowed))
        return addresses or [host]

    def announce(self, addresses, port):
        urls = [f"http://{_url_host(address)}:{port}/" for address in addresses]
        self.stdout.write(self.style.SUCCESS(f"Hangul Lab is at {urls[0]} (Ctrl-C stops it)"))
        if _is_loopback(addresses[0]):
            return
        for url in urls[1:]:
            self.stdout.write(f"  also at {url}")
        # Students point a phone's camera at the screen rather than type the address.
        drawing = io.StringIO()
        segno.make(urls[0], error="m").terminal(out=drawing, compact=True)
        self.stdout.write(drawing.getvalue(), ending="")

    def start_all(self, host, port):
        socket_path = settings.EMBEDDED_REDIS_SOCKET
        if settings.EMBEDDED_BROKER and not embedded_redis.is_up(socket_path):
            log = settings.VAR_DIR / "redis.log"
            self.supervise("redis", lambda: embedded_redis.start(socket_path, log))
            self.stdout.write(f"Embedded Redis on {socket_path}")
        python = sys.executable
        # The web server first: students wait for it, while the workers have nothing to do
        # until somebody submits work.
        self.spawn(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "labsite.wsgi",
                "--config",
                "python:labsite.gunicorn",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
            ],
        )
        worker = [python, "-m", "celery", "-A", "labsite", "worker", "--loglevel", "INFO"]
        if os.geteuid() == 0:
            # `make run` as root (a fresh Debian machine) runs the workers as root too:
            # they write var/ with the lab's other parts, and another user could not.
            # Celery's warning is about pickled messages from a broker others reach;
            # the lab accepts JSON only (CELERY_ACCEPT_CONTENT), so it is left out of the
            # log. The compose image runs every part as a user of its own.
            worker[1:1] = ["-W", f"ignore:{CELERY_ROOT_WARNING}"]
        self.spawn("worker-train", [*TRAIN_PRIORITY, *worker, *TRAIN_WORKER])
        self.spawn("worker-data", [*worker, *DATA_WORKER])
        self.spawn("sweeper", [python, str(settings.BASE_DIR / "manage.py"), "sweep", "--every"])

    def spawn(self, name, command):
        self.supervise(name, lambda: subprocess.Popen(command, start_new_session=True))

    def supervise(self, name, start):
        self.children.append(Child(name, start, start()))

    def watch(self):
        """Start again each part that stops, after a pause that grows with its stops in
        the last minute; the lab goes on serving meanwhile. The web server stopping ends
        the lab: without it there is nothing to serve."""
        while True:
            now = time.monotonic()
            for child in self.children:
                if child.given_up or child.process.poll() is None:
                    continue
                if child.name == "web":
                    raise CommandError(f"web stopped (exit code {child.process.returncode}).")
                recent = [t for t in child.restarts if now - t < 60]
                if child.due is None:
                    if len(recent) >= MAX_RESTARTS_PER_MINUTE:
                        child.given_up = True
                        self.stderr.write(
                            f"{child.name} stopped {len(recent) + 1} times within a minute; "
                            "it is left stopped (the rest of the lab goes on)."
                        )
                        continue
                    pause = RESTART_PAUSES[min(len(recent), len(RESTART_PAUSES) - 1)]
                    child.due = now + pause
                    self.stderr.write(
                        f"{child.name} stopped (exit code {child.process.returncode}); "
                        f"starting it again in {pause} s."
                    )
                elif now >= child.due:
                    try:
                        child.process = child.start()
                    except (OSError, RuntimeError) as exc:  # it failed to start: try later
                        self.stderr.write(f"{child.name} could not start: {exc}")
                    else:
                        self.stdout.write(f"{child.name} started again.")
                    child.restarts.append(now)
                    child.due = None
            time.sleep(0.5)

    def stop_all(self):
        # The broker goes last, so workers can hand back what they hold. Workers
        # acknowledge a task only when it ends (acks_late): a job cut short here is
        # delivered again on the next start. Nothing may cut this short (see
        # _interrupt): the waits below are bounded instead.
        _ignore_interrupts()
        broker = [child for child in self.children if child.name == "redis"]
        others = [child for child in self.children if child.name != "redis"]
        for group in (others, broker):
            for child in group:
                if child.process.poll() is None:
                    child.process.terminate()
            deadline = time.monotonic() + 15
            for child in group:
                try:
                    child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.stderr.write(f"{child.name} did not stop in time; killing it.")
                    child.process.kill()
                    child.process.wait()


def _is_loopback(host) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _interface_addresses() -> list[str]:
    """This machine's addresses that other machines can reach: IPv4 first (what a
    classroom's network hands out), no loopback or link-local ones."""
    found = []
    for interface in psutil.net_if_addrs().values():
        for entry in interface:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(entry.address.split("%")[0])
            if not (address.is_loopback or address.is_link_local):
                found.append(address)
    return [str(address) for address in sorted(found, key=lambda a: (a.version, a))]


def _url_host(address) -> str:
    return f"[{address}]" if ":" in address else address


def _interrupt(signum, frame):
    """Begin the shutdown, once: a second Ctrl-C or SIGTERM, arriving while it runs,
    would cut it short and leave the children, each in a session of its own, running
    with nobody to stop them."""
    _ignore_interrupts()
    raise KeyboardInterrupt


def _ignore_interrupts():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
