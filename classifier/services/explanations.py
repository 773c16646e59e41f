"""What the model looked at: a prediction's saliency maps, drawn in the predict worker.

The worker answers first (the verdict and the bar graph), then draws the maps
(``ml.saliency``, tens of milliseconds) for the predicted character and, when the image
was meant to be another one the model knows, for that one too; the page and the API
show them as they arrive (``Prediction.explanation_state``). A map that cannot be drawn
never touches the answer: the reason is kept instead.
"""

import io
import logging

import numpy as np
from PIL import Image

from ..i18n import stored_message
from ..ml import saliency, store
from ..ml.messages import Refusal
from ..models import Prediction, TrainingJob
from .failures import failure_reason, unexpected_error

logger = logging.getLogger(__name__)

METHOD = "integrated-gradients"


def explain_prediction(prediction: Prediction, job: TrainingJob, image: np.ndarray, predicted: str):
    """Draw the saliency maps of ``prediction`` as ``job`` read ``image`` (its input) as
    ``predicted``, and record them on the row, unless another model graded it since."""
    prediction.model = job  # the reading explained (a regrade's, when it is one)
    try:
        maps = _draw_maps(prediction, job, image, predicted)
        explanation = {"model": job.pk, "method": METHOD, "maps": maps}
    except (Refusal, OSError) as exc:
        explanation = {"model": job.pk, "error": stored_message(failure_reason(exc))}
    except Exception as exc:  # the answer is given already; a map is not worth losing it
        logger.exception("Could not draw the saliency maps of prediction %s", prediction.pk)
        explanation = {"model": job.pk, "error": stored_message(unexpected_error(exc))}
    stored = store.folder_bytes(prediction.file_dir)
    Prediction.objects.filter(pk=prediction.pk, model=job).update(
        explanation=explanation, stored_bytes=stored
    )


def _draw_maps(prediction, job, image, predicted) -> dict[str, str]:
    from .predictions import model_cache  # which hands its answers to this module

    loaded = model_cache().get(job.model_path)
    wanted = {"predicted": predicted}
    if prediction.expected in loaded.classes and prediction.expected != predicted:
        wanted["expected"] = prediction.expected
    indices = [loaded.classes.index(char) for char in wanted.values()]
    maps = saliency.integrated_gradients(loaded.model, image, indices)
    for role, overlay in zip(wanted, saliency.overlays(image, maps), strict=True):
        buffer = io.BytesIO()
        Image.fromarray(overlay).save(buffer, format="PNG")
        store.write_atomically(prediction.saliency_path(role), buffer.getvalue())
    _remove_other_models_maps(prediction, job)
    return wanted


def _remove_other_models_maps(prediction: Prediction, job: TrainingJob):
    """Maps of a model that no longer grades this prediction (a regrade) go."""
    for path in prediction.file_dir.glob("saliency-*.png"):
        if not path.name.startswith(f"saliency-{job.pk}-"):
            path.unlink(missing_ok=True)
