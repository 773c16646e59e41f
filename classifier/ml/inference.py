"""Classifying single images with saved lab models, kept loaded between requests.

A ``predict`` worker answers many small requests with the same few models; loading a
.keras file takes far longer than running it, so loaded models are kept in an LRU cache
keyed by the file's path and modification time (a retrained model is a new file).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .calibration import at_temperature, temperature_of
from .messages import Refusal, _
from .training import load_model, read_metadata


@dataclass(frozen=True)
class LoadedModel:
    """A Keras model with what the lab saved beside it."""

    model: object
    classes: list[str]
    input_shape: tuple[int, int]
    metadata: dict

    @property
    def temperature(self) -> float:
        """The calibration temperature saved with the model (1 for models saved before)."""
        return temperature_of(self.metadata)

    def probabilities(self, image: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (float64, summing to 1) of one uint8 image of
        ``input_shape``: what the predict worker, the Predict page, grading, the API and
        the ``predict`` command all report."""
        if image.shape != self.input_shape:
            raise Refusal(
                _(
                    "The image is %(rows)dx%(columns)d; the model reads %(height)dx%(width)d.",
                    rows=image.shape[0],
                    columns=image.shape[1],
                    height=self.input_shape[0],
                    width=self.input_shape[1],
                )
            )
        # Called eagerly: model.predict() builds a tf.function and a data pipeline, which
        # costs tens of milliseconds for a batch of one.
        out = np.asarray(self.model(image[None], training=False), dtype=np.float64)[0]
        return at_temperature(out, self.temperature)


class ModelCache:
    """At most ``size`` loaded models, least recently used dropped first; thread-safe.

    Loads run outside the lock, so a slow load never stalls predictions with models
    already loaded; two threads loading the same file at once both load it, and one
    copy is kept.
    """

    def __init__(self, size: int = 8):
        self.size = size
        self._models: OrderedDict[tuple[str, int], LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> LoadedModel:
        """The model saved at ``path``, loaded now or earlier."""
        path = Path(path)
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        model, classes, input_shape = load_model(path)
        loaded = LoadedModel(model, classes, input_shape, read_metadata(path))
        with self._lock:
            for stale in [k for k in self._models if k[0] == key[0]]:
                del self._models[stale]
            self._models[key] = loaded
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return loaded

    def __len__(self):
        return len(self._models)
