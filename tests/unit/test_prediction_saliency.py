"""What the model looked at: a prediction's saliency maps, drawn after its answer and
shown on its page, in the review queue and in the API (predictions run in-process here;
``tests/integration/test_grading.py`` has the worker draw them)."""

import errno
import io
from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from classifier import services
from classifier.ml import store
from classifier.models import JobStatus, Prediction
from tests.support.handwriting import drawing_of, make_font_dataset, make_trained_job
from tests.support.predictions import make_stored_prediction

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(student_a, settings):
    settings.LAB_PREDICT_WAIT_SECONDS = 0
    return make_trained_job(student_a, make_font_dataset())


def _predict(client, job, char, expected="") -> Prediction:
    client.post(
        reverse("classifier:predict"),
        {"model": job.pk, "canvas": drawing_of(char), "expected": expected},
    )
    prediction = Prediction.objects.latest("pk")
    services.run_prediction(prediction.pk)
    prediction.refresh_from_db()
    return prediction


def test_a_wrong_reading_is_explained_for_what_it_read_and_what_was_meant(client, student_a, job):
    client.force_login(student_a)
    first = _predict(client, job, job.classes[0])
    meant = next(char for char in job.classes if char != first.predicted)
    prediction = _predict(client, job, job.classes[0], expected=meant)
    assert prediction.status == JobStatus.SUCCEEDED and prediction.predicted != meant

    assert prediction.explanation_state == "ready" and prediction.is_settled
    assert prediction.saliency_maps == [("predicted", prediction.predicted), ("expected", meant)]
    model_input = np.asarray(Image.open(prediction.input_path))
    for role in ("predicted", "expected"):
        overlay = np.asarray(Image.open(prediction.saliency_path(role)))
        assert overlay.shape == (*model_input.shape, 3)
        # Only ink is coloured: the background stays black.
        assert not overlay[model_input == 0].any() and overlay[model_input > 0].any()
    # The maps count against the owner's storage like the rest of the prediction's files.
    assert prediction.stored_bytes == store.folder_bytes(prediction.file_dir)

    page = client.get(prediction.get_absolute_url()).content.decode()
    assert "What the model looked at" in page and 'data-terminal="1"' in page
    for role in ("predicted", "expected"):
        url = reverse("classifier:prediction-saliency", args=[prediction.pk, role])
        assert f'src="{url}"' in page
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert (
        "Red ink counted for the character" in page and "Both maps are drawn on one scale" in page
    )

    status = client.get(reverse("classifier:prediction-status", args=[prediction.pk])).json()
    assert status["terminal"] and status["saliency"] == "ready"

    body = client.get(f"/api/predictions/{prediction.pk}/").json()
    assert body["saliency"]["state"] == "ready"
    assert body["saliency"]["method"] == "integrated-gradients" and body["saliency"]["error"] == ""
    maps = body["saliency"]["maps"]
    assert [(m["role"], m["char"]) for m in maps] == prediction.saliency_maps
    image = client.get(maps[1]["url"])
    stored = prediction.saliency_path("expected").read_bytes()
    assert image.status_code == 200 and b"".join(image.streaming_content) == stored


def test_a_right_reading_has_one_map_and_unknown_maps_are_not_found(client, student_a, job):
    client.force_login(student_a)
    prediction = _predict(client, job, job.classes[0])
    assert prediction.saliency_maps == [("predicted", prediction.predicted)]
    for url in (
        reverse("classifier:prediction-saliency", args=[prediction.pk, "expected"]),
        reverse("classifier:prediction-saliency", args=[prediction.pk, "input"]),
        f"/api/predictions/{prediction.pk}/saliency/expected/",
    ):
        assert client.get(url).status_code == 404


def test_the_page_follows_the_maps_until_they_come_or_cannot(client, student_a, job):
    """Answered, the page shows the verdict and keeps polling for the maps; a worker that
    stopped before drawing them is not waited for forever."""
    prediction = make_stored_prediction(student_a, job, explanation={}, finished_at=timezone.now())
    client.force_login(student_a)
    page = client.get(prediction.get_absolute_url()).content.decode()
    assert 'data-terminal="0"' in page and "Working out which ink the model looked at" in page
    status_url = reverse("classifier:prediction-status", args=[prediction.pk])
    status = client.get(status_url).json()
    assert status["status"] == "SUCCEEDED" and not status["terminal"]
    assert status["saliency"] == "pending" and "Working out" in status["fragments"]["progress"]
    assert client.get(f"/api/predictions/{prediction.pk}/").json()["saliency"] == {
        "state": "pending",
        "method": None,
        "error": "",
        "maps": [],
    }

    Prediction.objects.filter(pk=prediction.pk).update(
        finished_at=timezone.now() - timedelta(minutes=2)
    )
    status = client.get(status_url).json()
    assert status["terminal"] and status["saliency"] == "none"
    assert "Working out" not in status["fragments"]["progress"]


def test_maps_that_cannot_be_drawn_leave_the_answer_and_say_why(
    client, student_a, job, monkeypatch
):
    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "write_atomically", full_disk)
    client.force_login(student_a)
    prediction = Prediction.objects.create(
        owner=student_a,
        model=job,
        source=Prediction.Source.CANVAS,
        original_file="original.png",
        steps=[["input", "Input"]],
    )
    prediction.file_dir.mkdir(parents=True)
    buffer = io.BytesIO()
    ink = np.zeros((28, 28), np.uint8)
    ink[6:22, 10:18] = 255
    Image.fromarray(ink).save(buffer, format="PNG")
    prediction.input_path.write_bytes(buffer.getvalue())
    services.run_prediction(prediction.pk)
    prediction.refresh_from_db()

    assert prediction.status == JobStatus.SUCCEEDED and prediction.predicted in job.classes
    assert prediction.explanation_state == "failed" and prediction.saliency_maps == []
    assert "The disk is full" in prediction.explanation_error
    page = client.get(prediction.get_absolute_url()).content.decode()
    assert "The disk is full" in page and 'data-terminal="1"' in page


@pytest.mark.korean
def test_a_korean_student_reads_the_maps_in_korean(client, student_a, job):
    prediction = make_stored_prediction(student_a, job)
    client.force_login(student_a)
    page = client.get(prediction.get_absolute_url()).content.decode()
    assert "모델이 눈여겨본 곳" in page and "빨간 획은 그 글자라는 쪽으로" in page
    assert f'<span class="hangul">{prediction.predicted}</span>(으)로 읽은 까닭' in page
