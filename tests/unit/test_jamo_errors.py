"""A job's mistakes read through the parts of its syllables."""

import numpy as np

from classifier.ml.jamo_errors import JamoConfusion, JamoReport, jamo_report

CLASSES = list("가갸각나")


def _matrix(cells: dict[tuple[str, str], int]) -> np.ndarray:
    matrix = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    for (true, read), n in cells.items():
        matrix[CLASSES.index(true), CLASSES.index(read)] = n
    return matrix


EXAMPLE = _matrix(
    {
        ("가", "가"): 10,
        ("갸", "갸"): 5,
        ("각", "각"): 4,
        ("나", "나"): 6,
        ("가", "갸"): 3,  # the vowel ㅏ read as ㅑ
        ("가", "각"): 2,  # a final consonant that is not there
        ("가", "나"): 1,  # the initial ㄱ read as ㄴ
        ("갸", "각"): 1,  # the vowel and the final both wrong
    }
)


def test_each_part_is_scored_over_every_sample():
    report = jamo_report(EXAMPLE, CLASSES)
    assert (report.samples, report.mistakes) == (32, 7)
    assert report.position_accuracy == {"initial": 31 / 32, "medial": 28 / 32, "final": 29 / 32}


def test_mistakes_are_grouped_by_the_parts_they_change():
    report = jamo_report(EXAMPLE, CLASSES)
    assert report.mistakes_by_parts == {"initial": 1, "medial": 3, "final": 2, "several": 1}
    assert sum(report.mistakes_by_parts.values()) == report.mistakes


def test_jamo_confusions_are_counted_per_part_most_frequent_first():
    report = jamo_report(EXAMPLE, CLASSES)
    assert report.confusions == [
        JamoConfusion("final", "", "ㄱ", 3),
        JamoConfusion("medial", "ㅏ", "ㅑ", 3),
        JamoConfusion("initial", "ㄱ", "ㄴ", 1),
        JamoConfusion("medial", "ㅑ", "ㅏ", 1),
    ]


def test_a_report_survives_being_stored_as_json_data():
    report = jamo_report(EXAMPLE, CLASSES)
    assert JamoReport.from_dict(report.as_dict()) == report


def test_a_perfect_model_has_no_mistakes_and_nothing_to_report_without_samples():
    perfect = jamo_report(np.diag([3, 3, 3, 3]), CLASSES)
    assert perfect.mistakes == 0 and set(perfect.position_accuracy.values()) == {1.0}
    assert perfect.confusions == []
    assert jamo_report(np.zeros((4, 4), dtype=int), CLASSES) is None
    assert jamo_report(np.eye(2, dtype=int), ["가", "A"]) is None
    assert jamo_report(np.eye(3, dtype=int), CLASSES) is None  # another class list's
