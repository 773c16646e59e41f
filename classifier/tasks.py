"""Celery tasks. Each takes a row's primary key and hands the work to ``services``.

Routing (which queue runs which task) is in ``CELERY_TASK_ROUTES`` in the settings.
A run keeps its row's heartbeat fresh itself (``services.failures.job_run``), whoever
runs it, so the sweeper can tell a dead worker from a slow job.
"""

from celery import shared_task

from . import services


@shared_task(name="classifier.tasks.build_dataset")
def build_dataset(dataset_id: int):
    """Convert PHD08 files or render fonts into the data set's arrays (``data`` queue)."""
    services.run_dataset_build(dataset_id)


@shared_task(name="classifier.tasks.train_model")
def train_model(job_id: int):
    """Train a student's Keras model (``train`` queue; TensorFlow is imported here only)."""
    services.run_training_job(job_id)


@shared_task(name="classifier.tasks.evaluate_job")
def evaluate_job(evaluation_id: int):
    """Score a finished job's model on another data set, or the hidden test set."""
    services.run_evaluation(evaluation_id)


@shared_task(name="classifier.tasks.predict")
def predict(prediction_id: int):
    """Classify an uploaded or drawn character (``predict`` queue; models stay loaded)."""
    services.run_prediction(prediction_id)


@shared_task(name="classifier.tasks.regrade")
def regrade(regrade_id: int):
    """Grade every submission of an assignment again with another model."""
    services.run_regrade(regrade_id)


@shared_task(name="classifier.tasks.read_live", ignore_result=True)
def read_live(model_id: int, image: str, reply: str):
    """Read a drawing in progress and answer on the broker key ``reply`` (``predict``
    queue); nothing is stored."""
    services.run_live_reading(model_id, image, reply)
