"""The management commands, run in-process on real files."""

import re
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from classifier.ml import fonts
from classifier.models import Dataset, JobStatus, TrainingJob
from tests.support.datasets import make_dataset
from tests.support.i18n import korean
from tests.support.phd08 import write_phd08_files

pytestmark = pytest.mark.django_db
SHARED_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "phd08-samples"


def test_import_phd08_command_builds_a_data_set(tmp_path, capsys):
    paths = write_phd08_files(tmp_path, chars="다가", per_group=2)
    call_command("import_phd08", "--name", "cli", "--size", "20x24", str(tmp_path))
    dataset = Dataset.objects.get(name="cli")
    assert dataset.status == JobStatus.SUCCEEDED
    assert dataset.classes == ["가", "다"]
    assert dataset.open_store().images.shape == (36, 20, 24)
    assert "36 samples of 2 characters" in capsys.readouterr().out
    assert len(paths) == 2


def test_import_phd08_command_fails_loudly_on_bad_input(tmp_path):
    (tmp_path / "가.txt").write_text("S_0_0_0_0_0\n2 2\n01\n")  # truncated sample
    with pytest.raises(CommandError, match=r"가\.txt"):
        call_command("import_phd08", "--name", "bad", str(tmp_path))
    assert Dataset.objects.get(name="bad").status == JobStatus.FAILED
    with pytest.raises(CommandError, match="already exists"):
        call_command("import_phd08", "--name", "bad", str(tmp_path))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_phd08", "--name", "other", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="--size"):
        call_command("import_phd08", "--name", "other", "--size", "big", str(tmp_path))


@pytest.mark.skipif(not SHARED_SAMPLES.exists(), reason="the real PHD08 samples live in ../shared")
def test_import_phd08_command_reads_the_real_files(tmp_path):
    call_command("import_phd08", "--name", "real", "--reference", str(SHARED_SAMPLES))
    dataset = Dataset.objects.get(name="real")
    assert dataset.classes == ["가", "나"]
    assert dataset.counts == [2187, 2187]
    assert sorted(dataset.group_names) == sorted(["S", "G", "M", "N", "B", "D", "Y", "H1", "H2"])
    images = dataset.open_store().images
    assert images.min() == 0 and images.max() == 255


def test_export_dataset_command_writes_npz(tmp_path):
    make_dataset("exportable", chars="가나", per_char=4)
    out = tmp_path / "out.npz"
    call_command("export_dataset", "exportable", "--out", str(out))
    with np.load(out, allow_pickle=False) as data:
        assert data["images"].shape == (8, 28, 28) and data["images"].dtype == np.uint8
        assert list(data["classes"]) == ["가", "나"]
        assert list(data["labels"]) == [0, 0, 0, 0, 1, 1, 1, 1]
        assert len(data["groups"]) == 8
    with pytest.raises(CommandError, match="no data set named"):
        call_command("export_dataset", "nope", "--out", str(out))


def test_render_dataset_command_lists_fonts_and_renders(capsys):
    call_command("render_dataset", "--list-fonts")
    listed = capsys.readouterr().out
    found = fonts.find_hangul_fonts()
    assert found and all(font.name in listed for font in found)

    call_command(
        "render_dataset",
        "--name",
        "drawn",
        "--chars",
        "밟꺅",
        "--fonts",
        found[0].name,
        "--per-font",
        "3",
        "--size",
        "28x28",
    )
    dataset = Dataset.objects.get(name="drawn")
    assert dataset.status == JobStatus.SUCCEEDED
    assert dataset.classes == ["밟", "꺅"] and dataset.counts == [3, 3]
    assert not dataset.is_hidden

    call_command(
        "render_dataset",
        "--name",
        "test-fonts",
        "--chars",
        "밟꺅",
        "--fonts",
        found[-1].name,
        "--per-font",
        "2",
        "--hidden",
    )
    assert Dataset.objects.get(name="test-fonts").is_hidden


