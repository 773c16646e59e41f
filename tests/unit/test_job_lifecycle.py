"""The job lifecycle: every arrow of ``Job`` is conditional on where it starts, and the one
failure handler ends any run's error as FAILED with a reason in words."""

from datetime import timedelta

import pytest
from django.utils import timezone

from classifier import services
from classifier.ml.messages import Message
from classifier.models import Evaluation, JobStatus, TrainingJob
from classifier.services import recovery
from classifier.services.failures import failing
from tests.support.courses import make_grader
from tests.support.datasets import make_dataset
from tests.support.jobs import make_queued_job

pytestmark = pytest.mark.django_db


def _queued(owner, name="tiny"):
    return make_queued_job(owner, make_dataset(name=name))


def _status(job):
    return TrainingJob.objects.get(pk=job.pk).status


def test_a_run_ends_only_from_running(student_a):
    job = _queued(student_a)
    assert not job.succeed() and not job.fail("no") and not job.stop()
    assert _status(job) == JobStatus.QUEUED
    assert TrainingJob.claim(job.pk) and not TrainingJob.claim(job.pk)
    assert job.succeed(val_accuracy=0.5)
    stored = TrainingJob.objects.get(pk=job.pk)
    assert (stored.status, stored.val_accuracy) == (JobStatus.SUCCEEDED, 0.5)
    assert stored.finished_at is not None
    assert not job.fail("too late")  # a finished run is not failed afterwards
    assert _status(job) == JobStatus.SUCCEEDED


def test_a_finished_job_is_requeued_with_its_run_state_reset(student_a):
    job = _queued(student_a)
    assert not job.requeue()  # queued already
    TrainingJob.claim(job.pk)
    assert not job.requeue()  # running
    job.fail(Message("The data set is gone: %(name)s", name="x"))
    assert job.requeue()
    stored = TrainingJob.objects.get(pk=job.pk)
    assert (stored.status, stored.attempts, stored.error, stored.error_params) == (
        JobStatus.QUEUED,
        0,
        "",
        {},
    )
    assert stored.finished_at is None and stored.started_at is None


def test_only_a_stale_running_job_is_taken_back_or_given_up(student_a):
    job = _queued(student_a)
    TrainingJob.claim(job.pk)
    job.refresh_from_db()
    before_the_beat = job.heartbeat_at - timedelta(seconds=1)
    assert not job.requeue_dead(before_the_beat) and not job.give_up(before_the_beat, "x")
    assert _status(job) == JobStatus.RUNNING
    after = timezone.now() + timedelta(seconds=1)
    assert job.requeue_dead(after) and _status(job) == JobStatus.QUEUED
    assert not job.give_up(after, "x")  # not running any more
    TrainingJob.claim(job.pk)
    assert job.give_up(timezone.now() + timedelta(seconds=1), "gave up")
    assert TrainingJob.objects.get(pk=job.pk).error == "gave up"


def test_cancel_stops_a_queued_job_at_once_and_asks_a_running_one(student_a):
    queued, running = _queued(student_a), _queued(student_a, name="other")
    TrainingJob.claim(running.pk)
    assert queued.request_cancel() and _status(queued) == JobStatus.CANCELLED
    assert running.request_cancel() and _status(running) == JobStatus.RUNNING
    assert TrainingJob.objects.get(pk=running.pk).cancel_requested
    assert running.stop() and _status(running) == JobStatus.CANCELLED


def test_any_error_of_a_run_ends_it_failed_with_a_reason(student_a, caplog):
    job = _queued(student_a)
    TrainingJob.claim(job.pk)
    with failing(job):
        raise KeyError("config.json")  # a plain bug, not a refusal
    stored = TrainingJob.objects.get(pk=job.pk)
    assert stored.status == JobStatus.FAILED
    assert "Something went wrong inside the lab" in stored.error_text
    assert "KeyError" in stored.error_text and "failed" in caplog.text


def test_an_evaluation_that_hits_a_bug_fails_instead_of_running_forever(instructor):
    # A model file with the lab's metadata but no Keras model in it: Keras's own error
    # once ended the task without a word, leaving the row RUNNING for the sweeper.
    job = make_grader(instructor, chars="가나", name="no-weights")
    evaluation = services.create_evaluation(job=job, dataset=job.dataset, dispatch=False)
    services.run_evaluation(evaluation.pk)
    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.FAILED
    assert "Something went wrong inside the lab" in evaluation.error_text
    again = services.create_evaluation(job=job, dataset=job.dataset, dispatch=False)
    assert again.pk == evaluation.pk
    assert Evaluation.objects.get(pk=evaluation.pk).status == JobStatus.QUEUED


@pytest.mark.parametrize("keep", [False, True])
def test_a_job_given_up_on_loses_its_checkpoint_unless_told_to_keep_it(student_a, settings, keep):
    settings.LAB_KEEP_CHECKPOINTS = keep
    job = _queued(student_a)
    TrainingJob.claim(job.pk)
    job.artifact_dir.mkdir(parents=True)
    job.checkpoint_path.write_bytes(b"a model after its second epoch")
    assert job.give_up(timezone.now() + timedelta(seconds=1), "gave up")
    assert _status(job) == JobStatus.FAILED
    assert job.checkpoint_path.exists() == keep


