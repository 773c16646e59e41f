"""Archives of labelled images: both layouts read, bad files listed and left out, the
build preprocessing each image, and the written layout reading back the same."""

import io
import json
import unicodedata
import zipfile

import numpy as np
import pytest

from classifier.ml import build, labelled, preprocess, splits
from classifier.ml.messages import Refusal
from classifier.ml.sources import SourceError
from tests.support.labelled import folders_zip, manifest_zip, scan_of, write_zip

LIMITS = {"max_bytes": 50_000_000, "max_members": 1000, "max_image_bytes": 1_000_000}


def _read(path, **limits):
    return labelled.read_labelled_zip(path, **{**LIMITS, **limits})


def _why(archive) -> dict[str, str]:
    return {skip.name: str(skip.reason) for skip in archive.skipped}


def _build(archive, out, skipped=None, **options):
    def record(name, reason):
        if skipped is not None:
            skipped[name] = str(reason)

    return build.build_handwriting(
        archive.samples,
        archive.classes,
        out,
        (28, 28),
        preprocess.InputStyle(),
        processes=1,
        on_skip=record,
        drop_empty=True,
        **options,
    )


def test_labelled_folders_with_writers_become_samples_grouped_by_writer(tmp_path):
    archive = _read(folders_zip(tmp_path / "a.zip", chars="다가나", writers=("w1", "w2")))
    assert archive.layout == labelled.LAYOUT_FOLDERS and archive.manifest is None
    assert archive.classes == ["가", "나", "다"]
    assert len(archive.images) == 12 and not archive.skipped
    assert {(i.char, i.writer) for i in archive.images} == {
        (c, w) for c in "가나다" for w in ("w1", "w2")
    }
    assert archive.images[0].source.name == "가/w1/0.png"
    assert archive.images[0].source.read_bytes() == scan_of("가", shift=0)


def test_labelled_folders_without_writers_are_one_group_and_a_wrapper_is_looked_through(
    tmp_path,
):
    # Zipping a folder on a Mac: one wrapping folder, decomposed Hangul, Finder's files.
    decomposed = unicodedata.normalize("NFD", "각")
    members = {
        f"corpus/{decomposed}/1.png": scan_of("각"),
        "corpus/나/1.png": scan_of("나"),
        "corpus/나/2.jpg": scan_of("나", fmt="JPEG"),
        "__MACOSX/corpus/나/._1.png": b"junk",
        "corpus/.DS_Store": b"junk",
    }
    archive = _read(write_zip(tmp_path / "mac.zip", members))
    assert archive.classes == ["각", "나"]
    assert {image.writer for image in archive.images} == {labelled.NO_WRITER}
    assert not archive.skipped  # hidden files are not even listed
    assert [image.source.name for image in archive.images] == [
        "corpus/각/1.png",
        "corpus/나/1.png",
        "corpus/나/2.jpg",
    ]


def test_labelled_folders_list_every_bad_file_with_its_reason(tmp_path):
    extra = {
        "README.md": b"about this set",
        "loose.png": scan_of("가"),
        "가나/1.png": scan_of("가"),
        "A/1.png": scan_of("가"),
        "ㄱ/1.png": scan_of("가"),
        "가/w1/deeper/1.png": scan_of("가"),
        "가/huge.png": b"\x89PNG" + b"0" * 2000,
    }
    archive = _read(folders_zip(tmp_path / "a.zip", chars="가", extra=extra), max_image_bytes=1500)
    assert len(archive.images) == 4  # the good ones stay
    why = _why(archive)
    assert set(why) == set(extra)
    assert "not an image file" in why["README.md"]
    assert "no character's folder" in why["loose.png"]
    assert "가나 is more than one character" in why["가나/1.png"]
    assert "A (U+0041) is not a Hangul syllable" in why["A/1.png"]
    assert "(U+3131) is not a Hangul syllable" in why["ㄱ/1.png"]
    assert "too deep" in why["가/w1/deeper/1.png"]
    assert "2,004 bytes; the limit for one image is 1,500 bytes" in why["가/huge.png"]


