"""Files go with their rows: a deleted data set, training job or prediction takes its
folders under MEDIA_ROOT with it, whatever deleted it.

A ``post_delete`` receiver rather than ``delete()`` overrides or the admin's delete
hooks: a cascade (deleting a user, a course, an assignment or a training job) and a
``QuerySet.delete()`` call neither of those, but Django sends ``post_delete`` for every
row they remove. The folders go once the deletion commits, so a delete that is rolled
back keeps its files; a folder that cannot be removed is logged, never undoing or
failing the delete.
"""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete

from .models import Dataset, Prediction, TrainingJob
from .models.base import remove_folders

#: The models whose rows own folders (``Job.file_folders``).
MODELS_WITH_FILES = (Dataset, TrainingJob, Prediction)


def remove_files_on_commit(sender, instance, using, **kwargs):
    """Remove the deleted row's folders once its transaction commits."""
    # Named now: Django clears the instance's primary key once the delete is done.
    folders = instance.file_folders
    transaction.on_commit(partial(remove_folders, folders), using=using, robust=True)


def connect():
    """Connect the receivers (from the app's ``ready``), once per model."""
    for model in MODELS_WITH_FILES:
        post_delete.connect(
            remove_files_on_commit, sender=model, dispatch_uid=f"remove-files-{model.__name__}"
        )
