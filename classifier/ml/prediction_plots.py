"""The tutorial's bar graph of class probabilities, as PNG bytes."""

import matplotlib.pyplot as plt
import numpy as np

from .messages import _
from .plots import figure_png, hangul_style, level_ylabel

PREDICTED_COLOR = "#c62828"
EXPECTED_COLOR = "#1f5fbf"
OTHER_COLOR = "#b7bec8"
# Up to this many characters every class gets a bar; beyond it, only the top ones.
ALL_BARS_UP_TO = 20
TOP_BARS = 10


def shown_classes(probabilities, expected_index=None) -> np.ndarray:
    """Indices of the bars to draw: every class up to 20, else the top 10 by probability
    (plus the expected character, so its bar is there to compare)."""
    probabilities = np.asarray(probabilities)
    if len(probabilities) <= ALL_BARS_UP_TO:
        return np.arange(len(probabilities))
    top = np.argsort(-probabilities, kind="stable")[:TOP_BARS]
    if expected_index is not None and expected_index not in top:
        top = np.append(top, expected_index)
    return top


def probability_bars_png(classes, probabilities, expected: str = "", *, translate=str) -> bytes:
    """Probability per character: the predicted bar red, the expected one blue.

    ``translate`` turns the labels into the reader's language (see ``plots``).
    """
    probabilities = np.asarray(probabilities, dtype=float)
    predicted = int(np.argmax(probabilities))
    expected_index = classes.index(expected) if expected in classes else None
    shown = shown_classes(probabilities, expected_index)
    colors = [
        PREDICTED_COLOR
        if i == predicted
        else EXPECTED_COLOR
        if i == expected_index
        else OTHER_COLOR
        for i in shown
    ]
    with hangul_style():
        fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * len(shown) + 1.5), 3.0), dpi=100)
        positions = np.arange(len(shown))
        ax.bar(positions, probabilities[shown], color=colors)
        ax.set_xticks(positions, [classes[i] for i in shown], fontsize=14)
        ax.set_ylim(0, 1)
        level_ylabel(ax, translate(_("probability")))
        if len(shown) < len(classes):
            title = _("Top %(shown)d of %(total)d characters", shown=len(shown), total=len(classes))
            ax.set_title(translate(title), fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        return figure_png(fig)
