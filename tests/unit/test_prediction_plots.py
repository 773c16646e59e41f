"""The tutorial's probability bars: which classes get a bar, and their layout."""

import numpy as np
import pytest

from classifier.ml import prediction_plots


def test_every_class_gets_a_bar_up_to_twenty():
    assert list(prediction_plots.shown_classes(np.full(20, 0.05))) == list(range(20))


def test_beyond_twenty_the_top_ten_and_the_expected_character_are_shown():
    probabilities = np.linspace(0, 1, 50)
    shown = prediction_plots.shown_classes(probabilities, expected_index=3)
    assert list(shown[:10]) == list(range(49, 39, -1)) and list(shown[10:]) == [3]
    assert len(prediction_plots.shown_classes(probabilities, expected_index=45)) == 10


def test_the_bars_mark_the_predicted_and_expected_characters_and_fit_the_plot():
    chart = prediction_plots.probability_bars(list("가나다"), [0.2, 0.7, 0.1], expected="가")
    assert [(bar.char, bar.kind) for bar in chart.bars] == [
        ("가", "expected"),
        ("나", "predicted"),
        ("다", ""),
    ]
    tallest = chart.bars[1]
    assert tallest.y + tallest.height == chart.bottom
    assert tallest.height == pytest.approx(0.7 * (chart.bottom - chart.top), abs=0.1)
    assert all(chart.left <= bar.x and bar.x + bar.width <= chart.right for bar in chart.bars)
    assert [label for _y, label in chart.ticks] == ["0", "0.25", "0.5", "0.75", "1"]
    assert chart.title is None  # every class has its bar


def test_beyond_twenty_characters_the_chart_says_how_many_it_shows():
    chart = prediction_plots.probability_bars(list("가나다라") * 6, [1 / 24] * 24)
    assert len(chart.bars) == 10
    assert str(chart.title) == "Top 10 of 24 characters"
