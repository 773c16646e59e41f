"""Students own their data: they delete their own predictions and finished jobs, files and
all; a course's record (submissions, and the models that grade or graded them) stays.

The world is the permission matrix's (``tests/support/world.py``): student A owns
a finished job (``job``, scored on the hidden test set), a queued one, a prediction made
with the finished one, and a submission graded by the instructor's ``grader``, which is
published to the course, grades its assignment and regraded it.
"""

import pytest
from django.urls import reverse

from classifier import services
from classifier.ml.messages import Refusal
from classifier.models import (
    EpochMetric,
    Evaluation,
    JobStatus,
    Prediction,
    Regrade,
    TrainingJob,
)
from tests.support.clients import flash_messages, token_client
from tests.support.jobs import make_evaluated_job
from tests.support.predictions import make_stored_prediction

pytestmark = pytest.mark.django_db


def _login(client, world, role):
    client.force_login(world.users[role])
    return client


# --- Predictions -------------------------------------------------------------------------


def test_a_student_deletes_their_own_prediction_with_its_images(
    client, world, django_capture_on_commit_callbacks
):
    prediction = world.prediction
    _login(client, world, "student_a")
    url = reverse("classifier:prediction-delete", args=[prediction.pk])
    assert url in client.get(prediction.get_absolute_url()).content.decode()
    assert "removed for good" in client.get(url).content.decode()
    assert prediction.original_path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response["Location"] == reverse("classifier:prediction-list")
    assert flash_messages(response) == f"Deleted prediction #{prediction.pk}."
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert not prediction.file_dir.exists()
    # The model it was made with is untouched.
    assert TrainingJob.objects.filter(pk=world.job.pk).exists() and world.job.model_path.exists()


def test_a_submission_cannot_be_deleted_and_nothing_of_it_goes(
    client, world, django_capture_on_commit_callbacks
):
    submission = world.submission
    reason = (
        f"Prediction #{submission.pk} is a submission to Week 1, so it is kept as the "
        "course's record."
    )
    assert services.prediction_deletion_refusal(submission) == reason
    for role in ("student_a", "admin"):
        _login(client, world, role)
        url = reverse("classifier:prediction-delete", args=[submission.pk])
        assert url not in client.get(submission.get_absolute_url()).content.decode()
        page = client.get(url)
        assert page.context["refusal"] == reason
        assert b'class="danger"' not in page.content
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url)
        assert response["Location"] == submission.get_absolute_url()
        assert flash_messages(response) == reason
    assert Prediction.objects.filter(pk=submission.pk).exists()
    assert submission.original_path.exists() and submission.input_path.exists()


def test_others_get_a_404_for_a_prediction_they_do_not_own(client, world):
    cases = (
        ("student_b", world.prediction),
        ("instructor", world.submission),
        ("other_instructor", world.prediction),
    )
    for role, prediction in cases:
        _login(client, world, role)
        url = reverse("classifier:prediction-delete", args=[prediction.pk])
        assert client.get(url).status_code == 404, role
        assert client.post(url).status_code == 404, role
    assert Prediction.objects.filter(pk__in=[world.prediction.pk, world.submission.pk]).count() == 2
    # The teacher reads the submission, but is offered no way to delete it.
    _login(client, world, "instructor")
    page = client.get(world.submission.get_absolute_url())
    assert page.status_code == 200 and page.context["may_delete"] is False


def test_an_admin_deletes_a_students_prediction(client, world, django_capture_on_commit_callbacks):
    _login(client, world, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("classifier:prediction-delete", args=[world.prediction.pk]))
    assert not Prediction.objects.filter(pk=world.prediction.pk).exists()
    assert not world.prediction.file_dir.exists()


# --- Training jobs -----------------------------------------------------------------------


def test_a_student_deletes_their_finished_job_with_all_that_is_its_own(
    client, world, django_capture_on_commit_callbacks
):
    job, prediction = world.job, world.prediction
    assert [row["job"] for row in services.leaderboard_rows(world.ds)] == [job.pk]
    _login(client, world, "student_a")
    url = reverse("classifier:job-delete", args=[job.pk])
    assert url in client.get(job.get_absolute_url()).content.decode()
    page = client.get(url)
    assert page.context["refusal"] == ""
    text = page.content.decode()
    assert "So is its 1 evaluation, with its place on the leaderboard." in text
    assert "The 1 prediction made with it goes too." in text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response["Location"] == reverse("classifier:job-list")
    assert flash_messages(response) == f"Deleted job #{job.pk}."
    assert not TrainingJob.objects.filter(pk=job.pk).exists()
    assert not job.model_path.exists() and not job.artifact_dir.exists()
    assert not EpochMetric.objects.filter(job_id=job.pk).exists()
    assert not Evaluation.objects.filter(job_id=job.pk).exists()
    assert services.leaderboard_rows(world.ds) == []
    # Its owner's prediction made with it went too, images and all.
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert not prediction.file_dir.exists()
    # Nothing of anybody else's.
    assert world.grader.model_path.exists()
    assert Prediction.objects.filter(pk=world.submission.pk).exists()


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING])
def test_an_unfinished_job_is_cancelled_not_deleted(client, world, status):
    job = TrainingJob.objects.create(
        owner=world.users["student_a"], dataset=world.ds, model_spec="mlp", status=status
    )
    reason = (
        f"Job #{job.pk} has not finished, so it cannot be deleted: cancel it first, and delete "
        "it once it has stopped."
    )
    _login(client, world, "student_a")
    url = reverse("classifier:job-delete", args=[job.pk])
    assert url not in client.get(job.get_absolute_url()).content.decode()
    assert client.get(url).context["refusal"] == reason
    response = client.post(url)
    assert response["Location"] == job.get_absolute_url()
    assert flash_messages(response) == reason
    assert TrainingJob.objects.get(pk=job.pk).status == status


