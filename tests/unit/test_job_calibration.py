"""A finished training job is calibrated on its validation split: the temperature rides in
its model file, every prediction applies it, and the job page, its figure and the API show
how far the confidence can be trusted. Real tiny Keras jobs, trained in this process."""

import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from classifier import services
from classifier.ml import calibration, inference, training
from classifier.models import JobStatus, TrainingJob
from tests.support.datasets import make_dataset
from tests.support.i18n import korean
from tests.support.jobs import make_queued_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_job(student_a):
    """A two-epoch MLP on three easy characters, 30 of them validation samples."""
    dataset = make_dataset("calibrated", chars="가나다", per_char=40, size=(16, 16))
    job = make_queued_job(student_a, dataset, learning_rate=0.003, epochs=2, batch_size=16)
    job = services.run_training_job(job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error_text
    return job


def test_a_finished_job_stores_its_temperature_and_its_model_applies_it(finished_job):
    job = TrainingJob.objects.get(pk=finished_job.pk)
    fitted = job.calibration
    assert fitted["measured"] and fitted["n"] == 30 and fitted["bins"] == 15
    assert calibration.TEMPERATURE_BOUNDS[0] <= fitted["temperature"] <= 20
    for side in ("before", "after"):
        assert sum(b["count"] for b in fitted[f"bins_{side}"]) == 30
        assert 0 <= fitted[f"ece_{side}"] <= 1
    assert fitted["ece_after"] < fitted["ece_before"]

    entry = training.read_metadata(job.model_path)["calibration"]
    assert entry["temperature"] == fitted["temperature"] and entry["validation_samples"] == 30

    loaded = inference.ModelCache().get(job.model_path)
    arrays = job.dataset.open_store()
    with np.load(job.artifact_dir / "evaluation.npz") as scored:
        indices, confidence = scored["indices"], scored["confidence"]
    power = 1 / fitted["temperature"]
    for number, index in enumerate(indices[:5]):
        image = np.asarray(arrays.images[index])
        raw = np.asarray(loaded.model(image[None], training=False), dtype=np.float64)[0]
        expected = raw**power / (raw**power).sum()
        np.testing.assert_allclose(loaded.probabilities(image), expected, rtol=1e-6, atol=1e-12)
        # The mistakes grid shows the same calibrated confidence as a prediction would.
        assert confidence[number] == pytest.approx(expected.max(), rel=1e-5)


def test_the_job_page_the_figure_and_the_api_show_the_calibration(client, student_a, finished_job):
    job = finished_job
    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    figure_url = reverse("classifier:job-reliability", args=[job.pk])
    assert figure_url in page and "Calibration error (ECE)" in page
    assert "when the model says 80%, it is right about 80% of the time" in page
    assert f"{job.calibration['temperature']:.2f}" in page
    # Drawn once as the job finished, in the lab's language; the view serves that file.
    kept = job.artifact_dir / "plots" / "reliability-final-en.png"
    figure = client.get(figure_url)
    assert figure.status_code == 200 and figure["Content-Type"] == "image/png"
    assert figure.content == kept.read_bytes() and figure.content.startswith(b"\x89PNG")

    api = APIClient()
    api.force_authenticate(student_a)
    answer = api.get(f"/api/jobs/{job.pk}/").json()
    assert answer["calibration"] == job.calibration
    assert answer["artifacts"]["reliability"].endswith(f"/api/jobs/{job.pk}/figures/reliability/")
    assert api.get(answer["artifacts"]["reliability"]).content == kept.read_bytes()


def test_the_api_schema_describes_the_calibration(student_a):
    api = APIClient()
    api.force_authenticate(student_a)
    schemas = api.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    described = schemas["JobCalibration"]["properties"]
    assert {
        "measured",
        "temperature",
        "n",
        "ece_before",
        "ece_after",
        "bins_before",
        "bins_after",
    } <= set(described)
    assert "p^(1/T)" in described["temperature"]["description"]
    assert set(schemas["ReliabilityBin"]["properties"]) == {
        "lower",
        "upper",
        "count",
        "confidence",
        "accuracy",
    }
    job_calibration = schemas["TrainingJob"]["properties"]["calibration"]
    assert job_calibration.get("nullable") or "oneOf" in job_calibration
    queued = TrainingJob.objects.create(owner=student_a, dataset=make_dataset(), model_spec="mlp")
    assert api.get(f"/api/jobs/{queued.pk}/").json()["calibration"] is None


def _job_with(owner, fitted: calibration.Calibration) -> TrainingJob:
    return TrainingJob.objects.create(
        owner=owner,
        dataset=make_dataset(),
        model_spec="mlp",
        status=JobStatus.SUCCEEDED,
        calibration=fitted.as_dict(),
    )


def test_a_job_with_too_few_validation_samples_says_its_confidence_is_not_calibrated(
    client, student_a
):
    job = _job_with(student_a, calibration.Calibration(n=12))
    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Confidence not calibrated: the validation split has 12 samples" in page
    assert "fewer than the 20 needed" in page
    assert reverse("classifier:job-reliability", args=[job.pk]) not in page
    # A job finished before the lab calibrated shows no calibration at all.
    old = TrainingJob.objects.create(
        owner=student_a, dataset=job.dataset, model_spec="mlp", status=JobStatus.SUCCEEDED
    )
    assert "Calibration error" not in client.get(old.get_absolute_url()).content.decode()
    assert client.get(reverse("classifier:job-reliability", args=[old.pk])).status_code == 200


@pytest.mark.korean
def test_the_calibration_reads_in_korean(client, student_a):
    p = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]] * 30)
    job = _job_with(student_a, calibration.calibrate(p, np.array([0, 1] * 30)))
    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    for text in ("Can its confidence be trusted?", "Calibration error (ECE)", "Temperature"):
        assert korean(text) in page
    assert "80%" in page and "when the model says" not in page
    # Sharpened to the end of its range: the page says the split had too few mistakes.
    assert (
        korean(
            "The temperature reached the end of its range: the validation split has too few "
            "mistakes to show how unsure the model should be."
        )
        in page
    )
