"""Predictions: preparing a photo or a drawing, classifying it in a worker, showing it.

The request does the preprocessing (Pillow and numpy, tens of milliseconds), so a bad
image is refused at once with its reason and nothing is stored; the ``predict`` worker
only runs the model, which it keeps loaded between requests, and once it has answered
draws what the model looked at (``explanations``).
"""

import base64
import io
import json
import logging
import secrets
import threading
import time
from functools import cache
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from kombu.exceptions import OperationalError
from PIL import Image

from ..i18n import stored_message
from ..ml import image_files, preprocess, store, training
from ..ml.inference import ModelCache
from ..ml.messages import Busy, Conflict, Message, Refusal, _
from ..models import Course, JobStatus, Prediction, TrainingJob
from ..models.predictions import top_characters
from . import broker
from .explanations import explain_prediction
from .failures import describe_os_error, job_run
from .grading import grade_fields
from .storage import check_storage

logger = logging.getLogger(__name__)

EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "GIF": "gif"}


def canvas_empty_message() -> Message:
    """What an empty drawing is told (a regrade in the worker stores it untranslated)."""
    return _("The canvas is empty: draw the character first.")


def usable_models(user):
    """Finished models ``user`` may predict with: their own, and those published to their
    courses (joined, for a student; taught, for an instructor)."""
    jobs = TrainingJob.objects.filter(status=JobStatus.SUCCEEDED)
    mine_or_published = Q(owner=user) | Q(published_in__in=Course.visible_to(user))
    return jobs.filter(mine_or_published).distinct().select_related("dataset", "owner")


def model_input(job: TrainingJob) -> tuple[tuple[int, int], preprocess.InputStyle]:
    """The input size of ``job``'s model and what its training images looked like."""
    if job.status != JobStatus.SUCCEEDED:
        raise Refusal(_("Model #%(pk)d did not finish training, so it cannot predict.", pk=job.pk))
    try:
        metadata = training.read_metadata(job.model_path)
    except FileNotFoundError as exc:
        raise Refusal(_("The file of model #%(pk)d is missing.", pk=job.pk)) from exc
    style = preprocess.InputStyle.from_dict(metadata.get("input_style"))
    return tuple(metadata["input_shape"]), style


@cache
def _preprocessing_turns() -> threading.BoundedSemaphore:
    """This process's turns at decoding and preprocessing an image."""
    return threading.BoundedSemaphore(settings.LAB_PREPROCESS_AT_ONCE)


def prepare_image(job: TrainingJob, data: bytes, *, canvas=False) -> preprocess.Preprocessed:
    """Check an image and turn it into what ``job``'s model reads, step by step.

    At most ``LAB_PREPROCESS_AT_ONCE`` images at a time per process: each takes tens of
    MiB while it decodes, and a class uploading at once would add them all up."""
    size, style = model_input(job)
    with _preprocessing_turns():
        image = preprocess.open_image(data, max_pixels=settings.LAB_IMAGE_MAX_PIXELS)
        empty = canvas_empty_message() if canvas else None
        return preprocess.preprocess(image, size, style, empty_message=empty)


def predict_image(job: TrainingJob, data: bytes) -> tuple[preprocess.Preprocessed, dict]:
    """Preprocess and classify an image in this process, storing nothing (the command)."""
    prepared = prepare_image(job, data)
    return prepared, classify(job, prepared.input)


def create_prediction(
    *,
    owner,
    model: TrainingJob,
    data: bytes,
    source: str,
    original_name: str = "",
    expected: str = "",
    assignment=None,
    attempt: int = 0,
    late: bool = False,
    dispatch: bool = True,
    wait: bool = False,
) -> Prediction:
    """Check and preprocess an image, store it, and queue its prediction.

    Raises a Refusal (``preprocess.ImageRejected`` among them) with the reason for
    an image or a model that cannot be used; then nothing is stored. Anything after the
    image file's end is cut off first (``image_files``), so it is neither read nor kept.
    With ``wait`` (a page or the API answering a person), the worker is given
    ``LAB_PREDICT_WAIT_SECONDS`` to finish, so the answer usually holds the result:
    see :func:`waited_for`.
    """
    data = image_files.without_trailing_data(data)  # what is read is what is kept
    check_storage(owner, adding=len(data))
    prepared = prepare_image(model, data, canvas=source == Prediction.Source.CANVAS)
    extension = EXTENSIONS.get(Image.open(io.BytesIO(data)).format, "img")
    with transaction.atomic():
        prediction = Prediction.objects.create(
            owner=owner,
            model=model,
            source=source,
            original_name=original_name[:255],
            original_file=stored_name(extension),
            expected=expected,
            steps=stored_steps(prepared.steps),
            assignment=assignment,
            attempt=attempt,
            late=late,
        )
        try:
            store_images(prediction, data, prepared.steps)
        except OSError as exc:
            prediction.delete_files()
            raise Refusal(describe_os_error(exc)) from exc
        if dispatch:
            prediction.dispatch()
    return waited_for(prediction) if wait else prediction