def test_a_grading_model_is_kept_with_its_files(client, world, django_capture_on_commit_callbacks):
    grader = world.grader
    reason = f"Job #{grader.pk} grades an assignment, so it is kept as the course's record."
    for role in ("instructor", "admin"):
        _login(client, world, role)
        url = reverse("classifier:job-delete", args=[grader.pk])
        assert url not in client.get(grader.get_absolute_url()).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url)
        assert response.status_code == 302 and flash_messages(response) == reason, role
    assert TrainingJob.objects.filter(pk=grader.pk).exists() and grader.model_path.exists()
    assert Prediction.objects.filter(pk=world.submission.pk).exists()
    assert Regrade.objects.filter(grader=grader).exists()


def test_a_job_a_course_relies_on_is_kept_with_the_reason(world):
    student_a, student_b = world.users["student_a"], world.users["student_b"]

    graded = make_evaluated_job(student_a, world.ds)
    make_stored_prediction(student_a, graded, assignment=world.assignment, expected="가", attempt=2)
    regraded = make_evaluated_job(student_a, world.ds)
    Regrade.objects.create(assignment=world.assignment, grader=regraded, status=JobStatus.SUCCEEDED)
    published = make_evaluated_job(student_a, world.ds)
    world.course.published_models.add(published)
    shared = make_evaluated_job(student_a, world.ds)
    make_stored_prediction(student_b, shared)
    make_stored_prediction(student_b, shared)

    reasons = {
        graded: f"Job #{graded.pk} graded submissions (1), so it is kept as the course's record.",
        regraded: f"Job #{regraded.pk} regraded an assignment, so it is kept as the course's "
        "record.",
        published: f"Job #{published.pk} is published to a course, so it is kept for the "
        "course's students.",
        shared: f"Other people made predictions with job #{shared.pk} (2), so it is kept: "
        "deleting it would delete theirs.",
    }
    for job, reason in reasons.items():
        with pytest.raises(Refusal) as refused:
            services.delete_training_job(job)
        assert str(refused.value) == reason
        assert TrainingJob.objects.filter(pk=job.pk).exists() and job.model_path.exists()
    assert Prediction.objects.filter(assignment=world.assignment).count() == 2
    assert Prediction.objects.filter(owner=student_b, model=shared).count() == 2


def test_others_get_a_404_for_a_job_they_do_not_own(client, world):
    # Instructors see every job (they run the lab's queue), but delete none of a student's.
    for role in ("student_b", "instructor", "other_instructor"):
        _login(client, world, role)
        url = reverse("classifier:job-delete", args=[world.job.pk])
        assert client.get(url).status_code == 404, role
        assert client.post(url).status_code == 404, role
    _login(client, world, "instructor")
    assert client.get(world.job.get_absolute_url()).context["may_delete"] is False
    assert TrainingJob.objects.filter(pk=world.job.pk).exists()


# --- The API -----------------------------------------------------------------------------


def test_the_api_deletes_what_the_pages_delete(world, django_capture_on_commit_callbacks):
    student_a = token_client(world.users["student_a"])
    prediction, job = world.prediction, world.job
    student_b = token_client(world.users["student_b"])
    instructor = token_client(world.users["instructor"])
    assert student_b.delete(f"/api/predictions/{prediction.pk}/").status_code == 404
    assert instructor.delete(f"/api/jobs/{job.pk}/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        answer = student_a.delete(f"/api/predictions/{prediction.pk}/")
    assert answer.status_code == 204
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert not prediction.file_dir.exists()

    with django_capture_on_commit_callbacks(execute=True):
        answer = student_a.delete(f"/api/jobs/{job.pk}/")
    assert answer.status_code == 204
    assert not TrainingJob.objects.filter(pk=job.pk).exists() and not job.artifact_dir.exists()
    assert student_a.get(f"/api/jobs/{job.pk}/").status_code == 404


def test_the_api_refuses_with_the_reason_and_keeps_everything(world):
    student_a = token_client(world.users["student_a"])
    submission, queued = world.submission, world.queued_job

    answer = student_a.delete(f"/api/predictions/{submission.pk}/")
    assert answer.status_code == 409
    assert answer.json() == {"detail": services.prediction_deletion_refusal(submission)}
    assert Prediction.objects.filter(pk=submission.pk).exists()
    assert submission.original_path.exists()

    answer = student_a.delete(f"/api/jobs/{queued.pk}/")
    assert answer.status_code == 409
    assert "has not finished, so it cannot be deleted" in answer.json()["detail"]
    assert TrainingJob.objects.get(pk=queued.pk).status == JobStatus.QUEUED

    grader = world.grader
    answer = token_client(world.users["instructor"]).delete(f"/api/jobs/{grader.pk}/")
    assert answer.status_code == 409
    assert answer.json()["detail"] == (
        f"Job #{grader.pk} grades an assignment, so it is kept as the course's record."
    )
    assert TrainingJob.objects.filter(pk=grader.pk).exists() and grader.model_path.exists()
