"""Course, assignment, gradebook and handwriting data set pages, without a worker.

Grading models here are model files holding only the lab's metadata (characters and
input size): enough to preprocess a submission, which is all a request does. Graded
submissions are rows written directly.
"""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from classifier import services
from classifier.ml.messages import Refusal
from classifier.models import (
    Assignment,
    Course,
    Dataset,
    Enrollment,
    JobStatus,
    Prediction,
    Profile,
    Regrade,
)
from classifier.roles import INSTRUCTOR
from classifier.services import grading
from tests.support.clients import flash_messages
from tests.support.courses import graded_submission, make_grader
from tests.support.handwriting import blank_canvas, drawing_of, photo_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_waiting(settings):
    # No worker answers here: a submission should not wait for one.
    settings.LAB_PREDICT_WAIT_SECONDS = 0


def _stored_files(settings):
    folder = settings.MEDIA_ROOT / "predictions"
    return list(folder.rglob("*")) if folder.exists() else []


# --- Courses -----------------------------------------------------------------------------


def test_a_student_joins_by_code_in_any_case_and_spacing(client, instructor, student_b):
    course = Course.objects.create(name="Hangul 101", owner=instructor)
    client.force_login(student_b)
    code = course.join_code.lower()
    response = client.post(reverse("classifier:course-join"), {"code": f" {code[:4]} {code[4:]} "})
    assert response["Location"] == course.get_absolute_url()
    assert course.has_student(student_b)
    assert "Hangul 101" in client.get(reverse("classifier:course-list")).content.decode()

    again = client.post(reverse("classifier:course-join"), {"code": course.join_code})
    assert "already in Hangul 101" in flash_messages(again)
    wrong = client.post(reverse("classifier:course-join"), {"code": "NOPE2345"})
    assert "No course has the join code NOPE2345" in flash_messages(wrong)
    assert Enrollment.objects.filter(student=student_b).count() == 1


def test_instructors_create_courses_and_see_the_join_code(client, instructor, student_a):
    client.force_login(instructor)
    response = client.post(reverse("classifier:course-list"), {"name": "Hangul 101"})
    course = Course.objects.get()
    assert response["Location"] == course.get_absolute_url() and course.owner == instructor
    Enrollment.objects.create(course=course, student=student_a)
    page = client.get(course.get_absolute_url()).content.decode()
    assert course.join_code in page and "student_a" in page
    assert "train one first" in page  # nothing to publish yet

    client.force_login(student_a)
    assert client.post(reverse("classifier:course-list"), {"name": "Mine"}).status_code == 403
    assert Course.objects.count() == 1


def test_students_see_only_the_courses_they_joined(
    client, course, assignment, student_a, student_b, instructor
):
    teacher = User.objects.create_user("teacher2")
    teacher.groups.add(Group.objects.get_or_create(name=INSTRUCTOR)[0])
    other = Course.objects.create(name="Other class", owner=teacher)
    client.force_login(student_a)
    page = client.get(reverse("classifier:course-list")).content.decode()
    assert "Hangul 101" in page and "Other class" not in page
    assert client.get(other.get_absolute_url()).status_code == 404
    course_page = client.get(course.get_absolute_url()).content.decode()
    assert "Week 1" in course_page and course.join_code not in course_page
    assert f"?model={assignment.grader_id}" in course_page  # published: predict with it

    client.force_login(student_b)
    assert client.get(course.get_absolute_url()).status_code == 404
    outside = client.get(assignment.get_absolute_url())  # a link shared by a classmate
    assert outside.status_code == 403 and "Week 1" not in outside.content.decode()
    assert "belongs to a course you have not joined" in outside.content.decode()

    client.force_login(other.owner)  # another instructor
    assert client.get(course.get_absolute_url()).status_code == 404
    assert client.get(reverse("classifier:gradebook", args=[assignment.pk])).status_code == 404


def test_teaching_pages_are_refused_to_students(client, course, assignment, student_a, grader):
    client.force_login(student_a)
    pk = assignment.pk
    for name, args in [
        ("assignment-new", [course.pk]),
        ("gradebook", [pk]),
        ("gradebook-csv", [pk]),
        ("regrade-status", [pk]),
        ("dataset-handwriting", []),
    ]:
        assert client.get(reverse(f"classifier:{name}", args=args)).status_code == 403, name
    for name, args in [("course-publish", [course.pk]), ("assignment-regrade", [pk])]:
        assert client.post(reverse(f"classifier:{name}", args=args)).status_code == 403, name
    assert not Regrade.objects.exists()


def test_instructor_publishes_a_finished_model(client, course, instructor):
    job = make_grader(instructor, chars="라호", name="other")
    client.force_login(instructor)
    response = client.post(reverse("classifier:course-publish", args=[course.pk]), {"job": job.pk})
    assert response["Location"] == course.get_absolute_url()
    assert list(course.published_models.all()) == [job]
    assert f"#{job.pk}" in client.get(course.get_absolute_url()).content.decode()


# --- Assignments -------------------------------------------------------------------------


