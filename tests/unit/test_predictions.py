"""The predict page, its files and JSON, bad input, privacy and the predict command.

Predictions are run in-process here (``services.run_prediction``); the integration tests
run them through the real predict worker.
"""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from classifier import services
from classifier.models import Course, JobStatus, Prediction, TrainingJob
from tests.support.handwriting import (
    blank_canvas,
    drawing_of,
    make_font_dataset,
    make_trained_job,
    photo_of,
)
from tests.support.jobs import make_queued_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(student_a, settings):
    settings.LAB_PREDICT_WAIT_SECONDS = 0
    return make_trained_job(student_a, make_font_dataset())


def _upload(data, name="photo.jpg"):
    file = io.BytesIO(data)
    file.name = name
    return file


def _stored_nothing(settings):
    folder = Path(settings.MEDIA_ROOT) / "predictions"
    return Prediction.objects.count() == 0 and not (folder.exists() and any(folder.iterdir()))


def test_a_photo_is_preprocessed_stored_and_classified(client, student_a, job):
    client.force_login(student_a)
    response = client.post(
        reverse("classifier:predict"),
        {"model": job.pk, "image": _upload(photo_of("밟")), "expected": "밟"},
    )
    prediction = Prediction.objects.get()
    assert response.status_code == 302 and response["Location"] == prediction.get_absolute_url()
    assert prediction.status == JobStatus.QUEUED and prediction.source == "upload"
    assert [key for key, _ in prediction.steps] == [
        "original",
        "gray",
        "normalised",
        "cropped",
        "square",
        "input",
    ]
    model_input = np.asarray(Image.open(prediction.input_path))
    assert model_input.shape == (28, 28) and model_input.max() == 255

    services.run_prediction(prediction.pk)
    prediction.refresh_from_db()
    assert prediction.status == JobStatus.SUCCEEDED, prediction.error_text
    assert prediction.classes == job.classes
    assert sum(prediction.probabilities) == pytest.approx(1.0, abs=1e-4)
    best = int(np.argmax(prediction.probabilities))
    assert prediction.predicted == job.classes[best]
    assert prediction.confidence == pytest.approx(prediction.probabilities[best], abs=1e-5)
    assert prediction.correct == (prediction.predicted == "밟")

    page = client.get(prediction.get_absolute_url()).content.decode()
    assert "Top 5" in page and prediction.predicted in page and "What the model sees" in page
    assert page.count('<rect class="bar predicted"') == 1  # the bar graph, in the page
    step = client.get(reverse("classifier:prediction-step", args=[prediction.pk, "input"]))
    assert Image.open(io.BytesIO(b"".join(step.streaming_content))).size == (28, 28)
    original = client.get(reverse("classifier:prediction-original", args=[prediction.pk]))
    assert original["Content-Type"] == "image/jpeg"
    assert b"".join(original.streaming_content) == photo_of("밟")
    assert (
        prediction.get_absolute_url()
        in client.get(reverse("classifier:prediction-list")).content.decode()
    )


def test_a_drawing_is_classified_and_api_clients_get_the_result(client, student_a, job):
    client.force_login(student_a)
    response = client.post("/api/predictions/", {"model": job.pk, "canvas": drawing_of("꺅")})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "QUEUED" and body["page"].endswith(f"/predictions/{body['id']}/")
    services.run_prediction(body["id"])
    status = client.get(reverse("classifier:prediction-status", args=[body["id"]])).json()
    assert status["terminal"] and status["char"] in job.classes
    assert len(status["top5"]) == 5 and status["top5"][0][0] == status["char"]
    assert Prediction.objects.get().source == "canvas"


def _no_ink_photo():
    rows = np.linspace(230, 170, 400)[:, None] * np.ones((1, 300))
    noisy = rows + np.random.default_rng(1).normal(0, 3, rows.shape)
    buffer = io.BytesIO()
    Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