def test_a_character_a_font_cannot_draw_is_listed_and_the_rest_is_built(
    tmp_path, capsys, staff_client
):
    from tests.support.fonts import build_font, write_font

    box = write_font(tmp_path / "box.ttf", build_font("Lab Box"))
    gap = write_font(tmp_path / "gap.ttf", build_font("Lab Gap", empty="나"))
    call_command(
        "render_dataset",
        "--name",
        "gappy",
        "--chars",
        "가나",
        "--fonts",
        f"{box},{gap}",
        "--per-font",
        "2",
        "--size",
        "16x16",
    )
    dataset = Dataset.objects.get(name="gappy")
    assert dataset.status == JobStatus.SUCCEEDED and dataset.counts == [4, 2]
    out = capsys.readouterr().out
    assert "Left out 1 characters a font cannot draw:" in out
    assert "나 (LabGap): The font LabGap draws '나' without any ink." in out
    page = staff_client.get(dataset.get_absolute_url()).content.decode()
    assert "Characters a font cannot draw" in page and "나 (LabGap)" in page


def test_render_dataset_command_rejects_unknown_fonts_and_characters():
    with pytest.raises(CommandError, match="NoSuchFont"):
        call_command("render_dataset", "--name", "x", "--chars", "가", "--fonts", "NoSuchFont")
    with pytest.raises(CommandError, match="A"):
        call_command("render_dataset", "--name", "x", "--chars", "가A")
    assert not Dataset.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--epochs", "0"], "--epochs: Ensure this value is greater than or equal to 1."),
        (["--batch-size", "0"], "--batch-size: Ensure this value is greater than or equal to 1."),
        (["--lr", "-1"], "--lr: Ensure this value is greater than or equal to 1e-06."),
        (["--chars", "가"], "--chars: A classifier needs at least two characters."),
        (["--chars", "가힣"], "--chars: "),
        (["--model", "conv8-banana"], '--model: Unknown layer "banana"'),
        (["--split", "group:Q"], "--split: cli-checks has no group Q; its groups are G, S."),
        (["--split", "sideways:3"], "--split: Select a valid choice."),
    ],
)
def test_train_command_refuses_what_the_training_form_refuses(staff, options, message):
    make_dataset("cli-checks", chars="가나다", per_char=4, groups=("S", "G"))
    with pytest.raises(CommandError) as refused:
        call_command("train", "--dataset", "cli-checks", "--user", staff.username, *options)
    assert message in str(refused.value)
    assert not TrainingJob.objects.exists()


def test_train_command_keeps_hidden_data_sets_from_students(student_a):
    make_dataset("secret-test", chars="가나다", per_char=4, is_hidden=True)
    with pytest.raises(CommandError, match="--dataset: Select a valid choice"):
        call_command("train", "--dataset", "secret-test", "--user", student_a.username)


# --- One language: English, whatever the lab's ---------------------------------------


def test_every_command_of_the_lab_runs_in_english():
    from django.core.management import get_commands, load_command_class

    from classifier.management.base import LabCommand

    names = [name for name, app in get_commands().items() if app == "classifier"]
    assert {"setup_demo", "train", "render_dataset", "sweep"} <= set(names)
    for name in names:
        assert isinstance(load_command_class("classifier", name), LabCommand), name


KOREAN_STATUSES = ("Queued", "Running", "Succeeded", "Failed", "Cancelled")


@pytest.mark.korean
def test_setup_demo_reports_in_english_in_a_korean_lab(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path  # where it keeps the admin's password
    assert translation.get_language() == "ko"
    call_command("setup_demo")
    out = capsys.readouterr().out
    assert "Demo data set tutorial8-fonts: Succeeded, " in out
    assert not any(korean(status) in out for status in KOREAN_STATUSES)
    assert translation.get_language() == "ko"  # only the command ran in English


@pytest.mark.korean
def test_command_errors_give_english_reasons_in_a_korean_lab(tmp_path):
    (tmp_path / "가.txt").write_text("S_0_0_0_0_0\n2 2\n01\n")  # truncated sample
    with pytest.raises(CommandError) as failed:
        call_command("import_phd08", "--name", "bad", str(tmp_path))
    assert str(failed.value).startswith("Failed: ")
    assert not any(korean(status) in str(failed.value) for status in KOREAN_STATUSES)
    # The reason is English too: its only Hangul is the file's name.
    assert not re.search("[가-힣]", str(failed.value).replace("가.txt", ""))
    # A Refusal, passed on with classifier.i18n.describe:
    reason = "Write the size as HEIGHTxWIDTH, for example 28x28."
    assert korean(reason)
    with pytest.raises(CommandError) as refused:
        call_command("import_phd08", "--name", "other", "--size", "big", str(tmp_path))
    assert str(refused.value) == f"--size: {reason}"
