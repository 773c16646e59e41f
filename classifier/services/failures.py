"""How a job's run goes: the one context every run of every kind of job is in
(``job_run``: its heartbeat, and ``failing``, the one handler that turns any error of the
run into a reason a person reads)."""

import errno
import logging
from collections.abc import Callable
from contextlib import contextmanager

from ..i18n import message_of
from ..ml import store
from ..ml.messages import Message, Refusal, _
from .recovery import keep_alive

logger = logging.getLogger(__name__)


def describe_os_error(exc: OSError) -> Message:
    """Why a file could not be read or written, in words a person can act on (stored as a
    template, so each reader sees it in their language)."""
    # EFBIG: the file outgrew what this process may write (a quota, ulimit -f).
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return _(
            "The disk is full (or its quota reached): the files could not be written. "
            "Partial files were removed; free some space and try again."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return _(
            "The media folder is not writable (%(path)s). Check its permissions.",
            path=str(exc.filename),
        )
    return _("Could not read or write a file: %(error)s", error=str(exc))


def failure_reason(exc: Refusal | OSError) -> Message | str:
    """The reason stored for a job that failed with ``exc``: its message (for a data set
    whose files cannot be read, saying so), or what an operating system error means."""
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    if isinstance(exc, store.StoreError):
        return _("The data set's files cannot be read: %(reason)s", reason=message_of(exc))
    return message_of(exc)


def unexpected_error(exc: Exception) -> Message:
    """The failure reason stored for an error nobody foresaw: what to do, then its type
    and text for whoever looks into it."""
    return _(
        "Something went wrong inside the lab; this is not caused by your choices. Tell "
        "your instructor, who can find the details in the worker's log "
        "(%(kind)s: %(error)s).",
        kind=type(exc).__name__,
        error=str(exc),
    )


@contextmanager
def job_run(job, *, on_failure: Callable[[Exception], None] | None = None):
    """The block is ``job``'s run, once claimed, whoever runs it (a worker, a command):
    its heartbeat is kept fresh, so the sweeper never takes a live run for a dead one and
    runs the job a second time, and any error ends it FAILED (``failing``)."""
    with keep_alive(type(job), job.pk), failing(job, on_failure=on_failure):
        yield


@contextmanager
def failing(job, *, on_failure: Callable[[Exception], None] | None = None):
    """Run the block as ``job``'s run: any error in it ends the job FAILED (``Job.fail``)
    with a reason in words, and goes no further. A Refusal or a file error
    says what went wrong; anything else is logged with its traceback and told as an
    error inside the lab. ``on_failure(exc)`` runs first (to remove partial files)."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, Refusal | OSError):
            logger.exception("%s #%s failed", type(job).__name__, job.pk)
        if on_failure is not None:
            on_failure(exc)
        if isinstance(exc, Refusal | OSError):
            job.fail(failure_reason(exc))
        else:
            job.fail(unexpected_error(exc))
