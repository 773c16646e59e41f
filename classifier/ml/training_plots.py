"""Figures of training jobs as PNG bytes: learning curves, comparisons, confusion, mistakes,
reliability diagrams.

Histories are lists of per-epoch dicts (``epoch``, ``loss``, ``accuracy``, ``val_loss``,
``val_accuracy``; values may be None). ``translate`` turns the labels into the reader's
language (see ``plots``). The ``*_figure`` functions draw a figure and return it; the
``*_png`` ones encode it.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.ticker import MaxNLocator

from . import saliency
from .jamo_errors import PART_NAMES
from .messages import _
from .plots import figure_png, hangul_style, level_ylabel

TRAIN_COLOR = "#3b6ea8"
VAL_COLOR = "#d9822b"
# Beyond this many characters the confusion matrix drops its tick labels and numbers.
LABELLED_CLASSES = 40
# About the pixels the confusion matrix's axes have: beyond this many characters, each
# cell stands for a block of neighbouring characters. Drawing all 2,350 cost 360 MiB and
# 3 s at the end of a job (matplotlib resamples float copies of the whole matrix) for
# an image that shows no more.
MAX_CONFUSION_CELLS = 500


def confusion_cells(matrix) -> np.ndarray:
    """``matrix`` with rows and columns summed in blocks of neighbouring characters, so
    that it has at most ``MAX_CONFUSION_CELLS`` of each; unchanged when it is smaller."""
    matrix = np.asarray(matrix)
    k = len(matrix)
    if k <= MAX_CONFUSION_CELLS:
        return matrix
    starts = np.arange(0, k, -(-k // MAX_CONFUSION_CELLS))
    return np.add.reduceat(np.add.reduceat(matrix, starts, axis=0), starts, axis=1)


def _series(history, key):
    points = [(row["epoch"], row[key]) for row in history if row.get(key) is not None]
    return [p[0] for p in points], [p[1] for p in points]


def _waiting(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777")
    ax.set_xticks([])
    ax.set_yticks([])


def _marker_size(epochs) -> int:
    # A lone point needs a marker big enough to be seen without a line through it.
    return 3 if len(set(epochs)) > 1 else 6


def _epoch_axis(ax, epochs):
    """Whole epochs on ``ax``'s x axis; a single epoch sits alone in the middle of an
    axis one epoch wide (matplotlib would zoom in to 0.96..1.04)."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(set(epochs)) == 1:
        (epoch,) = set(epochs)
        ax.set_xlim(epoch - 0.5, epoch + 0.5)
        ax.set_xticks([epoch])


def curves_figure(history: list[dict], *, translate=str):
    """The figure of :func:`curves_png`."""
    with hangul_style():
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=100)
        for ax, key, title in ((axes[0], "loss", _("Loss")), (axes[1], "accuracy", _("Accuracy"))):
            ax.set_title(translate(title))
            if not history:
                _waiting(ax, translate(_("Waiting for the first epoch")))
                continue
            drawn = []
            for prefix, label, color in (
                ("", _("train"), TRAIN_COLOR),
                ("val_", _("validation"), VAL_COLOR),
            ):
                epochs, values = _series(history, prefix + key)
                ax.plot(
                    epochs,
                    values,
                    marker="o",
                    markersize=_marker_size(epochs),
                    clip_on=False,  # a marker on the axis' edge shows whole
                    label=translate(label),
                    color=color,
                )
                drawn += epochs
            ax.set_xlabel(translate(_("epoch")))
            _epoch_axis(ax, drawn)
            ax.grid(alpha=0.3)
            ax.spines[["top", "right"]].set_visible(False)
            ax.legend(frameon=False)
        if history:
            axes[1].set_ylim(top=1.01)
        fig.tight_layout()
        return fig


def curves_png(history: list[dict], *, translate=str) -> bytes:
    """Loss and accuracy per epoch, training and validation, side by side."""
    with hangul_style():
        return figure_png(curves_figure(history, translate=translate))


