"""What the browser tests do with a page: log in, draw on the canvas, wait for an image,
keep a screenshot. The browser and its pages are ``tests/browser/conftest.py``'s fixtures."""

import os
import time
from pathlib import Path

from playwright.sync_api import expect

# Set to a folder to keep screenshots of the pages the tests visit (for the README).
SCREENSHOTS = os.environ.get("LAB_SCREENSHOTS")


def keep_screenshot(page, name, *, full_page=True):
    """Keep a picture of ``page`` (all of it, or what the screen shows) as ``name``.png
    when LAB_SCREENSHOTS is set."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=full_page)


#: The screens the browser tests use: a desktop's, and a phone's (the size of most phones
#: students photograph their handwriting with; touch, no mouse).
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}

# 밟 as pen strokes on the 280x280 canvas: ㅂ, ㅏ, then ㄹ and ㅂ below.
STROKES_밟 = [
    [(50, 30), (50, 110)],
    [(110, 30), (110, 110)],
    [(50, 70), (110, 70)],
    [(50, 110), (110, 110)],
    [(170, 20), (170, 140)],
    [(170, 80), (205, 80)],
    [(40, 160), (120, 160), (120, 190), (40, 190), (40, 222), (120, 222)],
    [(150, 160), (150, 232)],
    [(222, 160), (222, 232)],
    [(150, 196), (222, 196)],
    [(150, 232), (222, 232)],
]


def draw(page, strokes, *, finger=False):
    """Draw ``strokes`` (lists of points on a 280x280 grid) on the page's canvas as a
    student would: with the mouse, or with a finger on a touch screen (``finger``, as
    Chromium's own touch events: Playwright's API only taps)."""
    canvas = page.locator("canvas[data-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / 280

    def at(x, y):
        return box["x"] + x * scale, box["y"] + y * scale

    if finger:
        touch = page.context.new_cdp_session(page)
        for stroke in strokes:
            for kind, (x, y) in zip(
                ("touchStart", *["touchMove"] * (len(stroke) - 1)), stroke, strict=True
            ):
                x, y = at(x, y)
                touch.send(
                    "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]}
                )
            touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        touch.detach()
        return
    for stroke in strokes:
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(*at(x, y), steps=6)
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