def prediction_deletion_refusal(prediction: Prediction) -> Message | str:
    """Why ``prediction`` cannot be deleted, as a message to translate; "" when it can.

    A submission is the course's record of what was handed in and how it was graded, so
    it stays whoever asks; any other prediction is its owner's to delete.
    """
    if prediction.assignment_id is None:
        return ""
    return _(
        "Prediction #%(pk)d is a submission to %(assignment)s, so it is kept as the "
        "course's record.",
        pk=prediction.pk,
        assignment=prediction.assignment.title,
    )


def delete_prediction(prediction: Prediction):
    """Delete a prediction that is not a submission; a Conflict (a Refusal) says why one
    is kept.

    Its upload and images go once the deletion commits (``classifier.signals``).
    """
    refusal = prediction_deletion_refusal(prediction)
    if refusal:
        raise Conflict(refusal)
    prediction.delete()


def stored_steps(steps) -> list[list]:
    """Preprocessing steps as a prediction keeps them: key and title, in any language."""
    return [[step.key, stored_message(step.title)] for step in steps]


def stored_name(extension: str) -> str:
    """A random file name for an upload: nothing about it comes from the user, and no
    one can guess where another upload lies."""
    return f"{secrets.token_hex(8)}.{extension}"


def store_images(prediction: Prediction, data: bytes, steps):
    """Write the original upload and each preprocessing step into the prediction's folder,
    and note what they take (``stored_bytes``)."""
    write_steps(steps, prediction.file_dir)
    store.write_atomically(prediction.original_path, data)
    prediction.stored_bytes = store.folder_bytes(prediction.file_dir)
    Prediction.objects.filter(pk=prediction.pk).update(stored_bytes=prediction.stored_bytes)


def write_steps(steps, folder: Path):
    """Save each preprocessing step as ``step-<key>.png`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for step in steps:
        buffer = io.BytesIO()
        Image.fromarray(step.image).save(buffer, format="PNG")
        store.write_atomically(folder / f"step-{step.key}.png", buffer.getvalue())


def waited_for(prediction: Prediction) -> Prediction:
    """The row of ``prediction``, fresh, once the worker said it finished or
    ``LAB_PREDICT_WAIT_SECONDS`` passed (a page then polls).

    Called once the prediction is committed and dispatched (the worker cannot see it
    before); one whose message did not reach the broker is not waited for. The request
    waits on the broker (``broker.wait_for``), not by asking the database again and again:
    a class predicting at once would keep the web's threads and the database busy.
    """
    if prediction.is_dispatched and settings.LAB_PREDICT_WAIT_SECONDS > 0:
        broker.wait_for(finished_signal(prediction.pk), settings.LAB_PREDICT_WAIT_SECONDS)
    prediction.refresh_from_db()
    return prediction


def finished_signal(pk: int) -> str:
    """The broker key on which prediction ``pk``'s worker says it finished."""
    return f"lab:prediction-finished:{pk}"


@cache
def model_cache() -> ModelCache:
    """This process's loaded models."""
    return ModelCache(settings.LAB_MODEL_CACHE_SIZE)


def classify(job: TrainingJob, image: np.ndarray) -> dict:
    """The result fields of a prediction when ``job``'s model reads ``image``."""
    started = time.perf_counter()
    loaded = model_cache().get(job.model_path)
    probabilities = loaded.probabilities(image)
    best = int(np.argmax(probabilities))
    return {
        "classes": loaded.classes,
        "probabilities": [round(float(p), 6) for p in probabilities],
        "predicted": loaded.classes[best],
        "confidence": float(probabilities[best]),
        "seconds": time.perf_counter() - started,
    }


