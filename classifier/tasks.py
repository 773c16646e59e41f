"""Celery tasks. Each takes a row's primary key and hands the work to ``services``.

Routing (which queue runs which task) is in ``CELERY_TASK_ROUTES`` in the settings.
"""

from celery import shared_task

from . import services


@shared_task(name="classifier.tasks.build_dataset")
def build_dataset(dataset_id: int):
    """Convert PHD08 files or render fonts into the data set's arrays (``data`` queue)."""
    services.run_dataset_build(dataset_id)