BAD_INPUTS = {
    "not an image": ({"image": ("notes.png", b"just some text, not pixels")}, "not an image"),
    "truncated": ({"image": ("cut.jpg", photo_of("자")[:3000])}, "damaged"),
    "no ink": ({"image": ("paper.jpg", _no_ink_photo())}, "writing"),
    "empty canvas": ({"canvas": blank_canvas()}, "The canvas is empty"),
    "both": ({"image": ("a.jpg", photo_of("자")), "canvas": drawing_of("자")}, "not both"),
    "neither": ({}, "Upload a photo or draw"),
    "bad data url": ({"canvas": "data:text/html;base64,PGI+"}, "drawing"),
    "unknown expected": ({"image": ("a.jpg", photo_of("자")), "expected": "뷁"}, "does not know"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_gets_a_clear_message_and_stores_nothing(case, client, student_a, job, settings):
    fields, message = BAD_INPUTS[case]
    data = {
        key: _upload(value[1], value[0]) if key == "image" else value
        for key, value in fields.items()
    }
    client.force_login(student_a)
    response = client.post(reverse("classifier:predict"), {"model": job.pk, **data})
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()
    assert _stored_nothing(settings)


def test_limits_on_bytes_and_pixels_are_settings(client, student_a, job, settings):
    client.force_login(student_a)
    settings.LAB_IMAGE_MAX_BYTES = 1000
    response = client.post(
        reverse("classifier:predict"), {"model": job.pk, "image": _upload(photo_of("자"))}
    )
    assert response.status_code == 400 and "the limit is 1000" in response.content.decode()
    settings.LAB_IMAGE_MAX_BYTES = 10**7
    settings.LAB_IMAGE_MAX_PIXELS = 100_000  # the photo is 640x480 = 307,200 pixels
    photo = _upload(photo_of("자"))
    response = client.post("/api/predictions/", {"model": job.pk, "image": photo})
    # The image is refused after the form: the API's one refusal handler answers.
    assert response.status_code == 400
    assert "pixels" in " ".join(response.json()["non_field_errors"])
    assert _stored_nothing(settings)


def test_only_finished_models_of_ones_own_or_ones_courses_are_offered(
    client, student_a, student_b, instructor, job
):
    failed = make_queued_job(student_b, job.dataset, batch_size=32, split="stratified:0.2")
    TrainingJob.claim(failed.pk)
    failed.fail("boom")
    client.force_login(student_b)
    photo = {"image": _upload(photo_of("자"))}
    # Another student's model is not offered: student_b has none to use yet.
    response = client.post(reverse("classifier:predict"), {"model": job.pk, **photo})
    assert response.status_code == 400 and "no model to predict with" in response.content.decode()
    # Published to a course student_b is in, it is; a model that never finished is not.
    course = Course.objects.create(name="Hangul 101", owner=instructor)
    course.enrollments.create(student=student_b)
    services.publish_model(course, job)
    course.published_models.add(failed)
    assert list(services.usable_models(student_b)) == [job]
    photo = {"image": _upload(photo_of("자"))}
    response = client.post(reverse("classifier:predict"), {"model": failed.pk, **photo})
    assert response.status_code == 400
    assert "You cannot use this model here" in response.content.decode()
    photo = {"image": _upload(photo_of("자"))}
    assert client.post(reverse("classifier:predict"), {"model": job.pk, **photo}).status_code == 302


def test_a_student_cannot_see_another_students_predictions(client, student_a, student_b, job):
    prediction = services.create_prediction(
        owner=student_a, model=job, data=photo_of("아"), source="upload", dispatch=False
    )
    services.run_prediction(prediction.pk)
    client.force_login(student_b)
    for name, args in (
        ("prediction-detail", [prediction.pk]),
        ("prediction-status", [prediction.pk]),
        ("prediction-original", [prediction.pk]),
        ("prediction-step", [prediction.pk, "input"]),
    ):
        assert client.get(reverse(f"classifier:{name}", args=args)).status_code == 404, name
    assert (
        f"#{prediction.pk}"
        not in client.get(reverse("classifier:prediction-list")).content.decode()
    )


def test_predict_command_prints_the_top_5_and_json(job, tmp_path, capsys):
    photos = []
    for char in "밟꺅":
        path = tmp_path / f"{char}.jpg"
        path.write_bytes(photo_of(char))
        photos.append(str(path))
    call_command("predict", "--job", str(job.pk), "--steps", str(tmp_path / "steps"), *photos)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all("top 5:" in line for line in lines)
    assert (tmp_path / "steps" / "밟" / "step-input.png").exists()

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(CommandError, match="1 of 3 images"):
        call_command("predict", "--job", str(job.pk), "--json", *photos, str(broken))
    results = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["file"] for r in results] == [*photos, str(broken)]
    for result in results[:2]:
        assert result["char"] in job.classes and 0 < result["confidence"] <= 1
        assert len(result["top5"]) == 5 and result["top5"][0][0] == result["char"]
    assert "error" in results[2]
