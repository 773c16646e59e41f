"""Predictions written directly (no worker runs them), with their stored images."""

import io

from PIL import Image

from classifier.models import JobStatus, Prediction
from classifier.services.predictions import stored_name


def white_png(size=(8, 8)) -> bytes:
    """A small all-white greyscale PNG."""
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, format="PNG")
    return buffer.getvalue()


def make_stored_prediction(owner, model, **fields) -> Prediction:
    """A finished prediction of an upload, with its stored original, two of its steps
    (``original`` and ``input``) and the saliency map of what it read on disk;
    ``fields`` make it a submission and so on."""
    classes = list(model.classes)
    explained = {
        "model": model.pk,
        "method": "integrated-gradients",
        "maps": {"predicted": classes[0]},
    }
    fields = {"explanation": explained, **fields}
    prediction = Prediction.objects.create(
        owner=owner,
        model=model,
        source=Prediction.Source.UPLOAD,
        original_name="photo.png",
        original_file=stored_name("png"),
        steps=[["original", "Original"], ["input", "Input"]],
        status=JobStatus.SUCCEEDED,
        classes=classes,
        probabilities=[1 / len(classes)] * len(classes),
        predicted=classes[0],
        confidence=0.4,
        **fields,
    )
    prediction.file_dir.mkdir(parents=True)
    prediction.original_path.write_bytes(white_png((40, 30)))
    for key in ("original", "input"):
        prediction.step_path(key).write_bytes(white_png())
    prediction.saliency_path("predicted").write_bytes(white_png())
    return prediction
