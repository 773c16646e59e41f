"""The README's REST API example, run as written with curl against a live lab: a token, the
data sets, a training job trained by the real train worker, its epochs, and a photo
classified by the real predict worker.

Only what the README tells its reader to fill in is filled in: the lines that set a
shell variable (the lab's address, the account, and the token and ids printed by the
commands before them). Everything else runs exactly as the README shows it.
"""

import json
import re
import subprocess
import time

import pytest

from classifier.models import EpochMetric, JobStatus, Prediction, TrainingJob
from tests.support.datasets import make_dataset
from tests.support.handwriting import photo_of
from tests.support.paths import REPO
from tests.support.workers import TERMINAL

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ASSIGNMENT = re.compile(r"^([A-Z]+)=(\S*)")
#: The variables the README's reader sets, in its order.
VARIABLES = ["LAB", "ACCOUNT", "PASSWORD", "TOKEN", "DATASET", "JOB", "PREDICTION"]


def readme_example() -> list[str]:
    """The commands of the README's REST API example (its printed answers left out)."""
    section = (REPO / "README.md").read_text().split("\n## REST API\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def _curl(line, env, cwd) -> dict | list:
    done = subprocess.run(
        ["/bin/bash", "-c", line], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"{line}\n{done.stderr}"
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{line}\nanswered, not in JSON:\n{done.stdout[:2000]}")


def _until_done(line, env, cwd, worker, timeout=240) -> dict:
    """Run a polling line again until the answer's status is final."""
    deadline = time.monotonic() + timeout
    while (answer := _curl(line, env, cwd))["status"] not in TERMINAL:
        assert time.monotonic() < deadline, f"still {answer['status']}:\n{worker.log_tail()}"
        time.sleep(0.5)
    return answer


def test_the_readme_curl_example_trains_and_predicts_through_the_workers(
    live_server, train_worker, worker, student_a, tmp_path
):
    dataset = make_dataset("hangul-bars", chars="가나다", per_char=30)
    (tmp_path / "photo.jpg").write_bytes(photo_of("나"))
    # What the reader knows before starting; the rest comes from the answers.
    known = {"LAB": live_server.url, "ACCOUNT": "student_a", "PASSWORD": "pw-student_a"}
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    assigned, answers = [], {}

    for line in readme_example():
        if match := ASSIGNMENT.match(line):
            name = match[1]
            assert name in known, f"the README sets {name} before anything printed it"
            env[name] = str(known[name])
            assigned.append(name)
            continue
        assert line.startswith("curl "), f"not a curl command: {line}"
        if "again until" in line:
            answer = _until_done(line, env, tmp_path, train_worker if "/jobs/" in line else worker)
        else:
            answer = _curl(line, env, tmp_path)
        url = line.split()[2]
        answers[url] = answer
        if url == "$LAB/api/token/":
            known["TOKEN"] = answer["token"]
        elif url == "$LAB/api/datasets/":
            known["DATASET"] = next(d["id"] for d in answer["results"] if d["name"] == dataset.name)
        elif url == "$LAB/api/jobs/":
            # Read after the commit that sent it: a quick worker may have claimed it already.
            assert answer["status"] in ("QUEUED", "RUNNING"), answer
            assert answer["owner"] == "student_a", answer
            known["JOB"] = answer["id"]
        elif url == "$LAB/api/predictions/":
            known["PREDICTION"] = answer["id"]

    assert assigned == VARIABLES
    job = TrainingJob.objects.get(pk=known["JOB"])
    assert (job.owner, job.dataset, job.model_spec, job.epochs) == (student_a, dataset, "mlp", 2)
    trained = answers["$LAB/api/jobs/$JOB/"]
    assert trained["status"] == "SUCCEEDED" and job.status == JobStatus.SUCCEEDED, trained
    assert trained["epochs_done"] == 2 and 0 <= trained["val_accuracy"] <= 1
    epochs = answers["$LAB/api/jobs/$JOB/metrics/"]
    assert [m["epoch"] for m in epochs] == [1, 2] == [m.epoch for m in EpochMetric.objects.all()]

    result = answers["$LAB/api/predictions/$PREDICTION/"]
    prediction = Prediction.objects.get(pk=known["PREDICTION"])
    assert result["status"] == "SUCCEEDED" and prediction.status == JobStatus.SUCCEEDED, result
    assert result["char"] in "가나다" and result["char"] == prediction.predicted
    assert result["top5"][0][0] == result["char"] and len(result["top5"]) == 3
    assert result["model"] == job.pk and prediction.original_name == "photo.jpg"

    # The job's links work with the same token: the model and a figure.
    auth = f"Authorization: Token {known['TOKEN']}"
    for link, start in (
        (trained["artifacts"]["model"], b"PK"),
        (trained["artifacts"]["confusion"], b"\x89PNG"),
    ):
        fetched = subprocess.run(
            ["/usr/bin/curl", "-sf", link, "-H", auth], capture_output=True, timeout=60
        )
        assert fetched.returncode == 0 and fetched.stdout.startswith(start), link
