"""Where the network puts each character: its last hidden layer, seen in 2-D, per epoch.

After every epoch the same validation samples go through the network up to the layer
before its softmax, and PCA projects what that layer holds onto the two directions it
varies most along. Characters the network tells apart form separate clouds; watching the
epochs one after another shows them separate. Each epoch's projection is turned and
mirrored onto the last one (orthogonal Procrustes) and scaled to unit spread, so the
clouds move as the network learns, not as PCA happens to pick its axes' signs.
"""

import io
from pathlib import Path

import numpy as np

from . import store

#: Validation samples mapped, at most, and characters among them: a map of thousands
#: of characters is a grey cloud, and a job page draws one per epoch.
SAMPLES = 400
MAX_CLASSES = 12


def choose_samples(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Positions (into ``labels``, the validation split's output labels) of the samples
    to map: of the first ``MAX_CLASSES`` classes that have any, about as many of each,
    ``SAMPLES`` in all at most, in a fixed random draw."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    kept = np.unique(labels)[:MAX_CLASSES]
    if not len(kept):
        return np.zeros(0, np.int64)
    per_class = max(1, SAMPLES // len(kept))
    chosen = [rng.permutation(np.flatnonzero(labels == label))[:per_class] for label in kept]
    return np.sort(np.concatenate(chosen))


def project(features: np.ndarray, previous: np.ndarray | None = None):
    """``features`` ``(n, d)`` as 2-D points of unit spread on their first two principal
    components, turned onto ``previous`` (the last epoch's points) when given; with the
    share of the variance each component holds."""
    centred = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    centred = centred - centred.mean(axis=0)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    points = np.zeros((len(centred), 2))
    components = min(2, directions.shape[0])
    points[:, :components] = centred @ directions[:components].T
    total = float((singular**2).sum())
    explained = np.zeros(2)
    if total > 0:
        explained[:components] = singular[:components] ** 2 / total
    spread = float(np.sqrt((points**2).sum(axis=1).mean()))
    if spread > 0:
        points /= spread
    if previous is not None and len(previous) == len(points):
        left, _, right = np.linalg.svd(points.T @ previous)
        points = points @ (left @ right)
    return points, explained


class EpochMaps:
    """The 2-D map of fixed samples after each epoch, kept in an ``.npz`` at ``path``
    (``epochs``, ``points`` ``(epochs, n, 2)``, ``explained``, ``labels``, ``positions``).

    ``images`` and ``labels`` are the samples and their output labels; ``positions``
    where they are in the validation split. A resumed job keeps the epochs it had.
    """

    def __init__(self, path: Path, images, labels, positions, *, keep_epochs: int = 0):
        self.path = Path(path)
        self.images = np.asarray(images)
        self.labels = np.asarray(labels)
        self.positions = np.asarray(positions)
        self.epochs, self.points, self.explained = [], [], []
        self._features = None
        if keep_epochs and self.path.exists():
            saved = read(self.path)
            if np.array_equal(saved["positions"], self.positions):
                for epoch, points, explained in zip(
                    saved["epochs"], saved["points"], saved["explained"], strict=True
                ):
                    if epoch <= keep_epochs:
                        self.epochs.append(int(epoch))
                        self.points.append(points.astype(np.float64))
                        self.explained.append(explained)

    def record(self, model, epoch: int):
        """Map the samples as ``model`` sees them after ``epoch`` (counted from 1)."""
        if self._features is None:
            self._features = penultimate(model)
        features = np.asarray(self._features(self.images, training=False))
        points, explained = project(features, self.points[-1] if self.points else None)
        self.epochs.append(epoch)
        self.points.append(points)
        self.explained.append(explained)
        self._save()

    def _save(self):
        buffer = io.BytesIO()
        np.savez(
            buffer,
            epochs=np.asarray(self.epochs, np.int64),
            points=np.asarray(self.points, np.float16),
            explained=np.asarray(self.explained, np.float32),
            labels=self.labels,
            positions=self.positions,
        )
        store.write_atomically(self.path, buffer.getvalue())


def penultimate(model):
    """A model sharing ``model``'s weights that stops at the layer before its softmax."""
    import keras

    return keras.Model(model.input, model.layers[-2].output)


def read(path: Path) -> dict:
    """What :class:`EpochMaps` saved at ``path``, as arrays."""
    with np.load(path) as saved:
        return {key: saved[key] for key in saved.files}
