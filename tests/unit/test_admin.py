"""The Django admin: every model's pages, filters, search and actions, for staff only."""

import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst

from classifier import services
from classifier.ml.convert import ConversionSettings
from classifier.ml.messages import Refusal
from classifier.ml.render import RenderSettings
from classifier.models import (
    Assignment,
    Course,
    Dataset,
    Enrollment,
    EpochMetric,
    Evaluation,
    JobStatus,
    Prediction,
    Regrade,
    TrainingJob,
)
from tests.support.clients import flash_messages
from tests.support.datasets import make_dataset
from tests.support.phd08 import write_phd08_files


def _job(owner, dataset, status=JobStatus.SUCCEEDED, **fields) -> TrainingJob:
    return TrainingJob.objects.create(
        owner=owner,
        dataset=dataset,
        model_spec="mlp",
        status=status,
        epochs=3,
        split="stratified:0.2",
        **fields,
    )


def _prediction(owner, model, status=JobStatus.SUCCEEDED, **fields) -> Prediction:
    return Prediction.objects.create(
        owner=owner,
        model=model,
        source=Prediction.Source.CANVAS,
        original_file="original.png",
        status=status,
        **fields,
    )


@pytest.fixture
def lab(db, student_a, student_b, instructor):
    """A little of everything: data sets, jobs with epochs, an evaluation, a course with an
    assignment, submissions and a free prediction, a regrade."""
    tiny = make_dataset("tiny", chars="가나다", per_char=4)
    other = make_dataset("other", chars="라마", per_char=4)
    done = _job(
        student_a,
        tiny,
        val_accuracy=0.875,
        best_val_accuracy=0.9,
        epochs_done=3,
        chars=["가", "나"],
    )
    for epoch in (1, 2, 3):
        EpochMetric.objects.create(
            job=done,
            epoch=epoch,
            loss=1 / epoch,
            accuracy=0.5 + epoch / 10,
            val_loss=1.1 / epoch,
            val_accuracy=0.6 + epoch / 10,
            seconds=2,
            samples_per_second=50,
        )
    failed = _job(student_b, other, status=JobStatus.FAILED, error="Out of memory")
    evaluation = Evaluation.objects.create(
        job=done, dataset=other, status=JobStatus.SUCCEEDED, accuracy=0.5, n=8
    )
    course = Course.objects.create(name="Hangul 101", owner=instructor)
    Enrollment.objects.create(course=course, student=student_a)
    assignment = Assignment.objects.create(
        course=course,
        title="Week 1",
        chars=["가", "나"],
        grader=done,
        due_at=timezone.now() + timedelta(days=3),
    )
    submission = _prediction(
        student_a,
        done,
        assignment=assignment,
        expected="가",
        predicted="가",
        confidence=0.97,
        attempt=1,
    )
    free = _prediction(student_b, done, predicted="나", confidence=0.4)
    regrade = Regrade.objects.create(
        assignment=assignment,
        grader=done,
        requested_by=instructor,
        total=1,
        done=1,
        status=JobStatus.SUCCEEDED,
    )
    return {
        "dataset": tiny,
        "other": other,
        "job": done,
        "failed": failed,
        "evaluation": evaluation,
        "course": course,
        "assignment": assignment,
        "submission": submission,
        "prediction": free,
        "regrade": regrade,
    }


def _changelist(name):
    return reverse(f"admin:classifier_{name}_changelist")


