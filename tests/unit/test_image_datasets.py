"""Data sets of labelled images: the service, the admin's form, the commands, the files
left out on the page, and the handwriting corpus exported and imported back."""

import io
import zipfile

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from classifier import services
from classifier.ml import preprocess, splits
from classifier.ml.messages import Refusal
from classifier.ml.sources import SourceError
from classifier.models import Dataset, JobStatus
from tests.support.i18n import korean
from tests.support.labelled import folders_zip, manifest_zip, scan_of, write_zip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_this_process(settings):
    # A pool of spawned processes costs seconds to start; these sets are tiny.
    settings.LAB_CONVERT_PROCESSES = 1


def _built(dataset) -> Dataset:
    services.run_dataset_build(dataset.pk)
    dataset.refresh_from_db()
    assert dataset.status == JobStatus.SUCCEEDED, dataset.error_text
    return dataset


def _post(client, archive, name="scans", **extra):
    with open(archive, "rb") as fh:
        data = {"name": name, "size": "28x28", "archive": fh, **extra}
        return client.post(reverse("classifier:dataset-import-images"), data)


def test_a_folder_per_character_becomes_a_data_set_whose_writers_are_its_groups(tmp_path, staff):
    archive = folders_zip(tmp_path / "school.zip", chars="나가", writers=("kim", "lee", "park"))
    dataset = services.create_image_dataset(
        name="school", path=archive, size=(32, 32), user=staff, dispatch=False
    )
    assert dataset.source == Dataset.Source.IMAGES and dataset.status == JobStatus.QUEUED
    assert dataset.files_total == 2 and dataset.skipped == []

    dataset = _built(dataset)
    assert dataset.classes == ["가", "나"] and dataset.counts == [6, 6]
    assert dataset.group_names == ["kim", "lee", "park"] and dataset.num_samples == 12
    arrays = dataset.open_store()
    assert arrays.images.shape == (12, 32, 32)

    # A group split holds whole writers out, as the training form offers it.
    services.check_split(dataset, "group:lee")
    split = splits.group(arrays.groups, dataset.group_names, np.arange(12), ["lee"])
    groups = np.asarray(arrays.groups)
    assert {dataset.group_names[g] for g in groups[split.val]} == {"lee"}
    assert "lee" not in {dataset.group_names[g] for g in groups[split.train]}


def test_a_manifest_archive_imports_and_every_bad_file_is_listed_on_the_page(
    tmp_path, staff_client
):
    rows = [
        ("img/1.png", "가", "w1"),
        ("img/2.png", "가", "w2"),
        ("img/3.png", "나", "w1"),
        ("img/4.png", "Hi", "w1"),
    ]
    bad = {"img/5.png": b"this is no image", "notes.txt": b"scanned in May"}
    archive = manifest_zip(tmp_path / "m.zip", [*rows, ("img/5.png", "나", "w2")], images=bad)

    response = _post(staff_client, archive, name="manifest-set")
    dataset = Dataset.objects.get(name="manifest-set")
    assert response.status_code == 302 and response["Location"] == dataset.get_absolute_url()
    listed = {item["name"] for item in dataset.skipped}
    assert listed == {"img/4.png", "notes.txt"}  # found before the build

    dataset = _built(dataset)
    assert dataset.classes == ["가", "나"] and dataset.counts == [2, 1]
    assert dataset.group_names == ["w1", "w2"]
    assert {item["name"] for item in dataset.skipped} == {"img/4.png", "notes.txt", "img/5.png"}
    page = staff_client.get(dataset.get_absolute_url()).content.decode()
    assert "Files left out" in page and "from the manifest labels.csv" in page
    assert "Its label Hi is more than one character." in page
    assert "not an image the lab can read" in page and "notes.txt" in page


