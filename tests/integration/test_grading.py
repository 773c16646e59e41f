"""An assignment end to end with the real data/predict worker: join, submit, grade,
gradebook, regrade, and a data set of the students' handwriting.

The models are small and trained on printed fonts, so these tests check that grading
happened and is recorded consistently, not that a character was read right.
"""

import base64
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from classifier.models import (
    Assignment,
    Course,
    Dataset,
    JobStatus,
    Prediction,
    Regrade,
    Verdict,
)
from classifier.services.grading import is_doubtful
from tests.support.handwriting import drawing_of, make_font_dataset, make_trained_job, photo_of

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _assert_graded(submission: Prediction):
    assert submission.status == JobStatus.SUCCEEDED, submission.error_text
    assert submission.predicted in submission.classes
    assert 0 < submission.confidence <= 1
    assert submission.correct == (submission.predicted == submission.expected)


def _assert_explained(submission: Prediction):
    """Saliency maps of the reading and, when it is wrong, of the character meant."""
    assert submission.explanation_state == "ready", submission.explanation
    roles = dict(submission.saliency_maps)
    assert roles["predicted"] == submission.predicted
    assert roles.get("expected") == (None if submission.correct else submission.expected)
    for role in roles:
        assert submission.saliency_path(role).exists()


def test_an_assignment_is_submitted_graded_regraded_and_becomes_a_data_set(
    worker, client, instructor, student_a
):
    dataset = make_font_dataset()
    first = make_trained_job(instructor, dataset)
    second = make_trained_job(instructor, dataset, epochs=4)

    # The instructor sets up a course, publishes both models and opens an assignment.
    client.force_login(instructor)
    client.post(reverse("classifier:course-list"), {"name": "Hangul 101"})
    course = Course.objects.get()
    for job in (first, second):
        client.post(reverse("classifier:course-publish", args=[course.pk]), {"job": job.pk})
    due = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("classifier:assignment-new", args=[course.pk]),
        {
            "title": "Week 1",
            "chars": "밟 꺅",
            "grader": first.pk,
            "due_at": due,
            "attempts_allowed": "2",
        },
    )
    assignment = Assignment.objects.get()
    assert response["Location"] == assignment.get_absolute_url()

    # A student joins and submits a drawing of 밟 and a photo of 꺅.
    client.force_login(student_a)
    client.post(reverse("classifier:course-join"), {"code": course.join_code})
    submit = reverse("classifier:assignment-submit", args=[assignment.pk])
    drawn = client.post(submit, {"char": "밟", "canvas": drawing_of("밟")})
    photo = client.post(
        submit, {"char": "꺅", "image": SimpleUploadedFile("ggyak.jpg", photo_of("꺅"))}
    )
    submissions = {s.expected: s for s in Prediction.objects.filter(assignment=assignment)}
    assert drawn["Location"] == submissions["밟"].get_absolute_url()
    assert photo["Location"] == submissions["꺅"].get_absolute_url()
    for submission in submissions.values():
        _assert_graded(worker.wait_for(submission))
        assert submission.model == first and submission.attempt == 1 and not submission.late
        # What the model looked at follows the verdict, drawn by the same worker.
        worker.wait_until(submission, lambda row: row.explanation_state != "pending")
        _assert_explained(submission)
    assert submissions["밟"].source == "canvas" and submissions["꺅"].source == "upload"
    page = client.get(assignment.get_absolute_url())
    assert [t["cell"].submission for t in page.context["targets"]] == [
        submissions["밟"],
        submissions["꺅"],
    ]
    assert "data-poll" not in page.content.decode()  # graded: nothing to follow

    # The instructor's gradebook and its CSV agree with the rows.
    client.force_login(instructor)
    book = client.get(reverse("classifier:gradebook", args=[assignment.pk])).context["book"]
    (row,) = book.rows
    assert row.student == student_a
    for submission in submissions.values():
        # The worker judged a wrong reading by the grading rule.
        fields = ("predicted", "classes", "probabilities", "confidence")
        results = {field: getattr(submission, field) for field in fields}
        threshold = assignment.review_threshold(first)
        assert submission.doubtful == is_doubtful(submission.expected, results, threshold)
    expected_verdicts = [submissions[c].verdict for c in ("밟", "꺅")]
    assert [cell.verdict for cell in row.cells] == expected_verdicts
    csv = client.get(reverse("classifier:gradebook-csv", args=[assignment.pk]))
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("student,name,student number,밟 verdict,밟 confidence")
    values = lines[1].split(",")
    labels = [str(Verdict(v).label) for v in expected_verdicts]
    assert values[0] == "student_a" and [values[3], values[8]] == labels
    assert values[4] == f"{submissions['밟'].confidence:.4f}"
    assert values[-2:] == [str(row.score), "2"]

    # The instructor overrides the model on 꺅, with a comment.
    overridden = "incorrect" if submissions["꺅"].verdict == "correct" else "correct"
    client.post(
        reverse("classifier:submission-verdict", args=[submissions["꺅"].pk]),
        {"verdict": overridden, "comment": "Look at the final ㄱ."},
    )

    # A regrade with the second model grades both submissions again.
    client.post(
        reverse("classifier:assignment-regrade", args=[assignment.pk]), {"grader": second.pk}
    )
    regrade = worker.wait_for(Regrade.objects.get())
    assert regrade.status == JobStatus.SUCCEEDED, regrade.error_text
    assert regrade.done == regrade.total == 2
    for submission in submissions.values():
        submission.refresh_from_db()
        assert submission.model == second
        _assert_graded(submission)
        _assert_explained(submission)  # by the new model; the first model's maps are gone
        assert [p.name for p in submission.file_dir.glob(f"saliency-{first.pk}-*")] == []
    # The teacher's verdict outlives the regrade.
    assert submissions["꺅"].teacher_verdict == overridden
    assert submissions["꺅"].teacher_comment == "Look at the final ㄱ."
    book = client.get(reverse("classifier:gradebook", args=[assignment.pk])).context["book"]
    assert book.rows[0].cells[1].verdict == overridden
    status = client.get(reverse("classifier:regrade-status", args=[assignment.pk])).json()
    assert status["terminal"] and "2 of 2" in status["fragments"]["progress"]

    # The instructor accepts 밟 and turns the verified handwriting into a data set,
    # built by the data worker.
    client.post(
        reverse("classifier:submission-verdict", args=[submissions["밟"].pk]),
        {"verdict": "correct"},
    )
    verified = [c for c in ("밟", "꺅") if Prediction.objects.get(expected=c).verdict == "correct"]
    response = client.post(
        reverse("classifier:dataset-handwriting"),
        {"name": "week1-hand", "assignments": [assignment.pk]},
    )
    handwriting = Dataset.objects.get(name="week1-hand")
    assert response["Location"] == handwriting.get_absolute_url()
    handwriting = worker.wait_for(handwriting)
    assert handwriting.status == JobStatus.SUCCEEDED, handwriting.error_text
    assert handwriting.classes == verified
    assert handwriting.group_names == ["writer-1"]  # a pseudonym, never a user id
    arrays = handwriting.open_store()
    # The grader's input size: the font data set's.
    assert arrays.images.shape == (len(verified), dataset.height, dataset.width)
    assert handwriting.num_samples == len(verified)