def test_labelled_csv_manifest_labels_the_files_and_lists_the_problems(tmp_path):
    manifest = "\n".join(
        [
            "file,char,writer",
            "scans/001.png,가,kim",
            "scans/002.png,가,lee",
            "./scans/003.png,나,",
            "scans/004.png,나다,kim",
            "scans/005.png,x,kim",
            "scans/001.png,다,kim",  # labelled again, differently
            "scans/001.png,가,kim",  # and again alike: no harm
            "scans/gone.png,가,kim",
            ",가,kim",
            "",
        ]
    )
    members = {f"scans/00{n}.png": scan_of("가") for n in range(1, 6)}
    members |= {"scans/unlabelled.png": scan_of("라"), "labels.csv": manifest.encode()}
    archive = _read(write_zip(tmp_path / "m.zip", members))

    assert archive.layout == labelled.LAYOUT_MANIFEST and archive.manifest == "labels.csv"
    assert [(i.source.name, i.char, i.writer) for i in archive.images] == [
        ("scans/001.png", "가", "kim"),
        ("scans/002.png", "가", "lee"),
        ("scans/003.png", "나", labelled.NO_WRITER),
    ]
    why = _why(archive)
    assert set(why) == {
        "scans/004.png",
        "scans/005.png",
        "scans/001.png",
        "scans/gone.png",
        "labels.csv",
        "scans/unlabelled.png",
    }
    assert "나다 is more than one character" in why["scans/004.png"]
    assert "x (U+0078) is not a Hangul syllable" in why["scans/005.png"]
    assert "line 7 labels it 다, but an earlier line labels it 가" in why["scans/001.png"]
    assert "line 9 names it, but the archive does not hold it" in why["scans/gone.png"]
    assert "line 10 names no file" in why["labels.csv"]
    assert "does not label it" in why["scans/unlabelled.png"]


def _members(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_labelled_manifest_in_excel_korean_encoding_and_json(tmp_path):
    rows = [("가.png", "가", "김철수"), ("나.png", "나", None)]
    archive = _read(manifest_zip(tmp_path / "excel.zip", rows, encoding="cp949"))
    assert [(i.char, i.writer) for i in archive.images] == [("가", "김철수"), ("나", "unknown")]

    entries = [{"file": "a/1.png", "char": "가", "writer": 7}, {"file": "b\\2.png", "char": "나"}]
    entries = json.dumps(entries, ensure_ascii=False).encode()  # a number and a Windows path
    members = {"labels.json": entries, "a/1.png": scan_of("가"), "b/2.png": scan_of("나")}
    archive = _read(write_zip(tmp_path / "j.zip", members))
    assert archive.manifest == "labels.json" and not archive.skipped
    assert [(i.source.name, i.char, i.writer) for i in archive.images] == [
        ("a/1.png", "가", "7"),
        ("b/2.png", "나", "unknown"),
    ]


@pytest.mark.parametrize(
    ("manifest", "data", "match"),
    [
        ("labels.csv", b"name,label\na.png,\xea\xb0\x80\n", "needs the columns file and char"),
        ("labels.json", b"{not json", "is not valid JSON"),
        ("labels.json", b'{"file": "a.png"}', "must be a list of objects"),
        ("labels.csv", b"\xff\xfe\xfa", "neither UTF-8 nor cp949"),
    ],
)
def test_labelled_an_unreadable_manifest_refuses_the_archive(tmp_path, manifest, data, match):
    path = write_zip(tmp_path / "bad.zip", {manifest: data, "a.png": scan_of("가")})
    with pytest.raises(SourceError, match=match):
        _read(path)


def test_labelled_two_manifests_refuse_the_archive(tmp_path):
    members = {"a.csv": b"file,char\n", "b.json": b"[]", "x.png": scan_of("가")}
    with pytest.raises(SourceError, match=r"more than one manifest \(a.csv, b.json\)"):
        _read(write_zip(tmp_path / "two.zip", members))


def test_labelled_unsafe_archives_are_refused_as_a_whole(tmp_path):
    with pytest.raises(SourceError, match="escape"):
        _read(write_zip(tmp_path / "evil.zip", {"../가/1.png": scan_of("가")}))
    with pytest.raises(SourceError, match="holds 3 files; the limit is 2"):
        _read(
            folders_zip(tmp_path / "many.zip", chars="가", writers=("w",), per_writer=3),
            max_members=2,
        )
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip")
    with pytest.raises(SourceError, match="is not a zip archive"):
        _read(fake)


def test_labelled_build_preprocesses_like_predict_and_lists_unreadable_images(tmp_path):
    extra = {
        "가/w1/broken.png": b"\x89PNG\r\n\x1a\nthis is not a picture",
        "나/w1/blank.png": _blank_png(),
        "다/w1/only.txt.png": b"plain text",  # 다's only image: 다 is dropped, not fatal
    }
    archive = _read(folders_zip(tmp_path / "a.zip", chars="가나", extra=extra))
    assert archive.classes == ["가", "나", "다"]
    skipped = {}
    arrays = _build(archive, tmp_path / "set", skipped)
    manifest = arrays.manifest
    assert manifest.classes == ["가", "나"] and manifest.counts == [4, 4]
    assert manifest.group_names == ["w1", "w2"]
    assert set(skipped) == set(extra)
    assert "not an image the lab can read" in skipped["가/w1/broken.png"]
    assert "No writing was found" in skipped["나/w1/blank.png"]

    # The very preprocessing Predict applies, image for image.
    first = archive.images[0]
    expected = preprocess.preprocess(
        preprocess.open_image(first.source.read_bytes()), (28, 28), preprocess.InputStyle()
    ).input
    assert np.array_equal(arrays.images[0], expected)


def _blank_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (64, 64), 250).save(buffer, format="PNG")
    return buffer.getvalue()


