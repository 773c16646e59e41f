"""The student's journey end to end, in Korean, with real workers: sign up, join a course,
train the Tutorial MLP and watch it learn live, look at the confusion matrix, draw a
character and read the bars, hand in an assignment; then the instructor's gradebook.

It runs on a desktop screen and on a phone (390x844, drawing with a finger). Every step
leaves a full-page screenshot in test-artifacts/journey/ (journey-phone/ for the phone);
the README's few also go to LAB_SCREENSHOTS when it is set.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import expect

from classifier import services
from classifier.models import Assignment, Course, JobStatus, Prediction, TrainingJob
from tests.support.browser import (
    DESKTOP,
    PHONE,
    STROKES_밟,
    draw,
    image_width,
    keep_screenshot,
    log_in,
)
from tests.support.handwriting import TUTORIAL_CHARS, make_font_dataset, make_trained_job

# Not marked korean: the lab's default language is English here (tests/conftest.py), so
# the pages are Korean only because the browser asks for Korean.
pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The README shows the desktop's journey and, of the phone's, the prediction.
SCREENS = {
    "desktop": (DESKTOP, "journey", {}),
    "phone": (PHONE, "journey-phone", {"08-prediction": "phone-prediction"}),
}
STUDENT = "서연"
PASSWORD = "a-long-pass-phrase-7"
# Enough epochs, each long enough (small batches), for the page to show several of them.
EPOCHS = 10
BATCH_SIZE = 2

# Installed on the job page: remembers every text of the progress box and every address
# of the curves image, and sets a marker that a reload would wipe out.
WATCH_JOB_PAGE = """() => {
  window.__marker = 1;
  const seen = (window.__seen = { progress: [], curves: [] });
  const note = (list, value) => { if (list[list.length - 1] !== value) list.push(value); };
  const look = () => {
    note(seen.progress, document.querySelector("#progress").textContent.replace(/\\s+/g, " "));
    note(seen.curves, document.querySelector("img[data-live*=curves]").getAttribute("src"));
  };
  look();
  new MutationObserver(look).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ["src"],
  });
}"""
# Done once the curves were redrawn twice, or at once when the page was reloaded.
CURVES_REDRAWN_TWICE = """() => window.__marker !== 1 ? { reloaded: true }
  : window.__seen.curves.length >= 3 && { reloaded: false, ...window.__seen }"""


def ko(msgid, **params):
    """``msgid`` as the Korean pages say it (with ``params`` filled in); it must be
    translated, or the test would pass on English pages."""
    with translation.override("ko"):
        text = translation.gettext(msgid)
    assert text != msgid, f"{msgid!r} has no Korean translation"
    return text % params if params else text


def shooter(screen):
    """``shot(page, name, readme=None)``: keep a full-page picture of this step, once its
    images have loaded, in ``screen``'s folder of test-artifacts/ and, for the README's
    pictures, in LAB_SCREENSHOTS (as ``readme`` on the desktop, as the screen names it on
    the phone: one screenful, as a student holds it)."""
    _, folder, phone_readme = SCREENS[screen]

    def shot(page, name, readme=None):
        page.wait_for_function("() => Array.from(document.images).every(img => img.complete)")
        (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / folder / f"{name}.png"), full_page=True)
        if screen == "phone" and name in phone_readme:
            keep_screenshot(page, phone_readme[name], full_page=False)
        elif screen == "desktop" and readme:
            keep_screenshot(page, readme)

    return shot


def _epochs_shown(progress_texts):
    """The epoch numbers the Korean progress box showed, in order, without repeats."""
    pattern = re.escape(ko("Epoch %(k)s of %(n)s"))
    pattern = pattern.replace(re.escape("%(k)s"), r"(\d+)").replace(re.escape("%(n)s"), str(EPOCHS))
    shown = [int(k) for text in progress_texts for k in re.findall(pattern, text)]
    return [k for i, k in enumerate(shown) if i == 0 or k != shown[i - 1]]


@pytest.mark.parametrize("screen", SCREENS)
def test_a_student_journey_in_korean(screen, worker, train_worker, new_page, instructor):
    device, shot = SCREENS[screen][0], shooter(screen)
    dataset = make_font_dataset()
    grader = make_trained_job(instructor, dataset)
    course = Course.objects.create(name="한글 기초", owner=instructor)
    services.publish_model(course, grader)
    assignment = Assignment.objects.create(
        course=course,
        title="1주차: 밟과 꺅",
        chars=["밟", "꺅"],
        grader=grader,
        due_at=timezone.now() + timedelta(days=7),
        attempts_allowed=2,
    )
    page = new_page("ko-KR", device)
    message = page.locator("main > .message")

    # Sign up: the pages speak Korean to a Korean browser.
    page.goto("/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.fill("input[name=username]", STUDENT)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    shot(page, "01-sign-up")
    page.click("main form button[type=submit]")
    expect(message).to_have_text(ko("Welcome, %(name)s!", name=STUDENT))
    expect(page.locator(".who")).to_have_text(STUDENT)

    # Join the course with the code the instructor gave.
    page.goto("/courses/")
    page.fill("input[name=code]", course.join_code)
    page.click(f"form[action='{reverse('classifier:course-join')}'] button[type=submit]")
    expect(message).to_have_text(ko("You joined %(course)s.", course=course.name))
    expect(page.locator(f"a[href='{assignment.get_absolute_url()}']")).to_be_visible()
    shot(page, "02-joined-course")

    # Train the Tutorial MLP from the form; its size shows before submitting.
    page.goto("/jobs/new/")
    page.select_option("select[name=dataset]", str(dataset.pk))
    page.check("input[name=model][value=mlp]")
    page.fill("input[name=epochs]", str(EPOCHS))
    page.fill("input[name=batch_size]", str(BATCH_SIZE))
    summary = page.locator("#model-summary strong")
    expect(summary).to_have_text(re.compile(r"\d"))
    k = len(TUTORIAL_CHARS)
    assert int(re.sub(r"\D", "", summary.inner_text())) == 28 * 28 * 128 + 128 + 128 * k + k
    shot(page, "03-training-form")
    page.click("form.job-form button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    job = TrainingJob.objects.get(owner__username=STUDENT)
    expect(message).to_have_text(ko("Job #%(pk)d is queued.", pk=job.pk))

    # Watch it learn: the epoch counter moves and the curves are redrawn, no reload.
    page.evaluate(WATCH_JOB_PAGE)
    seen = page.wait_for_function(CURVES_REDRAWN_TWICE, timeout=120_000).json_value()
    assert not seen["reloaded"], "the job page reloaded before the curves were redrawn twice"
    epochs = _epochs_shown(seen["progress"])
    assert len(epochs) >= 3 and epochs == sorted(epochs), seen["progress"]
    assert len(set(seen["curves"])) >= 3, seen["curves"]
    assert image_width(page.locator("img[data-live*='curves']")) > 100
    shot(page, "04-training-live", readme="journey-training")

    # Finished: the page reloads itself with the results and the confusion matrix.
    confusion = page.locator("img[src$='/confusion.png']")
    expect(confusion).to_be_visible(timeout=120_000)
    expect(page.locator("main h2").first).to_have_text(ko("Results"))
    assert image_width(confusion) > 100
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.epochs_done == EPOCHS
    # What it learned, read through the parts of the syllables and what it looked at.
    expect(page.locator("#jamo")).to_contain_text(ko("The parts of the syllable"))
    if job.mistake_maps_path.exists():  # a job without mistakes has nothing to explain
        maps = page.locator("#mistake-maps img")
        expect(maps).to_be_visible()
        assert image_width(maps) > 100
    shot(page, "05-job-finished", readme="journey-results")
    response = page.goto(confusion.get_attribute("src"))
    assert response.ok and response.headers["content-type"] == "image/png"
    shot(page, "06-confusion-matrix")

    # Draw 밟 for the model just trained: the character it reads and the bars.
    page.goto("/predict/")
    page.select_option("select[name=model]", str(job.pk))
    draw(page, STROKES_밟, finger=screen == "phone")
    # The model reads the drawing while it is drawn, before it is sent.
    live = page.locator("[data-live-reading]")
    expect(live.locator("[data-live-char]")).to_have_text(
        re.compile(f"^[{''.join(TUTORIAL_CHARS)}]$"), timeout=60_000
    )
    assert image_width(live.locator("[data-live-input]")) == 28
    expect(live).to_contain_text(ko("While you draw, the model reads"))
    page.fill("input[name=expected]", "밟")
    shot(page, "07-drawing")
    page.click("form.predict-form button[type=submit]")
    bars = page.locator("#result svg.bars")
    expect(bars).to_be_visible(timeout=60_000)
    prediction = Prediction.objects.get(owner=job.owner, assignment=None)
    assert prediction.status == JobStatus.SUCCEEDED and prediction.predicted in TUTORIAL_CHARS
    expect(page.locator("[data-predicted]")).to_have_text(prediction.predicted)
    expect(bars.locator("rect.bar.predicted")).to_have_count(1)
    expect(bars.locator("text.char")).to_have_count(len(job.classes))
    expect(page.locator("#result")).to_contain_text(ko("The model reads"))
    # What the model looked at follows the answer, live: the map of the character read,
    # and of 밟 when it read another.
    saliency = page.locator("#result img[data-saliency]")
    expect(saliency.first).to_be_visible(timeout=60_000)
    roles = ["predicted"] + (["expected"] if prediction.predicted != "밟" else [])
    expect(saliency).to_have_count(len(roles))
    assert [saliency.nth(n).get_attribute("data-saliency") for n in range(len(roles))] == roles
    assert image_width(saliency.first) == 28  # loaded: the model input, one pixel each
    expect(page.locator("#result .saliency")).to_contain_text(ko("What the model looked at"))
    shot(page, "08-prediction", readme="journey-prediction")

    # Hand in a drawing of 밟 for the assignment and read the verdict.
    page.goto("/courses/")
    page.click(f"a[href='{course.get_absolute_url()}']")
    page.click(f"a[href='{assignment.get_absolute_url()}']")
    page.check("input[name=char][value=밟]")
    draw(page, STROKES_밟, finger=screen == "phone")
    expect(page.locator("[data-live-reading]")).to_have_count(0)  # graded when handed in
    shot(page, "09-assignment")
    submit = reverse("classifier:assignment-submit", args=[assignment.pk])
    page.click(f"form[action='{submit}'] button[type=submit]")
    verdict = page.locator("#result .verdict")
    expect(verdict).to_be_visible(timeout=60_000)
    submission = Prediction.objects.get(assignment=assignment)
    assert submission.status == JobStatus.SUCCEEDED
    shown = {
        "correct": ko("Correct"),
        "incorrect": ko("Not %(char)s", char="밟"),
        "review": ko("Needs review"),
    }
    expect(verdict).to_have_text(shown[submission.verdict])
    expect(message).to_have_text(
        ko("Submitted %(char)s (attempt %(n)d of %(total)d).", char="밟", n=1, total=2)
    )
    expect(page.locator("#result svg.bars rect.bar.predicted")).to_have_count(1)
    shot(page, "10-verdict")

    # The instructor, in a browser of their own, finds the grade in the gradebook.
    teacher = new_page("ko-KR", device)
    log_in(teacher, instructor)
    expect(teacher.locator("html")).to_have_attribute("lang", "ko")
    teacher.goto("/courses/")
    teacher.click(f"a[href='{course.get_absolute_url()}']")
    teacher.click(f"a[href='{reverse('classifier:gradebook', args=[assignment.pk])}']")
    row = teacher.locator("table.gradebook tbody tr").filter(has_text=STUDENT)
    verdicts = row.locator(".verdict")
    labels = {"correct": "correct", "incorrect": "incorrect", "review": "needs review"}
    expect(verdicts).to_have_text([ko(labels[submission.verdict]), ko("missing")])
    expect(row.locator("td").last).to_have_text(f"{int(submission.verdict == 'correct')} / 2")
    shot(teacher, "11-gradebook", readme="journey-gradebook")
