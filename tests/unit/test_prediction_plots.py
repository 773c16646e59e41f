"""The tutorial's probability bars: which classes get a bar, and the figure itself."""

import numpy as np

from classifier.ml import prediction_plots


def test_every_class_gets_a_bar_up_to_twenty():
    assert list(prediction_plots.shown_classes(np.full(20, 0.05))) == list(range(20))


def test_beyond_twenty_the_top_ten_and_the_expected_character_are_shown():
    probabilities = np.linspace(0, 1, 50)
    shown = prediction_plots.shown_classes(probabilities, expected_index=3)
    assert list(shown[:10]) == list(range(49, 39, -1)) and list(shown[10:]) == [3]
    assert len(prediction_plots.shown_classes(probabilities, expected_index=45)) == 10


def test_the_bars_render_as_png_with_hangul_classes():
    png = prediction_plots.probability_bars_png(list("가나다"), [0.2, 0.7, 0.1], expected="가")
    assert png.startswith(b"\x89PNG") and len(png) > 2000
