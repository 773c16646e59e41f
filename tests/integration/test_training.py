"""Training jobs run end to end by the real train-queue worker (real Keras, tiny data)."""

import json
import shutil
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from classifier import services
from classifier.ml import store
from classifier.models import EpochMetric, Evaluation, JobStatus, TrainingJob
from tests.support.datasets import make_dataset
from tests.support.jobs import dispatch_job

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_student_trains_from_the_form_and_sees_results(train_worker, client, student_a):
    dataset = make_dataset("shapes", chars="가나다라", per_char=40, size=(16, 16))
    other = make_dataset("shapes-other", chars="가나다라", per_char=10, size=(16, 16), seed=5)
    client.force_login(student_a)
    response = client.post(
        reverse("classifier:job-new"),
        {
            "dataset": dataset.pk,
            "chars": "",
            "model": "mlp",
            "optimizer": "adam",
            "learning_rate": "0.003",
            "epochs": "3",
            "batch_size": "16",
            "seed": "1",
            "split_kind": "group",
            "held_out": "G",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    job = train_worker.wait_for(TrainingJob.objects.get())
    assert job.status == JobStatus.SUCCEEDED, job.error_text
    metrics = list(EpochMetric.objects.filter(job=job))
    assert [m.epoch for m in metrics] == [1, 2, 3]
    assert all(m.val_accuracy is not None and m.samples_per_second > 0 for m in metrics)
    assert job.val_accuracy > 0.9  # the classes are easy: learning, not chance (0.25)
    assert job.split_summary["counts"]["가"] == {"train": 20, "val": 20}

    page = client.get(job.get_absolute_url()).content.decode()
    assert "Confusion matrix" in page and "Accuracy per character" in page
    assert "Calibration error (ECE)" in page
    assert job.calibration["measured"] and job.calibration["n"] == 4 * 20  # the validation split
    for name in ("job-curves", "job-confusion", "job-mistakes", "job-reliability"):
        image = client.get(reverse(f"classifier:{name}", args=[job.pk]))
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG"), name
    model = client.get(reverse("classifier:job-model", args=[job.pk]))
    assert model.status_code == 200 and model["Content-Disposition"].endswith('.keras"')
    status = client.get(reverse("classifier:job-status", args=[job.pk])).json()
    assert status["terminal"] and status["epoch"] == 3

    client.post(reverse("classifier:job-evaluate", args=[job.pk]), {"dataset": other.pk})
    evaluation = train_worker.wait_for(Evaluation.objects.get(job=job))
    assert evaluation.status == JobStatus.SUCCEEDED, evaluation.error_text
    assert evaluation.n == 40 and evaluation.accuracy > 0.9


def test_cancel_stops_a_running_job_and_keeps_its_epochs(train_worker, student_a):
    # Epochs of a few seconds (1,200 batches of 4), so that the lag between asking and
    # the worker noticing (a check every half second, a busy shared machine) stays well
    # inside one epoch: with sub-second epochs, two could end in that lag.
    dataset = make_dataset("long", chars="가나", per_char=3000, size=(28, 28))
    job = dispatch_job(
        student_a, dataset, epochs=200, batch_size=4, model_spec="conv16-pool-dense64"
    )
    deadline = time.monotonic() + 120
    while not EpochMetric.objects.filter(job=job).exists():
        assert time.monotonic() < deadline, train_worker.log_tail()
        time.sleep(0.2)
    finished_before_cancel = EpochMetric.objects.filter(job=job).count()
    assert job.request_cancel()
    job = train_worker.wait_for(job)
    assert job.status == JobStatus.CANCELLED
    # It stopped inside the epoch in progress (or, at worst, just as that one ended),
    # not 200 epochs later.
    assert finished_before_cancel <= job.epochs_done <= finished_before_cancel + 1
    assert EpochMetric.objects.filter(job=job).count() == job.epochs_done
    assert job.model_path.exists()


def test_job_whose_data_set_files_are_missing_fails_with_a_reason(train_worker, student_a):
    dataset = make_dataset("vanished")
    shutil.rmtree(dataset.store_dir)
    job = train_worker.wait_for(dispatch_job(student_a, dataset))
    assert job.status == JobStatus.FAILED
    assert "data set's files cannot be read" in job.error_text


def test_train_command_runs_in_process_and_prints_json(staff, capsys):
    make_dataset("cli-set", chars="가나다", per_char=30, size=(16, 16))
    call_command(
        "train",
        "--dataset",
        "cli-set",
        "--model",
        "mlp",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--split",
        "tutorial:20",
        "--user",
        staff.username,
        "--json",
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "SUCCEEDED" and summary["epochs"] == 2
    for key in ("job", "train_accuracy", "val_accuracy", "val_loss", "seconds"):
        assert summary[key] is not None
    job = TrainingJob.objects.get(pk=summary["job"])
    # What its files take is written down for its owner's storage quota.
    assert job.stored_bytes == store.folder_bytes(job.artifact_dir) > 0
    # tutorial:20 with two characters per file: 가 and 나 form one file, whose first 20
    # samples (all 가) train and whose tail (the rest of 가, and all of 나) validates.
    counts = job.split_summary["counts"]
    assert counts["가"] == {"train": 20, "val": 10}
    assert counts["나"] == {"train": 0, "val": 30}

    call_command("evaluate", "--job", str(job.pk), "--dataset", "cli-set", "--json")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 90 and set(result["per_class"]) == {"가", "나", "다"}


def test_train_command_follows_an_async_job_on_the_workers_to_its_metrics(
    train_worker, staff, capsys
):
    make_dataset("async-set", chars="가나다", per_char=30, size=(16, 16))
    call_command(
        "train",
        "--dataset",
        "async-set",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--user",
        staff.username,
        "--async",
        "--json",
    )
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["status"] == "SUCCEEDED" and summary["epochs"] == 2
    assert summary["val_accuracy"] is not None and summary["seconds"] > 0
    assert "epoch 2/2" in captured.err  # its progress, read from the row the worker writes
    job = TrainingJob.objects.get(pk=summary["job"])
    assert job.attempts == 1 and job.dispatched_at is not None  # the worker ran it


def test_leaderboard_scores_every_finished_job_on_the_hidden_test_set(
    train_worker, client, student_a, student_b, instructor
):
    # The instructor's own data set: whoever made one chooses its leaderboard's test set.
    dataset = make_dataset(
        "board", chars="가나다", per_char=30, size=(16, 16), created_by=instructor
    )
    hidden = make_dataset("board-test", chars="가나다", per_char=8, size=(16, 16), seed=9)
    early = train_worker.wait_for(dispatch_job(student_a, dataset))
    assert early.status == JobStatus.SUCCEEDED, early.error_text

    client.force_login(instructor)
    board = reverse("classifier:leaderboard", args=[dataset.pk])
    assert client.post(board, {"hidden_test": hidden.pk}).status_code == 302
    # A job finished before the test set was attached is scored, and so is a later one.
    train_worker.wait_for(Evaluation.objects.get(job=early))
    late = train_worker.wait_for(dispatch_job(student_b, dataset, model_spec="conv4-pool-dense16"))
    assert late.status == JobStatus.SUCCEEDED, late.error_text
    scores = [train_worker.wait_for(e) for e in Evaluation.objects.filter(dataset=hidden)]
    assert {e.job_id for e in scores} == {early.pk, late.pk}
    assert all(e.status == JobStatus.SUCCEEDED and e.hidden and e.n == 24 for e in scores)

    client.force_login(student_b)
    page = client.get(board).content.decode()
    assert student_a.username in page and student_b.username in page
    assert "hidden_test" not in page  # the form is the instructor's
    # The test set itself stays out of students' sight, and out of their job pages.
    assert client.get(reverse("classifier:dataset-detail", args=[hidden.pk])).status_code == 404
    assert "board-test" not in client.get(late.get_absolute_url()).content.decode()


def test_a_job_past_the_time_limit_stops_and_keeps_its_model(student_a, settings):
    settings.LAB_TRAIN_TIME_LIMIT = 0
    dataset = make_dataset("slow", chars="가나", per_char=20, size=(16, 16))
    job = services.run_training_job(dispatch_job(student_a, dataset, dispatch=False).pk)
    assert job.status == JobStatus.FAILED
    assert "time limit of 0 seconds, after 0 of 2 epochs" in job.error_text
    assert job.model_path.exists() and not EpochMetric.objects.filter(job=job).exists()
