"""Matplotlib (Agg) figures as PNG bytes, with a Hangul font so labels show as 가, not boxes.

Axis labels, titles and legends are :class:`~classifier.ml.messages.Message` texts; each
figure function takes a ``translate`` callable that turns one into the reader's language
(the web layer passes ``classifier.i18n.translate``; the default keeps the English).

Where a figure has axes worth checking, a ``*_figure`` function draws it and returns the
matplotlib figure, and the function named for the picture encodes it as PNG: call the
latter outside tests, as it holds the drawing lock until the PNG is written.
"""

import io
import threading
from contextlib import contextmanager
from functools import cache

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.ticker import MaxNLocator

from .fonts import plot_font
from .messages import _

_DRAWING = threading.RLock()


@cache
def hangul_font_family() -> str | None:
    """Register the installed Hangul font with matplotlib once; its family name."""
    font = plot_font()
    if font is None:
        return None
    font_manager.fontManager.addfont(str(font.path))
    return font_manager.FontProperties(fname=str(font.path)).get_name()


def level_ylabel(ax, text: str):
    """Label ``ax``'s y axis above its top, written level: Hangul turned on its side,
    as matplotlib writes y labels, is hard to read."""
    ax.set_ylabel(text, rotation=0, ha="left", va="bottom")
    ax.yaxis.set_label_coords(0, 1.03)


@contextmanager
def hangul_style():
    """A matplotlib style context whose text can show Hangul; one figure at a time.

    Matplotlib's settings are global to the process and pyplot is not thread-safe, so
    figures drawn in a threaded web server or worker take turns.
    """
    family = hangul_font_family()
    fonts = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    with _DRAWING, plt.rc_context({"font.family": fonts}):
        yield


def figure_png(fig) -> bytes:
    """The figure as PNG bytes; the figure is closed (Agg keeps no windows)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def sample_order(count: int, size: int, seed: int = 0) -> np.ndarray:
    """``size`` distinct indices of ``count`` samples, in a random order that ``seed``
    fixes: the same grid every time for the same data set.

    Kept in the drawn order, not sorted: samples are stored class by class, so sorted
    indices would lay the grid out as 가 가 가 가 갂…
    """
    rng = np.random.default_rng(seed)
    return rng.choice(count, size=min(count, size), replace=False)


def sample_grid_figure(images, labels, classes, *, rows=5, cols=5, seed=0):
    """The figure of :func:`sample_grid`."""
    picks = sample_order(len(images), rows * cols, seed)
    with hangul_style():
        # The data set page shows the grid 300 px wide: a cell about an inch wide and
        # 20 pt labels keep them about 14 px tall there, and twice that in the PNG.
        fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.0, rows * 1.3), dpi=100)
        for ax in np.ravel(axes):
            ax.axis("off")
        for ax, index in zip(np.ravel(axes), picks, strict=False):
            ax.imshow(images[index], cmap="gray", vmin=0, vmax=255)
            ax.set_title(classes[int(labels[index])], fontsize=20, pad=3)
        fig.tight_layout(pad=0.3, h_pad=0.2, w_pad=0.8)
        return fig


def sample_grid(images, labels, classes, *, rows=5, cols=5, seed=0) -> bytes:
    """A rows x cols grid of random samples, each titled with its character."""
    with hangul_style():
        return figure_png(
            sample_grid_figure(images, labels, classes, rows=rows, cols=cols, seed=seed)
        )


def class_counts_figure(classes, counts, *, translate=str):
    """The figure of :func:`class_counts`."""
    order = np.argsort(counts)[::-1][:60] if len(classes) > 60 else np.arange(len(classes))
    shown = [counts[i] for i in order]
    with hangul_style():
        fig, ax = plt.subplots(figsize=(max(4, 0.3 * len(order) + 1.5), 2.8), dpi=100)
        ax.bar(range(len(order)), shown, color="#3b6ea8")
        ax.set_xticks(range(len(order)), [classes[i] for i in order], fontsize=11)
        # Whole samples only; a top of at least 1 leaves room for two whole ticks.
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, max([1, *shown]) * 1.05)
        level_ylabel(ax, translate(_("samples")))
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        return fig


def class_counts(classes, counts, *, translate=str) -> bytes:
    """A bar chart of samples per character (the 60 largest when there are more)."""
    with hangul_style():
        return figure_png(class_counts_figure(classes, counts, translate=translate))


def augmentation_preview(rows, *, translate=str) -> bytes:
    """One row of samples per effect, named on the left: what each augmentation does.

    ``rows`` are ``(name, images)`` with ``name`` a message (see ``render.EFFECT_NAMES``)
    and ``images`` uint8 (n, height, width), the same n in every row.
    """
    count = max(len(images) for _, images in rows)
    with hangul_style():
        fig, axes = plt.subplots(
            len(rows),
            count + 1,
            dpi=100,
            squeeze=False,
            figsize=(2.4 + 0.75 * count, 0.8 * len(rows)),
            gridspec_kw={"width_ratios": [3.2] + [1] * count},
        )
        for (name, images), row in zip(rows, axes, strict=True):
            for ax in row:
                ax.axis("off")
            row[0].text(
                1,
                0.5,
                translate(name),
                ha="right",
                va="center",
                fontsize=11,
                transform=row[0].transAxes,
            )
            for ax, image in zip(row[1:], images, strict=False):
                ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        fig.subplots_adjust(wspace=0.08, hspace=0.08)
        return figure_png(fig)
