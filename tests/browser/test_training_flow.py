"""A student signs up, trains two models from the form, watches them learn, compares them."""

import re

import pytest
from playwright.sync_api import expect

from classifier.models import TrainingJob
from tests.support.browser import image_width
from tests.support.datasets import make_dataset

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _sign_up(page, name):
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password1]", "a-long-pass-phrase-7")
    page.fill("input[name=password2]", "a-long-pass-phrase-7")
    page.click("main form button[type=submit]")
    expect(page.get_by_text(f"Welcome, {name}!")).to_be_visible()


def _train(page, *, model, epochs, batch_size, spec=""):
    page.goto("/jobs/new/")
    page.check(f"input[name=model][value={model}]")
    if spec:
        page.fill("input[name=spec]", spec)
    page.fill("input[name=epochs]", str(epochs))
    page.fill("input[name=batch_size]", str(batch_size))
    page.check("input[name=split_kind][value=group]")
    page.check("input[name=held_out][value=G]")  # the data set's own groups, as boxes
    summary = page.locator("#model-summary")
    expect(summary).to_contain_text("parameters")
    params = int(re.sub(r"\D", "", summary.locator("strong").inner_text()))
    page.click("form.job-form button[type=submit]")
    expect(page.get_by_text(re.compile(r"Job #\d+ is queued"))).to_be_visible()
    return params


def test_student_trains_watches_live_and_compares(train_worker, page, screenshot):
    make_dataset("demo", chars="가나다라", per_char=40, size=(16, 16))
    _sign_up(page, "minji")

    params = _train(page, model="mlp", epochs=40, batch_size=4)
    assert params == 16 * 16 * 128 + 128 + 128 * 4 + 4  # shown before submitting
    mlp = TrainingJob.objects.get(model_spec="mlp")
    # The page updates itself: the epoch counter moves and the curves are redrawn with
    # a new version while the job runs, without reloading. The deadlines are for a
    # machine that is busy with other work too; a passing run never waits for them.
    expect(page.get_by_text(re.compile(r"Epoch [2-9]\d? of 40"))).to_be_visible(timeout=180_000)
    curves = page.get_by_alt_text("Loss and accuracy curves")
    first = curves.get_attribute("src")
    expect(curves).not_to_have_attribute("src", first, timeout=120_000)
    # So is the map of where the network puts each character.
    samples = page.locator("img[data-embedding]")
    first = samples.get_attribute("src")
    expect(samples).not_to_have_attribute("src", first, timeout=120_000)
    screenshot("job-running")
    expect(page.get_by_role("heading", name="Results")).to_be_visible(timeout=300_000)
    for image in (
        "Loss and accuracy curves",
        "Confusion matrix",
        "Misclassified validation samples",
    ):
        assert image_width(page.get_by_alt_text(image)) > 100, image
    expect(page.locator("table").filter(has_text="Training samples")).to_contain_text("가")
    # Finished, the map goes back to any epoch with the slider.
    slider = page.locator("[data-embedding-slider]")
    expect(slider).to_have_attribute("max", "40")
    slider.fill("3")
    expect(page.locator("#embedding output")).to_have_text("3")
    expect(samples).to_have_attribute("src", re.compile(r"embedding\.png\?epoch=3$"))
    assert image_width(samples) > 100
    screenshot("job-finished")

    # The second job is compared while it still trains: the plot and the table follow it.
    _train(page, model="cnn", epochs=40, batch_size=4)
    page.goto("/jobs/")
    for job in TrainingJob.objects.all():
        page.check(f"input[name=jobs][value='{job.pk}']")
    page.get_by_role("button", name=re.compile("Compare")).click()
    cnn = TrainingJob.objects.get(model_spec="cnn")
    plot = page.get_by_alt_text("Validation accuracy of the chosen jobs")
    first = plot.get_attribute("src")
    expect(plot).not_to_have_attribute("src", first, timeout=180_000)
    assert image_width(plot, timeout=120_000) > 300
    expect(page.locator("table")).to_contain_text(f"#{mlp.pk}")
    row = page.locator("table tbody tr").filter(has_text=f"#{cnn.pk}")
    expect(row).to_contain_text("Succeeded", timeout=300_000)
    expect(row).to_contain_text("40/40")
    # Once every job has finished, the page reloads with its final plot and stops polling.
    expect(page.locator("#progress[data-terminal='1']")).to_be_attached(timeout=60_000)
    assert image_width(plot, timeout=120_000) > 300
    screenshot("compare")


def test_form_explains_a_bad_spec_before_submitting(page, live_server):
    make_dataset("demo", chars="가나다", per_char=10, size=(16, 16))
    _sign_up(page, "jisoo")
    page.goto("/jobs/new/")
    page.check("input[name=model][value=custom]")
    page.fill("input[name=spec]", "conv8-pool-banana")
    expect(page.locator("#model-summary")).to_contain_text('Unknown layer "banana"')
    page.fill("input[name=spec]", "conv8-pool-dense16")
    expect(page.locator("#model-summary")).to_contain_text("parameters")
    # The demo set lacks the tutorial's characters: no button for them, and typed
    # anyway, they are refused at once, in words.
    expect(page.locator("#pick-tutorial8")).to_be_hidden()
    page.fill("input[name=chars]", "라호댜")
    expect(page.locator("#model-summary")).to_contain_text("Not in demo")
