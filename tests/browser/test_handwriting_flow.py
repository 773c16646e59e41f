"""A student joins a course, draws 밟 and photographs 꺅 for an assignment, sees the bars and
the verdicts; the instructor sees both in the gradebook and exports it (issue 4's "done"),
reviews a doubtful answer and overrides a verdict, and the student reads the comments."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from classifier import services
from classifier.models import Assignment, Course, JobStatus, Prediction
from tests.support.browser import STROKES_밟, draw, image_width, log_in
from tests.support.handwriting import make_font_dataset, make_trained_job, photo_of

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _bars_shown(page):
    """The result's bar graph (SVG in the page, named by its title) shows, one bar red."""
    bars = page.get_by_role("img", name=re.compile("Probability of each character"))
    expect(bars).to_be_visible(timeout=60_000)
    expect(bars.locator("rect.bar.predicted")).to_have_count(1)


def test_student_draws_and_photographs_then_the_instructor_grades(
    worker, page, new_page, student_a, instructor, screenshot
):
    model = make_trained_job(instructor, make_font_dataset())
    course = Course.objects.create(name="Hangul 101", owner=instructor)
    services.publish_model(course, model)
    assignment = Assignment.objects.create(
        course=course,
        title="Week 1: 밟 and 꺅",
        chars=["밟", "꺅"],
        grader=model,
        due_at=timezone.now() + timedelta(days=7),
        attempts_allowed=2,
        review_below=1.0,  # the teacher looks at every answer read as another character
    )

    log_in(page, student_a)
    page.goto("/courses/")
    page.fill("input[name=code]", course.join_code.lower())
    page.get_by_role("button", name="Join").click()
    page.get_by_role("link", name=assignment.title).click()

    page.check("input[name=char][value=밟]")
    draw(page, STROKES_밟)
    page.get_by_role("button", name="Submit").click()
    _bars_shown(page)
    expect(page.get_by_text("Top 5")).to_be_visible()
    expect(page.locator("#steps figure")).to_have_count(6)
    screenshot("prediction")

    # The student photographs 밟 by mistake and hands it in as 꺅.
    page.goto(assignment.get_absolute_url())
    page.check("input[name=char][value=꺅]")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "kkyak.jpg", "mimeType": "image/jpeg", "buffer": photo_of("밟")}],
    )
    page.get_by_role("button", name="Submit").click()
    _bars_shown(page)

    submissions = Prediction.objects.filter(assignment=assignment, owner=student_a)
    assert sorted(submissions.values_list("expected", "source")) == [
        ("꺅", "upload"),
        ("밟", "canvas"),
    ]
    assert all(s.status == JobStatus.SUCCEEDED for s in submissions)
    drawn, photo = submissions.get(expected="밟"), submissions.get(expected="꺅")
    assert photo.predicted != "꺅" and photo.verdict == "review"
    page.goto(assignment.get_absolute_url())
    for submission in submissions:
        row = page.locator("tr").filter(has=page.locator("td", has_text=submission.expected))
        expect(row.first).to_contain_text(submission.verdict_label)

    teacher_page = new_page("en-US")
    log_in(teacher_page, instructor)
    teacher_page.goto(f"/assignments/{assignment.pk}/gradebook/")
    row = teacher_page.locator("tr").filter(has_text=student_a.username)
    expect(row).to_contain_text(f"{sum(s.verdict == 'correct' for s in submissions)}")
    with teacher_page.expect_download() as download:
        teacher_page.get_by_role("link", name="Download CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["student"] for r in rows] == [student_a.username]
    for submission in submissions:
        assert rows[0][f"{submission.expected} verdict"] == submission.verdict_label
    screenshot("gradebook", of=teacher_page)

    # The doubtful 꺅 waits in the review queue, with what the student handed in; the
    # teacher rejects it with a comment.
    teacher_page.get_by_role("link", name="Review 1 doubtful answer").click()
    item = teacher_page.locator(f"#submission-{photo.pk}")
    assert image_width(item.get_by_alt_text("What the student handed in"), timeout=30_000) > 0
    item.get_by_label("Comment for the student").fill("This is 밟; 꺅 starts with ㄲ.")
    screenshot("review", of=teacher_page)
    item.get_by_role("button", name="Reject").click()
    expect(teacher_page.get_by_text("Nothing to review")).to_be_visible()
    photo.refresh_from_db()
    assert photo.verdict == "incorrect" and photo.reviewed_by == instructor

    # The teacher overrides the model's verdict on the drawing, on its page.
    overridden = "incorrect" if drawn.verdict == "correct" else "correct"
    teacher_page.goto(drawn.get_absolute_url())
    teacher_page.check(f"input[name=verdict][value={overridden}]")
    teacher_page.get_by_label("Comment for the student").fill("Checked by hand.")
    teacher_page.get_by_role("button", name="Save the verdict").click()
    expect(teacher_page.locator("#result")).to_contain_text("Decided by the teacher")
    screenshot("override", of=teacher_page)
    drawn.refresh_from_db()
    assert drawn.teacher_verdict == overridden

    # The course page: the join link and its QR code, the students and the roster.
    teacher_page.goto(course.get_absolute_url())
    assert image_width(teacher_page.get_by_alt_text("QR code of the join link")) > 0
    expect(teacher_page.locator("input.join-link")).to_have_value(
        re.compile(f"/courses/join/{course.join_code}/$")
    )
    screenshot("course", of=teacher_page)

    # The student sees both verdicts as the teacher's, with the comments.
    page.goto(assignment.get_absolute_url())
    expect(page.get_by_text("This is 밟; 꺅 starts with ㄲ.")).to_be_visible()
    expect(page.get_by_text("Checked by hand.")).to_be_visible()
    expect(page.locator(".overridden")).to_have_count(2)
