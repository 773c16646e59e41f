"""Validation splits: stratified, by group, and the seed tutorial's skewed one."""

import numpy as np
import pytest

from classifier.ml import splits
from classifier.ml.messages import Refusal


def _labels(per_class=(10, 10, 10)):
    return np.repeat(np.arange(len(per_class)), per_class)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stratified:0.2", ("stratified", 0.2)),
        ("group:Y, N", ("group", ["Y", "N"])),
        ("tutorial:3000", ("tutorial", 3000)),
        (" Stratified : 0.5", ("stratified", 0.5)),
    ],
)
def test_parse_split(text, expected):
    assert splits.parse_split(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("random:0.2", "Unknown split"),
        ("stratified:1.5", "between 0 and 1"),
        ("stratified:abc", "write a fraction"),
        ("group:", "name the groups"),
        ("tutorial:0", "at least one"),
        ("tutorial:x", "number of samples"),
    ],
)
def test_bad_splits_are_explained(text, message):
    with pytest.raises(Refusal, match=message):
        splits.parse_split(text)


def test_stratified_holds_out_the_fraction_of_every_class_and_repeats_with_the_seed():
    labels = _labels((10, 20, 3))
    candidates = np.arange(len(labels))
    split = splits.stratified(labels, candidates, 0.3, seed=4)
    counts = splits.describe_split(split, labels, ["가", "나", "다"])
    assert counts == {
        "가": {"train": 7, "val": 3},
        "나": {"train": 14, "val": 6},
        "다": {"train": 2, "val": 1},
    }
    assert np.intersect1d(split.train, split.val).size == 0
    assert (np.diff(split.val) > 0).all() and (np.diff(split.train) > 0).all()
    again = splits.stratified(labels, candidates, 0.3, seed=4)
    other = splits.stratified(labels, candidates, 0.3, seed=5)
    assert (again.val == split.val).all() and not np.array_equal(other.val, split.val)


def test_group_holds_out_whole_groups():
    labels = _labels()
    groups = np.arange(30) % 3  # fonts A, B, C in turn
    candidates = np.flatnonzero(labels != 2)
    split = splits.group(groups, ["A", "B", "C"], candidates, ["B"])
    assert set(groups[split.val]) == {1} and set(groups[split.train]) == {0, 2}
    assert set(labels[split.val]) | set(labels[split.train]) == {0, 1}
    assert "B" in split.description
    with pytest.raises(Refusal, match="No group Z"):
        splits.group(groups, ["A", "B", "C"], candidates, ["Z"])
    with pytest.raises(Refusal, match="no samples to train"):
        splits.group(groups, ["A", "B", "C"], candidates, ["A", "B", "C"])


def test_tutorial_split_validates_on_the_tail_of_each_two_character_file():
    # The seed: files of two characters, the first N samples of each file train. With 30
    # samples per character and N=20, validation is a third of the first character and
    # all of the second: the skew that flattered the tutorial's numbers.
    labels = _labels((30, 30, 30, 30))
    split = splits.tutorial(labels, np.arange(120), 20)
    counts = splits.describe_split(split, labels, ["라", "호", "댜", "밟"])
    assert counts == {
        "라": {"train": 20, "val": 10},
        "호": {"train": 0, "val": 30},
        "댜": {"train": 20, "val": 10},
        "밟": {"train": 0, "val": 30},
    }
    assert (split.val == np.r_[20:60, 80:120]).all()
    with pytest.raises(Refusal, match="no samples to validate"):
        splits.tutorial(labels, np.arange(120), 60)
