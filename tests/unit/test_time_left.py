"""The time-left estimate of a training job and of a data set build: none until this run
has measured how fast it goes, then one from what it measured."""

import pytest

from classifier.ml import build
from classifier.models import Dataset, JobStatus, TrainingJob
from classifier.services import datasets as dataset_services
from classifier.services import training as training_services
from tests.support.datasets import make_dataset
from tests.support.jobs import make_queued_job

pytestmark = pytest.mark.django_db


class Clock:
    """``time.monotonic`` as the test sets it."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def _eta(row):
    return type(row).objects.values_list("eta_seconds", flat=True).get(pk=row.pk)


def test_a_training_job_estimates_its_time_left_only_after_a_measured_epoch(student_a, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(training_services.time, "monotonic", clock)
    job = make_queued_job(student_a, make_dataset(), epochs=10)
    listener = training_services._JobListener(job, train_samples=100, echo=None)
    listener.on_epoch_begin(0)

    # The first batch took 3 s (the model was built, the pipeline warmed up): extrapolated,
    # 1 batch of 100 in 10 epochs would make 3 s into almost 50 min.
    clock.now += 3
    listener.on_batch(0, 0, 100)
    assert _eta(job) is None
    clock.now += 1
    listener.on_batch(0, 49, 100)
    assert _eta(job) is None

    clock.now += 1
    metrics = {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.5}
    listener.on_epoch_end(0, {**metrics, "seconds": 5.0, "samples_per_second": 25.0})
    assert _eta(job) == 45.0  # 5 s an epoch, 9 to go

    listener.on_epoch_begin(1)
    clock.now += 2.5
    listener.on_batch(1, 49, 100)
    assert _eta(job) == 42.5  # 7.5 s for 1.5 epochs: 8.5 to go at 5 s each


def test_a_resumed_build_estimates_nothing_before_it_has_built_something(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(build.time, "monotonic", clock)
    dataset = Dataset.objects.create(name="resumed", source="phd08", status=JobStatus.RUNNING)
    writer = dataset_services._ProgressWriter(dataset, echo=None)

    # Half the files were built by the run before; this run has spent no time yet.
    progress = build.Progress(
        units_done=5,
        units_total=10,
        samples_done=250,
        started=clock.now,
        units_before=5,
        samples_before=250,
    )
    writer(progress)
    assert _eta(dataset) is None

    clock.now += 10
    progress.units_done, progress.samples_done = 6, 300  # this run's first unit
    writer(progress)
    assert _eta(dataset) is not None and _eta(dataset) > 0


def test_the_progress_pages_show_no_time_left_without_an_estimate(client, student_a):
    job = make_queued_job(student_a, make_dataset(), epochs=10)
    TrainingJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, eta_seconds=None)
    client.force_login(student_a)
    status = client.get(f"/jobs/{job.pk}/status.json").json()
    assert status["eta_seconds"] is None and "left" not in status["fragments"]["progress"]
    job.update_progress(eta_seconds=75)
    fragment = client.get(f"/jobs/{job.pk}/status.json").json()["fragments"]["progress"]
    assert "about 1 min 15 s left" in fragment
