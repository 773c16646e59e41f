"""A real headless Chromium (Debian's, driven by Playwright) against a live test server."""

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Set to a folder to keep screenshots of the pages the tests visit (for the README).
SCREENSHOTS = os.environ.get("LAB_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module; Django's async-safety check is off meanwhile,
    because Playwright's sync API runs an event loop in the test's thread (the ORM
    calls the tests make between browser steps are still synchronous and safe)."""
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: run `make test`, which installs it.")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            # Root in a container, and a closed network: no sandbox, no background calls.
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(locale)``: a page of a new browser context (its own cookies, so its own
    log-in) whose browser speaks ``locale``; the contexts close after the test."""
    contexts = []

    def make(locale):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale=locale
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    # An English-speaking browser: these tests read the English wording.
    return new_page("en-US")


def keep_screenshot(page, name):
    """Keep a full-page picture of ``page`` as ``name``.png when LAB_SCREENSHOTS is set."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def screenshot(page):
    """``screenshot(name)`` keeps a full-page picture of ``page`` (or of another page
    passed as ``of``) when LAB_SCREENSHOTS is set."""

    def take(name, of=None):
        keep_screenshot(of or page, name)

    return take


# 밟 as pen strokes on the 280x280 canvas: ㅂ, ㅏ, then ㄹ and ㅂ below.
STROKES_밟 = [
    [(50, 30), (50, 110)], [(110, 30), (110, 110)], [(50, 70), (110, 70)],
    [(50, 110), (110, 110)], [(170, 20), (170, 140)], [(170, 80), (205, 80)],
    [(40, 160), (120, 160), (120, 190), (40, 190), (40, 222), (120, 222)],
    [(150, 160), (150, 232)], [(222, 160), (222, 232)], [(150, 196), (222, 196)],
    [(150, 232), (222, 232)],
]  # fmt: skip


def draw(page, strokes):
    """Draw ``strokes`` (lists of points on a 280x280 grid) on the page's canvas with
    the mouse, as a student would."""
    box = page.locator("canvas[data-canvas]").bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        (x, y), *rest = stroke
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=6)
        page.mouse.up()


def log_in(page, user):
    """Log ``user`` (made by tests/conftest.py, password ``pw-<username>``) in through
    the form."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "pw-" + user.username)
    page.click("main form button[type=submit]")
    expect(page.locator(".who")).to_have_text(user.username)


def image_width(image, timeout=20_000):
    """The natural width of the <img> ``image`` (a locator) once it shows and has
    loaded; 0 when nothing it was given loaded within ``timeout`` ms.

    A live image (a job's curves, the comparison) may be given a new version while
    the last one decodes, which leaves it empty for a moment: so the width is asked
    again until one version has loaded.
    """
    expect(image).to_be_visible(timeout=timeout)
    deadline = time.monotonic() + timeout / 1000
    while True:
        width = image.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)")
        if width or time.monotonic() > deadline:
            return width
        time.sleep(0.2)