def _assignment_form(grader, **extra):
    data = {
        "title": "Week 2",
        "instructions": "Write neatly.",
        "chars": "가, 나",
        "grader": grader.pk,
        "due_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "attempts_allowed": "3",
        "accept_late": "on",
    }
    data.update(extra)
    return data


def test_an_assignment_is_created_from_the_form(client, course, grader, instructor):
    client.force_login(instructor)
    url = reverse("classifier:assignment-new", args=[course.pk])
    assert 'type="datetime-local"' in client.get(url).content.decode()
    response = client.post(url, _assignment_form(grader))
    assignment = Assignment.objects.get()
    assert response["Location"] == assignment.get_absolute_url()
    assert assignment.chars == ["가", "나"] and assignment.course == course
    assert assignment.accept_late and assignment.attempts_allowed == 3


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"chars": "가힣뷁"}, "chars", "does not know 힣 뷁; it knows 가 나 다"),
        ({"chars": "가a"}, "chars", "Only precomposed Hangul syllables"),
        ({"attempts_allowed": "21"}, "attempts_allowed", "less than or equal to 20"),
        ({"attempts_allowed": "0"}, "attempts_allowed", "greater than or equal to 1"),
    ],
)
def test_the_assignment_form_explains_bad_input(
    client, course, grader, instructor, extra, field, message
):
    client.force_login(instructor)
    url = reverse("classifier:assignment-new", args=[course.pk])
    response = client.post(url, _assignment_form(grader, **extra))
    assert message in " ".join(response.context["form"].errors[field])
    assert not Assignment.objects.exists()


def test_only_published_models_grade(client, course, grader, instructor):
    unpublished = make_grader(instructor, chars="가나", name="unpublished")
    client.force_login(instructor)
    url = reverse("classifier:assignment-new", args=[course.pk])
    response = client.post(url, _assignment_form(unpublished))
    assert "grader" in response.context["form"].errors
    course.published_models.clear()
    assert "Publish a finished model" in client.get(url).content.decode()
    assert not Assignment.objects.exists()


# --- Submissions -------------------------------------------------------------------------


def test_a_submission_is_stored_and_queued(
    client, assignment, student_a, settings, django_capture_on_commit_callbacks
):
    client.force_login(student_a)
    url = reverse("classifier:assignment-submit", args=[assignment.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"char": "나", "canvas": drawing_of("나")})
    submission = Prediction.objects.get()
    assert response["Location"] == submission.get_absolute_url()
    assert len(callbacks) == 1  # sent to the predict queue on commit
    assert (submission.expected, submission.attempt, submission.late) == ("나", 1, False)
    assert submission.original_path.exists() and submission.input_path.exists()

    page = client.get(assignment.get_absolute_url()).content.decode()
    status_url = reverse("classifier:prediction-status", args=[submission.pk])
    assert f'data-poll="{status_url}"' in page  # pending: the page follows it
    assert "1 of 2" in page  # attempts used of allowed


def test_late_submissions_are_taken_when_accepted_and_marked(client, assignment, student_a):
    assignment.due_at = timezone.now() - timedelta(hours=1)
    assignment.accept_late = True
    assignment.save()
    client.force_login(student_a)
    photo = SimpleUploadedFile("ga.jpg", photo_of("가"), content_type="image/jpeg")
    client.post(
        reverse("classifier:assignment-submit", args=[assignment.pk]),
        {"char": "가", "image": photo},
    )
    submission = Prediction.objects.get()
    assert submission.late and submission.source == "upload"
    assert submission.original_name == "ga.jpg"


def _past_due(assignment, student):
    assignment.due_at = timezone.now() - timedelta(minutes=5)
    assignment.save()


def _out_of_attempts(assignment, student):
    for attempt in (1, 2):
        graded_submission(assignment, student, "가", "나", attempt=attempt)


def _small_limit(assignment, student, settings):
    settings.LAB_IMAGE_MAX_BYTES = 1000


@pytest.mark.parametrize(
    ("setup", "data", "message"),
    [
        (_past_due, {"char": "가", "canvas": "drawing"}, "it takes no more submissions"),
        (_out_of_attempts, {"char": "가", "canvas": "drawing"}, "used all 2 attempts for 가"),
        (None, {"char": "다", "canvas": "drawing"}, "다 is not one of this assignment"),
        (None, {"char": "가", "canvas": "blank"}, "The canvas is empty"),
        (None, {"char": "가", "image": "text"}, "not an image the lab can read"),
        (_small_limit, {"char": "가", "image": "photo"}, "the limit is 1000"),
        (None, {"char": "가"}, "Upload a photo or draw the character first"),
        (None, {"canvas": "drawing"}, "This field is required"),
    ],
)
def test_refused_submissions_say_why_and_store_nothing(
    client, assignment, student_a, settings, setup, data, message
):
    if setup is _small_limit:
        setup(assignment, student_a, settings)
    elif setup:
        setup(assignment, student_a)
    before = Prediction.objects.count()
    values = {
        "drawing": drawing_of("가"),
        "blank": blank_canvas(),
        "text": SimpleUploadedFile("notes.png", b"just some text", content_type="image/png"),
        "photo": SimpleUploadedFile("ga.jpg", photo_of("가"), content_type="image/jpeg"),
    }
    post = {key: values.get(value, value) for key, value in data.items()}
    client.force_login(student_a)
    response = client.post(reverse("classifier:assignment-submit", args=[assignment.pk]), post)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Prediction.objects.count() == before
    assert _stored_files(settings) == []


