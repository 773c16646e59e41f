"""The Predict page's webcam: a live picture read by the model as it films, and the photo
taken from it predicted as an upload (Chromium's fake camera films a photo of 밟)."""

import re

import pytest
from playwright.sync_api import expect

from classifier.models import JobStatus, Prediction
from tests.browser.conftest import WEBCAM_CHAR
from tests.support.browser import image_width, log_in
from tests.support.handwriting import make_font_dataset, make_trained_job

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_webcam_is_read_live_and_its_photo_predicted(worker, page, student_a, settings):
    settings.LAB_PREDICT_WAIT_SECONDS = 30  # the first reading loads TensorFlow
    model = make_trained_job(student_a, make_font_dataset())
    log_in(page, student_a)
    page.goto("/predict/")
    page.get_by_role("button", name="Use the webcam").click()
    video = page.locator("[data-webcam-video]")
    page.wait_for_function(
        "() => document.querySelector('[data-webcam-video]').videoWidth > 0", timeout=20_000
    )
    expect(video).to_be_visible()

    # What it films is read as it films: the reading and the model's 28x28 input.
    live = page.locator("[data-live-reading]")
    classes = "".join(model.classes)
    expect(live.locator("[data-live-char]")).to_have_text(
        re.compile(f"^[{classes}]$"), timeout=60_000
    )
    assert image_width(live.locator("[data-live-input]")) == 28

    page.get_by_role("button", name="Take the photo").click()
    expect(video).to_be_hidden()
    assert page.eval_on_selector("input[type=file]", "input => input.files[0].name") == "webcam.jpg"
    page.fill("input[name=expected]", WEBCAM_CHAR)
    page.get_by_role("button", name="Predict").click()
    page.wait_for_url(re.compile(r"/predictions/\d+/$"))
    prediction = Prediction.objects.get(owner=student_a)
    assert prediction.source == "upload" and prediction.original_name == "webcam.jpg"
    expect(page.locator("[data-predicted]")).to_be_visible(timeout=60_000)
    prediction.refresh_from_db()
    assert prediction.status == JobStatus.SUCCEEDED and prediction.predicted in model.classes
