"""Every page on a phone (390x844, touch): the menu folds behind a button, nothing makes
the page wider than the screen (tables scroll in their own box, figures fit), the drawing
area takes the width and a finger draws on it without scrolling the page, and the photo
field lets the student choose the camera or a saved photo."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.support.browser import PHONE, STROKES_밟, draw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What makes the page wider than the screen, if anything: the widest element that sticks
# out, outside boxes that scroll on their own.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = el => el.closest("table, .metrics-scroll");
  const out = [...document.querySelectorAll("body *")]
    .filter(el => !scrolls(el.parentElement || el) && el.getBoundingClientRect().right > width + 1)
    .map(el => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`);
  return { page: document.documentElement.scrollWidth, screen: width, out: out.slice(0, 5) };
}"""


def _pages(w) -> dict[str, list[str]]:
    """The pages each role opens, by role."""
    job, course, assignment = w.job.pk, w.course.pk, w.assignment.pk
    student = [
        reverse("classifier:home"),
        reverse("classifier:job-list"),
        reverse("classifier:job-new"),
        reverse("classifier:job-detail", args=[job]),
        reverse("classifier:job-compare") + f"?jobs={job}&jobs={w.grader.pk}",
        reverse("classifier:leaderboard", args=[w.ds.pk]),
        reverse("classifier:predict"),
        reverse("classifier:prediction-list"),
        reverse("classifier:prediction-detail", args=[w.prediction.pk]),
        reverse("classifier:course-list"),
        reverse("classifier:course-detail", args=[course]),
        reverse("classifier:assignment-detail", args=[assignment]),
        reverse("classifier:prediction-detail", args=[w.submission.pk]),
        reverse("classifier:dataset-list"),
        reverse("classifier:dataset-detail", args=[w.ds.pk]),
        reverse("profile"),
        reverse("password_change"),
        "/no-such-page/",
    ]
    teacher = [
        reverse("classifier:course-detail", args=[course]),
        reverse("classifier:assignment-new", args=[course]),
        reverse("classifier:gradebook", args=[assignment]),
        reverse("classifier:review-queue", args=[assignment]),
        reverse("classifier:dataset-handwriting"),
        reverse("classifier:job-detail", args=[w.grader.pk]),
    ]
    admin = [
        reverse("people"),
        reverse("classifier:dataset-import"),
        reverse("classifier:dataset-import-images"),
        reverse("classifier:dataset-render"),
    ]
    return {"student_a": student, "instructor": teacher, "admin": admin}


def _fits(page, url):
    page.goto(url)
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)")
    text = page.locator("body").inner_text()
    assert "{#" not in text and "{%" not in text, f"{url} shows template code"
    blocked = page.evaluate("() => window.__blocked || []")
    assert not blocked, f"{url}: the Content-Security-Policy blocked {blocked}"
    found = page.evaluate(OVERFLOW)
    assert found["page"] <= found["screen"], f"{url} is wider than the phone: {found}"


def test_every_page_fits_a_phone_with_the_menu_folded(drawn_world, new_page):
    for role, urls in _pages(drawn_world).items():
        page = new_page("ko-KR", PHONE)
        _log_in_folded(page, drawn_world.users[role])
        for url in urls:
            _fits(page, url)
    anonymous = new_page("ko-KR", PHONE)
    anonymous.context.add_init_script(WATCH_THE_POLICY)
    for url in (reverse("login"), reverse("signup"), reverse("password_reset")):
        _fits(anonymous, url)


# Kept by every page: what the Content-Security-Policy refused (a script, style or picture
# the page needs must come from the lab).
WATCH_THE_POLICY = """document.addEventListener("securitypolicyviolation", event => {
  window.__blocked = window.__blocked || [];
  window.__blocked.push(event.violatedDirective + " " + event.blockedURI);
});"""


def _log_in_folded(page, user):
    """Log in on the phone: the menu (with "Log out") is folded until its button opens it,
    and then every entry is on the screen."""
    page.context.add_init_script(WATCH_THE_POLICY)
    page.goto(reverse("login"))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "pw-" + user.username)
    page.click("main form button[type=submit]")
    menu, toggle = page.locator("#site-menu"), page.locator(".menu-toggle")
    expect(toggle).to_be_visible()
    expect(menu).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for entry in (*menu.locator("nav a").all(), menu.locator(".logout button")):
        expect(entry).to_be_visible()
        box = entry.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (entry, box)
        assert box["height"] < 40, f"{entry.inner_text()!r} wraps: {box}"
    toggle.click()
    expect(menu).to_be_hidden()


def test_a_finger_draws_on_a_drawing_area_as_wide_as_the_phone(drawn_world, new_page):
    page = new_page("ko-KR", PHONE)
    _log_in_folded(page, drawn_world.users["student_a"])
    page.goto(reverse("classifier:predict"))
    photo = page.locator("input[type=file][name=image]")
    assert photo.get_attribute("capture") is None, "capture forces the camera, no gallery"
    assert "image/jpeg" in photo.get_attribute("accept")
    canvas = page.locator("canvas[data-canvas]")
    width = canvas.bounding_box()["width"]
    room = canvas.evaluate("c => c.closest('form').getBoundingClientRect().width")
    assert width >= room - 2 and width >= 320, f"the drawing area is {width} px of {room}"
    canvas.scroll_into_view_if_needed()
    before = page.evaluate("() => window.scrollY")
    draw(page, STROKES_밟, finger=True)
    assert page.evaluate("() => window.scrollY") == before, "drawing scrolled the page"
    ink = canvas.evaluate(
        """c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                  let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] < 128; return n; }"""
    )
    assert ink > 2000, f"the finger drew {ink} dark pixels"
