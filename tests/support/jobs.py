"""Training jobs: queued as the form queues them, sent to the train queue, caught running,
or finished with a model file that holds only the lab's metadata.

A job with a real model that reads Hangul is ``tests.support.handwriting.make_trained_job``;
a course's grading model is ``tests.support.courses.make_grader``.
"""

import json
import zipfile

import numpy as np

from classifier import services
from classifier.ml import training
from classifier.models import EpochMetric, JobStatus, TrainingJob


def job_form(dataset, **extra) -> dict:
    """The New job form's fields as a browser posts them: an MLP on ``dataset``."""
    return {
        "dataset": dataset.pk,
        "chars": "",
        "model": "mlp",
        "spec": "",
        "optimizer": "adam",
        "learning_rate": "0.001",
        "epochs": "2",
        "batch_size": "16",
        "seed": "0",
        "split_kind": "stratified",
        "val_fraction": "0.25",
        "held_out": "",
        "tutorial_n": "10",
        **extra,
    }


def make_queued_job(owner, dataset, **fields) -> TrainingJob:
    """An MLP job recorded through the services, as the form records it, and sent to no
    worker: one epoch of 8 at 0.001, unless ``fields`` say otherwise. A test's setting,
    not a student's request: the queue limit does not apply."""
    values = {
        "chars": [],
        "model_spec": "mlp",
        "optimizer": "adam",
        "learning_rate": 0.001,
        "epochs": 1,
        "batch_size": 8,
        "seed": 0,
        "split": "stratified:0.25",
        "dispatch": False,
        "limit": False,
    }
    return services.create_training_job(owner=owner, dataset=dataset, **{**values, **fields})


def dispatch_job(owner, dataset, **fields) -> TrainingJob:
    """An MLP job sent to the train queue (the integration tests' real worker): two
    epochs of 16 at 0.003, unless ``fields`` say otherwise."""
    values = {"learning_rate": 0.003, "epochs": 2, "batch_size": 16, "dispatch": True}
    return make_queued_job(owner, dataset, **{**values, **fields})


def make_running_job(owner, dataset) -> TrainingJob:
    """An MLP job on ``dataset`` caught running, one epoch recorded (no worker involved)."""
    job = make_queued_job(owner, dataset, epochs=3, batch_size=16)
    EpochMetric.objects.create(
        job=job,
        epoch=1,
        loss=1.0,
        accuracy=0.5,
        val_loss=1.1,
        val_accuracy=0.4,
        seconds=1,
        samples_per_second=10,
    )
    job.update_progress(epochs_done=1, attempts=1)
    return job


def write_metadata_model(job, classes, input_shape=(28, 28)) -> None:
    """Give ``job`` a model file that holds only the lab's metadata (its classes and input
    shape): enough to check and preprocess images for it; nothing here runs a model."""
    job.artifact_dir.mkdir(parents=True)
    with zipfile.ZipFile(job.model_path, "w") as archive:
        metadata = {"classes": list(classes), "input_shape": list(input_shape)}
        archive.writestr(training.METADATA_NAME, json.dumps(metadata))


def make_evaluated_job(owner, dataset, **fields) -> TrainingJob:
    """A finished job with its history: two epochs, its evaluation arrays and a model
    file that holds only the lab's metadata (``write_metadata_model``)."""
    job = TrainingJob.objects.create(
        owner=owner,
        dataset=dataset,
        model_spec="mlp",
        status=JobStatus.SUCCEEDED,
        epochs=2,
        epochs_done=2,
        val_accuracy=0.5,
        **fields,
    )
    for epoch in (1, 2):
        EpochMetric.objects.create(
            job=job,
            epoch=epoch,
            loss=1.0 / epoch,
            accuracy=0.5,
            val_loss=1.0,
            val_accuracy=0.5,
            seconds=1,
            samples_per_second=100,
        )
    write_metadata_model(job, dataset.classes)
    k = len(dataset.classes)
    np.savez(
        job.artifact_dir / "evaluation.npz",
        confusion=np.eye(k, dtype=np.int64),
        indices=np.arange(k),
        predicted=np.roll(np.arange(k), 1),
        confidence=np.full(k, 0.5),
    )
    return job