def compare_figure(histories: dict[str, list[dict]], *, translate=str):
    """The figure of :func:`compare_png`."""
    with hangul_style():
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
        colors = plt.get_cmap("tab10")
        for ax, key, title in (
            (axes[0], "val_accuracy", _("Validation accuracy")),
            (axes[1], "val_loss", _("Validation loss")),
        ):
            ax.set_title(translate(title))
            drawn = []
            for i, (label, history) in enumerate(histories.items()):
                epochs, values = _series(history, key)
                ax.plot(
                    epochs,
                    values,
                    marker="o",
                    markersize=_marker_size(epochs),
                    clip_on=False,  # a marker on the axis' edge shows whole
                    label=label,
                    color=colors(i % 10),
                )
                drawn += epochs
            ax.set_xlabel(translate(_("epoch")))
            _epoch_axis(ax, drawn)
            ax.grid(alpha=0.3)
            ax.spines[["top", "right"]].set_visible(False)
        if histories:
            axes[0].set_ylim(top=1.01)
        axes[0].legend(frameon=False, fontsize=8, loc="lower right")
        fig.tight_layout()
        return fig


def compare_png(histories: dict[str, list[dict]], *, translate=str) -> bytes:
    """Validation accuracy (solid) and validation loss (dashed) of several jobs."""
    with hangul_style():
        return figure_png(compare_figure(histories, translate=translate))