def test_an_archive_with_nothing_usable_is_refused_and_leaves_nothing(
    tmp_path, staff_client, settings
):
    archive = write_zip(tmp_path / "bad.zip", {"loose.png": scan_of("가"), "A/1.png": b"x"})
    response = _post(staff_client, archive, name="nothing")
    errors = " ".join(response.context["form"].errors["archive"])
    assert "bad.zip holds no labelled image the lab can use: all 2 files were left out" in errors
    assert "A/1.png" in errors
    assert not Dataset.objects.exists()
    uploads = settings.MEDIA_ROOT / "uploads" / "datasets"
    assert not uploads.exists() or not any(uploads.iterdir())

    with pytest.raises(SourceError, match="holds no files"):
        services.create_image_dataset(
            name="empty", path=write_zip(tmp_path / "e.zip", {}), size=(28, 28)
        )


def test_when_every_image_of_a_character_is_unreadable_the_rest_is_still_built(tmp_path):
    archive = folders_zip(tmp_path / "a.zip", chars="가", extra={"나/1.png": b"broken"})
    dataset = services.create_image_dataset(
        name="partly", path=archive, size=(28, 28), dispatch=False
    )
    assert dataset.files_total == 2
    dataset = _built(dataset)
    assert dataset.classes == ["가"] and [item["name"] for item in dataset.skipped] == ["나/1.png"]

    only_bad = write_zip(tmp_path / "b.zip", {"가/1.png": b"broken", "나/1.png": b""})
    failed = services.create_image_dataset(
        name="unreadable", path=only_bad, size=(28, 28), dispatch=False
    )
    services.run_dataset_build(failed.pk)
    failed.refresh_from_db()
    assert failed.status == JobStatus.FAILED
    assert "None of the images could be read" in failed.error_text
    assert {item["name"] for item in failed.skipped} == {"가/1.png", "나/1.png"}


def test_the_import_form_is_for_admins_and_queues_on_commit(
    tmp_path, client, staff, student_a, instructor, django_capture_on_commit_callbacks
):
    url = reverse("classifier:dataset-import-images")
    archive = folders_zip(tmp_path / "a.zip", chars="가나")
    for user in (student_a, instructor):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert _post(client, archive).status_code == 403
    assert not Dataset.objects.exists()

    client.force_login(staff)
    assert url in client.get(reverse("classifier:dataset-list")).content.decode()
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(client, archive, hidden="on")
    assert response.status_code == 302 and len(callbacks) == 1
    dataset = Dataset.objects.get(name="scans")
    assert dataset.status == JobStatus.QUEUED and dataset.is_hidden
    assert dataset.files_total == 2 and len(list(dataset.upload_dir.rglob("*.zip"))) == 1


def test_the_import_form_refuses_what_it_cannot_use(tmp_path, staff_client, settings):
    url = reverse("classifier:dataset-import-images")
    response = staff_client.post(url, {"name": "x", "size": "28x28"})
    assert "Upload a zip archive of images or name one on the server." in str(
        response.context["form"].non_field_errors()
    )
    not_zip = SimpleUploadedFile("scan.png", scan_of("가"))
    response = staff_client.post(url, {"name": "x", "size": "28x28", "archive": not_zip})
    assert "one .zip archive" in " ".join(response.context["form"].errors["archive"])

    settings.LAB_IMPORT_ROOTS = [tmp_path / "imports"]
    (tmp_path / "imports").mkdir()
    outside = folders_zip(tmp_path / "outside.zip", chars="가")
    response = staff_client.post(url, {"name": "x", "size": "28x28", "server_path": outside})
    assert "outside the folders the lab imports from" in response.content.decode()
    inside = folders_zip(tmp_path / "imports" / "inside.zip", chars="가")
    response = staff_client.post(url, {"name": "served", "size": "28x28", "server_path": inside})
    assert response.status_code == 302
    assert Dataset.objects.get(name="served").params["archive"] == str(inside.resolve())


