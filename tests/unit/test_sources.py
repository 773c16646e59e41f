import unicodedata
import zipfile

import pytest

from classifier.ml.sources import SourceError, collect_phd08_inputs
from tests.support.phd08 import make_phd08_bytes, write_phd08_files

LIMITS = {"max_zip_bytes": 10_000_000, "max_zip_members": 100, "max_member_bytes": 10_000_000}


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_sources_collects_files_folders_and_zips_sorted(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    write_phd08_files(folder, chars="나다")
    (folder / ".DS_Store").write_bytes(b"junk")
    members = {"set/라.txt": make_phd08_bytes(), "__MACOSX/._라.txt": b"x"}
    archive = _zip(tmp_path / "more.zip", members)
    single = write_phd08_files(tmp_path, chars="가")[0]

    inputs = collect_phd08_inputs([single, folder, archive], **LIMITS)
    assert [item.label for item in inputs] == ["가", "나", "다", "라"]
    assert inputs[3].read_bytes() == make_phd08_bytes()


def test_sources_zip_names_are_normalised_to_nfc(tmp_path):
    decomposed = unicodedata.normalize("NFD", "각.txt")
    archive = _zip(tmp_path / "mac.zip", {decomposed: make_phd08_bytes()})
    assert [item.label for item in collect_phd08_inputs([archive], **LIMITS)] == ["각"]


@pytest.mark.parametrize("member", ["../가.txt", "/etc/가.txt", "a/../../가.txt", "C:/가.txt"])
def test_sources_rejects_zip_members_escaping_the_folder(tmp_path, member):
    archive = _zip(tmp_path / "evil.zip", {member: make_phd08_bytes()})
    with pytest.raises(SourceError, match="escape"):
        collect_phd08_inputs([archive], **LIMITS)


def test_sources_rejects_zip_unpacking_past_the_limit(tmp_path):
    archive = _zip(tmp_path / "bomb.zip", {"가.txt": b"0" * 2_000_000})
    with pytest.raises(SourceError, match="would unpack to 2,000,000 bytes"):
        collect_phd08_inputs(
            [archive], max_zip_bytes=1_000_000, max_zip_members=10, max_member_bytes=10**6
        )


def test_one_phd08_file_of_a_zip_is_held_to_its_own_limit(tmp_path):
    """Each member is read whole: a member of 300 MiB in a zip of 299 KiB cost the data
    worker 1.2 GiB. A member past the limit is refused before anything is read, naming it,
    whatever the zip's total."""
    archive = _zip(tmp_path / "one-big.zip", {"가.txt": b"0" * 3_000_000, "나.txt": b""})
    with pytest.raises(SourceError, match=r"가\.txt would unpack to 3,000,000 bytes"):
        collect_phd08_inputs(
            [archive], max_zip_bytes=10**9, max_zip_members=10, max_member_bytes=2_000_000
        )


def test_sources_rejects_too_many_zip_members(tmp_path):
    archive = _zip(tmp_path / "many.zip", {f"{c}.txt": b"" for c in "가나다"})
    with pytest.raises(SourceError, match="holds 3 files; the limit is 2"):
        collect_phd08_inputs(
            [archive], max_zip_bytes=1000, max_zip_members=2, max_member_bytes=1000
        )


def test_sources_rejects_a_non_zip_named_zip(tmp_path):
    fake = tmp_path / "data.zip"
    fake.write_text("not a zip")
    with pytest.raises(SourceError, match=r"data\.zip is not a zip archive"):
        collect_phd08_inputs([fake], **LIMITS)


def test_sources_rejects_two_files_for_one_character(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_phd08_files(tmp_path / "a", chars="가")
    write_phd08_files(tmp_path / "b", chars="가")
    # Where each one is, not just their (equal) names.
    with pytest.raises(SourceError, match=r"character 가: a/가\.txt and b/가\.txt"):
        collect_phd08_inputs([tmp_path / "a", tmp_path / "b"], **LIMITS)
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as archive:
        archive.write(tmp_path / "a" / "가.txt", "fonts/가.txt")
    with pytest.raises(SourceError, match=r"a/가\.txt and set\.zip:fonts/가\.txt"):
        collect_phd08_inputs([tmp_path / "a", tmp_path / "set.zip"], **LIMITS)


@pytest.mark.parametrize("name", ["readme.txt", "가나.txt", "가.csv"])
def test_sources_rejects_badly_named_files(tmp_path, name):
    (tmp_path / name).write_bytes(make_phd08_bytes())
    with pytest.raises(SourceError):
        collect_phd08_inputs([tmp_path / name], **LIMITS)


def test_sources_rejects_missing_paths_and_empty_folders(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        collect_phd08_inputs([tmp_path / "nope"], **LIMITS)
    with pytest.raises(SourceError, match="No PHD08 character files"):
        collect_phd08_inputs([tmp_path], **LIMITS)