def test_the_predict_page_answers_through_the_worker_within_the_request(
    worker, client, student_a, settings
):
    settings.LAB_PREDICT_WAIT_SECONDS = 60  # the first prediction loads TensorFlow
    job = make_trained_job(student_a, make_font_dataset())
    client.force_login(student_a)
    for data in (
        {"image": SimpleUploadedFile("a.jpg", photo_of("아"))},
        {"canvas": drawing_of("자")},
    ):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                reverse("classifier:predict"), {"model": job.pk, "expected": "자", **data}
            )
        answered = timezone.now()
        # ... on the broker's word, not by asking the database again and again.
        asked = [q["sql"] for q in queries if 'FROM "classifier_prediction"' in q["sql"]]
        assert len(asked) <= 5, f"{len(asked)} queries of the prediction while waiting"
        prediction = Prediction.objects.latest("pk")
        assert response.status_code == 302
        assert response["Location"] == prediction.get_absolute_url()
        # The request waited for the worker: the page it leads to holds the result itself.
        assert prediction.status == "SUCCEEDED" and prediction.predicted in job.classes
        assert prediction.finished_at <= answered
        _assert_graded(prediction)
        assert prediction.owner == student_a and prediction.model == job
        assert prediction.seconds < 5 and prediction.input_path.exists()


def test_the_predict_page_reads_a_drawing_while_it_is_drawn(worker, client, student_a, settings):
    settings.LAB_PREDICT_WAIT_SECONDS = 60  # the first reading loads TensorFlow
    job = make_trained_job(student_a, make_font_dataset())
    client.force_login(student_a)
    page = client.get(reverse("classifier:predict")).content.decode()
    assert f'data-live-reading="{reverse("classifier:predict-live")}"' in page
    for char in ("자", "밟"):
        response = client.post(
            reverse("classifier:predict-live"), {"model": job.pk, "canvas": drawing_of(char)}
        )
        assert response.status_code == 200, response.content
        answer = response.json()
        assert answer["char"] in job.classes and answer["char"] == answer["top5"][0][0]
        assert answer["confidence"] == pytest.approx(answer["top5"][0][1])
        assert len(answer["top5"]) == 5
        assert answer["input"].startswith("data:image/png;base64,")
        shown = Image.open(io.BytesIO(base64.b64decode(answer["input"].split(",", 1)[1])))
        assert shown.size == (28, 28)
    # Read, not kept: no prediction, nothing in the owner's storage.
    assert not Prediction.objects.exists()