def _handwriting_corpus(tmp_path, settings, instructor) -> Dataset:
    """A data set of graded submissions, as ``create_handwriting_dataset`` records it:
    the originals under MEDIA_ROOT, the target characters, the writers."""
    samples = []
    for number, (char, owner) in enumerate(
        [("밟", 11), ("밟", 12), ("꺅", 11), ("꺅", 12), ("꺅", 13)]
    ):
        path = settings.MEDIA_ROOT / "predictions" / str(number) / "original.png"
        path.parent.mkdir(parents=True)
        path.write_bytes(scan_of(char, shift=number))
        samples.append([f"predictions/{number}/original.png", char, f"writer-{owner}"])
    dataset = Dataset.objects.create(
        name="week1-hand",
        source=Dataset.Source.HANDWRITING,
        height=28,
        width=28,
        created_by=instructor,
        is_hidden=True,
        files_total=2,
        params={
            "assignments": [],
            "classes": ["밟", "꺅"],
            "samples": samples,
            "style": preprocess.InputStyle().as_dict(),
        },
    )
    return _built(dataset)


def test_the_handwriting_corpus_exports_and_imports_back_the_same(
    tmp_path, settings, client, instructor, staff
):
    corpus = _handwriting_corpus(tmp_path, settings, instructor)
    client.force_login(instructor)
    url = reverse("classifier:dataset-export-images", args=[corpus.pk])
    assert url in client.get(corpus.get_absolute_url()).content.decode()
    response = client.get(url)
    assert response["Content-Type"] == "application/zip"
    assert 'filename="week1-hand-images.zip"' in response["Content-Disposition"]
    exported = tmp_path / "exported.zip"
    exported.write_bytes(b"".join(response.streaming_content))
    with zipfile.ZipFile(exported) as archive:
        manifest = archive.read("manifest.csv").decode("utf-8-sig").splitlines()
        assert manifest[0] == "file,char,writer"
        assert "밟/writer-11/00001.png,밟,writer-11" in manifest and len(manifest) == 6
        assert archive.read("꺅/writer-13/00001.png") == scan_of("꺅", shift=4)

    back = _built(
        services.create_image_dataset(
            name="back", path=exported, size=(28, 28), user=staff, dispatch=False
        )
    )
    assert dict(back.counts_by_class()) == dict(corpus.counts_by_class())
    assert sorted(back.group_names) == sorted(corpus.group_names)
    assert back.skipped == []
    # The same preprocessing of the same originals: the same arrays, sample for sample.
    ours, theirs = corpus.open_store(), back.open_store()
    order = [corpus.classes.index(c) for c in back.classes]
    for label, char in enumerate(back.classes):
        mine = np.asarray(ours.images)[np.asarray(ours.labels) == order[label]]
        again = np.asarray(theirs.images)[np.asarray(theirs.labels) == label]
        assert sorted(map(bytes, mine)) == sorted(map(bytes, again)), char

    # An imported set exports too, and only to whoever may see its images.
    again = reverse("classifier:dataset-export-images", args=[back.pk])
    client.force_login(staff)
    with zipfile.ZipFile(io.BytesIO(b"".join(client.get(again).streaming_content))) as archive:
        assert len(archive.read("manifest.csv").decode("utf-8-sig").splitlines()) == 6


def test_only_admins_and_the_maker_download_the_images(
    tmp_path, settings, client, instructor, student_a, staff
):
    corpus = _handwriting_corpus(tmp_path, settings, instructor)
    Dataset.objects.filter(pk=corpus.pk).update(is_hidden=False)  # students see it
    url = reverse("classifier:dataset-export-images", args=[corpus.pk])
    client.force_login(student_a)
    page = client.get(corpus.get_absolute_url()).content.decode()
    assert url not in page
    assert client.get(url).status_code == 403
    other = type(instructor).objects.create_user("other-teacher")
    other.groups.set(instructor.groups.all())
    client.force_login(other)  # another course's teacher does not even see the set
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200

    fonts_set = Dataset.objects.create(
        name="fonts", source=Dataset.Source.FONTS, status=JobStatus.SUCCEEDED
    )
    url = reverse("classifier:dataset-export-images", args=[fonts_set.pk])
    assert client.get(url).status_code == 403


