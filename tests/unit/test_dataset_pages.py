import io
from datetime import UTC, datetime

import numpy as np
import pytest
from django.urls import reverse

from classifier.models import Dataset, JobStatus
from tests.support.datasets import make_dataset
from tests.support.phd08 import upload_badly_named_file, write_phd08_files

pytestmark = pytest.mark.django_db


def test_pages_send_anonymous_users_to_login(client):
    dataset = make_dataset()
    for url in (
        reverse("classifier:home"),
        reverse("classifier:dataset-list"),
        dataset.get_absolute_url(),
        reverse("classifier:dataset-grid", args=[dataset.pk]),
        reverse("classifier:dataset-import"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("signup")).status_code == 200


def test_signup_makes_a_logged_in_student(client):
    response = client.post(
        reverse("signup"),
        {"username": "minji", "password1": "hangul-lab-pw-1", "password2": "hangul-lab-pw-1"},
    )
    assert response.status_code == 302
    page = client.get(reverse("classifier:dataset-list"))
    assert page.status_code == 200 and "minji" in page.content.decode()
    assert page.context["user"].groups.filter(name="Student").exists()


def test_students_see_ready_data_sets_only_and_cannot_manage_them(client, student_a):
    ready = make_dataset("ready-set")
    failed = make_dataset("failed-set", status=JobStatus.FAILED, error="broken")
    client.force_login(student_a)
    listing = client.get(reverse("classifier:dataset-list")).content.decode()
    assert "ready-set" in listing and "failed-set" not in listing
    assert client.get(ready.get_absolute_url()).status_code == 200
    assert client.get(failed.get_absolute_url()).status_code == 404
    for name in ("dataset-import", "dataset-render"):
        assert client.get(reverse(f"classifier:{name}")).status_code == 403
    assert client.post(reverse("classifier:dataset-delete", args=[ready.pk])).status_code == 403
    assert Dataset.objects.filter(pk=ready.pk).exists()


def test_data_set_page_shows_characters_plots_and_download(client, student_a):
    dataset = make_dataset(chars="가나", per_char=7)
    client.force_login(student_a)
    page = client.get(dataset.get_absolute_url()).content.decode()
    assert "가" in page and "나" in page and "14" in page
    for name in ("dataset-grid", "dataset-counts"):
        response = client.get(reverse(f"classifier:{name}", args=[dataset.pk]))
        assert response.content.startswith(b"\x89PNG")
    assert (dataset.store_dir / "preview-grid.png").exists()


def test_import_form_rejects_bad_names_and_keeps_nothing(staff_client, tmp_path):
    response = upload_badly_named_file(staff_client, tmp_path)
    assert response.status_code == 200
    assert "hello.txt" in response.content.decode()
    assert response.context["form"]["name"].value() == "x"  # what was typed is kept
    assert not Dataset.objects.exists()


def test_import_form_rejects_unsafe_zip_without_leaving_files(staff_client, tmp_path, settings):
    import zipfile

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../가.txt", "S_0_0_0_0_0\n1 1\n1\n")
    with archive.open("rb") as fh:
        response = staff_client.post(
            reverse("classifier:dataset-import"),
            {"name": "evil", "size": "28x28", "sigma": "0.3", "files": [fh]},
        )
    assert "escape" in response.content.decode()
    assert not Dataset.objects.exists()
    uploads = settings.MEDIA_ROOT / "uploads" / "datasets"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_import_is_queued_on_commit(staff_client, tmp_path, django_capture_on_commit_callbacks):
    paths = write_phd08_files(tmp_path, chars="가나", per_group=1)
    handles = [p.open("rb") for p in paths]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(
            reverse("classifier:dataset-import"),
            {"name": "queued", "size": "32x24", "sigma": "0", "files": handles},
        )
    for handle in handles:
        handle.close()
    assert response.status_code == 302
    assert len(callbacks) == 1
    dataset = Dataset.objects.get(name="queued")
    assert dataset.status == JobStatus.QUEUED
    assert (dataset.height, dataset.width, dataset.files_total) == (32, 24, 2)
    assert len(list(dataset.upload_dir.rglob("*.txt"))) == 2
    assert not dataset.is_hidden


def test_a_data_set_imported_as_hidden_stays_away_from_students(
    staff_client, client, student_a, tmp_path
):
    paths = write_phd08_files(tmp_path, chars="가나", per_group=1)
    handles = [p.open("rb") for p in paths]
    staff_client.post(
        reverse("classifier:dataset-import"),
        {"name": "secret", "size": "28x28", "sigma": "0", "files": handles, "hidden": "on"},
    )
    for handle in handles:
        handle.close()
    dataset = Dataset.objects.get(name="secret")
    assert dataset.is_hidden
    Dataset.objects.filter(pk=dataset.pk).update(status=JobStatus.SUCCEEDED)  # as if built
    listing = staff_client.get(reverse("classifier:dataset-list")).content.decode()
    assert "hidden from students" in listing
    client.force_login(student_a)
    assert "secret" not in client.get(reverse("classifier:dataset-list")).content.decode()
    for name in ("dataset-detail", "dataset-export"):
        assert client.get(reverse(f"classifier:{name}", args=[dataset.pk])).status_code == 404


def test_cancel_a_queued_build(staff_client):
    dataset = make_dataset("waiting", status=JobStatus.QUEUED)
    staff_client.post(reverse("classifier:dataset-cancel", args=[dataset.pk]))
    dataset.refresh_from_db()
    assert dataset.status == JobStatus.CANCELLED


def test_delete_removes_row_and_files_but_not_while_running(
    staff_client, django_capture_on_commit_callbacks
):
    dataset = make_dataset("doomed")
    running = make_dataset("busy", status=JobStatus.RUNNING)
    assert dataset.store_dir.exists()
    # The files go once the deletion commits.
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("classifier:dataset-delete", args=[dataset.pk]))
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    assert not dataset.store_dir.exists()
    staff_client.post(reverse("classifier:dataset-delete", args=[running.pk]))
    assert Dataset.objects.filter(pk=running.pk).exists()


