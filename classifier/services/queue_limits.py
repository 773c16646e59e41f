"""How much work a student may have queued or running at once (LAB_MAX_ACTIVE_JOBS)."""

from django.conf import settings
from django.contrib.auth import get_user_model

from ..ml.messages import Message, Refusal, _
from ..models import Evaluation, JobStatus, TrainingJob
from ..roles import is_instructor

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def queue_limit_refusal(user) -> Message | None:
    """Why ``user`` may not queue more work now, or None: a student's training jobs and
    the evaluations they asked for (not the leaderboard's, which the lab queues) count
    together. Instructors and admins have no limit."""
    limit = settings.LAB_MAX_ACTIVE_JOBS
    if is_instructor(user):
        return None
    active = TrainingJob.objects.filter(owner=user, status__in=ACTIVE).count()
    active += Evaluation.objects.filter(job__owner=user, hidden=False, status__in=ACTIVE).count()
    if active < limit:
        return None
    return _(
        "You already have %(n)d jobs or evaluations queued or running; wait for one to finish.",
        n=limit,
    )


def take_a_place_in_the_queue(user) -> None:
    """Refuse ``user`` more work past the limit, with their row locked until the caller's
    transaction ends: two requests at once cannot both take the last place. Call it
    inside the transaction that records the work."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if refusal := queue_limit_refusal(user):
        raise Refusal(refusal)
