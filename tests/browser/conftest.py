"""A real headless Chromium (Debian's, driven by Playwright) against a live test server."""

import os
from pathlib import Path

import pytest

from tests.support.browser import DESKTOP, keep_screenshot

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


#: What the fake webcam films: a photo of 밟 on paper, as a motion JPEG (one frame).
WEBCAM_CHAR = "밟"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium for one test module; Django's async-safety check is off meanwhile,
    because Playwright's sync API runs an event loop in the test's thread (the ORM
    calls the tests make between browser steps are still synchronous and safe)."""
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: run `make test`, which installs it.")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Root in a container, and a closed network: no sandbox, no background calls.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                # A camera that films a photo of WEBCAM_CHAR, allowed without asking.
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={_webcam_film(tmp_path_factory)}",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(locale, device=DESKTOP)``: a page of a new browser context (its own
    cookies, so its own log-in) whose browser speaks ``locale``, on a desktop screen or a
    phone (``tests.support.browser.PHONE``); the contexts close after the test."""
    contexts = []

    def make(locale, device=DESKTOP):
        context = browser.new_context(base_url=live_server.url, locale=locale, **device)
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


@pytest.fixture
def screenshot(page):
    """``screenshot(name)`` keeps a full-page picture of ``page`` (or of another page
    passed as ``of``) when LAB_SCREENSHOTS is set."""

    def take(name, of=None):
        keep_screenshot(of or page, name)

    return take


def _webcam_film(tmp_path_factory) -> Path:
    from tests.support.handwriting import photo_of

    film = tmp_path_factory.mktemp("webcam") / "film.mjpeg"
    film.write_bytes(photo_of(WEBCAM_CHAR))
    return film