def test_only_the_course_s_students_may_submit(client, assignment, student_b, instructor, settings):
    url = reverse("classifier:assignment-submit", args=[assignment.pk])
    client.force_login(student_b)
    refused = client.post(url, {"char": "가", "canvas": drawing_of("가")})
    assert refused.status_code == 403
    assert "belongs to a course you have not joined" in refused.content.decode()
    assert (
        client.post(
            reverse("classifier:assignment-submit", args=[assignment.pk + 99]), {"char": "가"}
        ).status_code
        == 404
    )
    client.force_login(instructor)
    response = client.post(url, {"char": "가", "canvas": drawing_of("가")})
    assert "You are not in the course of this assignment" in response.content.decode()
    assert not Prediction.objects.exists() and _stored_files(settings) == []


def test_a_closed_assignment_shows_no_form(client, assignment, student_a):
    _past_due(assignment, student_a)
    client.force_login(student_a)
    page = client.get(assignment.get_absolute_url()).content.decode()
    assert "This assignment is closed" in page
    assert reverse("classifier:assignment-submit", args=[assignment.pk]) not in page


def test_submissions_are_private_to_the_student_and_the_instructor(
    client, course, assignment, student_a, student_b, instructor
):
    Enrollment.objects.create(course=course, student=student_b)
    submission = graded_submission(assignment, student_a, "가", "가")
    client.force_login(student_b)
    assert client.get(submission.get_absolute_url()).status_code == 404
    client.force_login(instructor)
    assert client.get(submission.get_absolute_url()).status_code == 200
    client.force_login(student_a)
    assert client.get(submission.get_absolute_url()).status_code == 200


def test_the_student_sees_verdicts_and_attempts(client, assignment, student_a):
    graded_submission(assignment, student_a, "가", "나", confidence=0.4, attempt=1)
    latest = graded_submission(assignment, student_a, "가", "가", confidence=0.875, attempt=2)
    client.force_login(student_a)
    response = client.get(assignment.get_absolute_url())
    page = response.content.decode()
    assert response.context["score"] == 1
    assert [t["cell"].verdict for t in response.context["targets"]] == ["correct", "missing"]
    assert latest.get_absolute_url() in page and "87.5%" in page and "2 of 2" in page
    assert "data-poll" not in page  # nothing pending
    # 가 has no attempts left, so the picker offers 나.
    assert response.context["chosen"] == "나"


def _correct_then_wrong(assignment, student):
    """가 read right at the first attempt, then wrong at the second."""
    graded_submission(assignment, student, "가", "가", confidence=0.9, attempt=1)
    return graded_submission(assignment, student, "가", "나", confidence=0.7, attempt=2)


def test_the_best_attempt_counts_by_default_and_a_later_slip_keeps_it_correct(
    client, assignment, student_a, instructor
):
    assert assignment.grade_policy == Assignment.GradePolicy.BEST
    _correct_then_wrong(assignment, student_a)
    (cell, _missing) = services.gradebook(assignment).rows[0].cells
    assert cell.verdict == "correct" and cell.attempts == 2 and cell.submission.attempt == 1
    client.force_login(instructor)
    csv_text = client.get(reverse("classifier:gradebook-csv", args=[assignment.pk])).content
    assert "correct,0.9000,2," in csv_text.decode("utf-8-sig")
    api = client.get(f"/api/assignments/{assignment.pk}/gradebook/").json()
    assert api["rows"][0]["cells"][0]["verdict"] == "correct"
    assert api["rows"][0]["score"] == 1


def test_under_the_latest_attempt_policy_a_later_slip_replaces_the_verdict(
    client, assignment, student_a, instructor
):
    assignment.grade_policy = Assignment.GradePolicy.LATEST
    assignment.save()
    latest = _correct_then_wrong(assignment, student_a)
    (cell, _missing) = services.gradebook(assignment).rows[0].cells
    assert cell.verdict == "incorrect" and cell.submission == latest
    client.force_login(instructor)
    api = client.get(f"/api/assignments/{assignment.pk}/gradebook/").json()
    assert api["rows"][0]["cells"][0]["verdict"] == "incorrect"
    assert client.get(f"/api/assignments/{assignment.pk}/").json()["grade_policy"] == "latest"


def test_the_gradebook_shows_the_answer_that_counts_and_every_attempt_in_order(
    client, assignment, student_a, instructor
):
    steps = [["cropped", "Cropped to the ink"], ["input", "Model input"]]
    first = graded_submission(assignment, student_a, "가", "가", attempt=1, steps=steps)
    second = graded_submission(assignment, student_a, "가", "나", confidence=0.7, attempt=2)
    client.force_login(instructor)
    page = client.get(reverse("classifier:gradebook", args=[assignment.pk])).content.decode()
    thumbnail = reverse("classifier:prediction-step", args=[first.pk, "cropped"])
    assert f'class="thumb" loading="lazy" height="40" src="{thumbnail}"' in page
    history = page[page.index('class="attempts') :]
    assert history.index(first.get_absolute_url()) < history.index(second.get_absolute_url())
    assert 'aria-current="true">1✓</a>' in history and ">2✗</a>" in history


