"""The template filters that put the lab's codes and moments into words
(``classifier/templatetags/lab.py``)."""

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from classifier.labels import model_label, split_label
from classifier.templatetags.lab import when


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("stratified:0.2", "Stratified, 20% validation"),
        ("stratified:0.125", "Stratified, 12.5% validation"),
        ("group:NanumGothic, NanumMyeongjo", "Held-out groups: NanumGothic, NanumMyeongjo"),
        ("tutorial:3000", "Tutorial: first 3,000 per file"),
        ("tutorial:10", "Tutorial: first 10 per file"),
        # A code the lab cannot read is shown as it is, not as an error.
        ("halves", "halves"),
        ("", ""),
    ],
)
def test_split_label_says_the_split_in_words(code, words):
    with translation.override("en"):
        assert split_label(code) == words


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("mlp", "Tutorial MLP"),
        ("cnn", "CNN"),
        ("cnn-large", "Large CNN"),
        (" CNN-Large ", "Large CNN"),
        ("conv32-pool-dense128", "Custom: conv32-pool-dense128"),
    ],
)
def test_model_label_names_models_as_the_training_form_does(spec, words):
    with translation.override("en"):
        assert model_label(spec) == words


def test_a_moment_reads_alike_in_every_language_with_its_time_zone(settings):
    moment = datetime(2026, 3, 5, 4, 7, tzinfo=UTC)
    for language in ("ko", "en"):
        with translation.override(language):
            assert when(moment) == "2026-03-05 13:07 KST"  # Seoul, the lab's own zone
    settings.TIME_ZONE = "Europe/Berlin"
    assert when(moment) == "2026-03-05 05:07 CET"
    assert when(None) == ""


def test_the_filters_escape_what_they_are_given():
    html = Template("{% load lab %}{{ spec|model_label }} {{ split|split_label }}").render(
        Context({"spec": "<b>", "split": "group:<i>"})
    )
    assert "<b>" not in html and "<i>" not in html and "&lt;b&gt;" in html
