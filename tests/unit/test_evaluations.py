"""Evaluate: what may be scored, a hidden score that stays hidden, and evaluations that
count against a student's queue like training jobs (issue 19's leaderboard findings)."""

import pytest
from django.urls import reverse

from classifier import services
from classifier.forms.training import EvaluateForm, TrainingJobForm
from classifier.ml.messages import Refusal
from classifier.models import Evaluation, JobStatus, TrainingJob
from tests.support.datasets import make_dataset

pytestmark = pytest.mark.django_db


def test_hidden_and_leaderboard_test_sets_are_never_offered(world):
    leaderboard_test = world.ds2
    world.spare.hidden_test = leaderboard_test  # a leaderboard's test set, not hidden itself
    world.spare.save()
    for role in ("student_a", "instructor", "admin"):
        offered = set(
            EvaluateForm(job=world.job, user=world.users[role]).fields["dataset"].queryset
        )
        assert world.hidden not in offered and leaderboard_test not in offered, role
        assert world.ds in offered, role


def test_an_instructors_evaluate_cannot_unhide_a_leaderboard_score(client, world):
    hidden = Evaluation.objects.get(job=world.job, dataset=world.hidden)
    client.force_login(world.users["instructor"])
    client.post(
        reverse("classifier:job-evaluate", args=[world.job.pk]), {"dataset": world.hidden.pk}
    )
    hidden.refresh_from_db()
    assert hidden.hidden and hidden.status == JobStatus.SUCCEEDED  # refused: not offered
    # Nor does the service, asked directly, turn a hidden scoring into a shown one.
    again = services.create_evaluation(job=world.job, dataset=world.hidden, dispatch=False)
    assert again.hidden and Evaluation.objects.get(pk=hidden.pk).hidden
    assert [row["job"] for row in services.leaderboard_rows(world.ds)] == []  # re-scoring


def test_queued_evaluations_count_against_the_students_limit(client, world, settings):
    settings.LAB_MAX_ACTIVE_JOBS = 2
    student = world.users["student_a"]  # world.queued_job: one place taken
    client.force_login(student)
    url = reverse("classifier:job-evaluate", args=[world.job.pk])
    client.post(url, {"dataset": world.ds2.pk})
    assert Evaluation.objects.get(job=world.job, dataset=world.ds2).status == JobStatus.QUEUED
    answer = client.post(url, {"dataset": world.ds.pk}, follow=True)
    assert "2 jobs or evaluations queued or running" in answer.content.decode()
    assert not Evaluation.objects.filter(job=world.job, dataset=world.ds).exists()
    page = client.get(reverse("classifier:job-new")).content.decode()
    assert "2 jobs or evaluations queued or running" in page
    # The leaderboard's own scorings are the lab's, not the student's.
    Evaluation.objects.filter(job=world.job, dataset=world.ds2).update(status=JobStatus.SUCCEEDED)
    Evaluation.objects.filter(dataset=world.hidden).update(status=JobStatus.QUEUED)
    assert services.queue_limit_refusal(student) is None


def test_the_limit_holds_when_another_request_took_the_last_place_meanwhile(world, settings):
    """Two posts at once: both forms pass before either job is recorded; the service,
    counting in the transaction that records the job, refuses the second."""
    settings.LAB_MAX_ACTIVE_JOBS = 2
    student = world.users["student_a"]
    data = {
        "dataset": world.ds.pk,
        "model": "mlp",
        "optimizer": "adam",
        "epochs": 1,
        "batch_size": 8,
        "seed": 0,
        "split_kind": "stratified",
        "val_fraction": 0.2,
    }
    forms = [TrainingJobForm(data, user=student) for _ in range(2)]
    assert all(form.is_valid() for form in forms), [form.errors for form in forms]
    services.create_training_job(owner=student, dispatch=False, **forms[0].job_fields())
    with pytest.raises(Refusal):
        services.create_training_job(owner=student, dispatch=False, **forms[1].job_fields())
    assert TrainingJob.objects.filter(owner=student).count() == 3  # world's two, and one


def test_the_test_set_is_chosen_by_whoever_made_the_data_set_and_shown_again_after(client, world):
    teacher, other = world.users["instructor"], world.users["other_instructor"]
    mine = make_dataset("teachers-own", chars="가나다", per_char=4, created_by=teacher)
    url = reverse("classifier:leaderboard", args=[mine.pk])
    client.force_login(other)
    assert client.post(url, {"hidden_test": world.ds2.pk}).status_code == 403
    assert 'name="hidden_test"' not in client.get(url).content.decode()
    client.force_login(teacher)
    assert client.post(url, {"hidden_test": world.ds2.pk}).status_code == 302
    world.ds2.refresh_from_db()
    assert world.ds2.is_hidden  # students no longer see the test set
    client.post(url, {"hidden_test": ""})
    world.ds2.refresh_from_db()
    assert not world.ds2.is_hidden, "cleared: the set is shown again"
    # A set hidden before any leaderboard took it stays hidden when it is cleared.
    client.post(url, {"hidden_test": world.hidden.pk})
    client.post(url, {"hidden_test": ""})
    world.hidden.refresh_from_db()
    assert world.hidden.is_hidden


def test_a_test_set_two_leaderboards_use_stays_hidden_until_both_let_it_go(world):
    first, second = world.spare, make_dataset("second", chars="가나", per_char=2)
    services.set_hidden_test(first, world.ds2)
    services.set_hidden_test(second, world.ds2)
    services.set_hidden_test(first, None)
    world.ds2.refresh_from_db()
    assert world.ds2.is_hidden
    services.set_hidden_test(second, None)
    world.ds2.refresh_from_db()
    assert not world.ds2.is_hidden
