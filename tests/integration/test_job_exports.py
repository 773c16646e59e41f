"""What a finished job leaves besides its .keras model: TensorFlow Lite for a phone or a
Raspberry Pi, and on its page the first layer's filters, what it looked at in its
mistakes and where it put each character, epoch by epoch."""

import io
import json
import zipfile

import numpy as np
import pytest
from django.urls import reverse

from classifier import services
from classifier.ml import embedding, saliency, training
from classifier.models import JobStatus
from tests.support.datasets import make_dataset
from tests.support.handwriting import make_font_dataset
from tests.support.jobs import make_queued_job

pytestmark = pytest.mark.django_db


def _trained(owner, chars, per_char, **fields):
    """A job of ``fields`` trained here, in this process, as the train worker would."""
    job = make_queued_job(owner, make_dataset(chars=chars, per_char=per_char), **fields)
    services.run_training_job(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_text
    return job


def test_the_tflite_model_reads_the_validation_set_as_the_keras_one_does(client, student_a):
    job = _trained(
        student_a, "가나다", 16, model_spec="cnn", epochs=2, batch_size=8, split="stratified:0.25"
    )
    dataset = job.dataset

    client.force_login(student_a)
    assert (
        reverse("classifier:job-tflite", args=[job.pk])
        in client.get(job.get_absolute_url()).content.decode()
    )
    download = client.get(reverse("classifier:job-tflite", args=[job.pk]))
    assert download["Content-Disposition"].endswith(f'filename="hangul-lab-job{job.pk}-tflite.zip"')
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        flat = archive.read("model.tflite")
        manifest = json.loads(archive.read("model.json"))
    assert manifest["classes"] == ["가", "나", "다"] and manifest["input_shape"] == [28, 28]
    assert "temperature" in manifest["calibration"] and "0-255" in manifest["input"]

    import tensorflow as tf

    with np.load(job.artifact_dir / "evaluation.npz") as evaluation:
        val = evaluation["indices"]
    images = dataset.open_store().images[val].astype(np.float32)
    model, _classes, _shape = training.load_model(job.model_path)
    keras_top = np.argmax(model.predict(images, verbose=0), axis=1)
    interpreter = tf.lite.Interpreter(model_content=flat)
    interpreter.allocate_tensors()
    given, answer = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    tflite_top = []
    for image in images:
        interpreter.set_tensor(given["index"], image[None])
        interpreter.invoke()
        tflite_top.append(int(np.argmax(interpreter.get_tensor(answer["index"]))))
    assert tflite_top == list(keras_top)


def test_a_convolutional_job_shows_its_first_layers_filters(client, student_a):
    job = _trained(student_a, "가나", 8, model_spec="conv6-pool-dense16", epochs=1)
    filters = np.load(job.filters_path)
    assert filters.shape == (6, 3, 3) and np.abs(filters).max() > 0
    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    assert reverse("classifier:job-filters", args=[job.pk]) in page
    figure = client.get(reverse("classifier:job-filters", args=[job.pk]))
    assert figure.status_code == 200 and figure.content.startswith(b"\x89PNG")


def test_a_job_without_convolutions_finishes_without_errors_in_its_log(student_a, caplog):
    job = _trained(student_a, "가나", 8, model_spec="mlp", epochs=1)
    assert not job.filters_path.exists()
    assert not [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


def test_a_jobs_mistakes_come_with_what_the_model_looked_at(client, student_a):
    # Rendered Hangul (ink on a blank background), barely trained: it makes mistakes.
    dataset = make_font_dataset(name="fonts-maps", per_font=2)
    job = make_queued_job(
        student_a, dataset, model_spec="mlp", epochs=1, learning_rate=0.0001, split="stratified:0.5"
    )
    services.run_training_job(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_text
    with np.load(job.artifact_dir / "evaluation.npz") as evaluation:
        val, predicted, confidence = (evaluation[k] for k in ("indices", "predicted", "confidence"))
    arrays = dataset.open_store()
    true = training.output_labels(arrays.labels, val, job.chosen_labels)
    assert (predicted != true).any()

    with np.load(job.mistake_maps_path) as saved:
        shown, maps = saved["shown"], saved["maps"].astype(np.float32)
    # The mistakes the page shows, each with a map of the character read and the true one.
    assert list(shown) == list(training.shown_mistakes(true, predicted, confidence))
    assert maps.shape == (len(shown), 2, dataset.height, dataset.width)
    images = arrays.images[val[shown]]
    assert not np.where(images[:, None] == 0, maps, 0).any()  # only ink has a share
    model, _classes, _shape = training.load_model(job.model_path)
    first = images[0]
    gap = saliency.completeness_gap(model, first, int(predicted[shown[0]]), maps[0, 0])
    assert gap < 0.05  # the shares add up to what the ink adds to the reading

    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    url = reverse("classifier:job-mistake-maps", args=[job.pk])
    assert url in page and "What the model looked at in its mistakes" in page
    figure = client.get(url)
    assert figure.status_code == 200 and figure.content.startswith(b"\x89PNG")


def test_a_job_maps_its_validation_samples_after_every_epoch(client, student_a, settings):
    job = _trained(
        student_a, "가나다", 12, model_spec="mlp", epochs=3, batch_size=8, split="stratified:0.25"
    )
    saved = embedding.read(job.embedding_path)
    assert list(saved["epochs"]) == [1, 2, 3]
    assert saved["points"].shape == (3, 9, 2)  # every validation sample: 3 of each
    assert sorted(saved["labels"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    # The last epoch's map was drawn by the worker as the job finished, not by a page view.
    assert [p.name for p in (job.artifact_dir / "plots").glob("embedding-*")] == [
        f"embedding-{job.attempts}-3-{settings.LANGUAGE_CODE}.png"
    ]

    client.force_login(student_a)
    page = client.get(job.get_absolute_url()).content.decode()
    url = reverse("classifier:job-embedding", args=[job.pk])
    assert f'data-embedding-slider="{url}"' in page and 'max="3"' in page
    for epoch in ("1", "3", None):
        figure = client.get(url, {"epoch": epoch} if epoch else {})
        assert figure.status_code == 200 and figure.content.startswith(b"\x89PNG")
    assert client.get(url, {"epoch": "4"}).status_code == 404
    assert client.get(url, {"epoch": "x"}).status_code == 404
    artifacts = client.get(f"/api/jobs/{job.pk}/").json()["artifacts"]
    assert artifacts["embedding"].endswith(f"/api/jobs/{job.pk}/figures/embedding/")
    figure = client.get(artifacts["embedding"], {"epoch": "2"})
    assert figure.status_code == 200 and figure["Content-Type"] == "image/png"