def test_the_sweeper_sends_every_queued_job_again_when_it_starts(
    student_a, django_capture_on_commit_callbacks
):
    waiting = _queued(student_a)
    sent_recently = _queued(student_a, name="other")
    TrainingJob.objects.filter(pk=sent_recently.pk).update(dispatched_at=timezone.now())
    running = _queued(student_a, name="third")
    TrainingJob.claim(running.pk)
    with django_capture_on_commit_callbacks() as sends:
        assert recovery.dispatch_queued() == 2
    assert len(sends) == 2  # both queued jobs, whether or not sent before; not the running one
    assert waiting.pk != sent_recently.pk


def test_the_sweeper_sends_again_only_what_the_broker_no_longer_holds(
    student_a, settings, private_broker, django_capture_on_commit_callbacks
):
    """A consumer that takes a message and dies before recording it loses it: its row is
    QUEUED and the message is nowhere. The sweeper sends that one again once the grace is
    over; a message waiting its turn in its queue, however long, is left alone. A broker
    that cannot be asked what it holds gets every long-waiting row sent again."""
    from labsite.celery import app

    # A broker of its own, which no worker consumes. Celery reads the settings once, on
    # first use: read them before this test changes one, so no later test inherits it.
    assert app.conf.task_routes
    settings.CELERY_BROKER_URL = private_broker.url
    waiting, lost, fresh = (_queued(student_a, name=name) for name in ("a", "b", "c"))
    long_ago = timezone.now() - timedelta(seconds=settings.LAB_REDISPATCH_SECONDS + 60)
    TrainingJob.objects.filter(pk__in=[waiting.pk, lost.pk]).update(dispatched_at=long_ago)
    TrainingJob.objects.filter(pk=fresh.pk).update(dispatched_at=timezone.now())
    with app.connection_for_write(private_broker.url) as connection:
        app.send_task(waiting.task_name, args=[waiting.pk], connection=connection)
    with django_capture_on_commit_callbacks() as sends:
        report = recovery.sweep()
    assert report.resent == [("TrainingJob", lost.pk)] and len(sends) == 1

    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/redis.sock"
    with django_capture_on_commit_callbacks():
        report = recovery.sweep()
    assert sorted(report.resent) == [("TrainingJob", waiting.pk), ("TrainingJob", lost.pk)]


def test_a_send_while_the_broker_is_down_logs_a_line_and_leaves_the_row_queued(student_a, caplog):
    """A broker that is down is expected (a restart): one warning line per job, not a
    traceback, and the row stays for the sweeper to send."""
    from celery import Celery

    from classifier.models.base import _send_quietly

    down = Celery(broker="redis+socket:///nonexistent/redis.sock", set_as_current=False)
    down.conf.update(task_publish_retry=False, broker_transport_options={"max_retries": 0})
    job = _queued(student_a)
    with caplog.at_level("WARNING", logger="classifier.models.base"):
        _send_quietly(down, TrainingJob, job.task_name, job.pk)
    (record,) = [r for r in caplog.records if r.name == "classifier.models.base"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert "the broker is unreachable" in record.getMessage()
    assert TrainingJob.objects.get(pk=job.pk).dispatched_at is None


def _run_dies(job, *, epochs=0):
    """A worker claims ``job``, finishes ``epochs`` epochs, dies; the sweeper sweeps."""
    assert TrainingJob.claim(job.pk)
    job.refresh_from_db()
    if epochs:
        job.update_progress(epochs_done=job.epochs_done + epochs)
    long_ago = timezone.now() - timedelta(hours=1)
    TrainingJob.objects.filter(pk=job.pk).update(heartbeat_at=long_ago)
    recovery.sweep()
    job.refresh_from_db()


def test_a_job_whose_worker_dies_twice_before_an_epoch_fails_as_out_of_memory(student_a):
    """Killed by the out-of-memory killer, a job would take the worker down on every run:
    after the second run that finished nothing, it fails with the likely reason."""
    job = make_queued_job(student_a, make_dataset(), epochs=5)
    _run_dies(job)
    assert job.status == JobStatus.QUEUED and job.runs_without_an_epoch == 1
    _run_dies(job)
    assert job.status == JobStatus.FAILED and job.attempts == 2
    assert "ran out of memory or crashed the worker" in job.error_text


def test_a_run_that_finished_an_epoch_before_dying_is_not_a_crash_loop(student_a, settings):
    settings.LAB_MAX_ATTEMPTS = 5
    job = make_queued_job(student_a, make_dataset(), epochs=5)
    _run_dies(job)  # nothing done
    _run_dies(job, epochs=2)  # went on: the count starts again
    assert job.status == JobStatus.QUEUED and job.runs_without_an_epoch == 0
    _run_dies(job)
    assert job.status == JobStatus.QUEUED and job.runs_without_an_epoch == 1