def _shown(client, name, **query) -> set:
    response = client.get(_changelist(name), query)
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def _act(client, name, action, rows):
    response = client.post(
        _changelist(name), {"action": action, "_selected_action": [row.pk for row in rows]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return flash_messages(response)


@pytest.mark.parametrize(
    ("name", "key", "shows"),
    [
        ("dataset", "dataset", ["tiny", "3 · 가 나 다"]),
        ("trainingjob", "job", ["student_a", "87.5%", "90.0%", "3/3"]),
        ("evaluation", "evaluation", ["student_a", "50.0%"]),
        ("prediction", "submission", ["student_a", "Week 1", "97.0%"]),
        ("regrade", "regrade", ["Week 1", "Hangul 101", "1/1"]),
        ("course", "course", ["Hangul 101", "instructor"]),
        ("assignment", "assignment", ["Week 1", "가 나"]),
    ],
)
def test_each_changelist_and_change_page_loads_with_real_rows(staff_client, lab, name, key, shows):
    listing = staff_client.get(_changelist(name))
    assert listing.status_code == 200
    text = listing.content.decode()
    for expected in shows:
        assert expected in text, expected
    row = lab[key]
    page = staff_client.get(reverse(f"admin:classifier_{name}_change", args=[row.pk]))
    assert page.status_code == 200


def test_job_page_is_read_only_with_its_epochs_inline(staff_client, lab):
    job = lab["job"]
    page = staff_client.get(reverse("admin:classifier_trainingjob_change", args=[job.pk]))
    text = page.content.decode()
    assert "View training job" in text and 'name="_save"' not in text
    # The three epochs, with their validation accuracy as a percentage.
    assert all(shown in text for shown in ("70.0%", "80.0%", "90.0%"))
    # A POST does not change a job either.
    staff_client.post(
        reverse("admin:classifier_trainingjob_change", args=[job.pk]),
        {"epochs": 99, "status": "QUEUED"},
    )
    job.refresh_from_db()
    assert (job.epochs, job.status) == (3, JobStatus.SUCCEEDED)


def test_jobs_are_not_added_in_the_admin_but_courses_are(staff_client, lab, instructor):
    for name in ("dataset", "trainingjob", "evaluation", "prediction", "regrade"):
        assert staff_client.get(reverse(f"admin:classifier_{name}_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:classifier_course_add"),
        {
            "name": "Hangul 201",
            "owner": instructor.pk,
            "join_code": "K7QW3MZP",
            "enrollments-TOTAL_FORMS": 0,
            "enrollments-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert Course.objects.get(join_code="K7QW3MZP").owner == instructor


def test_data_set_page_edits_its_name_and_visibility_only(staff_client, lab):
    dataset = lab["dataset"]
    url = reverse("admin:classifier_dataset_change", args=[dataset.pk])
    response = staff_client.post(
        url, {"name": "tiny-renamed", "is_hidden": "on", "status": "FAILED", "num_samples": 1}
    )
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert (dataset.name, dataset.is_hidden) == ("tiny-renamed", True)
    assert (dataset.status, dataset.num_samples) == (JobStatus.SUCCEEDED, 12)


def test_filters_and_search_narrow_the_lists(staff_client, lab):
    job, failed, tiny = lab["job"], lab["failed"], lab["dataset"]
    assert _shown(staff_client, "trainingjob", status__exact="FAILED") == {failed.pk}
    assert _shown(staff_client, "trainingjob", dataset__id__exact=tiny.pk) == {job.pk}
    assert _shown(staff_client, "trainingjob", q="student_b") == {failed.pk}
    # Characters are found in the JSON lists too, however the database stores them.
    assert _shown(staff_client, "trainingjob", q="나") == {job.pk}
    assert _shown(staff_client, "dataset", q="다") == {tiny.pk}
    assert _shown(staff_client, "dataset", q="oth") == {lab["other"].pk}
    assert _shown(staff_client, "dataset", source__exact="phd08", status__exact="SUCCEEDED") == {
        tiny.pk,
        lab["other"].pk,
    }
    assert _shown(staff_client, "assignment", q="나") == {lab["assignment"].pk}
    assert _shown(staff_client, "assignment", q="마") == set()

    submission, free = lab["submission"], lab["prediction"]
    assert _shown(staff_client, "prediction", kind="submission") == {submission.pk}
    assert _shown(staff_client, "prediction", kind="free") == {free.pk}
    course = lab["course"]
    # A filter with one choice is not offered: a second course with a submission makes two.
    other = Course.objects.create(name="Hangul 102", owner=course.owner)
    week2 = Assignment.objects.create(
        course=other, title="Week 2", chars=["다"], grader=job, due_at=timezone.now()
    )
    elsewhere = _prediction(submission.owner, job, assignment=week2, expected="다")
    assert _shown(staff_client, "prediction", assignment__course__id__exact=course.pk) == {
        submission.pk
    }
    assert _shown(staff_client, "prediction", assignment__course__id__exact=other.pk) == {
        elsewhere.pk
    }
    assert _shown(staff_client, "prediction", q="student_b") == {free.pk}
    assert _shown(staff_client, "course", q=course.join_code) == {course.pk}
    assert _shown(staff_client, "course", q="student_a") == {course.pk}
    assert _shown(staff_client, "evaluation", hidden__exact=1) == set()
    assert _shown(staff_client, "regrade", status__exact="SUCCEEDED") == {lab["regrade"].pk}


def test_cancel_action_cancels_queued_asks_running_and_skips_finished(staff_client, lab):
    queued = _job(lab["job"].owner, lab["dataset"], status=JobStatus.QUEUED)
    running = _job(lab["job"].owner, lab["dataset"], status=JobStatus.RUNNING)
    said = _act(staff_client, "trainingjob", "cancel_selected", [queued, running, lab["job"]])
    assert "Cancelled 1 queued job." in said
    assert "Asked 1 running job to stop" in said
    assert "Skipped 1: already finished." in said
    queued.refresh_from_db(), running.refresh_from_db()
    assert queued.status == JobStatus.CANCELLED and queued.finished_at
    assert running.status == JobStatus.RUNNING and running.cancel_requested
    assert TrainingJob.objects.get(pk=lab["job"].pk).status == JobStatus.SUCCEEDED


def test_cancel_action_on_builds_and_predictions(staff_client, lab):
    building = make_dataset("building", status=JobStatus.RUNNING)
    said = _act(staff_client, "dataset", "cancel_selected", [building])
    assert "Asked 1 running job to stop" in said
    assert Dataset.objects.get(pk=building.pk).cancel_requested

    job, assignment = lab["job"], lab["assignment"]
    free = _prediction(job.owner, job, status=JobStatus.QUEUED)
    running = _prediction(job.owner, job, status=JobStatus.RUNNING)
    submission = _prediction(
        job.owner, job, status=JobStatus.QUEUED, assignment=assignment, expected="나", attempt=1
    )
    said = _act(staff_client, "prediction", "cancel_selected", [free, running, submission])
    assert "Cancelled 1 queued job." in said
    assert "Skipped 1: it is running and cannot be stopped" in said
    assert "Skipped 1: a submission is graded, not cancelled." in said
    statuses = dict(
        Prediction.objects.filter(pk__in=[free.pk, running.pk, submission.pk]).values_list(
            "pk", "status"
        )
    )
    assert statuses == {
        free.pk: JobStatus.CANCELLED,
        running.pk: JobStatus.RUNNING,
        submission.pk: JobStatus.QUEUED,
    }


def test_rerun_queues_a_copy_for_the_same_student_and_says_what_it_skipped(
    staff_client, lab, django_capture_on_commit_callbacks
):
    job, failed = lab["job"], lab["failed"]
    running = _job(job.owner, lab["dataset"], status=JobStatus.RUNNING)
    not_ready = _job(job.owner, make_dataset("gone", status=JobStatus.FAILED))
    before = set(TrainingJob.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        said = _act(
            staff_client, "trainingjob", "rerun_selected", [job, failed, running, not_ready]
        )
    copies = TrainingJob.objects.exclude(pk__in=before).order_by("pk")
    assert len(copies) == 2 and len(callbacks) == 2  # each copy is sent on commit
    by_owner = {copy.owner: copy for copy in copies}
    copy = by_owner[job.owner]
    assert copy.status == JobStatus.QUEUED and copy.epochs_done == 0 and copy.val_accuracy is None
    fields = (
        "dataset",
        "chars",
        "model_spec",
        "optimizer",
        "learning_rate",
        "epochs",
        "batch_size",
        "seed",
        "split",
    )
    assert all(getattr(copy, f) == getattr(job, f) for f in fields)
    assert by_owner[failed.owner].dataset == failed.dataset
    assert f"Queued 2 new jobs: #{copies[0].pk}" in said
    assert f"Job #{running.pk} is still Running" in said
    assert f"Job #{not_ready.pk}: its data set gone is not ready (Failed)" in said


def test_rerun_refuses_a_job_whose_characters_left_its_data_set(lab):
    job = lab["job"]
    Dataset.objects.filter(pk=job.dataset_id).update(classes=["가", "다"])
    job.refresh_from_db()
    with pytest.raises(Refusal, match="no longer has 나"):
        services.rerun_training_job(job)


def _font_dataset(name="fonts2", status=JobStatus.FAILED) -> Dataset:
    dataset = services.create_font_dataset(
        name=name,
        chars=["가", "나"],
        font_specs=["NanumGothic"],
        rendering=RenderSettings(height=16, width=16, per_font=2, seed=0),
        dispatch=False,
    )
    Dataset.objects.filter(pk=dataset.pk).update(
        status=status, error="The disk is full", attempts=3, files_done=1
    )
    dataset.refresh_from_db()
    return dataset


def test_rebuild_requeues_what_it_can_and_says_why_not_the_rest(
    staff_client, lab, tmp_path, django_capture_on_commit_callbacks
):
    fonts = _font_dataset()
    files = write_phd08_files(tmp_path / "phd08", "가나")
    moved = services.create_phd08_dataset(
        name="moved", paths=files, conversion=ConversionSettings(), dispatch=False
    )
    Dataset.objects.filter(pk=moved.pk).update(status=JobStatus.SUCCEEDED)
    for path in files:
        path.unlink()
    running = make_dataset("running", status=JobStatus.RUNNING)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        said = _act(
            staff_client, "dataset", "rebuild_selected", [fonts, moved, running, lab["dataset"]]
        )
    assert len(callbacks) == 1
    fonts.refresh_from_db()
    assert fonts.status == JobStatus.QUEUED
    assert (fonts.attempts, fonts.error, fonts.files_done, fonts.files_total) == (0, "", 0, 2)
    assert "Queued 1 rebuild: fonts2." in said
    assert "moved cannot be rebuilt:" in said and "does not exist" in said
    assert "running is being built already." in said
    assert "tiny keeps no record of what it was built from" in said
    assert Dataset.objects.get(pk=moved.pk).status == JobStatus.SUCCEEDED


def test_deleting_a_data_set_in_the_admin_removes_its_files_and_keeps_used_ones(
    staff_client, lab, django_capture_on_commit_callbacks
):
    spare = make_dataset("spare")
    assert spare.store_dir.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            _changelist("dataset"),
            {"action": "delete_selected", "_selected_action": [spare.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not Dataset.objects.filter(pk=spare.pk).exists() and not spare.store_dir.exists()
    # One that jobs were trained on is protected: the admin lists why, and deletes nothing.
    page = staff_client.post(
        _changelist("dataset"),
        {"action": "delete_selected", "_selected_action": [lab["dataset"].pk], "post": "yes"},
    )
    assert Dataset.objects.filter(pk=lab["dataset"].pk).exists()
    assert lab["dataset"].store_dir.exists()
    assert "would require deleting the following protected" in page.content.decode()


def _files(folder, *names):
    """Write small files under ``folder`` (names may hold sub-folders)."""
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"kept until its row goes")


def _delete_in_admin(client, name, row):
    response = client.post(
        reverse(f"admin:classifier_{name}_delete", args=[row.pk]), {"post": "yes"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_deleting_a_training_job_removes_its_files_and_its_predictions_files(
    staff_client, lab, django_capture_on_commit_callbacks
):
    job = _job(lab["job"].owner, lab["dataset"])
    free = _prediction(job.owner, job)
    _files(job.artifact_dir, "model.keras", "checkpoint.keras", "plots/curves-ko.png")
    _files(free.file_dir, "original.png", "step-input.png", "bars-ko.png")
    other = lab["job"]
    _files(other.artifact_dir, "model.keras")
    with django_capture_on_commit_callbacks(execute=True):
        _delete_in_admin(staff_client, "trainingjob", job)
    assert not TrainingJob.objects.filter(pk=job.pk).exists()
    # Its predictions went by cascade, and their images with them.
    assert not Prediction.objects.filter(pk=free.pk).exists()
    assert not job.artifact_dir.exists() and not free.file_dir.exists()
    assert (other.artifact_dir / "model.keras").exists()


def test_deleting_a_course_removes_the_files_of_its_submissions(
    staff_client, lab, django_capture_on_commit_callbacks
):
    submission, free = lab["submission"], lab["prediction"]
    _files(submission.file_dir, "original.png", "step-input.png")
    _files(free.file_dir, "original.png")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            _changelist("course"),
            {
                "action": "delete_selected",
                "_selected_action": [lab["course"].pk],
                "post": "yes",
            },
        )
    assert not Assignment.objects.filter(pk=lab["assignment"].pk).exists()
    assert not Prediction.objects.filter(pk=submission.pk).exists()
    assert not submission.file_dir.exists()
    assert (free.file_dir / "original.png").exists()


def test_a_delete_that_is_rolled_back_keeps_its_files(lab, django_capture_on_commit_callbacks):
    job = _job(lab["job"].owner, lab["dataset"])
    _files(job.artifact_dir, "model.keras")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        TrainingJob.objects.get(pk=job.pk).delete()
        raise RuntimeError("something later in the same transaction failed")
    assert TrainingJob.objects.filter(pk=job.pk).exists()
    assert (job.artifact_dir / "model.keras").exists()


def test_a_folder_that_cannot_be_removed_never_blocks_the_delete(
    staff_client, lab, django_capture_on_commit_callbacks, caplog
):
    job = _job(lab["job"].owner, lab["dataset"])
    # Tests may run as root, which ignores permissions: what cannot be removed as a
    # folder is a plain file standing where the job's folder should be.
    job.artifact_dir.parent.mkdir(parents=True)
    job.artifact_dir.write_bytes(b"not a folder")
    with (
        django_capture_on_commit_callbacks(execute=True),
        caplog.at_level(logging.WARNING, logger="classifier.models.base"),
    ):
        _delete_in_admin(staff_client, "trainingjob", job)
    assert not TrainingJob.objects.filter(pk=job.pk).exists()
    assert job.artifact_dir.exists()
    assert f"Could not remove {job.artifact_dir}" in caplog.text


def _label(model, field, language) -> str:
    """A field's label on an admin page, as shown in ``language``."""
    with translation.override(language):
        return str(capfirst(model._meta.get_field(field).verbose_name))


@pytest.mark.korean
@pytest.mark.parametrize(
    ("name", "key", "labels"),
    [
        (
            "dataset",
            "dataset",
            [
                (Dataset, "files_done"),
                (Dataset, "samples_per_second"),
                (Dataset, "created_by"),
                (Dataset, "heartbeat_at"),
            ],
        ),
        (
            "trainingjob",
            "job",
            [
                (TrainingJob, "epochs_done"),
                (TrainingJob, "train_accuracy"),
                (TrainingJob, "split_summary"),
                (TrainingJob, "dispatched_at"),
            ],
        ),
        ("evaluation", "evaluation", [(Evaluation, "per_class"), (Evaluation, "cancel_requested")]),
        (
            "prediction",
            "submission",
            [
                (Prediction, "steps"),
                (Prediction, "original_name"),
                (Prediction, "attempt"),
                (Prediction, "probabilities"),
            ],
        ),
        ("regrade", "regrade", [(Regrade, "requested_by"), (Regrade, "error_params")]),
        ("course", "course", [(Enrollment, "joined_at")]),
        ("assignment", "assignment", [(Assignment, "course")]),
    ],
)
def test_admin_pages_label_every_field_in_korean(staff_client, lab, name, key, labels):
    korean = {"accept-language": "ko"}
    row = lab[key]
    listing = staff_client.get(_changelist(name), headers=korean).content.decode()
    page = staff_client.get(
        reverse(f"admin:classifier_{name}_change", args=[row.pk]), headers=korean
    ).content.decode()
    with translation.override("ko"):
        assert str(row._meta.verbose_name_plural) in listing
        assert str(row) in page
    for model, field in labels:
        english, translated = _label(model, field, "en"), _label(model, field, "ko")
        assert translated != english, f"{model.__name__}.{field} has no Korean"
        assert translated in page and english not in page, f"{model.__name__}.{field}"


@pytest.mark.parametrize("who", ["student_a", "instructor"])
def test_the_admin_refuses_everyone_but_staff(client, lab, who, request):
    client.force_login(request.getfixturevalue(who))
    for name in ("dataset", "trainingjob", "prediction", "course", "assignment"):
        response = client.get(_changelist(name))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    queued = _job(lab["job"].owner, lab["dataset"], status=JobStatus.QUEUED)
    client.post(
        _changelist("trainingjob"), {"action": "cancel_selected", "_selected_action": [queued.pk]}
    )
    assert TrainingJob.objects.get(pk=queued.pk).status == JobStatus.QUEUED


@pytest.mark.worker
@pytest.mark.slow
def test_rebuild_and_rerun_go_through_the_real_workers_queue(worker, client, staff):
    client.force_login(staff)
    dataset = _font_dataset("fonts-rebuilt")
    said = _act(client, "dataset", "rebuild_selected", [dataset])
    assert "Queued 1 rebuild" in said
    dataset = worker.wait_for(dataset)
    assert dataset.status == JobStatus.SUCCEEDED, dataset.error_text
    assert dataset.dispatched_at and dataset.num_samples == 4 and dataset.classes == ["가", "나"]

    job = _job(staff, dataset)
    _act(client, "trainingjob", "rerun_selected", [job])
    copy = TrainingJob.objects.exclude(pk=job.pk).get()
    assert copy.dispatched_at  # it reached the broker
    # Cancelled rather than left in the queue. A training worker started by earlier tests
    # of the run may have taken it already (it is RUNNING, or even finished, by now): it
    # then stops at its next check.
    said = _act(client, "trainingjob", "cancel_selected", [copy])
    if "Cancelled 1 queued job" not in said:
        assert worker.wait_for(copy).status in (JobStatus.CANCELLED, JobStatus.SUCCEEDED)


def test_a_running_job_is_not_deleted_in_the_admin(staff_client, lab):
    running = _job(lab["job"].owner, lab["dataset"], status=JobStatus.RUNNING)
    finished = _job(lab["job"].owner, lab["dataset"])
    delete_page = reverse("admin:classifier_trainingjob_delete", args=[running.pk])
    assert staff_client.get(delete_page).status_code == 403

    selection = {"action": "delete_selected", "_selected_action": [running.pk, finished.pk]}
    confirm = staff_client.post(_changelist("trainingjob"), selection)
    assert confirm.status_code == 200 and confirm.context["perms_lacking"]
    refused = staff_client.post(_changelist("trainingjob"), {**selection, "post": "yes"})
    assert refused.status_code == 403
    assert TrainingJob.objects.filter(pk__in=[running.pk, finished.pk]).count() == 2

    running.stop()
    assert staff_client.get(delete_page).status_code == 200
