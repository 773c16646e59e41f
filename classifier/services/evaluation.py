"""Scoring finished jobs on other data sets, and the hidden-test leaderboard."""

import numpy as np
from django.db import transaction

from ..ml import calibration
from ..ml.messages import Refusal, _
from ..models import Dataset, Evaluation, JobStatus, TrainingJob
from ..roles import is_admin
from .failures import job_run
from .queue_limits import take_a_place_in_the_queue


@transaction.atomic
def create_evaluation(
    *, job: TrainingJob, dataset: Dataset, hidden=False, dispatch=True, requested_by=None
):
    """Queue scoring ``job``'s model on ``dataset`` (again, if it was scored before, once
    the last scoring finished).

    ``requested_by``: the person who asked (the Evaluate button), whose queue limit it
    counts against; the leaderboard's own scorings have none. A hidden evaluation stays
    hidden: scoring a leaderboard's test set again must not show its score.
    """
    if requested_by is not None:
        take_a_place_in_the_queue(requested_by)
    evaluation, created = Evaluation.objects.get_or_create(
        job=job, dataset=dataset, defaults={"hidden": hidden}
    )
    hidden = hidden or evaluation.hidden
    requeued = not created and evaluation.requeue(accuracy=None, n=0, per_class={}, hidden=hidden)
    if not (created or requeued):
        # Queued or running already: it scores the same model on the same data, and
        # counts as hidden if it now is.
        if hidden and not evaluation.hidden:
            Evaluation.objects.filter(pk=evaluation.pk).update(hidden=True)
            evaluation.hidden = True
    elif dispatch:
        evaluation.dispatch()
    return evaluation


def run_evaluation(pk: int) -> Evaluation | None:
    """Claim evaluation ``pk`` and score the job's model on its data set."""
    if not Evaluation.claim(pk):
        return None
    evaluation = Evaluation.objects.select_related("job__dataset", "dataset").get(pk=pk)
    with job_run(evaluation):
        result = evaluate_job_on(evaluation.job, evaluation.dataset)
        evaluation.succeed(
            accuracy=result["accuracy"], n=result["n"], per_class=result["per_class"]
        )
    return evaluation


def evaluate_job_on(job: TrainingJob, dataset: Dataset, *, on_progress=None) -> dict:
    """Score a finished job's saved model on every sample of ``dataset``'s job characters.

    ``on_progress(done, total)`` follows the samples scored (the ``evaluate`` command's bar).
    """
    from ..ml import training

    if not job.model_path.exists():
        raise Refusal(_("Job #%(pk)d has no saved model.", pk=job.pk))
    model, classes, input_shape = training.load_model(job.model_path)
    if tuple(input_shape) != (dataset.height, dataset.width):
        raise Refusal(
            _(
                "%(name)s has %(size)s images; the model takes %(height)dx%(width)d.",
                name=dataset.name,
                size=dataset.size_label,
                height=input_shape[0],
                width=input_shape[1],
            )
        )
    missing = [c for c in classes if c not in dataset.classes]
    if missing:
        raise Refusal(
            _(
                "%(name)s lacks the characters %(chars)s.",
                name=dataset.name,
                chars=" ".join(missing),
            )
        )
    arrays = dataset.open_store()
    chosen_labels = [dataset.classes.index(c) for c in classes]
    indices = np.flatnonzero(np.isin(arrays.labels, chosen_labels))
    # Scored with the temperature chosen on the job's own validation split.
    temperature = calibration.temperature_of(training.read_metadata(job.model_path))
    result = training.evaluate(
        model,
        arrays.images,
        arrays.labels,
        indices,
        chosen_labels,
        on_progress=on_progress,
        temperature=temperature,
    )
    return {
        "accuracy": float(result.accuracy),
        "n": int(result.n),
        "per_class": dict(zip(classes, map(finite_or_none, result.per_class), strict=True)),
    }


def may_choose_hidden_test(user, dataset: Dataset) -> bool:
    """Whether ``user`` chooses ``dataset``'s leaderboard test set: whoever made the data
    set, and admins. Choosing one hides it from every student, so it is not any
    instructor's to choose."""
    return is_admin(user) or (user.is_authenticated and dataset.created_by_id == user.pk)


def set_hidden_test(dataset: Dataset, test: Dataset | None):
    """Make ``test`` the leaderboard's hidden test set and score every finished job on it.

    The test set is hidden from students meanwhile; the one it replaces (or that is
    cleared) is shown again if a leaderboard hid it and no other leaderboard uses it.
    """
    with transaction.atomic():
        # Locked so that a job finishing now either sees the test set or is seen here;
        # the stored row says what it replaces (a form may have changed ``dataset``).
        previous = Dataset.objects.select_for_update().get(pk=dataset.pk).hidden_test_id
        dataset.hidden_test = test
        dataset.save(update_fields=["hidden_test"])
        if previous and previous != getattr(test, "pk", None):
            still_used = Dataset.objects.filter(hidden_test_id=previous).exists()
            if not still_used:
                Dataset.objects.filter(pk=previous, hidden_for_leaderboard=True).update(
                    is_hidden=False, hidden_for_leaderboard=False
                )
        if test is None:
            return
        Dataset.objects.filter(pk=test.pk, is_hidden=False).update(
            is_hidden=True, hidden_for_leaderboard=True
        )
        for job in dataset.training_jobs.filter(status=JobStatus.SUCCEEDED):
            create_evaluation(job=job, dataset=test, hidden=True)


def leaderboard_rows(dataset: Dataset) -> list[dict]:
    """Each student's best hidden-test accuracy on ``dataset``, best first."""
    if dataset.hidden_test_id is None:
        return []
    scored = (
        Evaluation.objects.filter(
            dataset_id=dataset.hidden_test_id,
            job__dataset=dataset,
            status=JobStatus.SUCCEEDED,
            hidden=True,
        )
        .select_related("job__owner")
        .order_by("-accuracy")
    )
    best: dict[int, dict] = {}
    for evaluation in scored:
        job = evaluation.job
        best.setdefault(
            job.owner_id,
            {
                "owner": job.owner.username,
                "test_accuracy": evaluation.accuracy,
                "val_accuracy": job.val_accuracy,
                "job": job.pk,
                "model_spec": job.model_spec,
            },
        )
    return list(best.values())


def leaderboard_pending(dataset: Dataset) -> int:
    """How many jobs on ``dataset`` are still being scored on its hidden test set."""
    if dataset.hidden_test_id is None:
        return 0
    return Evaluation.objects.filter(
        dataset_id=dataset.hidden_test_id,
        job__dataset=dataset,
        hidden=True,
        status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
    ).count()


def finite_or_none(value) -> float | None:
    """A score rounded for storing as JSON; None for NaN (a class with no samples)."""
    value = float(value)
    return None if np.isnan(value) else round(value, 6)
