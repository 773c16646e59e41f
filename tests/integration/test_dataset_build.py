"""Data sets built end to end by a real Celery worker on a real Redis."""

import io
import zipfile

import numpy as np
import pytest
from django.urls import reverse

from classifier.ml import fonts
from classifier.models import Dataset, JobStatus
from labsite.celery import app
from tests.support.phd08 import write_phd08_files

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _upload(client, name, paths, **extra):
    handles = [path.open("rb") for path in paths]
    try:
        return client.post(
            reverse("classifier:dataset-import"),
            {"name": name, "size": "28x28", "sigma": "0.3", "files": handles, **extra},
        )
    finally:
        for handle in handles:
            handle.close()


def test_phd08_upload_is_converted_by_the_worker_and_shown(worker, staff_client, tmp_path):
    paths = write_phd08_files(tmp_path, chars="가나다", per_group=2)
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # two characters come zipped, one plain
        for path in paths[1:]:
            zf.write(path, f"phd08/{path.name}")
    response = _upload(staff_client, "upload-test", [paths[0], archive])
    dataset = Dataset.objects.get(name="upload-test")
    assert response.status_code == 302
    assert response["Location"] == dataset.get_absolute_url()

    dataset = worker.wait_for(dataset)
    assert dataset.status == JobStatus.SUCCEEDED, dataset.error_text
    assert dataset.classes == ["가", "나", "다"]
    assert dataset.counts == [18, 18, 18]
    assert dataset.num_samples == 54
    assert dataset.files_done == 3 and dataset.attempts == 1

    page = staff_client.get(dataset.get_absolute_url()).content.decode()
    assert "Succeeded" in page and "54" in page and "다" in page
    status = staff_client.get(reverse("classifier:dataset-status", args=[dataset.pk])).json()
    assert status["terminal"] and status["files_done"] == 3
    grid = staff_client.get(reverse("classifier:dataset-grid", args=[dataset.pk]))
    assert grid["Content-Type"] == "image/png" and grid.content.startswith(b"\x89PNG")

    export = staff_client.get(reverse("classifier:dataset-export", args=[dataset.pk]))
    with np.load(io.BytesIO(b"".join(export.streaming_content)), allow_pickle=False) as data:
        assert data["images"].shape == (54, 28, 28)
        assert list(data["classes"]) == ["가", "나", "다"]
        assert set(data["groups"]) == {"B", "D", "G", "H1", "H2", "M", "N", "S", "Y"}


def test_malformed_upload_fails_with_its_reason_and_spares_other_sets(
    worker, staff_client, tmp_path
):
    good = write_phd08_files(tmp_path / "good", chars="가", per_group=1)
    _upload(staff_client, "good-set", good)
    kept = worker.wait_for(Dataset.objects.get(name="good-set"))
    before = (kept.store_dir / "images.npy").read_bytes()

    bad = write_phd08_files(tmp_path / "bad", chars="나다", per_group=1)
    lines = bad[1].read_text().splitlines()
    lines[3] = lines[3] + "0"  # one pixel row too long
    bad[1].write_text("\n".join(lines) + "\n")
    _upload(staff_client, "bad-set", bad)
    failed = worker.wait_for(Dataset.objects.get(name="bad-set"))

    assert failed.status == JobStatus.FAILED
    assert "다.txt line 4" in failed.error_text
    assert not failed.store_dir.exists()
    page = staff_client.get(failed.get_absolute_url()).content.decode()
    assert "다.txt line 4" in page
    kept.refresh_from_db()
    assert kept.status == JobStatus.SUCCEEDED
    assert (kept.store_dir / "images.npy").read_bytes() == before


def test_font_rendering_runs_on_the_worker(worker, staff_client):
    font = fonts.find_hangul_fonts()[0]
    response = staff_client.post(
        reverse("classifier:dataset-render"),
        {
            "name": "rendered",
            "size": "32x32",
            "charset": "custom",
            "chars": "가 나",
            "fonts": [font.name],
            "per_font": 5,
            "seed": 3,
            "augment": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    dataset = worker.wait_for(Dataset.objects.get(name="rendered"))
    assert dataset.status == JobStatus.SUCCEEDED, dataset.error_text
    assert dataset.classes == ["가", "나"] and dataset.counts == [5, 5]
    assert dataset.group_names == [font.name]
    assert dataset.open_store().images.shape == (10, 32, 32)


def test_a_message_delivered_twice_runs_the_job_once(worker, staff, tmp_path):
    from classifier import services
    from classifier.ml.convert import ConversionSettings

    paths = write_phd08_files(tmp_path, chars="가나", per_group=3)
    dataset = services.create_phd08_dataset(
        name="twice", paths=paths, conversion=ConversionSettings(), user=staff
    )
    app.send_task(Dataset.task_name, args=[dataset.pk])  # the duplicate
    dataset = worker.wait_for(dataset)
    assert dataset.status == JobStatus.SUCCEEDED
    # The duplicate must find the row already claimed and do nothing.
    worker.wait_for_log(f"Data set {dataset.pk} is not queued; nothing to do.")
    dataset.refresh_from_db()
    assert dataset.attempts == 1


def test_labelled_images_are_built_by_the_worker_and_the_bad_ones_listed(
    worker, staff_client, tmp_path
):
    from tests.support.labelled import folders_zip

    extra = {"가/w2/torn.png": b"\x89PNG\r\n\x1a\ntorn", "loose.png": b"no folder"}
    archive = folders_zip(tmp_path / "school.zip", chars="가나", writers=("w1", "w2"), extra=extra)
    with archive.open("rb") as fh:
        response = staff_client.post(
            reverse("classifier:dataset-import-images"),
            {"name": "school", "size": "28x28", "archive": fh},
        )
    dataset = Dataset.objects.get(name="school")
    assert response.status_code == 302, response.content.decode()

    dataset = worker.wait_for(dataset)
    assert dataset.status == JobStatus.SUCCEEDED, dataset.error_text
    assert dataset.classes == ["가", "나"] and dataset.counts == [4, 4]
    assert dataset.group_names == ["w1", "w2"] and dataset.files_done == 2
    assert {item["name"] for item in dataset.skipped} == set(extra)
    status = staff_client.get(reverse("classifier:dataset-status", args=[dataset.pk])).json()
    assert status["terminal"] and status["files_done"] == 2
    page = staff_client.get(dataset.get_absolute_url()).content.decode()
    assert "Files left out" in page and "가/w2/torn.png" in page and "loose.png" in page
