"""How much of the server's disk each user's files take, and the quota on it
(``LAB_USER_STORAGE_MB``): a prediction's upload and steps, a training job's model,
checkpoint and figures. Admins have no quota: they manage the lab's data sets.

Sizes are kept on the rows (``stored_bytes``), written when the files are: by the page
that stores a prediction, by the worker when a job's run ends (``record_job_files``), so
the quota is a sum in the database, not a walk over the disk on every upload.
"""

from django.conf import settings
from django.db.models import Sum

from ..ml import store
from ..ml.messages import Refusal, _
from ..models import Prediction, TrainingJob
from ..roles import is_admin

MB = 1024 * 1024


def storage_used(user) -> int:
    """The bytes ``user``'s predictions, submissions and training jobs keep on disk."""
    predictions = Prediction.objects.filter(owner=user).aggregate(n=Sum("stored_bytes"))["n"]
    jobs = TrainingJob.objects.filter(owner=user).aggregate(n=Sum("stored_bytes"))["n"]
    return (predictions or 0) + (jobs or 0)


def storage_quota(user) -> int | None:
    """``user``'s quota in bytes; None for no quota (admins, or ``LAB_USER_STORAGE_MB=0``)."""
    if is_admin(user) or not settings.LAB_USER_STORAGE_MB:
        return None
    return settings.LAB_USER_STORAGE_MB * MB


def check_storage(user, adding: int = 0) -> None:
    """Refuse, saying how much is used and how to make room, when ``adding`` more bytes
    would take ``user`` past their quota."""
    quota = storage_quota(user)
    if quota is None:
        return
    used = storage_used(user)
    if used + adding > quota:
        raise Refusal(
            _(
                "Your files take %(used).1f MB of the %(quota)d MB you may keep on the "
                "lab. Delete predictions or training jobs you no longer need to make room.",
                used=used / MB,
                quota=quota // MB,
            )
        )


def record_job_files(job: TrainingJob) -> None:
    """Write down what ``job``'s files take now (its run just ended)."""
    TrainingJob.objects.filter(pk=job.pk).update(stored_bytes=store.folder_bytes(job.artifact_dir))