def test_the_assignment_form_sets_the_grade_policy(client, course, grader, instructor):
    client.force_login(instructor)
    url = reverse("classifier:assignment-new", args=[course.pk])
    page = client.get(url)
    assert page.context["form"]["grade_policy"].value() == "best"
    assert 'name="grade_policy" value="latest"' in page.content.decode()
    client.post(url, _assignment_form(grader, grade_policy="latest"))
    assert Assignment.objects.get().grade_policy == Assignment.GradePolicy.LATEST


@pytest.mark.parametrize("policy", ["best", "latest"])
def test_a_character_already_correct_is_submitted_again_only_once_confirmed(
    client, assignment, student_a, policy
):
    assignment.grade_policy = policy
    assignment.save()
    graded_submission(assignment, student_a, "가", "가", confidence=0.9, attempt=1)
    client.force_login(student_a)
    page = client.get(assignment.get_absolute_url())
    assert page.context["chosen"] == "나"  # the first character not yet right
    assert 'name="again"' in page.content.decode()

    url = reverse("classifier:assignment-submit", args=[assignment.pk])
    refused = client.post(url, {"char": "가", "canvas": drawing_of("가")})
    assert refused.status_code == 400 and Prediction.objects.count() == 1
    reason = " ".join(refused.context["form"].non_field_errors())
    assert "가 is already marked correct" in reason and "Tick the box" in reason
    assert ("replaces that verdict" in reason) == (policy == "latest")

    client.post(url, {"char": "가", "canvas": drawing_of("가"), "again": "on"})
    assert Prediction.objects.filter(expected="가").count() == 2


def test_the_api_asks_for_the_same_confirmation(client, assignment, student_a):
    graded_submission(assignment, student_a, "가", "가", confidence=0.9, attempt=1)
    client.force_login(student_a)
    url = f"/api/assignments/{assignment.pk}/submit/"
    refused = client.post(url, {"char": "가", "canvas": drawing_of("가")})
    assert refused.status_code == 400 and "already marked correct" in refused.content.decode()
    accepted = client.post(url, {"char": "가", "canvas": drawing_of("가"), "again": "true"})
    assert accepted.status_code == 201, accepted.content


# --- Doubtful answers, the review queue and the teacher's verdicts -----------------------


FIVE = "가나다라마"


@pytest.fixture
def five(course, instructor):
    """An assignment of 가 and 나 graded by a model that knows five characters."""
    grader = make_grader(instructor, chars=FIVE, name="five")
    course.published_models.add(grader)
    return Assignment.objects.create(
        course=course,
        title="Five",
        chars=["가", "나"],
        grader=grader,
        due_at=timezone.now() + timedelta(days=3),
        attempts_allowed=3,
    )


def _read(assignment, owner, expected, ranking: str, probabilities, attempt=1) -> Prediction:
    """A submission of ``expected`` the model read as the characters of ``ranking`` with
    ``probabilities`` (best first), judged by the grading rule as the worker judges it."""
    chars = list(assignment.grader.classes)
    by_char = dict(zip(ranking, probabilities, strict=True))
    results = {
        "classes": chars,
        "probabilities": [by_char[c] for c in chars],
        "predicted": ranking[0],
        "confidence": probabilities[0],
    }
    submission = Prediction(assignment=assignment, expected=expected)
    return graded_submission(
        assignment,
        owner,
        expected,
        ranking[0],
        confidence=probabilities[0],
        attempt=attempt,
        classes=chars,
        probabilities=results["probabilities"],
        steps=[["original", "Original, upright"], ["input", "Model input"]],
        **grading.grade_fields(submission, assignment.grader, results),
    )


#: Read as 나, the target 가 second: doubtful however sure the model is.
SECOND = ("나가다라마", [0.9, 0.05, 0.03, 0.01, 0.01])
#: Read as 나 with 가 last, but only 40% sure: doubtful under the model's threshold (80%).
UNSURE = ("나다라마가", [0.4, 0.3, 0.2, 0.06, 0.04])
#: Read as 나 with 가 last, 95% sure: incorrect.
SURE = ("나다라마가", [0.95, 0.02, 0.01, 0.01, 0.01])


def test_a_wrong_reading_is_doubtful_with_the_target_second_or_an_unsure_model(five, student_a):
    assert five.review_threshold() == five.grader.review_threshold == 0.8
    second = _read(five, student_a, "가", *SECOND)
    unsure = _read(five, student_a, "가", *UNSURE, attempt=2)
    sure = _read(five, student_a, "가", *SURE, attempt=3)
    assert [sub.verdict for sub in (second, unsure, sure)] == ["review", "review", "incorrect"]
    right_but_unsure = _read(five, student_a, "나", "나가다라마", [0.3, 0.25, 0.2, 0.15, 0.1])
    assert right_but_unsure.verdict == "correct"  # the model's best is the target


