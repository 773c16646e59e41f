"""The Predict page's reading while the student draws: refusals, and nothing stored (the
predict worker answers it in ``tests/integration/test_grading.py``)."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier.models import Prediction
from tests.support.datasets import make_dataset
from tests.support.handwriting import blank_canvas, drawing_of, photo_of
from tests.support.jobs import make_evaluated_job

pytestmark = pytest.mark.django_db

URL = reverse("classifier:predict-live")


@pytest.fixture
def job(student_a):
    return make_evaluated_job(student_a, make_dataset(chars="가나다"))


def _nothing_stored(settings) -> bool:
    folder = Path(settings.MEDIA_ROOT) / "predictions"
    return not Prediction.objects.exists() and not (folder.exists() and any(folder.iterdir()))


def test_a_drawing_nobody_reads_in_time_gets_a_busy_answer(
    client, student_a, job, settings, broker_url
):
    settings.LAB_PREDICT_WAIT_SECONDS = 0.2  # the queue is there; no worker serves it
    settings.CELERY_BROKER_URL = broker_url
    client.force_login(student_a)
    response = client.post(URL, {"model": job.pk, "canvas": drawing_of("가")})
    assert response.status_code == 503
    assert response.json() == {
        "error": "The model is busy: it reads your drawing again in a moment."
    }
    assert _nothing_stored(settings)


def test_waiting_predictions_come_before_readings(client, student_a, job, settings, broker_url):
    from classifier.services import broker

    settings.CELERY_BROKER_URL = broker_url
    settings.LAB_PREDICT_WAIT_SECONDS = 5
    settings.LAB_LIVE_QUEUE_LIMIT = 3
    queue = broker.client(timeout=5)
    waiting = [f"a waiting prediction {n}" for n in range(3)]
    queue.rpush("predict", *waiting)
    try:
        client.force_login(student_a)
        response = client.post(URL, {"model": job.pk, "canvas": drawing_of("가")})
        assert response.status_code == 503 and "busy" in response.json()["error"]
        # Refused at once, and nothing was added to the queue.
        assert queue.lrange("predict", 0, -1)[-3:] == [w.encode() for w in waiting]
    finally:
        for message in waiting:
            queue.lrem("predict", 0, message)
        queue.close()


def test_a_queue_out_of_reach_is_said_so(client, student_a, job, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    client.force_login(student_a)
    response = client.post(URL, {"model": job.pk, "canvas": drawing_of("가")})
    assert response.status_code == 503
    assert response.json() == {"error": "The job queue cannot be reached right now."}
    assert _nothing_stored(settings)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"canvas": blank_canvas()}, "The canvas is empty"),
        ({"canvas": "data:text/html;base64,PGI+"}, "drawing"),
        ({}, "Upload a photo or draw"),
    ],
    ids=["empty", "not an image", "nothing"],
)
def test_a_bad_drawing_is_refused_with_its_reason(client, student_a, job, settings, fields, reason):
    client.force_login(student_a)
    response = client.post(URL, {"model": job.pk, **fields})
    assert response.status_code == 400 and reason in response.json()["error"]
    assert _nothing_stored(settings)


def test_a_webcam_picture_is_read_as_a_photo(client, student_a, job, settings):
    """The webcam's frames come as a photo upload, refused as a photo is."""
    client.force_login(student_a)
    paper = SimpleUploadedFile("webcam.jpg", photo_of("가")[:3000], content_type="image/jpeg")
    response = client.post(URL, {"model": job.pk, "image": paper})
    assert response.status_code == 400 and "damaged" in response.json()["error"]
    assert _nothing_stored(settings)


def test_only_a_usable_model_reads_and_only_by_post(client, student_a, student_b, job):
    client.force_login(student_b)  # not student A's model, nor published to B
    response = client.post(URL, {"model": job.pk, "canvas": drawing_of("가")})
    assert response.status_code == 400 and "You cannot use this model" in response.json()["error"]
    client.force_login(student_a)
    assert client.get(URL).status_code == 405


def test_live_readings_have_a_rate_of_their_own(client, student_a, job, settings, shared_rates):
    settings.LAB_LIVE_RATE = "2/minute"
    settings.LAB_PREDICT_WAIT_SECONDS = 0.1
    client.force_login(student_a)
    answers = [client.post(URL, {"model": job.pk, "canvas": drawing_of("가")}) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 429]
    assert "more often than it allows (2/minute)" in answers[2].json()["error"]
