"""A student joins a course, draws 밟 and photographs 꺅 for an assignment, sees the bars and
the verdicts; the instructor sees both in the gradebook and exports it (issue 4's "done")."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from classifier import services
from classifier.models import Assignment, Course, JobStatus, Prediction
from tests.browser.conftest import STROKES_밟, draw, image_width, log_in
from tests.handwriting_builders import make_font_dataset, make_trained_job, photo_of

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _bars_loaded(page):
    bars = page.get_by_alt_text(re.compile("Probability of each character"))
    return image_width(bars, timeout=60_000) > 200


def test_student_draws_and_photographs_then_the_instructor_grades(
    worker, page, new_page, student_a, instructor, screenshot
):
    model = make_trained_job(instructor, make_font_dataset())
    course = Course.objects.create(name="Hangul 101", owner=instructor)
    services.publish_model(course, model)
    assignment = Assignment.objects.create(
        course=course, title="Week 1: 밟 and 꺅", chars=["밟", "꺅"], grader=model,
        due_at=timezone.now() + timedelta(days=7), attempts_allowed=2,
    )  # fmt: skip

    log_in(page, student_a)
    page.goto("/courses/")
    page.fill("input[name=code]", course.join_code.lower())
    page.get_by_role("button", name="Join").click()
    page.get_by_role("link", name=assignment.title).click()

    page.check("input[name=char][value=밟]")
    draw(page, STROKES_밟)
    page.get_by_role("button", name="Submit").click()
    assert _bars_loaded(page)
    expect(page.get_by_text("Top 5")).to_be_visible()
    expect(page.locator(".steps figure")).to_have_count(6)
    screenshot("prediction")

    page.goto(assignment.get_absolute_url())
    page.check("input[name=char][value=꺅]")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "kkyak.jpg", "mimeType": "image/jpeg", "buffer": photo_of("꺅")}],
    )
    page.get_by_role("button", name="Submit").click()
    assert _bars_loaded(page)

    submissions = Prediction.objects.filter(assignment=assignment, owner=student_a)
    assert sorted(submissions.values_list("expected", "source")) == [
        ("꺅", "upload"), ("밟", "canvas"),
    ]  # fmt: skip
    assert all(s.status == JobStatus.SUCCEEDED for s in submissions)
    page.goto(assignment.get_absolute_url())
    for submission in submissions:
        verdict = "correct" if submission.correct else "incorrect"
        row = page.locator("tr").filter(has=page.locator("td", has_text=submission.expected))
        expect(row.first).to_contain_text(verdict)

    teacher_page = new_page("en-US")
    log_in(teacher_page, instructor)
    teacher_page.goto(f"/assignments/{assignment.pk}/gradebook/")
    row = teacher_page.locator("tr").filter(has_text=student_a.username)
    expect(row).to_contain_text(f"{sum(bool(s.correct) for s in submissions)}")
    with teacher_page.expect_download() as download:
        teacher_page.get_by_role("link", name="Download CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["student"] for r in rows] == [student_a.username]
    for submission in submissions:
        expected = "correct" if submission.correct else "incorrect"
        assert rows[0][f"{submission.expected} verdict"] == expected
    screenshot("gradebook", of=teacher_page)