def confusion_png(matrix, classes, *, translate=str) -> bytes:
    """The confusion matrix: rows are the true characters, columns the predicted ones.

    Colours are row fractions (so rare characters show as clearly as common ones);
    the numbers are counts. Beyond ``MAX_CONFUSION_CELLS`` characters a cell is a block
    of neighbouring characters (``confusion_cells``).
    """
    matrix = confusion_cells(matrix)
    k = len(classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.nan_to_num(matrix / matrix.sum(axis=1, keepdims=True)).astype(np.float32)
    side = min(12.0, max(3.5, 0.45 * k + 1.5))
    with hangul_style():
        fig, ax = plt.subplots(figsize=(side + 1, side), dpi=100)
        image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
        fig.colorbar(
            image, ax=ax, fraction=0.046, pad=0.04, label=translate(_("fraction of the row"))
        )
        if k <= LABELLED_CLASSES:
            ax.set_xticks(range(k), classes, fontsize=11)
            ax.set_yticks(range(k), classes, fontsize=11)
            if k <= 20:
                for (row, col), count in np.ndenumerate(matrix):
                    if count:
                        color = "white" if fractions[row, col] > 0.5 else "black"
                        ax.text(
                            col, row, str(count), ha="center", va="center", fontsize=8, color=color
                        )
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        ax.set_xlabel(translate(_("predicted")))
        level_ylabel(ax, translate(_("true")))
        fig.tight_layout()
        return figure_png(fig)


# The mistakes' captions: two lines of CAPTION_POINTS type above each tile.
CAPTION_POINTS = 10
TRUTH_COLOR = "#333333"
READING_COLOR = "#b3261e"


def mistake_caption(true_char: str, read_char: str, confidence: float, *, translate=str):
    """The two lines above a misclassified sample: what it is, and what the model read
    (with its confidence). Words, not an arrow: the Hangul font draws "→" as a small "›"."""
    return (
        translate(_("truth %(char)s", char=true_char)),
        translate(
            _("read %(char)s %(confidence)s", char=read_char, confidence=f"{confidence:.0%}")
        ),
    )


def mistakes_figure(
    images, true, predicted, confidence, classes, *, cols=5, column_inches=1.5, translate=str
):
    """The figure of :func:`mistakes_png`: ``images`` are grey ``(n, H, W)`` or colour
    ``(n, H, W, 3)`` uint8 tiles, each captioned with its mistake."""
    count = len(images)
    with hangul_style():
        if not count:
            fig, ax = plt.subplots(figsize=(cols * column_inches, 1.7), dpi=100)
            ax.axis("off")
            _waiting(ax, translate(_("No mistakes")))
            return fig
        tiles = _rgb(images)
        rows = -(-count // cols)
        height, width = tiles.shape[1:3]
        gap = max(2, min(width, height) // 4)  # between tiles, in image pixels
        cell_w = width + gap
        fig_w = cols * column_inches
        # The caption band, in image pixels: two lines of text and a little air.
        points_per_pixel = fig_w * 72 / (cols * cell_w - gap)
        band = math.ceil((2 * 1.3 * CAPTION_POINTS + 4) / points_per_pixel)
        cell_h = height + band
        mosaic = np.ones((rows * cell_h, cols * cell_w - gap, 3))  # white between tiles
        fig = plt.figure(figsize=(fig_w, fig_w * mosaic.shape[0] / mosaic.shape[1]), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.axis("off")
        for number, (tile, t, p, c) in enumerate(
            zip(tiles, true, predicted, confidence, strict=False)
        ):
            top, left = (number // cols) * cell_h + band, (number % cols) * cell_w
            mosaic[top : top + height, left : left + width] = tile
            truth, reading = mistake_caption(
                classes[int(t)], classes[int(p)], float(c), translate=translate
            )
            for line, color, above in (
                (reading, READING_COLOR, 1),
                (truth, TRUTH_COLOR, 1 + 1.3 * CAPTION_POINTS),
            ):
                ax.annotate(
                    line,
                    (left + width / 2, top),
                    xytext=(0, above),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=CAPTION_POINTS,
                    color=color,
                )
        ax.imshow(mosaic, interpolation="nearest")
        return fig


def _rgb(images) -> np.ndarray:
    """uint8 grey or colour tiles as colour in 0-1."""
    tiles = np.asarray(images, dtype=np.float64) / 255
    return tiles if tiles.ndim == 4 else np.repeat(tiles[..., None], 3, axis=-1)


def mistakes_png(images, true, predicted, confidence, classes, *, cols=5, translate=str) -> bytes:
    """Misclassified samples, each captioned with its true character and what the model
    read, with the model's confidence (``mistake_caption``).

    The tiles are one image and their captions plain text on one axes: 25 small axes,
    each with a title, took most of a second to lay out, at the end of every job.
    """
    with hangul_style():
        return figure_png(
            mistakes_figure(
                images, true, predicted, confidence, classes, cols=cols, translate=translate
            )
        )


#: Mistakes per row of the saliency figure; each is three tiles wide.
SALIENCY_COLUMNS = 3


def mistakes_saliency_png(images, maps, true, predicted, confidence, classes, *, translate=str):
    """The mistakes of :func:`mistakes_png`, each as three tiles: the sample, what made
    the model read the wrong character, and what counted for the right one
    (``saliency.overlays`` of ``maps``: ``(n, 2, H, W)``, the read class then the true)."""
    triptychs = []
    for image, pair in zip(images, maps, strict=True):
        grey = np.repeat(np.asarray(image)[..., None], 3, axis=-1)
        divider = np.full((image.shape[0], 1, 3), 255, np.uint8)
        tiles = [grey, *saliency.overlays(image, pair)]
        triptychs.append(np.concatenate([tiles[0], divider, tiles[1], divider, tiles[2]], axis=1))
    with hangul_style():
        return figure_png(
            mistakes_figure(
                np.stack(triptychs) if triptychs else np.zeros((0, 1, 1, 3), np.uint8),
                true,
                predicted,
                confidence,
                classes,
                cols=SALIENCY_COLUMNS,
                column_inches=3.3,
                translate=translate,
            )
        )


def reliability_png(calibration: dict, *, translate=str) -> bytes:
    """Reliability diagrams of a job's validation answers, before and after calibration.

    Per confidence bin, a bar of how often the answers in it were right, beside the
    diagonal where confidence and accuracy agree; the number above a bar is how many
    answers it holds. ``calibration`` is ``Calibration.as_dict()``; without one measured,
    the figure says so.
    """
    with hangul_style():
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), dpi=100, sharey=True)
        if not calibration.get("measured"):
            for ax in axes:
                _waiting(ax, translate(_("Calibration was not measured")))
            fig.tight_layout()
            return figure_png(fig)
        panels = (
            (
                axes[0],
                calibration["bins_before"],
                calibration["ece_before"],
                _("Before calibration"),
                VAL_COLOR,
            ),
            (
                axes[1],
                calibration["bins_after"],
                calibration["ece_after"],
                _("After calibration (T = %(t).2f)", t=calibration["temperature"]),
                TRAIN_COLOR,
            ),
        )
        for ax, bins, ece, title, color in panels:
            ax.plot(
                [0, 1],
                [0, 1],
                linestyle="--",
                color="#555",
                linewidth=1,
                zorder=3,
                label=translate(_("confidence = accuracy")),
            )
            filled = [b for b in bins if b["count"]]
            ax.bar(
                [b["lower"] for b in filled],
                [b["accuracy"] for b in filled],
                width=[b["upper"] - b["lower"] for b in filled],
                align="edge",
                color=color,
                edgecolor="white",
                label=translate(_("accuracy")),
            )
            for b in filled:
                ax.text(
                    (b["lower"] + b["upper"]) / 2,
                    b["accuracy"] + 0.01,
                    str(b["count"]),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color="#444",
                )
            ax.set_title(f"{translate(title)} · ECE {ece:.1%}")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.1)
            ax.set_xlabel(translate(_("confidence")))
            ax.spines[["top", "right"]].set_visible(False)
            ax.legend(frameon=False, loc="upper left", fontsize=8)
        level_ylabel(axes[0], translate(_("accuracy")))  # shared: the right title needs the room
        fig.tight_layout()
        return figure_png(fig)


def jamo_png(report: dict, *, translate=str) -> bytes:
    """A job's mistakes through the parts of its syllables (``JamoReport.as_dict()``):
    how often each part was read right, and how many mistakes changed each part only,
    or more than one."""
    with hangul_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), dpi=100)
        parts = ("initial", "medial", "final")
        accuracy = [report["position_accuracy"][part] for part in parts]
        names = [translate(PART_NAMES[part]) for part in parts]
        left.bar(names, accuracy, color=VAL_COLOR)
        for x, value in enumerate(accuracy):
            left.text(x, value + 0.01, f"{value:.1%}", ha="center", va="bottom", fontsize=9)
        left.set_ylim(0, 1.08)
        left.set_title(translate(_("Read right, per part of the syllable")), fontsize=11)
        groups = ("initial", "medial", "final", "several")
        counts = [report["mistakes_by_parts"][group] for group in groups]
        right.bar([translate(PART_NAMES[g]) for g in groups], counts, color=TRAIN_COLOR)
        right.tick_params(axis="x", labelsize=9)
        for x, value in enumerate(counts):
            right.text(x, value, str(value), ha="center", va="bottom", fontsize=9)
        right.yaxis.set_major_locator(MaxNLocator(integer=True))
        right.set_title(translate(_("Mistakes by the part they changed")), fontsize=11)
        for ax in (left, right):
            ax.spines[["top", "right"]].set_visible(False)
            ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        return figure_png(fig)