def test_labelled_build_with_nothing_readable_fails_with_the_reason(tmp_path):
    archive = _read(write_zip(tmp_path / "bad.zip", {"가/1.png": b"nope", "나/1.png": b""}))
    skipped = {}
    with pytest.raises(Refusal, match="None of the images could be read"):
        _build(archive, tmp_path / "set", skipped)
    assert set(skipped) == {"가/1.png", "나/1.png"}
    assert skipped["나/1.png"] == "The file is empty."


def test_labelled_writers_make_a_group_split_that_keeps_them_apart(tmp_path):
    path = folders_zip(tmp_path / "a.zip", chars="가나", writers=("kim", "lee", "park"))
    arrays = _build(_read(path), tmp_path / "set")
    names = arrays.manifest.group_names
    split = splits.group(arrays.groups, names, np.arange(len(arrays)), ["lee"])
    train_writers = {names[g] for g in np.asarray(arrays.groups)[split.train]}
    val_writers = {names[g] for g in np.asarray(arrays.groups)[split.val]}
    assert val_writers == {"lee"} and train_writers == {"kim", "park"}
    assert len(split.val) == 4 and len(split.train) == 8


def test_labelled_a_resumed_build_still_lists_what_the_first_run_left_out(tmp_path):
    extra = {"가/w1/broken.png": b"nope"}
    archive = _read(folders_zip(tmp_path / "a.zip", chars="가나다", extra=extra))
    progress = []
    with pytest.raises(build.BuildCancelled):
        _build(
            archive,
            tmp_path / "set",
            on_progress=progress.append,
            should_stop=lambda: progress[-1].units_done >= 1,
        )
    skipped = {}
    arrays = _build(archive, tmp_path / "set", skipped)
    assert arrays.manifest.counts == [4, 4, 4]
    assert set(skipped) == {"가/w1/broken.png"}


def test_labelled_written_archive_reads_back_the_same_samples(tmp_path):
    source = _read(
        manifest_zip(
            tmp_path / "in.zip",
            [
                ("a.png", "가", "writer-3"),
                ("b.png", "가", "writer 4/x"),
                ("c.jpg", "나", "writer-3"),
            ],
        )
    )
    out = io.BytesIO()
    written = list(labelled.write_labelled_zip(out, [*source.samples, ("/gone.png", "다", "w")]))
    assert written == [1, 2, 3, 3]  # the missing file is left out
    path = tmp_path / "out.zip"
    path.write_bytes(out.getvalue())

    back = _read(path)
    assert back.layout == labelled.LAYOUT_MANIFEST and back.manifest == "manifest.csv"
    assert not back.skipped
    assert sorted((i.char, i.writer) for i in back.images) == sorted(
        (i.char, i.writer) for i in source.images
    )
    names = sorted(image.source.name for image in back.images)
    assert names == ["가/writer-3/00001.png", "가/writer_4_x/00001.png", "나/writer-3/00001.jpg"]
    assert _members(path)["manifest.csv"].startswith(b"\xef\xbb\xbffile,char,writer\n")
