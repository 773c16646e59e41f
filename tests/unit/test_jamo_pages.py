"""A finished job's mistakes through the parts of its syllables: on its page, in its
figure, in the API, and side by side on the compare page."""

import numpy as np
import pytest
from django.urls import reverse

from tests.support.clients import token_client
from tests.support.datasets import make_dataset
from tests.support.jobs import make_evaluated_job

pytestmark = pytest.mark.django_db

CHARS = "가갸각나"


def _job_with_mistakes(owner, dataset, **fields):
    """A finished job that read 가 as 갸 three times (the vowel) and 가 as 각 twice."""
    job = make_evaluated_job(owner, dataset, **fields)
    confusion = np.diag([10, 5, 4, 6])
    confusion[0, 1], confusion[0, 2] = 3, 2
    with np.load(job.artifact_dir / "evaluation.npz") as data:
        arrays = dict(data)
    np.savez(job.artifact_dir / "evaluation.npz", **{**arrays, "confusion": confusion})
    return job


def test_the_job_page_says_which_jamo_the_model_takes_for_which(client, student_a):
    job = _job_with_mistakes(student_a, make_dataset(chars=CHARS))
    client.force_login(student_a)
    page = client.get(job.get_absolute_url())
    html = page.content.decode()
    assert "The parts of the syllable" in html
    assert reverse("classifier:job-jamo", args=[job.pk]) in html
    first = page.context["jamo"].confusions[0]
    assert (first.position, first.true, first.read, first.count) == ("medial", "ㅏ", "ㅑ", 3)
    assert "<td>vowel</td>" in html and "<td>final consonant</td>" in html
    figure = client.get(reverse("classifier:job-jamo", args=[job.pk]))
    assert figure.status_code == 200 and figure.content.startswith(b"\x89PNG")


def test_the_api_gives_the_jamo_report_and_its_figure(student_a):
    job = _job_with_mistakes(student_a, make_dataset(chars=CHARS))
    answer = token_client(student_a).get(f"/api/jobs/{job.pk}/").json()
    assert answer["jamo"]["mistakes_by_parts"] == {
        "initial": 0,
        "medial": 3,
        "final": 2,
        "several": 0,
    }
    assert answer["jamo"]["position_accuracy"]["medial"] == pytest.approx(27 / 30)
    assert answer["artifacts"]["jamo"].endswith(f"/api/jobs/{job.pk}/figures/jamo/")


def test_the_compare_page_puts_the_parts_side_by_side_and_warns_of_other_splits(client, student_a):
    dataset = make_dataset(chars=CHARS)
    first = _job_with_mistakes(student_a, dataset, seed=1)
    same = make_evaluated_job(student_a, dataset, seed=1)
    client.force_login(student_a)
    url = reverse("classifier:job-compare")
    page = client.get(url, {"jobs": [first.pk, same.pk]})
    medial = {job: jamo.position_accuracy["medial"] for job, jamo in page.context["rows"]}
    assert medial == {first: pytest.approx(27 / 30), same: 1.0}
    assert "validated on different samples" not in page.content.decode()
    other_seed = make_evaluated_job(student_a, dataset, seed=2)
    page = client.get(url, {"jobs": [first.pk, other_seed.pk]})
    assert "validated on different samples" in page.content.decode()


def test_a_job_the_lab_can_no_longer_write_as_code_still_shows_its_page(client, student_a):
    job = _job_with_mistakes(student_a, make_dataset(chars=CHARS), optimizer="adagrad")
    client.force_login(student_a)
    page = client.get(job.get_absolute_url())
    assert page.status_code == 200 and "The code of this job" not in page.content.decode()
    assert client.get(reverse("classifier:job-code", args=[job.pk])).status_code == 404