def test_a_data_set_with_training_jobs_is_kept_files_and_all(staff_client, student_a):
    from django.contrib.messages import get_messages

    from classifier.models import TrainingJob

    dataset = make_dataset("trained-on")
    TrainingJob.objects.create(owner=student_a, dataset=dataset, model_spec="mlp")
    response = staff_client.post(reverse("classifier:dataset-delete", args=[dataset.pk]))
    assert response["Location"] == dataset.get_absolute_url()
    assert "Training jobs were trained on this data set (1)" in " ".join(
        str(m) for m in get_messages(response.wsgi_request)
    )
    dataset.refresh_from_db()
    assert dataset.is_ready and (dataset.store_dir / "images.npy").exists()


def test_claim_lets_exactly_one_runner_start_a_job():
    dataset = make_dataset("claimable", status=JobStatus.QUEUED)
    assert Dataset.claim(dataset.pk) is True
    assert Dataset.claim(dataset.pk) is False
    dataset.refresh_from_db()
    assert dataset.status == JobStatus.RUNNING and dataset.attempts == 1


def test_export_streams_the_arrays_and_keeps_no_copy(client, student_a):
    dataset = make_dataset("글자들", chars="가나다", per_char=5, size=(8, 6))
    client.force_login(student_a)
    response = client.get(reverse("classifier:dataset-export", args=[dataset.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%EA%B8%80%EC%9E%90%EB%93%A4.npz"
    )
    with np.load(io.BytesIO(b"".join(response.streaming_content)), allow_pickle=False) as data:
        arrays = dataset.open_store()
        assert (data["images"] == arrays.images).all() and data["images"].dtype == np.uint8
        assert list(data["labels"]) == list(arrays.labels)
        assert list(data["classes"]) == ["가", "나", "다"]
    assert sorted(p.name for p in dataset.store_dir.iterdir() if "npz" in p.name) == []


def test_every_character_of_a_large_data_set_is_listed_page_by_page(client, student_a):
    chars = "".join(chr(0xAC00 + n) for n in range(450))
    dataset = make_dataset("many", chars=chars, per_char=1, size=(8, 8))
    client.force_login(student_a)
    first = client.get(dataset.get_absolute_url())
    assert [row[0] for row in first.context["characters"]] == list(range(200))
    assert "chars=2#characters" in first.content.decode()
    last = client.get(dataset.get_absolute_url(), {"chars": 3})
    assert [row[1] for row in last.context["characters"]] == list(chars[400:])
    assert "Page 3 of 3" in last.content.decode()


def test_a_build_in_progress_says_its_counts_in_words_and_marks_its_status(staff_client):
    dataset = make_dataset("building", status=JobStatus.RUNNING)
    dataset.update_progress(files_done=1, files_total=1, samples_done=1, eta_seconds=75)
    page = " ".join(staff_client.get(dataset.get_absolute_url()).content.decode().split())
    assert "1 of 1 file ·" in page and "1 sample ·" in page
    assert "1 files" not in page and "1 samples" not in page
    assert "about 1 min 15 s left" in page
    dataset.update_progress(files_done=1200, files_total=2350, samples_done=1234567)
    page = staff_client.get(dataset.get_absolute_url()).content.decode()
    assert "1,200 of 2,350 files" in page and "1,234,567 samples" in page
    # poll.js compares the polled status with this one before it drops stale messages.
    assert 'data-status="RUNNING"' in page


def test_stopping_a_build_asks_first(staff_client):
    dataset = make_dataset("waiting", status=JobStatus.QUEUED)
    page = staff_client.get(dataset.get_absolute_url()).content.decode()
    assert 'data-confirm="Stop building this data set?">Cancel</button>' in page


def test_the_data_set_page_dates_its_creation_with_the_time_zone(client, student_a):
    dataset = make_dataset()
    Dataset.objects.filter(pk=dataset.pk).update(created_at=datetime(2026, 1, 2, 0, 3, tzinfo=UTC))
    client.force_login(student_a)
    for language in ("en", "ko"):
        page = client.get(dataset.get_absolute_url(), headers={"accept-language": language})
        assert "<dd>2026-01-02 09:03 KST</dd>" in page.content.decode()