def test_the_assignment_s_own_threshold_replaces_the_model_s_and_applies_to_past_answers(
    client, five, student_a, instructor
):
    unsure = _read(five, student_a, "가", *UNSURE)
    five.review_below = 0.3
    five.save()
    assert services.refresh_doubts(five) == 1
    unsure.refresh_from_db()
    assert unsure.verdict == "incorrect"
    client.force_login(instructor)
    page = client.get(five.get_absolute_url()).content.decode()
    assert "less than 30.0% sure" in page


def test_the_model_s_threshold_comes_from_how_right_its_validation_answers_were(five):
    bins = [
        {"lower": 0.8, "upper": 0.9, "count": 40, "confidence": 0.85, "accuracy": 0.6},
        {"lower": 0.9, "upper": 1.0, "count": 200, "confidence": 0.97, "accuracy": 0.97},
    ]
    five.grader.calibration = {"measured": True, "bins_after": bins}
    assert five.grader.review_threshold == 0.9  # right only 60% of the time below 90%


def test_the_best_attempt_counts_a_doubtful_one_over_an_incorrect_one(five, student_a):
    doubtful = _read(five, student_a, "가", *SECOND, attempt=1)
    _read(five, student_a, "가", *SURE, attempt=2)
    (cell, _missing) = services.gradebook(five).rows[0].cells
    assert cell.submission == doubtful and cell.verdict == "review"
    assert services.gradebook(five).to_review == [(services.gradebook(five).rows[0], cell)]


