"""The tutorial's bar graph of class probabilities, laid out for an inline SVG.

The result page draws it in its own markup (``templates/predictions/_bars.html``) from
this layout: a class predicting at once would otherwise have the web server draw a
picture for every prediction, about 46 ms of CPU each with matplotlib, and the browser
ask for it in another request. The colours are the page's (``static/css/lab.css``).
"""

from dataclasses import dataclass

import numpy as np

from .messages import Message, _

# Up to this many characters every class gets a bar; beyond it, only the top ones.
ALL_BARS_UP_TO = 20
TOP_BARS = 10

# The layout, in SVG units: a slot per bar, margins for the ticks, the labels and title.
SLOT = 34
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 26, 34
PLOT_HEIGHT = 150
MIN_WIDTH = 300


@dataclass(frozen=True)
class Bar:
    char: str
    probability: float
    #: "predicted", "expected" or "" (the page colours them red, blue and grey).
    kind: str
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    #: (y, label) of each horizontal grid line: 0, 0.25 ... 1.
    ticks: list[tuple[float, str]]
    left: int
    right: int
    top: int
    bottom: int
    #: "Top 10 of 2350 characters" when not every class has a bar.
    title: Message | None

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


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


def probability_bars(classes, probabilities, expected: str = "") -> BarChart:
    """The bar graph of one prediction: a bar per shown class, the predicted one marked
    ``predicted`` and the expected one ``expected``."""
    probabilities = np.asarray(probabilities, dtype=float)
    predicted = int(np.argmax(probabilities))
    expected_index = classes.index(expected) if expected in classes else None
    shown = shown_classes(probabilities, expected_index)
    width = max(MIN_WIDTH, LEFT + RIGHT + SLOT * len(shown))
    slot = (width - LEFT - RIGHT) / len(shown)
    bottom = TOP + PLOT_HEIGHT
    bars = []
    for position, index in enumerate(shown):
        p = float(np.clip(probabilities[index], 0, 1))
        kind = "predicted" if index == predicted else "expected" if index == expected_index else ""
        height = p * PLOT_HEIGHT
        bars.append(
            Bar(
                char=classes[index],
                probability=p,
                kind=kind,
                x=round(LEFT + slot * position + slot * 0.15, 1),
                y=round(bottom - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
            )
        )
    steps = (0, 0.25, 0.5, 0.75, 1)
    ticks = [(round(bottom - step * PLOT_HEIGHT, 1), f"{step:g}") for step in steps]
    title = None
    if len(shown) < len(classes):
        title = _("Top %(shown)d of %(total)d characters", shown=len(shown), total=len(classes))
    return BarChart(
        width=width,
        height=bottom + BOTTOM,
        bars=bars,
        ticks=ticks,
        left=LEFT,
        right=width - RIGHT,
        top=TOP,
        bottom=bottom,
        title=title,
    )
