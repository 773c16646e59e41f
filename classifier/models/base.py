"""What every background job shares: status, claiming, dispatch, progress."""

import logging
from pathlib import Path

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError

from ..i18n import stored, translate_stored
from ..ml import store

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "QUEUED", _("Queued")
    RUNNING = "RUNNING", _("Running")
    SUCCEEDED = "SUCCEEDED", _("Succeeded")
    FAILED = "FAILED", _("Failed")
    CANCELLED = "CANCELLED", _("Cancelled")


TERMINAL_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    """What every background job shares: its status, attempts, heartbeat and error.

    Every change of status is one of these methods, each a single conditional UPDATE on
    the states it may start from, so two processes racing over a row cannot both win:

    ======================  ==================================  =====================
    arrow                   method                              who
    ======================  ==================================  =====================
    QUEUED -> RUNNING       ``claim``                           a worker, a command
    RUNNING -> SUCCEEDED    ``succeed`` (with the results)      the run
    RUNNING -> FAILED       ``fail`` (with the reason)          the run
    RUNNING -> CANCELLED    ``stop``                            the run, on request
    QUEUED -> CANCELLED     ``request_cancel``                  a page, the API
    RUNNING -> QUEUED       ``requeue_dead`` (stale heartbeat)  the sweeper, commands
    RUNNING -> FAILED       ``give_up`` (stale, out of runs)    the sweeper
    finished -> QUEUED      ``requeue`` (run state reset)       rebuild, re-evaluate
    ======================  ==================================  =====================

    (A submission also goes from any state to SUCCEEDED when a regrade grades it anew:
    ``Prediction.regraded``.) A message delivered twice is harmless: only ``claim``
    moves a row to RUNNING.
    """

    #: The Celery task that runs this kind of job, by its registered name.
    task_name = ""

    status = models.CharField(
        _("status"),
        max_length=10,
        choices=JobStatus.choices,
        default=JobStatus.QUEUED,
        db_index=True,
    )
    #: Why the job failed, as a message template (English) and its values: translated
    #: when shown, in the reader's language (see ``error_text``).
    error = models.TextField(_("error"), blank=True)
    error_params = models.JSONField(_("error values"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    #: When its message last reached the broker; None while it never did (the broker was
    #: down), so the sweeper knows which queued rows to send again.
    dispatched_at = models.DateTimeField(_("sent to the queue"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_terminal(self):
        return self.status in TERMINAL_STATUSES

    @property
    def file_folders(self) -> tuple[Path, ...]:
        """The folders under MEDIA_ROOT that hold this row's files (none by default).

        They go when the row is deleted, however it is (see ``classifier/signals.py``).
        """
        return ()

    def delete_files(self):
        """Remove this row's folders (not the row)."""
        remove_folders(self.file_folders)

    @property
    def duration(self):
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    def dispatch(self):
        """Send this row's key to its queue once the current transaction commits.

        A broker that is down leaves the row QUEUED; it is sent again later rather
        than failing the request that created it.
        """
        from labsite.celery import app

        model, name = type(self), self.task_name
        transaction.on_commit(lambda: _send_quietly(app, model, name, self.pk))

    @property
    def queue_notice(self) -> str:
        """Words for a row saved while the queue could not be reached, else "": it starts
        by itself once the queue is back (the sweeper sends it)."""
        if self.status == JobStatus.QUEUED and self.dispatched_at is None:
            return gettext(
                "The job queue cannot be reached right now. This is saved, and it starts by "
                "itself as soon as the queue is back: there is nothing to send again."
            )
        return ""

    @property
    def is_dispatched(self) -> bool:
        """Whether this row's message reached the broker (read afresh from the database)."""
        return type(self).objects.filter(pk=self.pk, dispatched_at__isnull=False).exists()

    @classmethod
    def claim(cls, pk):
        """Move row ``pk`` from QUEUED to RUNNING; True only for the one caller that did."""
        now = timezone.now()
        claimed = cls.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
            **cls._run_start_fields(),
            status=JobStatus.RUNNING,
            attempts=F("attempts") + 1,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            error="",
            error_params={},
        )
        return claimed == 1

    def update_progress(self, **fields):
        """Write progress fields and a heartbeat without touching the rest of the row."""
        fields["heartbeat_at"] = timezone.now()
        type(self).objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def error_text(self) -> str:
        """Why the job failed, in the active language."""
        return translate_stored(self.error, self.error_params)

    def _move(self, rows, status, **fields) -> bool:
        """Write ``status`` and ``fields`` to those of ``rows`` (this row, narrowed to the
        states the arrow starts from); on this instance too if the UPDATE took."""
        fields["status"] = status
        if not rows.filter(pk=self.pk).update(**fields):
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        return True

    def _end(self, status, error="", **results) -> bool:
        # ``error`` may be a Message: its template and values are kept, so each reader
        # sees the reason in their own language. The results go in the same UPDATE, so
        # a row is never seen finished without them.
        template, params = stored(error)
        now = timezone.now()
        running = type(self).objects.filter(status=JobStatus.RUNNING)
        return self._move(
            running,
            status,
            error=template,
            error_params=params,
            finished_at=now,
            heartbeat_at=now,
            **results,
        )

    def succeed(self, **results) -> bool:
        """RUNNING -> SUCCEEDED, with ``results``; False if the row was not running (a
        sweeper or a regrade got there first)."""
        return self._end(JobStatus.SUCCEEDED, **results)

    def fail(self, reason, **results) -> bool:
        """RUNNING -> FAILED with ``reason`` (words, or a Message)."""
        return self._end(JobStatus.FAILED, reason, **results)

    def stop(self, **results) -> bool:
        """RUNNING -> CANCELLED: the run noticed ``cancel_requested`` and stopped."""
        return self._end(JobStatus.CANCELLED, **results)

    def request_cancel(self):
        """Cancel a queued job at once, or ask a running one to stop; False if neither.

        A running job notices ``cancel_requested`` at its next check (a file, a batch).
        """
        queued = type(self).objects.filter(status=JobStatus.QUEUED)
        if self._move(queued, JobStatus.CANCELLED, finished_at=timezone.now()):
            return True
        rows = type(self).objects.filter(pk=self.pk, status=JobStatus.RUNNING)
        return bool(rows.update(cancel_requested=True))

    def requeue(self, **fields) -> bool:
        """A finished, failed or cancelled row -> QUEUED, to run again from scratch (a
        rebuild, a new evaluation), with its run state reset and ``fields`` written;
        False if it is queued or running already. The caller dispatches it."""
        finished = type(self).objects.filter(status__in=TERMINAL_STATUSES)
        return self._move(
            finished,
            JobStatus.QUEUED,
            attempts=0,
            cancel_requested=False,
            error="",
            error_params={},
            started_at=None,
            finished_at=None,
            heartbeat_at=None,
            dispatched_at=None,
            **fields,
        )

    @classmethod
    def _run_start_fields(cls) -> dict:
        """What a kind of job records as a run starts (in ``claim``'s UPDATE)."""
        return {}

    def requeue_dead(self, stale_before) -> bool:
        """RUNNING with a heartbeat older than ``stale_before`` (its process died) ->
        QUEUED, keeping its attempts and what it finished; the caller runs or dispatches
        it. A worker that comes back to life beats first and keeps its row."""
        dead = type(self).objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale_before)
        return self._move(dead, JobStatus.QUEUED, dispatched_at=None, **self._death_fields())

    def _death_fields(self) -> dict:
        """What a kind of job records when a run of it died (in ``requeue_dead``)."""
        return {}

    def keeps_crashing(self) -> bool:
        """Whether this dead run, like the one before it, died having done nothing: a
        job that takes the worker down with it (out of memory), which a third run would
        only repeat. Only training jobs say so (they count their epochs)."""
        return False

    def give_up(self, stale_before, reason) -> bool:
        """RUNNING with a stale heartbeat and no runs left -> FAILED with ``reason``; the
        files kept only to resume a run go (``discard_resume_state``)."""
        template, params = stored(reason)
        dead = type(self).objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale_before)
        moved = self._move(
            dead, JobStatus.FAILED, error=template, error_params=params, finished_at=timezone.now()
        )
        if moved:
            self.discard_resume_state()
        return moved

    def discard_resume_state(self):
        """Remove what a run keeps only so that the next run can go on from it, once no
        run will: nothing, unless a kind of job keeps something."""


def remove_folders(folders):
    """Remove ``folders`` with any half-built versions of them; never raises.

    A folder that cannot be removed is logged for someone to delete by hand: the files
    of a row are never worth failing the work that removes them.
    """
    for folder in folders:
        store.remove(folder)
        if folder.exists():
            logger.warning("Could not remove %s; delete it by hand.", folder)


def _send_quietly(app, model, task_name, pk):
    try:
        app.send_task(task_name, args=[pk])
    except OperationalError as exc:
        # The broker is down or restarting, which the lab expects: the row stays QUEUED
        # and the sweeper sends it later. A line, not a traceback per job, in the log.
        logger.warning("Could not queue %s(%s); the broker is unreachable: %s", task_name, pk, exc)
    except Exception:  # anything else is a bug, but the row is still sent later
        logger.exception("Could not queue %s(%s)", task_name, pk)
    else:
        model.objects.filter(pk=pk).update(dispatched_at=timezone.now())
