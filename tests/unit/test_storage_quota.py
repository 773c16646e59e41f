"""Each user's files have a quota (LAB_USER_STORAGE_MB): an upload or a new job past it
is refused with what is used and how to make room; nothing is stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier import services
from classifier.ml import store
from classifier.models import Prediction, TrainingJob
from tests.support.courses import make_grader
from tests.support.handwriting import photo_of
from tests.support.jobs import job_form

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def grader(student_a, settings):
    settings.LAB_PREDICT_WAIT_SECONDS = 0
    settings.LAB_USER_STORAGE_MB = 1
    return make_grader(student_a)


def _predict(client, job):
    photo = SimpleUploadedFile("photo.jpg", photo_of("가"))
    return client.post(reverse("classifier:predict"), {"model": job.pk, "image": photo})


def test_a_prediction_counts_what_its_files_take(client, student_a, grader):
    client.force_login(student_a)
    assert _predict(client, grader).status_code == 302
    prediction = Prediction.objects.get()
    assert prediction.stored_bytes == store.folder_bytes(prediction.file_dir) > len(photo_of("가"))
    assert services.storage_used(student_a) == prediction.stored_bytes
    listing = client.get(reverse("classifier:prediction-list")).content.decode()
    assert "of the 1.0\xa0MB you may keep" in listing


def test_an_upload_past_the_quota_is_refused_until_room_is_made(client, student_a, grader):
    client.force_login(student_a)
    assert _predict(client, grader).status_code == 302
    first = Prediction.objects.get()
    Prediction.objects.filter(pk=first.pk).update(stored_bytes=MB - 1000)  # nearly full
    refused = _predict(client, grader)
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Your files take 1.0 MB of the 1 MB you may keep on the lab" in page
    assert "Delete predictions or training jobs" in page
    assert Prediction.objects.count() == 1
    assert [folder.name for folder in first.file_dir.parent.iterdir()] == [str(first.pk)]
    client.post(reverse("classifier:prediction-delete", args=[first.pk]))
    assert _predict(client, grader).status_code == 302


def test_a_new_job_is_refused_once_the_files_fill_the_quota(client, student_a, grader):
    client.force_login(student_a)
    TrainingJob.objects.filter(pk=grader.pk).update(stored_bytes=2 * MB)
    page = client.post(reverse("classifier:job-new"), job_form(grader.dataset))
    assert page.status_code == 200
    assert "Your files take 2.0 MB of the 1 MB" in page.content.decode()
    assert TrainingJob.objects.count() == 1


def test_admins_and_a_quota_of_zero_have_no_limit(staff, student_a, settings):
    settings.LAB_USER_STORAGE_MB = 1
    assert services.storage_quota(staff) is None
    assert services.storage_quota(student_a) == MB
    settings.LAB_USER_STORAGE_MB = 0
    assert services.storage_quota(student_a) is None