def run_prediction(pk: int) -> Prediction | None:
    """Claim prediction ``pk`` and run its model on its stored input (the worker's part)."""
    if not Prediction.claim(pk):
        return None
    prediction = Prediction.objects.select_related("model", "assignment").get(pk=pk)
    answered = False
    try:
        with job_run(prediction):
            image = np.asarray(Image.open(prediction.input_path))
            results = classify(prediction.model, image)
            # Written only while the row is still this run's: a regrade that graded it
            # again with another model meanwhile has the last word.
            fields = grade_fields(prediction, prediction.model, results)
            answered = prediction.succeed(**results, **fields)
            if not answered:
                prediction.refresh_from_db()
    finally:
        broker.notify(finished_signal(pk))  # the request waiting for it, if any
    if answered:  # the answer first; what the model looked at follows on the page
        explain_prediction(prediction, prediction.model, image, results["predicted"])
    return prediction


def read_live(job: TrainingJob, data: bytes, *, canvas: bool = True) -> dict:
    """Read a drawing in progress (or a webcam's frame: ``canvas`` False) with ``job``'s
    model, storing nothing: the character, its confidence, the top 5 and the model's
    input (a PNG data URL), as the Predict page shows them while the student draws.

    The request preprocesses it as a prediction's (a bad image is refused alike) and the
    predict worker reads it; a message it has not taken within
    ``LAB_PREDICT_WAIT_SECONDS`` expires, so a busy worker never reads a drawing the
    student has already drawn over. ``Busy`` (a Refusal) when no answer came in time.
    """
    # Readings are a convenience: with predictions already waiting, they give way.
    waiting = broker.queue_length("predict")
    if waiting is not None and waiting >= settings.LAB_LIVE_QUEUE_LIMIT:
        raise Busy(_("The model is busy: it reads your drawing again in a moment."))
    prepared = prepare_image(job, data, canvas=canvas)
    png = base64.b64encode(_png(prepared.input)).decode()
    reply = f"lab:live:{secrets.token_hex(12)}"
    wait = settings.LAB_PREDICT_WAIT_SECONDS
    _send_live(job, png, reply, wait)
    answer = broker.wait_for(reply, wait)
    if answer is None:
        raise Busy(_("The model is busy: it reads your drawing again in a moment."))
    return {
        **json.loads(answer),
        "input": "data:image/png;base64," + png,
    }


def _send_live(job, image: str, reply: str, seconds: float):
    # On the broker the settings name, as the reply is awaited (``broker.client``).
    from labsite.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
            app.send_task(
                "classifier.tasks.read_live",
                args=[job.pk, image, reply],
                expires=max(seconds, 1),
                connection=connection,
            )
    except OperationalError as exc:
        raise Busy(_("The job queue cannot be reached right now.")) from exc


def run_live_reading(model_id: int, image: str, reply: str):
    """Read a drawing's model input (a base64 PNG) and answer on ``reply`` (the worker's
    part of :func:`read_live`)."""
    job = TrainingJob.objects.get(pk=model_id)
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(image))))
    results = classify(job, pixels)
    answer = {
        "char": results["predicted"],
        "confidence": results["confidence"],
        "top5": [
            [char, p] for char, p in top_characters(results["classes"], results["probabilities"])
        ],
    }
    broker.notify(reply, json.dumps(answer))


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def prediction_bars(prediction: Prediction):
    """The layout of a finished prediction's bar graph (the predicted bar red, the
    expected blue), for the page to draw (``prediction_plots``)."""
    from ..ml import prediction_plots

    return prediction_plots.probability_bars(
        prediction.classes, prediction.probabilities, prediction.expected
    )


def prediction_summary(prediction: Prediction) -> dict:
    """What the JSON endpoints and the ``predict`` command report of a prediction."""
    return {
        "id": prediction.pk,
        "status": prediction.status,
        "error": prediction.error_text,
        "char": prediction.predicted or None,
        "confidence": prediction.confidence,
        "top5": [[char, p] for char, p in prediction.top] if prediction.probabilities else [],
        "expected": prediction.expected or None,
        "correct": prediction.correct,
        "verdict": prediction.verdict if prediction.assignment_id else None,
        "url": prediction.get_absolute_url(),
    }