def filters_png(filters, *, translate=str) -> bytes:
    """The first convolution's kernels, one small image each: red weights make a filter
    answer to ink there, blue ones to its absence (each filter on its own scale)."""
    filters = np.asarray(filters, dtype=float)
    count = len(filters)
    cols = min(count, 12)
    rows = math.ceil(count / cols)
    with hangul_style():
        fig, axes = plt.subplots(
            rows, cols, figsize=(0.7 * cols + 0.4, 0.7 * rows + 0.7), dpi=100, squeeze=False
        )
        for ax in axes.flat:
            ax.set_axis_off()
        for ax, kernel in zip(axes.flat, filters, strict=False):
            reach = float(np.abs(kernel).max()) or 1.0
            ax.imshow(kernel, cmap="RdBu_r", vmin=-reach, vmax=reach, interpolation="nearest")
        fig.suptitle(
            translate(
                _(
                    "The first layer's %(n)d filters: the patterns the network looks for",
                    n=count,
                )
            ),
            fontsize=10,
        )
        return figure_png(fig)


def embedding_png(points, labels, classes, epoch: int, explained, *, translate=str) -> bytes:
    """The validation samples where the network's last hidden layer puts them after
    ``epoch`` (``embedding.project``: ``points`` ``(n, 2)``), a colour per character and
    the character written at the middle of its cloud; without points, a note that the
    map comes after the first epoch."""
    points, labels = np.asarray(points, dtype=float), np.asarray(labels)
    shown = np.unique(labels)
    colours = plt.get_cmap("tab20" if len(shown) > 10 else "tab10")
    with hangul_style():
        fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=100)
        if not len(points):
            _waiting(ax, translate(_("The map appears after the first epoch")))
            return figure_png(fig)
        for number, label in enumerate(shown):
            cloud = points[labels == label]
            colour = colours(number % colours.N)
            ax.scatter(cloud[:, 0], cloud[:, 1], s=14, color=colour, alpha=0.65, linewidths=0)
            centre = np.median(cloud, axis=0)
            ax.annotate(
                classes[int(label)],
                centre,
                ha="center",
                va="center",
                fontsize=15,
                color=colour,
                path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
            )
        reach = float(np.percentile(np.abs(points), 99)) * 1.15 if len(points) else 1.0
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        share = f"{float(np.sum(explained)):.0%}"
        ax.set_title(translate(_("Epoch %(epoch)d", epoch=epoch)), fontsize=12)
        ax.set_xlabel(
            translate(_("PCA of the last hidden layer: %(share)s of its variance", share=share)),
            fontsize=9,
        )
        if len(shown) < len(classes):
            ax.text(
                0.99,
                0.01,
                translate(_("%(shown)d of %(n)d characters", shown=len(shown), n=len(classes))),
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=8,
                color="#666666",
            )
        fig.tight_layout()
        return figure_png(fig)