def test_the_teacher_accepts_and_rejects_doubtful_answers_from_the_review_queue(
    client, five, student_a, student_b, instructor
):
    Enrollment.objects.create(course=five.course, student=student_b)
    first = _read(five, student_a, "가", *SECOND)
    second = _read(five, student_b, "나", "가나다라마", [0.5, 0.3, 0.1, 0.05, 0.05])
    _read(five, student_b, "가", *SURE)  # incorrect: not in the queue
    # The worker drew what the model looked at in the first: the teacher sees it too.
    first.explanation = {"model": first.model_id, "maps": {"predicted": "나", "expected": "가"}}
    first.save(update_fields=["explanation"])
    queue = reverse("classifier:review-queue", args=[five.pk])
    client.force_login(student_a)
    assert client.get(queue).status_code == 403
    verdict_url = reverse("classifier:submission-verdict", args=[first.pk])
    assert client.post(verdict_url, {"verdict": "correct"}).status_code == 403

    client.force_login(instructor)
    gradebook_page = client.get(reverse("classifier:gradebook", args=[five.pk])).content.decode()
    assert "Review 2 doubtful answers" in gradebook_page and queue in gradebook_page
    page = client.get(queue)
    assert [cell.submission for _row, cell in page.context["items"]] == [first, second]
    html = page.content.decode()
    for step in ("original", "input"):
        assert reverse("classifier:prediction-step", args=[first.pk, step]) in html
    assert html.count('<svg class="bars"') == 2  # each answer's bar graph, in the page
    for role in ("predicted", "expected"):
        assert reverse("classifier:prediction-saliency", args=[first.pk, role]) in html
    assert html.count("data-saliency=") == 2

    accepted = client.post(
        verdict_url, {"verdict": "correct", "comment": "A fine 가.", "next": queue}
    )
    assert accepted["Location"] == queue
    client.post(
        reverse("classifier:submission-verdict", args=[second.pk]),
        {"verdict": "incorrect", "next": "https://evil.example/"},
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.verdict == "correct" and first.teacher_comment == "A fine 가."
    assert first.reviewed_by == instructor and first.reviewed_at is not None
    assert second.verdict == "incorrect"
    assert client.get(queue).context["items"] == []
    rows = {row.student: row.score for row in services.gradebook(five).rows}
    assert rows == {student_a: 1, student_b: 0}

    # The student sees the verdict as the teacher's, with the comment.
    client.force_login(student_a)
    page = client.get(five.get_absolute_url()).content.decode()
    assert "A fine 가." in page and "by the teacher" in page
    detail = client.get(first.get_absolute_url()).content.decode()
    assert "A fine 가." in detail and "Decided by the teacher (instructor" in detail


def test_the_teacher_overrides_any_verdict_and_can_give_it_back_to_the_model(
    client, five, student_a, instructor
):
    sure = _read(five, student_a, "가", *SURE)
    client.force_login(instructor)
    page = client.get(sure.get_absolute_url())
    assert page.context["verdict_form"] is not None
    url = reverse("classifier:submission-verdict", args=[sure.pk])
    response = client.post(url, {"verdict": "correct", "comment": "Your 가 is right."})
    assert response["Location"] == sure.get_absolute_url()
    sure.refresh_from_db()
    assert sure.verdict == "correct" and sure.teacher_verdict == "correct"
    csv_text = client.get(reverse("classifier:gradebook-csv", args=[five.pk])).content
    assert "correct,0.9500,1,,instructor," in csv_text.decode("utf-8-sig")
    # Overridden again, then handed back to the model.
    client.post(url, {"verdict": "", "comment": ""})
    sure.refresh_from_db()
    assert sure.verdict == "incorrect" and sure.teacher_verdict == ""
    # The teacher's verdict outranks the threshold too.
    client.post(url, {"verdict": "correct"})
    five.review_below = 0.99
    five.save()
    services.refresh_doubts(five)
    sure.refresh_from_db()
    assert sure.verdict == "correct"


def test_a_verdict_is_refused_with_a_reason(client, five, student_a, instructor):
    pending = graded_submission(five, student_a, "가", "", confidence=None, status=JobStatus.QUEUED)
    free = Prediction.objects.create(
        owner=instructor,
        model=five.grader,
        source=Prediction.Source.CANVAS,
        original_file="original.png",
        status=JobStatus.SUCCEEDED,
    )
    client.force_login(instructor)
    response = client.post(
        reverse("classifier:submission-verdict", args=[pending.pk]), {"verdict": "correct"}
    )
    assert "still being graded" in flash_messages(response)
    assert (
        client.post(
            reverse("classifier:submission-verdict", args=[free.pk]), {"verdict": "correct"}
        ).status_code
        == 404
    )
    bad = client.post(
        reverse("classifier:submission-verdict", args=[pending.pk]), {"verdict": "maybe"}
    )
    assert "not one of the available choices" in flash_messages(bad)
    pending.refresh_from_db()
    assert pending.teacher_verdict == ""


def test_the_api_gives_the_teacher_s_verdict(client, five, student_a, instructor):
    doubtful = _read(five, student_a, "가", *SECOND)
    url = f"/api/predictions/{doubtful.pk}/verdict/"
    client.force_login(student_a)
    assert client.get(f"/api/predictions/{doubtful.pk}/").json()["verdict"] == "review"
    assert client.post(url, {"verdict": "correct"}).status_code == 403
    client.force_login(instructor)
    answer = client.post(url, {"verdict": "correct", "comment": "ok"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["verdict"] == "correct" and body["teacher_comment"] == "ok"
    assert body["reviewed_by"] == "instructor"
    book = client.get(f"/api/assignments/{five.pk}/gradebook/").json()
    cell = book["rows"][0]["cells"][0]
    assert cell["verdict"] == "correct" and cell["teacher_verdict"] == "correct"
    assert client.get(f"/api/assignments/{five.pk}/").json()["review_threshold"] == 0.8


# --- Gradebook and regrades --------------------------------------------------------------


@pytest.fixture
def graded_book(course, assignment, student_a, student_b):
    """student_a: 가 correct, 나 incorrect and late; student_b: 가 failed, 나 pending."""
    Enrollment.objects.create(course=course, student=student_b)
    graded_submission(assignment, student_a, "가", "가", confidence=0.9)
    graded_submission(assignment, student_a, "나", "가", confidence=0.6, late=True)
    graded_submission(assignment, student_b, "가", "", confidence=None, status=JobStatus.FAILED)
    graded_submission(assignment, student_b, "나", "", confidence=None, status=JobStatus.QUEUED)
    return assignment


def test_the_gradebook_shows_every_student_and_character(client, graded_book, instructor):
    client.force_login(instructor)
    response = client.get(reverse("classifier:gradebook", args=[graded_book.pk]))
    book = response.context["book"]
    verdicts = {row.student.username: [c.verdict for c in row.cells] for row in book.rows}
    assert verdicts == {"student_a": ["correct", "incorrect"], "student_b": ["failed", "pending"]}
    assert book.correct_per_char == [1, 0]
    page = response.content.decode()
    assert 'class="late"' in page and "90.0%" in page
    assert reverse("classifier:gradebook-csv", args=[graded_book.pk]) in page
    assert f"{reverse('classifier:dataset-handwriting')}?assignment={graded_book.pk}" in page

    summary = client.get(graded_book.get_absolute_url()).content.decode()
    assert reverse("classifier:gradebook", args=[graded_book.pk]) in summary


def test_the_gradebook_csv_opens_in_excel_with_hangul(client, graded_book, instructor):
    client.force_login(instructor)
    response = client.get(reverse("classifier:gradebook-csv", args=[graded_book.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = f'attachment; filename="gradebook-{graded_book.pk}.csv"'
    assert response["Content-Disposition"] == disposition
    assert response.content.startswith("\ufeff".encode())
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "student,name,student number,가 verdict,가 confidence,가 attempts,가 late,"
        "가 reviewed by,나 verdict"
    )
    assert lines[1] == "student_a,,,correct,0.9000,1,,,incorrect,0.6000,1,yes,,1,2"
    assert lines[2] == "student_b,,,failed,,1,,,pending,,1,,,0,2"


def test_no_gradebook_cell_starts_a_spreadsheet_formula(client, graded_book, instructor):
    """Django lets a username start with + - @, and names are free text: opened in a
    spreadsheet, such a cell must stay text (a leading apostrophe), never a formula."""
    student = graded_book.submissions.get(expected="가", owner__username="student_a").owner
    student.username = "@SUM(1+1)"
    student.save()
    Profile.objects.create(
        user=student, real_name='=HYPERLINK("http://x")', student_number="+82-10"
    )
    client.force_login(instructor)
    response = client.get(reverse("classifier:gradebook-csv", args=[graded_book.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert ["'@SUM(1+1)", '\'=HYPERLINK("http://x")', "'+82-10"] in [row[:3] for row in rows]


@pytest.mark.korean
def test_a_korean_instructor_gets_the_gradebook_csv_in_korean(client, graded_book, instructor):
    client.force_login(instructor)
    response = client.get(reverse("classifier:gradebook-csv", args=[graded_book.pk]))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "학생,이름,학번,가 판정,가 신뢰도,가 제출 횟수,가 지각,가 검토자,나 판정"
    )
    assert lines[0].endswith(",점수,만점")
    assert lines[1] == "student_a,,,정답,0.9000,1,,,오답,0.6000,1,예,,1,2"
    assert lines[2] == "student_b,,,채점 실패,,1,,,채점 대기,,1,,,0,2"


def test_a_regrade_is_queued_once_and_followed(
    client, course, graded_book, instructor, django_capture_on_commit_callbacks
):
    second = make_grader(instructor, chars="가나", name="second")
    course.published_models.add(second)
    client.force_login(instructor)
    url = reverse("classifier:assignment-regrade", args=[graded_book.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"grader": second.pk})
    assert response["Location"] == reverse("classifier:gradebook", args=[graded_book.pk])
    regrade = Regrade.objects.get()
    assert len(callbacks) == 1 and regrade.grader == second and regrade.total == 4
    graded_book.refresh_from_db()
    assert graded_book.grader == second  # it grades new submissions too

    again = client.post(url, {"grader": second.pk})
    assert "already running" in flash_messages(again) and Regrade.objects.count() == 1

    status_url = reverse("classifier:regrade-status", args=[graded_book.pk])
    page = client.get(reverse("classifier:gradebook", args=[graded_book.pk])).content.decode()
    assert f'data-poll="{status_url}"' in page and 'data-terminal="0"' in page
    status = client.get(status_url).json()
    assert status["status"] == "QUEUED" and not status["terminal"]
    assert "0 of 4 submissions" in status["fragments"]["progress"]


def test_a_regrade_with_a_model_that_does_not_know_the_characters_is_refused(
    client, course, graded_book, instructor
):
    stranger = make_grader(instructor, chars="가다", name="stranger")  # no 나
    course.published_models.add(stranger)
    client.force_login(instructor)
    response = client.post(
        reverse("classifier:assignment-regrade", args=[graded_book.pk]), {"grader": stranger.pk}
    )
    assert f"Model #{stranger.pk} does not know 나; it knows 가 다." in flash_messages(response)
    graded_book.refresh_from_db()
    assert not Regrade.objects.exists() and graded_book.grader != stranger
    with pytest.raises(Refusal, match="does not know 나"):
        services.start_regrade(graded_book, stranger, instructor)


# --- Handwriting data sets ---------------------------------------------------------------


def test_the_handwriting_data_set_form(client, graded_book, instructor, student_a):
    url = reverse("classifier:dataset-handwriting")
    client.force_login(student_a)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "hand", "assignments": [graded_book.pk]}).status_code == 403

    client.force_login(instructor)
    assert url in client.get(reverse("classifier:dataset-list")).content.decode()
    response = client.post(url, {"name": "hand"})
    assert "assignments" in response.context["form"].errors
    response = client.post(url, {"name": "bad name!", "assignments": [graded_book.pk]})
    assert "name" in response.context["form"].errors
    assert not Dataset.objects.filter(source=Dataset.Source.HANDWRITING).exists()

    form = client.get(url).content.decode()
    assert 'id="id_hidden" checked' in form  # classmates' handwriting: hidden by default
    response = client.post(url, {"name": "hand", "assignments": [graded_book.pk], "hidden": "on"})
    dataset = Dataset.objects.get(name="hand")
    assert dataset.is_hidden
    assert response["Location"] == dataset.get_absolute_url()
    assert dataset.source == Dataset.Source.HANDWRITING and dataset.created_by == instructor
    # The instructor follows the build of their data set before it is finished.
    assert client.get(dataset.get_absolute_url()).status_code == 200
    taken = client.post(url, {"name": "hand", "assignments": [graded_book.pk]})
    assert "already exists" in " ".join(taken.context["form"].errors["name"])


def test_a_data_set_needs_graded_submissions(client, assignment, instructor):
    client.force_login(instructor)
    response = client.post(
        reverse("classifier:dataset-handwriting"), {"name": "hand", "assignments": [assignment.pk]}
    )
    assert "no verified submissions" in " ".join(response.context["form"].errors["assignments"])
    assert not Dataset.objects.filter(name="hand").exists()


def test_the_corpus_holds_verified_answers_only_under_pseudonyms(
    client, five, student_a, student_b, instructor
):
    Enrollment.objects.create(course=five.course, student=student_b)
    right = _read(five, student_a, "가", "가나다라마", [0.9, 0.04, 0.03, 0.02, 0.01])
    also_right = _read(five, student_a, "나", *SURE)  # 나 read as 나
    misread = _read(five, student_a, "가", *SURE, attempt=2)  # 가 read as 나: incorrect
    doubtful = _read(five, student_b, "가", *SECOND)
    services.set_verdict(misread, instructor, "correct")  # the teacher accepts it
    corpus = services.corpus([five])
    assert [(sub, writer) for sub, writer in corpus.samples] == [
        (right, "writer-1"),
        (also_right, "writer-1"),
        (misread, "writer-1"),
    ]
    assert corpus.left_out == {"review": 1}
    services.set_verdict(doubtful, instructor, "correct")
    assert services.corpus([five]).samples[-1] == (doubtful, "writer-2")

    # The grid shows every verified sample; one ticked is left out of the data set.
    client.force_login(instructor)
    url = reverse("classifier:dataset-handwriting")
    page = client.get(url, {"assignment": five.pk})
    assert len(page.context["corpus"].samples) == 4
    html = page.content.decode()
    assert reverse("classifier:prediction-step", args=[right.pk, "input"]) in html
    assert f'name="exclude" value="{misread.pk}"' in html
    response = client.post(
        url, {"name": "clean", "assignments": [five.pk], "exclude": [misread.pk]}
    )
    dataset = Dataset.objects.get(name="clean")
    assert response["Location"] == dataset.get_absolute_url()
    samples = dataset.params["samples"]
    assert [(char, writer) for _path, char, writer in samples] == [
        ("가", "writer-1"),
        ("나", "writer-1"),
        ("가", "writer-2"),
    ]


def test_the_corpus_grid_refuses_a_sample_of_another_course(
    client, five, student_a, instructor, other_instructor
):
    _read(five, student_a, "가", "가나다라마", [0.9, 0.04, 0.03, 0.02, 0.01])
    other_course = Course.objects.create(name="Other", owner=other_instructor)
    grader = make_grader(other_instructor, chars=FIVE, name="other-five")
    theirs = Assignment.objects.create(
        course=other_course,
        title="Theirs",
        chars=["가"],
        grader=grader,
        due_at=timezone.now() + timedelta(days=3),
    )
    stranger = _read(theirs, student_a, "가", "가나다라마", [0.9, 0.04, 0.03, 0.02, 0.01])
    client.force_login(instructor)
    response = client.post(
        reverse("classifier:dataset-handwriting"),
        {"name": "clean", "assignments": [five.pk], "exclude": [stranger.pk]},
    )
    assert response.status_code == 200 and "exclude" in response.context["form"].errors
    assert not Dataset.objects.filter(name="clean").exists()


# --- Confirmations, dates, words ---------------------------------------------------------


def test_the_course_page_asks_before_a_new_code_or_a_removal(
    client, course, assignment, instructor, other_instructor
):
    course.co_instructors.add(other_instructor)
    client.force_login(instructor)
    page = client.get(course.get_absolute_url()).content.decode()
    assert 'data-confirm="Make a new join code? The old code and link stop working.">' in page
    assert (
        'data-confirm="Remove student_a from the course? Their submissions are kept.">Remove<'
        in page
    )
    assert 'data-confirm="Remove other_instructor from the teachers of this course?">' in page
    assert "js/confirm.js" in page


def test_due_dates_are_written_alike_in_both_languages_with_the_time_zone(
    client, course, assignment, instructor, student_a
):
    Assignment.objects.filter(pk=assignment.pk).update(
        due_at=datetime(2026, 12, 7, 5, 5, tzinfo=UTC)
    )
    for user, url in (
        (instructor, course.get_absolute_url()),  # the course's page for its teacher
        (student_a, course.get_absolute_url()),  # and for a student
        (student_a, assignment.get_absolute_url()),
    ):
        client.force_login(user)
        for language in ("en", "ko"):
            page = client.get(url, headers={"accept-language": language}).content.decode()
            assert "2026-12-07 14:05 KST" in page, (user, url, language)


def test_regrading_asks_first_and_its_progress_is_followed_by_status(
    client, course, graded_book, instructor
):
    client.force_login(instructor)
    gradebook = reverse("classifier:gradebook", args=[graded_book.pk])
    page = client.get(gradebook).content.decode()
    assert (
        'data-confirm="Grade every submission again with the chosen model? It grades new '
        'submissions from then on; verdicts a teacher gave stay as they are.">' in page
    )
    # The grading model by the name the training form gives it, its spec in a tooltip.
    assert '<span title="mlp">Tutorial MLP</span>' in page

    second = make_grader(instructor, chars="가나", name="second")
    course.published_models.add(second)
    client.post(
        reverse("classifier:assignment-regrade", args=[graded_book.pk]), {"grader": second.pk}
    )
    Regrade.objects.update(total=1)
    page = client.get(gradebook).content.decode()
    assert 'data-status="QUEUED"' in page
    assert "0 of 1 submission</p>" in " ".join(page.split()).replace(" </p>", "</p>")
