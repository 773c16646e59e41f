"""The training form and job pages, without a worker (dispatch is captured)."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.urls import reverse

from classifier.models import Evaluation, JobStatus, TrainingJob
from tests.support.datasets import make_dataset
from tests.support.jobs import job_form, make_running_job
from tests.support.paths import REPO

pytestmark = pytest.mark.django_db


def test_training_form_queues_a_job_on_commit(
    client, student_a, django_capture_on_commit_callbacks
):
    dataset = make_dataset(chars="가나다")
    client.force_login(student_a)
    assert client.get(reverse("classifier:job-new")).status_code == 200
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("classifier:job-new"), job_form(dataset, chars="가 다"))
    job = TrainingJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert len(callbacks) == 1
    assert job.owner == student_a and job.status == JobStatus.QUEUED
    assert job.chars == ["가", "다"] and job.split == "stratified:0.25"
    # The tutorial MLP: 28*28*128 + 128 weights, then 128*2 + 2 for two classes.
    assert job.param_count == 28 * 28 * 128 + 128 + 128 * 2 + 2


@pytest.mark.parametrize(
    ("model", "typed", "rate"),
    [("mlp", "", 0.001), ("cnn", "", 0.001), ("cnn-large", "", 0.003), ("cnn-large", "0.01", 0.01)],
)
def test_a_job_left_without_a_learning_rate_trains_at_its_model_s_own(
    client, student_a, model, typed, rate
):
    dataset = make_dataset(chars="가나다")
    client.force_login(student_a)
    client.post(reverse("classifier:job-new"), job_form(dataset, model=model, learning_rate=typed))
    assert TrainingJob.objects.get().learning_rate == rate


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"model": "custom", "spec": "conv32-banana"}, "spec", "banana"),
        ({"model": "custom", "spec": "  "}, "spec", "Write the layers of your model"),
        ({"chars": "가힣"}, "chars", "힣"),
        ({"chars": "가"}, "chars", "at least two"),
        ({"split_kind": "group", "held_out": "Q"}, "held_out", "no group Q"),
        ({"split_kind": "group", "held_out": "S,G"}, "held_out", "at least one group"),
        ({"epochs": "0"}, "epochs", ""),
    ],
)
def test_training_form_explains_bad_choices(client, student_a, extra, field, message):
    dataset = make_dataset(chars="가나다", groups=("S", "G"))
    client.force_login(student_a)
    response = client.post(reverse("classifier:job-new"), job_form(dataset, **extra))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert errors and message in errors
    assert not TrainingJob.objects.exists()


def test_training_form_enforces_the_queue_limit(client, student_a, settings):
    settings.LAB_MAX_ACTIVE_JOBS = 1
    dataset = make_dataset()
    client.force_login(student_a)
    assert "already have" not in client.get(reverse("classifier:job-new")).content.decode()
    client.post(reverse("classifier:job-new"), job_form(dataset))
    # Said at once on the empty form, before the student fills it in, and on sending it.
    assert (
        "already have 1 jobs or evaluations queued or running"
        in client.get(reverse("classifier:job-new")).content.decode()
    )
    response = client.post(reverse("classifier:job-new"), job_form(dataset))
    assert "already have 1 jobs or evaluations queued or running" in response.content.decode()
    assert TrainingJob.objects.count() == 1


def test_model_summary_counts_parameters_without_submitting(client, student_a):
    dataset = make_dataset(chars="가나다")
    client.force_login(student_a)
    url = reverse("classifier:model-summary")
    data = client.get(url, {"dataset": dataset.pk, "spec": "conv8-pool-dense16"}).json()
    assert data["params"] == (3 * 3 * 8 + 8) + (14 * 14 * 8 * 16 + 16) + (16 * 3 + 3)
    assert client.get(url, {"dataset": dataset.pk, "spec": "dense99999999"}).status_code == 400


def test_students_see_only_their_own_jobs(client, student_a, student_b, instructor):
    dataset = make_dataset()
    job = TrainingJob.objects.create(owner=student_a, dataset=dataset, model_spec="mlp")
    client.force_login(student_b)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.post(reverse("classifier:job-cancel", args=[job.pk])).status_code == 404
    assert f"#{job.pk}" not in client.get(reverse("classifier:job-list")).content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    client.force_login(instructor)
    assert client.get(job.get_absolute_url()).status_code == 200
    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "0 jobs are ahead" in page
    # A job training now is ahead of it too, however early this one was queued.
    TrainingJob.objects.create(
        owner=student_b, dataset=dataset, model_spec="cnn", status=JobStatus.RUNNING
    )
    TrainingJob.objects.create(owner=student_b, dataset=dataset, model_spec="cnn")  # queued later
    assert "1 job is ahead" in client.get(job.get_absolute_url()).content.decode()


def test_queued_job_page_warns_when_no_train_worker_listens(client, student_a):
    dataset = make_dataset()
    job = TrainingJob.objects.create(owner=student_a, dataset=dataset, model_spec="mlp")
    client.force_login(student_a)
    cache.set("lab:queue-has-worker:train", False)
    assert "No training worker is running" in client.get(job.get_absolute_url()).content.decode()
    cache.set("lab:queue-has-worker:train", True)
    assert "No training worker" not in client.get(job.get_absolute_url()).content.decode()
    cache.clear()


def test_cancel_a_queued_job(client, student_a):
    job = TrainingJob.objects.create(owner=student_a, dataset=make_dataset(), model_spec="mlp")
    client.force_login(student_a)
    client.post(reverse("classifier:job-cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_finished_job_page_refreshes_while_an_evaluation_is_pending(client, student_a):
    dataset = make_dataset()
    job = TrainingJob.objects.create(
        owner=student_a, dataset=dataset, model_spec="mlp", status=JobStatus.SUCCEEDED
    )
    evaluation = Evaluation.objects.create(job=job, dataset=dataset)
    client.force_login(student_a)
    assert 'http-equiv="refresh"' in client.get(job.get_absolute_url()).content.decode()
    Evaluation.objects.filter(pk=evaluation.pk).update(status=JobStatus.SUCCEEDED, accuracy=1)
    assert 'http-equiv="refresh"' not in client.get(job.get_absolute_url()).content.decode()


def test_curves_are_drawn_once_per_epoch_and_kept(student_a):
    from classifier import services

    dataset = make_dataset(chars="가나")
    job = make_running_job(student_a, dataset)
    first = services.job_plot(job, "curves")
    (kept,) = (job.artifact_dir / "plots").glob("curves-*.png")
    assert kept.read_bytes() == first and kept.name == "curves-1-1-en.png"
    kept.write_bytes(b"kept")  # a later view is served the kept file, not a new drawing
    assert services.job_plot(job, "curves") == b"kept"
    # The next epoch is a new version; the old one goes.
    job.update_progress(epochs_done=2)
    assert services.job_plot(job, "curves").startswith(b"\x89PNG")
    assert [p.name for p in (job.artifact_dir / "plots").glob("curves-*.png")] == [
        "curves-1-2-en.png"
    ]


def test_a_comparison_is_drawn_once_per_version_of_its_jobs(client, student_a, monkeypatch):
    from classifier.ml import training_plots

    drawn = []
    draw = training_plots.compare_png
    monkeypatch.setattr(
        training_plots, "compare_png", lambda *a, **k: drawn.append(1) or draw(*a, **k)
    )
    cache.clear()
    dataset = make_dataset(chars="가나다")
    running = make_running_job(student_a, dataset)
    other = make_running_job(student_a, dataset)
    client.force_login(student_a)
    query = {"jobs": [running.pk, other.pk], "format": "png"}
    url = reverse("classifier:job-compare")
    first = client.get(url, query)
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    for _ in range(3):  # the class opens the same comparison
        assert client.get(url, query).content == first.content
    assert len(drawn) == 1
    running.update_progress(epochs_done=2)  # a new epoch: a new figure
    client.get(url, query)
    assert len(drawn) == 2


def test_compare_page_polls_while_a_job_runs_and_stops_when_all_have_finished(client, student_a):
    dataset = make_dataset(chars="가나다")
    running = make_running_job(student_a, dataset)
    TrainingJob.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)
    finished = TrainingJob.objects.create(
        owner=student_a,
        dataset=dataset,
        model_spec="cnn",
        split="stratified:0.2",
        epochs=2,
        epochs_done=2,
        status=JobStatus.SUCCEEDED,
        best_val_accuracy=0.75,
    )
    client.force_login(student_a)
    url = reverse("classifier:job-compare")
    query = {"jobs": [running.pk, finished.pk]}
    page = client.get(url, query).content.decode()
    assert "data-poll=" in page and 'data-terminal="0"' in page and "js/poll.js" in page

    polled = client.get(url, {**query, "format": "json"}).json()
    assert polled["terminal"] is False
    assert "1/3" in polled["fragments"]["progress"] and "75.0%" in polled["fragments"]["progress"]
    running.update_progress(epochs_done=2)
    again = client.get(url, {**query, "format": "json"}).json()
    assert again["version"] != polled["version"] and "2/3" in again["fragments"]["progress"]

    TrainingJob.objects.filter(pk=running.pk).update(status=JobStatus.SUCCEEDED, epochs_done=3)
    assert client.get(url, {**query, "format": "json"}).json()["terminal"] is True
    assert "js/poll.js" not in client.get(url, query).content.decode()


def test_the_job_page_marks_its_messages_and_status_for_poll_js(
    client, student_a, django_capture_on_commit_callbacks
):
    dataset = make_dataset(chars="가나다")
    client.force_login(student_a)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("classifier:job-new"), job_form(dataset), follow=True)
    page = response.content.decode()
    job = TrainingJob.objects.get()
    # "Job #1 is queued." is out of date once the job runs: poll.js takes the success and
    # info messages (data-flash) away once the polled status moves on from QUEUED or from
    # the page's own (data-status); errors stay.
    assert f'data-flash="success">Job #{job.pk} is queued.</p>' in page
    assert 'data-status="QUEUED"' in page
    script = (REPO / "static" / "js" / "poll.js").read_text()
    assert '[data-flash="success"]' in script and '[data-flash="info"]' in script
    assert "box.dataset.status" in script


def test_job_pages_say_models_and_splits_in_words_with_the_codes_in_tooltips(client, student_a):
    dataset = make_dataset(chars="가나다", groups=("NanumGothic", "NanumMyeongjo"))
    large = TrainingJob.objects.create(
        owner=student_a, dataset=dataset, model_spec="cnn-large", split="group:NanumGothic"
    )
    custom = TrainingJob.objects.create(
        owner=student_a, dataset=dataset, model_spec="conv8-pool-dense16", split="tutorial:3000"
    )
    client.force_login(student_a)
    listing = client.get(reverse("classifier:job-list")).content.decode()
    assert '<span title="cnn-large">Large CNN</span>' in listing
    assert '<span title="group:NanumGothic">Held-out groups: NanumGothic</span>' in listing
    assert '<span title="conv8-pool-dense16">Custom: conv8-pool-dense16</span>' in listing
    assert '<span title="tutorial:3000">Tutorial: first 3,000 per file</span>' in listing
    assert "<code>" not in listing

    detail = client.get(large.get_absolute_url()).content.decode()
    assert '<span title="cnn-large">Large CNN</span>' in detail
    assert '<span title="group:NanumGothic">Held-out groups: NanumGothic</span>' in detail
    compare = client.get(reverse("classifier:job-compare"), {"jobs": [large.pk, custom.pk]})
    assert "Large CNN" in compare.content.decode()
    assert "Tutorial: first 3,000 per file" in compare.content.decode()


def test_one_epoch_is_one_epoch(client, student_a):
    job = TrainingJob.objects.create(
        owner=student_a, dataset=make_dataset(), model_spec="mlp", epochs=1, batch_size=32
    )
    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "1 epoch, batch 32" in page and "1 epochs" not in page


def test_counts_are_grouped_and_moments_written_alike_in_both_languages(client, student_a):
    job = TrainingJob.objects.create(
        owner=student_a,
        dataset=make_dataset(chars="가나"),
        model_spec="mlp",
        status=JobStatus.SUCCEEDED,
        per_class_accuracy={"가": 0.9, "나": 0.8},
        split_summary={"counts": {"가": {"train": 1000, "val": 250}, "나": {"train": 12345}}},
    )
    TrainingJob.objects.filter(pk=job.pk).update(created_at=datetime(2026, 12, 7, 5, 5, tzinfo=UTC))
    client.force_login(student_a)
    for language in ("en", "ko"):
        headers = {"accept-language": language}
        detail = client.get(job.get_absolute_url(), headers=headers).content.decode()
        assert f'<html lang="{language}">' in detail
        assert "<td>1,000</td><td>250</td>" in detail and "<td>12,345</td><td>–</td>" in detail
        listing = client.get(reverse("classifier:job-list"), headers=headers).content.decode()
        # Zero-padded, in the lab's time zone (Asia/Seoul), which it names.
        assert "<td>2026-12-07 14:05 KST</td>" in listing


def test_cancelling_a_job_asks_first(client, student_a):
    job = TrainingJob.objects.create(owner=student_a, dataset=make_dataset(), model_spec="mlp")
    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    cancel = reverse("classifier:job-cancel", args=[job.pk])
    assert f'<form method="post" action="{cancel}">' in page
    assert 'data-confirm="Cancel this training job? A cancelled job cannot be resumed."' in page
    assert "js/confirm.js" in page
