"""Building data sets: an interrupted PHD08 import goes on where it stopped; a font
that cannot draw a character leaves just that character out of its samples."""

import logging
from pathlib import Path

import numpy as np
import pytest

from classifier.ml import build, store
from classifier.ml.convert import ConversionSettings
from classifier.ml.fonts import HangulFont
from classifier.ml.render import RenderSettings
from classifier.ml.sources import collect_phd08_inputs
from tests.support.fonts import build_font, write_font
from tests.support.phd08 import write_phd08_files

SETTINGS = ConversionSettings(height=16, width=16)
CHARS = "가나다라마"


def _inputs(folder):
    return collect_phd08_inputs(
        [folder], max_zip_bytes=2**30, max_zip_members=100, max_member_bytes=2**30
    )


def _snapshot(seen: list):
    """A progress callback that records ``(units_done, samples_done)`` of each report."""
    return lambda progress: seen.append((progress.units_done, progress.samples_done))


def test_an_interrupted_phd08_import_resumes_from_the_files_already_done(tmp_path, caplog):
    inputs = _inputs(write_phd08_files(tmp_path / "in", CHARS, per_group=3)[0].parent)
    expected = build.build_phd08(inputs, tmp_path / "whole", SETTINGS, processes=1)

    progress = []
    with pytest.raises(build.BuildCancelled):
        build.build_phd08(
            inputs,
            tmp_path / "set",
            SETTINGS,
            processes=1,
            on_progress=progress.append,
            should_stop=lambda: progress[-1].units_done >= 2,
        )
    assert not (tmp_path / "set").exists()  # nothing half-made is published

    # The files converted before the interruption are never read again: gone, the
    # resumed build still finishes, from their kept parts.
    for item in inputs[:2]:
        Path(item.path).unlink()
    resumed, first = [], []
    snapshot = _snapshot(resumed)

    def follow(progress):
        first or first.append((progress.eta_seconds, progress.samples_per_second))
        snapshot(progress)

    with caplog.at_level(logging.INFO, logger="classifier.ml.build"):
        arrays = build.build_phd08(
            inputs, tmp_path / "set", SETTINGS, processes=2, on_progress=follow
        )
    assert "Resuming: 2 of 5 units were built before." in caplog.text
    # The counters show the whole build, the samples of the earlier run included; its
    # pace and time left are this run's own, so none before this run built a unit.
    per_file = len(expected) // 5
    assert resumed[0] == (2, 2 * per_file) and resumed[-1] == (5, len(expected))
    assert first == [(None, 0.0)]
    assert arrays.manifest == expected.manifest
    assert np.array_equal(arrays.images, expected.images)
    assert np.array_equal(arrays.labels, expected.labels)
    assert np.array_equal(arrays.groups, expected.groups)
    assert not store.building_dir(tmp_path / "set").exists()


def test_an_import_of_other_files_or_settings_starts_afresh(tmp_path):
    inputs = _inputs(write_phd08_files(tmp_path / "in", CHARS[:2])[0].parent)
    progress = []
    with pytest.raises(build.BuildCancelled):
        build.build_phd08(
            inputs,
            tmp_path / "set",
            SETTINGS,
            processes=1,
            on_progress=progress.append,
            should_stop=lambda: progress[-1].units_done >= 1,
        )
    other = ConversionSettings(height=16, width=16, sigma=0)
    started = []
    build.build_phd08(inputs, tmp_path / "set", other, processes=1, on_progress=_snapshot(started))
    assert started[0] == (0, 0)


@pytest.fixture
def box_and_gap_fonts(tmp_path) -> tuple[HangulFont, HangulFont]:
    """Two built fonts; the second draws 나 as an empty glyph."""
    box = write_font(tmp_path / "box.ttf", build_font("Lab Box"))
    gap = write_font(tmp_path / "gap.ttf", build_font("Lab Gap", empty="나"))
    return (
        HangulFont("LabBox", "Lab Box", "Regular", box, 0),
        HangulFont("LabGap", "Lab Gap", "Regular", gap, 0),
    )


RENDERING = RenderSettings(height=16, width=16, per_font=3, augment=False, style="print")


def test_a_character_a_font_cannot_draw_is_left_out_of_that_font_and_listed(
    tmp_path, box_and_gap_fonts
):
    skipped = []
    built = build.build_rendered(
        "가나",
        box_and_gap_fonts,
        tmp_path / "set",
        RENDERING,
        processes=1,
        on_skip=lambda name, reason: skipped.append((name, str(reason))),
    )
    assert built.manifest.classes == ["가", "나"]
    assert dict(zip(*np.unique(built.labels, return_counts=True), strict=True)) == {0: 6, 1: 3}
    assert skipped == [("나 (LabGap)", "The font LabGap draws '나' without any ink.")]


def test_a_character_no_font_can_draw_fails_the_build_with_its_name(tmp_path, box_and_gap_fonts):
    with pytest.raises(store.StoreError, match="None of the fonts can draw 나"):
        build.build_rendered(
            "가나", box_and_gap_fonts[1:], tmp_path / "set", RENDERING, processes=1
        )
