"""A finished job taken home as a script: it runs outside the lab on the exported data
set, splits as the job did and builds the job's network, layer for layer."""

import numpy as np
import pytest
from django.urls import reverse
from django.utils import translation

from classifier import services
from classifier.ml import networks, splits
from classifier.models import JobStatus, TrainingJob
from tests.support.datasets import make_dataset
from tests.support.processes import run_python

pytestmark = pytest.mark.django_db


def _finished(owner, dataset, **fields) -> TrainingJob:
    fields = {
        "model_spec": "cnn",
        "epochs": 1,
        "batch_size": 8,
        "seed": 3,
        "split": "stratified:0.25",
        **fields,
    }
    return TrainingJob.objects.create(
        owner=owner, dataset=dataset, status=JobStatus.SUCCEEDED, **fields
    )


def _export(dataset, folder):
    path = folder / f"{dataset.name}.npz"
    for _written in dataset.open_store().write_npz(path):
        pass
    return path


@pytest.mark.parametrize(
    ("split", "lab_split"),
    [
        ("stratified:0.25", lambda a, c: splits.stratified(a.labels, c, 0.25, 3)),
        ("group:G", lambda a, c: splits.group(a.groups, a.manifest.group_names, c, ["G"])),
        ("tutorial:5", lambda a, c: splits.tutorial(a.labels, c, 5)),
    ],
)
def test_the_script_validates_on_the_samples_the_job_did(student_a, tmp_path, split, lab_split):
    dataset = make_dataset(chars="가나다라", per_char=12)
    job = _finished(student_a, dataset, split=split, chars=["나", "라"])
    exported = _export(dataset, tmp_path)
    _name, script = services.take_home(job)
    # The script up to its split, run here: its samples against the lab's own split.
    head = script.split("x_train, y_train")[0].replace("sys.argv[1]", repr(str(exported)))
    namespace = {}
    exec(compile(head, "take-home", "exec"), namespace)
    arrays = dataset.open_store()
    candidates = [i for i, label in enumerate(arrays.labels) if label in job.chosen_labels]
    expected = lab_split(arrays, np.asarray(candidates))
    assert list(namespace["val"]) == list(expected.val)
    assert list(namespace["train"]) == list(expected.train)


def test_the_script_trains_the_jobs_network_outside_the_lab(student_a, tmp_path, client):
    dataset = make_dataset(chars="가나다", per_char=8)
    job = _finished(student_a, dataset)
    exported = _export(dataset, tmp_path)
    client.force_login(student_a)
    download = client.get(reverse("classifier:job-code", args=[job.pk]))
    assert download["Content-Disposition"] == f'attachment; filename="hangul-lab-job{job.pk}.py"'
    script = tmp_path / f"hangul-lab-job{job.pk}.py"
    script.write_bytes(download.content)
    ran = run_python(
        str(script),
        str(exported),
        env={"MPLBACKEND": "Agg", "PYTHONPATH": ""},
        timeout=300,
        cwd=tmp_path,  # outside the lab's folder: it needs nothing of the lab
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    import keras

    model = keras.models.load_model(tmp_path / f"hangul-lab-job{job.pk}.keras")
    lab_model = networks.build_model(networks.parse_spec("cnn"), (28, 28), 3)
    assert [type(layer).__name__ for layer in model.layers] == [
        type(layer).__name__ for layer in lab_model.layers
    ]
    assert model.count_params() == lab_model.count_params()
    assert (tmp_path / f"hangul-lab-job{job.pk}-curves.png").stat().st_size > 10_000


def test_the_job_page_shows_the_code_with_comments_in_the_readers_language(student_a, client):
    job = _finished(student_a, make_dataset(chars="가나다", per_char=8), model_spec="mlp")
    client.force_login(student_a)
    page = client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The code of this job" in page and 'class="code"' in page
    assert reverse("classifier:job-code", args=[job.pk]) in page
    with translation.override("ko"):
        _name, korean = services.take_home(job)
    comment = next(line for line in korean.splitlines() if line.startswith("# "))
    assert any("가" <= char <= "힣" for char in comment), comment