def test_import_images_command_builds_and_prints_the_files_left_out(tmp_path, capsys):
    archive = folders_zip(tmp_path / "a.zip", chars="가나", extra={"가/w1/bad.png": b"x"})
    call_command("import_images", "--name", "cli-images", "--size", "20x24", str(archive))
    dataset = Dataset.objects.get(name="cli-images")
    assert dataset.status == JobStatus.SUCCEEDED
    assert dataset.open_store().images.shape == (8, 20, 24)
    out = capsys.readouterr().out
    assert "8 samples of 2 characters" in out
    assert "Left out 1 files:" in out and "가/w1/bad.png: " in out

    with pytest.raises(CommandError, match="already exists"):
        call_command("import_images", "--name", "cli-images", str(archive))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_images", "--name", "other", str(tmp_path / "missing.zip"))
    with pytest.raises(CommandError, match=r"Give the \.zip archive"):
        call_command("import_images", "--name", "other")


def test_export_images_command_writes_what_import_images_reads(tmp_path, settings, instructor):
    corpus = _handwriting_corpus(tmp_path, settings, instructor)
    out = tmp_path / "corpus.zip"
    call_command("export_images", corpus.name, "--out", str(out))
    call_command("import_images", "--name", "corpus-back", str(out))
    back = Dataset.objects.get(name="corpus-back")
    assert dict(back.counts_by_class()) == {"꺅": 3, "밟": 2}
    assert sorted(back.group_names) == ["writer-11", "writer-12", "writer-13"]
    Dataset.objects.create(name="rendered", source=Dataset.Source.FONTS, status=JobStatus.SUCCEEDED)
    with pytest.raises(CommandError, match="was not made of images"):
        call_command("export_images", "rendered", "--out", str(out))


def test_an_image_data_set_is_rebuilt_from_its_archive(tmp_path):
    archive = folders_zip(tmp_path / "a.zip", chars="가나")
    dataset = _built(
        services.create_image_dataset(name="again", path=archive, size=(28, 28), dispatch=False)
    )
    services.rebuild_dataset(dataset, dispatch=False)
    assert _built(dataset).counts == [4, 4]
    archive.unlink()
    with pytest.raises(Refusal, match=r"again cannot be rebuilt: .*a\.zip does not exist"):
        services.rebuild_dataset(dataset, dispatch=False)


@pytest.mark.korean
def test_the_files_left_out_read_in_the_readers_language(tmp_path, staff_client):
    archive = folders_zip(tmp_path / "a.zip", chars="가", extra={"A/1.png": scan_of("가")})
    dataset = _built(
        services.create_image_dataset(name="ko", path=archive, size=(28, 28), dispatch=False)
    )
    reason = dataset.skipped[0]["reason"]
    assert reason["params"] == {"label": "A", "code": 65}
    page = staff_client.get(dataset.get_absolute_url()).content.decode()
    expected = korean(reason["template"]) % reason["params"]
    assert expected == "레이블이 한글 음절(가~힣)이 아닙니다: A(U+0041)"
    assert escape(expected) in page and korean("Files left out") in page


def test_students_see_a_public_image_set_but_not_the_names_of_its_files(
    tmp_path, client, student_a, staff
):
    extra = {"kim-minji/가.png": scan_of("가")}  # a name that says who wrote it
    archive = folders_zip(tmp_path / "a.zip", chars="가", extra=extra)
    dataset = _built(
        services.create_image_dataset(
            name="public", path=archive, size=(28, 28), user=staff, dispatch=False
        )
    )
    client.force_login(student_a)
    page = client.get(dataset.get_absolute_url()).content.decode()
    assert "Labelled images" in page and "kim-minji" not in page and "Files left out" not in page
    client.force_login(staff)
    assert "kim-minji/가.png" in client.get(dataset.get_absolute_url()).content.decode()
