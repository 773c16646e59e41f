import json
import subprocess
import sys

import numpy as np
import pytest

from classifier.ml import store
from tests.support.paths import REPO


def _builder(tmp_path, fingerprint=None):
    return store.StoreBuilder(tmp_path / "set", 4, 5, fingerprint or {"v": 1})


def _images(n, value):
    return np.full((n, 4, 5), value, dtype=np.uint8)


def test_store_finish_orders_samples_by_class_and_maps_groups(tmp_path):
    builder = _builder(tmp_path)
    builder.write_part("b", "나", _images(2, 20), ["S", "G"])
    builder.write_part("a", "가", _images(3, 10), ["G", "G", "M"])
    arrays = builder.finish(["가", "나"])

    assert arrays.manifest.classes == ["가", "나"]
    assert arrays.manifest.counts == [3, 2]
    assert arrays.images.shape == (5, 4, 5) and arrays.images.dtype == np.uint8
    assert isinstance(arrays.images, np.memmap)
    assert list(arrays.labels) == [0, 0, 0, 1, 1]
    assert list(arrays.images[:, 0, 0]) == [10, 10, 10, 20, 20]
    names = [arrays.manifest.group_names[g] for g in arrays.groups]
    assert names == ["G", "G", "M", "S", "G"]
    assert not store.building_dir(tmp_path / "set").exists()


def test_store_builder_resumes_parts_with_the_same_fingerprint(tmp_path):
    _builder(tmp_path).write_part("a", "가", _images(1, 1), ["S"])
    assert _builder(tmp_path).has_part("a")
    assert not _builder(tmp_path, {"v": 2}).has_part("a")


def test_store_rebuild_failure_keeps_the_published_data_set(tmp_path):
    builder = _builder(tmp_path)
    builder.write_part("a", "가", _images(1, 7), ["S"])
    builder.finish(["가"])

    rebuild = _builder(tmp_path, {"v": 2})
    rebuild.write_part("a", "가", _images(1, 9), ["S"])
    with pytest.raises(store.StoreError, match="No samples for: 나"):
        rebuild.finish(["가", "나"])
    assert store.ArrayStore(tmp_path / "set").images[0, 0, 0] == 7


def test_store_refuses_unknown_format(tmp_path):
    builder = _builder(tmp_path)
    builder.write_part("a", "가", _images(1, 7), ["S"])
    builder.finish(["가"])
    manifest = tmp_path / "set" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format_version": 99}))
    with pytest.raises(store.StoreError, match="format 99"):
        store.ArrayStore(tmp_path / "set")
    with pytest.raises(store.StoreError, match="no readable data set"):
        store.ArrayStore(tmp_path / "missing")


def test_store_export_npz_has_plain_arrays(tmp_path):
    builder = _builder(tmp_path)
    builder.write_part("a", "가", _images(2, 3), ["S", "M"])
    builder.write_part("b", "나", _images(1, 4), ["M"])
    builder.finish(["가", "나"])
    out = tmp_path / "export.npz"
    written = list(store.ArrayStore(tmp_path / "set").write_npz(out, chunk=2))
    assert written == [2, 3, 3]  # after each chunk of images, then once the file is closed
    with np.load(out, allow_pickle=False) as data:
        assert data["images"].shape == (3, 4, 5)
        assert list(data["labels"]) == [0, 0, 1]
        assert list(data["groups"]) == ["S", "M", "M"]
        assert list(data["classes"]) == ["가", "나"]


FULL_DISK = """
import resource, sys
from pathlib import Path
from classifier.ml import store
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))  # as a full disk, or a quota
folder = Path(sys.argv[1])
figure = store.cached_file(folder / "figures" / "curves.png", lambda: b"x" * 5000)
assert figure == b"x" * 5000, len(figure)
print(" ".join(sorted(p.name for p in (folder / "figures").iterdir())))
"""


def test_a_figure_that_cannot_be_kept_is_still_shown_and_leaves_no_file(tmp_path):
    answer = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
    assert answer.stdout.strip() == ""  # neither the figure nor a half-written one
