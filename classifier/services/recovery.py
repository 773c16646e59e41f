"""Recovering jobs from the rows when workers die or the broker goes away (DESIGN.md, 1).

Two things keep the database the truth about every job:

- while a job runs (a worker's task or a command: ``services.failures.job_run``),
  ``keep_alive`` writes the row's heartbeat every ``LAB_HEARTBEAT_SECONDS`` from a
  thread of its own, so a silent heartbeat means the process is gone, not that the job
  is slow;
- ``sweep`` (run every few seconds by ``manage.py sweep``, which ``make run`` and the
  compose file start) re-queues RUNNING rows whose heartbeat went stale, up to
  ``LAB_MAX_ATTEMPTS`` runs, then fails them with the reason; and sends again the
  QUEUED rows whose message never reached the broker, or that the broker no longer
  holds (a consumer took it and died, or the broker restarted empty). A broker that
  cannot be asked what it holds (not Redis, or not answering) has its QUEUED rows sent
  again every ``LAB_REDISPATCH_SECONDS`` instead.

A message delivered twice is harmless: a task runs only after claiming its row
(QUEUED -> RUNNING in one conditional UPDATE).
"""

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from ..ml.messages import _
from ..models import Dataset, Evaluation, JobStatus, Prediction, Regrade, TrainingJob
from . import broker

logger = logging.getLogger(__name__)

JOB_MODELS = (Dataset, TrainingJob, Evaluation, Prediction, Regrade)
# A row just created has its message sent when its transaction commits; it is not
# taken for undispatched before this many seconds.
DISPATCH_GRACE_SECONDS = 5
# A message sent this long ago that the broker no longer holds, while its row is still
# QUEUED, was lost (a consumer took it and died); so was one a consumer took this long
# ago and never acknowledged while the row stayed QUEUED.
MESSAGE_GRACE_SECONDS = 30


@contextmanager
def keep_alive(model, pk: int):
    """Write row ``pk``'s heartbeat every ``LAB_HEARTBEAT_SECONDS`` while the block runs."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(settings.LAB_HEARTBEAT_SECONDS):
                try:
                    model.objects.filter(pk=pk, status=JobStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    # One beat lost (the database busy or restarting) is not worth the
                    # run: the next beat comes before the sweeper would notice.
                    logger.warning("Could not write the heartbeat of %s %s", model.__name__, pk)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@dataclass
class SweepReport:
    """What one sweep did, as ``(model name, pk)`` pairs."""

    requeued: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    resent: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.requeued or self.failed or self.resent)


def _stale_before(now):
    """Heartbeats older than this are a dead process's: three beats were missed."""
    return now - timedelta(seconds=3 * settings.LAB_HEARTBEAT_SECONDS)


def take_back_dead(row) -> bool:
    """Put a RUNNING ``row`` whose process died (stale heartbeat) back to QUEUED, without
    sending it anywhere, for the caller to run; False if it is alive or not running."""
    return row.requeue_dead(_stale_before(timezone.now()))


def sweep() -> SweepReport:
    """One pass over every kind of job: recover dead runs, resend lost messages."""
    report = SweepReport()
    now = timezone.now()
    stale = _stale_before(now)
    # Asked before the rows are read: a message taken and acknowledged in between
    # belongs to a row no longer QUEUED, so no waiting row is taken for lost.
    held = broker.held_messages(taken_within=MESSAGE_GRACE_SECONDS)
    for model in JOB_MODELS:
        for row in model.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale):
            _recover(row, stale, report)
        # A broker that cannot say what it holds: go by the clock alone.
        sent_before = now - timedelta(
            seconds=settings.LAB_REDISPATCH_SECONDS if held is None else MESSAGE_GRACE_SECONDS
        )
        lost = Q(
            dispatched_at__isnull=True,
            created_at__lt=now - timedelta(seconds=DISPATCH_GRACE_SECONDS),
        ) | Q(dispatched_at__lt=sent_before)
        for row in model.objects.filter(lost, status=JobStatus.QUEUED):
            if held is not None and (row.task_name, row.pk) in held:
                continue  # waiting its turn in the queue
            row.dispatch()
            report.resent.append((model.__name__, row.pk))
    if report:
        logger.info("Sweep: %s", report)
    return report


def dispatch_queued() -> int:
    """Send every QUEUED row's message again; how many were sent.

    For the sweeper's start: a lab that stopped (or whose broker restarted) may have lost
    messages it had sent, and its queued jobs would otherwise wait for
    ``LAB_REDISPATCH_SECONDS``. A message that was not lost is then delivered twice, which
    is harmless: a run starts only by claiming its row.
    """
    sent = 0
    for model in JOB_MODELS:
        for row in model.objects.filter(status=JobStatus.QUEUED):
            row.dispatch()
            sent += 1
    return sent


def _recover(row, stale, report: SweepReport):
    # Both arrows are conditional on the heartbeat still being stale, so a worker that
    # comes back to life (or a second sweeper) cannot make the row run twice.
    name = type(row).__name__
    if row.keeps_crashing():
        reason = _(
            "The job ran out of memory or crashed the worker: twice its worker died "
            "before it finished an epoch. Try a smaller batch or a smaller model."
        )
        if row.give_up(stale, reason):
            report.failed.append((name, row.pk))
        return
    if row.attempts < settings.LAB_MAX_ATTEMPTS:
        if row.requeue_dead(stale):
            row.dispatch()
            report.requeued.append((name, row.pk))
        return
    reason = _(
        "The worker running this stopped responding, %(attempts)d times; the lab gave "
        "up. What was finished is kept. Try again, and tell your instructor if this "
        "repeats (the worker may be running out of memory).",
        attempts=row.attempts,
    )
    if row.give_up(stale, reason):
        report.failed.append((name, row.pk))
