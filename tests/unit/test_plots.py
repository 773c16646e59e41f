"""The figures' own drawing: captions, ticks, and the sample grid's order and size."""

import io

import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np
import pytest
from PIL import Image

from classifier.ml import plots, saliency, training_plots

CLASSES = list("가나다라마바사아")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _epoch(number, **values):
    row = {"epoch": number, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4}
    return {**row, **values}


def _whole(ticks) -> bool:
    return len(ticks) > 0 and all(float(t).is_integer() for t in ticks)


def test_mistake_captions_say_truth_and_reading_in_words_not_an_arrow():
    images = np.zeros((3, 28, 28), np.uint8)
    asked = []

    def translate(message):
        asked.append(message.template)
        return str(message)

    fig = training_plots.mistakes_figure(
        images, [0, 1, 2], [1, 2, 0], [0.9, 0.6, 0.51], CLASSES, translate=translate
    )
    texts = _texts(fig)
    assert not any("→" in text for text in texts)
    assert {"truth 가", "read 나 90%", "truth 다", "read 가 51%"} <= set(texts)
    assert {"truth %(char)s", "read %(char)s %(confidence)s"} <= set(asked)


def test_a_one_epoch_curve_shows_its_single_epoch_in_a_sensible_range():
    for fig in (
        training_plots.curves_figure([_epoch(1)]),
        training_plots.compare_figure({"#1 mlp": [_epoch(1)], "#2 cnn": [_epoch(1)]}),
    ):
        for ax in fig.axes:
            assert ax.get_xlim() == (0.5, 1.5)
            assert list(ax.get_xticks()) == [1]


def test_epoch_and_sample_count_axes_have_whole_ticks():
    two = [_epoch(1), _epoch(2, loss=0.8, val_accuracy=0.5)]
    for fig in (
        training_plots.curves_figure(two),
        training_plots.curves_figure([*two, _epoch(3, loss=0.7)]),
        training_plots.compare_figure({"#1 mlp": two, "#2 cnn": two[:1]}),
    ):
        assert all(_whole(ax.get_xticks()) for ax in fig.axes)
    for counts in ([1, 2, 1], [3, 1, 2], [1, 1, 1]):
        (ax,) = plots.class_counts_figure(list("가나다"), counts).axes
        assert _whole(ax.get_yticks()), ax.get_yticks()


def _grid_titles(labels, seed=0):
    images = np.zeros((len(labels), 28, 28), np.uint8)
    fig = plots.sample_grid_figure(images, labels, CLASSES, seed=seed)
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def test_the_sample_grid_is_in_a_random_order_the_same_every_time():
    labels = np.repeat(np.arange(len(CLASSES)), 40)  # stored class by class
    titles = _grid_titles(labels)
    assert len(titles) == 25
    assert titles != sorted(titles)
    assert _grid_titles(labels) == titles
    assert _grid_titles(labels, seed=1) != titles
    picks = plots.sample_order(len(labels), 25, seed=0)
    assert len(set(picks)) == 25 and list(picks) != sorted(picks)
    assert len(plots.sample_order(3, 25)) == 3


def test_the_sample_grid_labels_are_readable_where_the_page_shows_it():
    labels = np.repeat(np.arange(len(CLASSES)), 4)
    # White tiles on the white background: the only ink is the labels.
    white = np.full((len(labels), 28, 28), 255, np.uint8)
    png = plots.sample_grid(white, labels, CLASSES)
    ink = np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128
    rows = np.flatnonzero(ink.any(axis=1))
    first_row_of_labels = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)[0]
    height, width = len(first_row_of_labels), ink.shape[1]
    assert height >= 14
    # templates/datasets/detail.html shows the grid 300 px wide.
    assert height * 300 / width >= 14


def test_the_mistake_maps_show_each_mistake_with_its_two_maps_in_colour():
    images = np.zeros((2, 28, 28), np.uint8)
    images[:, 6:22, 12:16] = 255
    maps = np.zeros((2, 2, 28, 28), np.float32)
    maps[:, 0, 6:22, 12:16] = 0.01  # the ink counts for the character read
    maps[:, 1, 6:22, 12:16] = -0.01  # and against the true one
    png = training_plots.mistakes_saliency_png(images, maps, [0, 1], [1, 0], [0.9, 0.8], CLASSES)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).astype(int)

    def near(colour):
        return (np.abs(pixels - colour).max(axis=1) <= 12).sum()

    assert near(saliency.FOR_COLOUR) > 100 and near(saliency.AGAINST_COLOUR) > 100
    assert near((255, 255, 255)) > 100 and near((0, 0, 0)) > 100  # the samples themselves
