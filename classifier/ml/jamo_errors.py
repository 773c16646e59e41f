"""What a model gets wrong about the parts of a syllable.

A syllable classifier knows nothing of jamo: to it 갠 and 객 are as different as 갠 and
휘. Read through the syllables' parts (``jamo.decompose``), its confusion matrix says
more: how often it reads each position (initial consonant, vowel, final consonant)
right, which jamo it takes for which (the vowel ㅏ read as ㅑ, 14 times), and whether its
mistakes change one part or several. Everything here comes from the validation set's
confusion matrix (rows: true, columns: predicted), which every finished job keeps.
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .jamo import FINALS, INITIALS, MEDIALS, decompose
from .messages import _

#: The parts of a syllable, in the order they are written.
POSITIONS = ("initial", "medial", "final")
_LETTERS = {"initial": INITIALS, "medial": MEDIALS, "final": FINALS}
#: The parts as people name them (and the mistakes that changed more than one).
PART_NAMES = {
    "initial": _("initial consonant"),
    "medial": _("vowel"),
    "final": _("final consonant"),
    "several": _("more than one"),
}
#: How many jamo confusions a report keeps, most frequent first.
TOP_CONFUSIONS = 12


@dataclass(frozen=True)
class JamoConfusion:
    position: str
    #: The jamo written and the one read; ``""`` is "no final consonant".
    true: str
    read: str
    count: int


@dataclass(frozen=True)
class JamoReport:
    samples: int
    mistakes: int
    #: Per position, the share of samples read with that part right.
    position_accuracy: dict[str, float]
    #: The mistakes by the parts they change: "initial", "medial", "final" (that part
    #: only) and "several".
    mistakes_by_parts: dict[str, int]
    confusions: list[JamoConfusion] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "samples": self.samples,
            "mistakes": self.mistakes,
            "position_accuracy": self.position_accuracy,
            "mistakes_by_parts": self.mistakes_by_parts,
            "confusions": [vars(c) for c in self.confusions],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "JamoReport":
        return cls(
            samples=data["samples"],
            mistakes=data["mistakes"],
            position_accuracy=data["position_accuracy"],
            mistakes_by_parts=data["mistakes_by_parts"],
            confusions=[JamoConfusion(**c) for c in data["confusions"]],
        )


def jamo_report(confusion, classes) -> JamoReport | None:
    """The jamo view of ``confusion`` (counts, rows true, columns predicted, over
    ``classes``); None when a class is not a syllable, there are no samples or the
    matrix is not one of these classes."""
    parts = [decompose(char) for char in classes]
    matrix = np.asarray(confusion, dtype=np.int64)
    samples = int(matrix.sum())
    if matrix.shape != (len(parts), len(parts)):
        return None  # not this class list's matrix
    if not samples or any(part is None for part in parts):
        return None
    indices = {
        "initial": np.array([p.initial for p in parts]),
        "medial": np.array([p.medial for p in parts]),
        "final": np.array([p.final for p in parts]),
    }
    differs = {pos: idx[:, None] != idx[None, :] for pos, idx in indices.items()}
    accuracy = {pos: float(matrix[~differs[pos]].sum() / samples) for pos in POSITIONS}
    changed = sum(differs[pos].astype(np.int8) for pos in POSITIONS)
    by_parts = {pos: int(matrix[differs[pos] & (changed == 1)].sum()) for pos in POSITIONS}
    by_parts["several"] = int(matrix[changed >= 2].sum())
    counts: Counter = Counter()
    rows, cols = np.nonzero(matrix * (changed > 0))
    for row, col in zip(rows, cols, strict=True):
        for pos, idx in indices.items():
            if idx[row] != idx[col]:
                letters = _LETTERS[pos]
                counts[pos, letters[idx[row]], letters[idx[col]]] += int(matrix[row, col])
    confusions = [
        JamoConfusion(pos, true, read, n)
        for (pos, true, read), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ][:TOP_CONFUSIONS]
    return JamoReport(
        samples=samples,
        mistakes=int(matrix[changed > 0].sum()),
        position_accuracy=accuracy,
        mistakes_by_parts=by_parts,
        confusions=confusions,
    )
