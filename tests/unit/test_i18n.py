"""The Korean interface: a complete catalogue, Korean pages by default, a language menu.

Tests marked ``korean`` keep the lab's real default language; the expected Korean is
looked up in the compiled catalogue (``translation.override("ko")``) rather than copied
here, and is checked to differ from the English, so a missing translation fails.
"""

import ast
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from classifier import services
from classifier.models import JobStatus, TrainingJob
from tests.support.datasets import make_dataset
from tests.support.i18n import korean

PO_FILE = Path(settings.LOCALE_PATHS[0]) / "ko" / "LC_MESSAGES" / "django.po"
HTML_KO = '<html lang="ko">'
HTML_EN = '<html lang="en">'
# A Python-format placeholder: %(name)s, %(n)d, %(most).3g, %s, %d, or a literal %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: their fields (msgid, msgstr[0], ...) and flags.

    Comments, obsolete entries (``#~``) included, are skipped.
    """
    entries, entry, key = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry and entry["fields"]:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry or {"fields": {}, "flags": set()}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry["fields"][key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry["fields"][key] = ast.literal_eval(value)
    return entries


def catalogue() -> list[dict]:
    """The Korean catalogue's messages, without its header."""
    entries = read_po(PO_FILE)
    assert entries[0]["fields"]["msgid"] == ""
    return entries[1:]


def page(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


# --- The catalogue ---------------------------------------------------------------


def test_catalogue_header_is_korean():
    header = read_po(PO_FILE)[0]
    assert not header["flags"]
    assert "Language: ko\n" in header["fields"]["msgstr"]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header["fields"]["msgstr"]


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = catalogue()
    assert len(entries) > 300
    untranslated = [
        entry["fields"]["msgid"]
        for entry in entries
        if not all(value for key, value in entry["fields"].items() if key.startswith("msgstr"))
    ]
    fuzzy = [entry["fields"]["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_plural_messages_have_the_one_korean_form():
    plurals = [entry for entry in catalogue() if "msgid_plural" in entry["fields"]]
    assert plurals
    for entry in plurals:
        forms = sorted(key for key in entry["fields"] if key.startswith("msgstr"))
        assert forms == ["msgstr[0]"], entry["fields"]["msgid"]


def test_translations_keep_every_placeholder():
    """A lost or misspelt %(name)s would raise KeyError, or drop a value, on the page."""
    mismatched = []
    for entry in catalogue():
        fields = entry["fields"]
        wanted = set(PLACEHOLDER.findall(fields["msgid"]))
        if "msgid_plural" in fields:
            wanted |= set(PLACEHOLDER.findall(fields["msgid_plural"]))
        for key, value in fields.items():
            if key.startswith("msgstr") and set(PLACEHOLDER.findall(value)) != wanted:
                mismatched.append((fields["msgid"], value))
    assert mismatched == []


def test_translations_keep_the_html_tags():
    # Real tags only: messages also write placeholders such as <filters> for people.
    tag = re.compile(r"</?(?:a|b|br|code|em|i|p|span|strong)\b[^>]*>")
    for entry in catalogue():
        fields = entry["fields"]
        msgstr = fields.get("msgstr", fields.get("msgstr[0]"))
        assert sorted(tag.findall(msgstr)) == sorted(tag.findall(fields["msgid"])), msgstr


def test_msgfmt_accepts_the_catalogue():
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is missing: install gettext (make setup does)"
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


# --- Korean by default, English on request ------------------------------------------


@pytest.mark.korean
@pytest.mark.django_db
def test_login_page_is_korean_without_accept_language(client):
    html = page(client, reverse("login"))
    assert HTML_KO in html
    assert korean("Log in") in html
    assert korean("Create an account") in html
    assert "New here?" not in html


@pytest.mark.korean
def test_students_main_pages_are_korean(client, student_a):
    dataset = make_dataset(name="tiny", chars="가나다", per_char=1500)
    client.force_login(student_a)
    job = TrainingJob.objects.create(
        owner=student_a, dataset=dataset, model_spec="mlp", status=JobStatus.SUCCEEDED
    )
    jobs = page(client, reverse("classifier:job-list"))
    assert HTML_KO in jobs
    assert f"<h1>{korean('Training jobs')}</h1>" in jobs
    assert korean("Succeeded") in jobs
    assert korean("Best validation accuracy") in jobs
    # Moments read the same in both languages (test_moments_read_alike_in_every_language).
    created = timezone.localtime(job.created_at)
    assert f"{created:%Y-%m-%d %H:%M} {created.tzname()}" in jobs

    new_job = page(client, reverse("classifier:job-new"))
    for label in ("Learning rate", "Batch size", "Optimizer", "Validation split"):
        assert korean(label) in new_job
    assert "Learning rate" not in new_job

    datasets = page(client, reverse("classifier:dataset-list"))
    # Large numbers follow the Korean locale: 4,500 samples.
    assert korean("Samples") in datasets and "4,500" in datasets
    assert korean("Your predictions") in page(client, reverse("classifier:prediction-list"))
    courses = page(client, reverse("classifier:course-list"))
    assert korean("Join a course") in courses and "Join a course" not in courses


@pytest.mark.korean
def test_numbers_and_durations_follow_the_korean_locale(client, student_a):
    finished = timezone.now()
    job = TrainingJob.objects.create(
        owner=student_a,
        dataset=make_dataset(),
        model_spec="mlp",
        status=JobStatus.SUCCEEDED,
        param_count=1234567,
        started_at=finished - timedelta(seconds=3725),
        finished_at=finished,
    )
    client.force_login(student_a)
    html = page(client, job.get_absolute_url())
    assert korean("%(n)s parameters") % {"n": "1,234,567"} in html
    assert korean("%(h)d h %(min)d min") % {"h": 1, "min": 2} in html
    assert "1 h 2 min" not in html


@pytest.mark.korean
@pytest.mark.django_db
def test_an_english_browser_gets_english(client):
    html = page(client, reverse("login"), accept_language="en-US,en;q=0.9")
    assert HTML_EN in html
    assert "New here?" in html
    assert korean("Create an account") not in html


# --- The language menu --------------------------------------------------------------


@pytest.mark.korean
def test_language_menu_switches_and_is_remembered_for_a_year(client, student_a):
    client.force_login(student_a)
    jobs = reverse("classifier:job-list")
    assert 'action="/i18n/setlang/"' in page(client, jobs)

    response = client.post(reverse("set_language"), {"language": "en", "next": jobs})
    assert response.status_code == 302 and response["Location"] == jobs
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) == 365 * 24 * 60 * 60
    html = page(client, jobs)  # no Accept-Language: the cookie alone decides
    assert HTML_EN in html and "<h1>Training jobs</h1>" in html

    client.post(reverse("set_language"), {"language": "ko", "next": jobs})
    html = page(client, jobs, accept_language="en")  # the choice beats the browser's
    assert HTML_KO in html and f"<h1>{korean('Training jobs')}</h1>" in html


@pytest.mark.korean
@pytest.mark.django_db
@pytest.mark.parametrize("language", ["xx", "", "en<script>", "ko-KR/../en"])
def test_an_unknown_language_is_refused_cleanly(client, language):
    login = reverse("login")
    response = client.post(reverse("set_language"), {"language": language, "next": login})
    assert response.status_code == 302 and response["Location"] == login
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert HTML_KO in page(client, login)


@pytest.mark.korean
@pytest.mark.django_db
def test_a_language_the_lab_does_not_offer_is_ignored(client):
    """Django knows German and keeps the choice, but the lab answers in its own languages."""
    login = reverse("login")
    client.post(reverse("set_language"), {"language": "de", "next": login})
    assert HTML_KO in page(client, login)
    assert HTML_EN in page(client, login, accept_language="de, en;q=0.5")


@pytest.mark.korean
@pytest.mark.django_db
def test_the_language_menu_does_not_redirect_off_site(client):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


# --- Failure reasons stored by the worker -------------------------------------------


@pytest.mark.korean
def test_a_failure_reason_reads_in_each_readers_language(client, student_a):
    """The worker stores the ml message's template; each reader gets their language."""
    dataset = make_dataset(name="tiny", chars="가나다", groups=("S", "G"))
    job = TrainingJob.objects.create(
        owner=student_a, dataset=dataset, model_spec="mlp", split="group:Q", epochs=1
    )
    services.run_training_job(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "No group %(unknown)s; the groups are %(groups)s."
    assert job.error_params == {"unknown": "Q", "groups": "G, S"}

    english = "No group Q; the groups are G, S."
    in_korean = korean(job.error) % job.error_params
    with translation.override("ko"):
        assert job.error_text == in_korean
    with translation.override("en"):
        assert job.error_text == english

    client.force_login(student_a)
    url = job.get_absolute_url()
    assert in_korean in page(client, url)
    assert english in page(client, url, accept_language="en")


@pytest.mark.korean
def test_error_pages_speak_the_readers_language(client, student_a, student_b, settings):
    settings.DEBUG = False
    theirs = TrainingJob.objects.create(
        owner=student_b,
        dataset=make_dataset(name="tiny"),
        model_spec="mlp",
        split="stratified:0.2",
        epochs=1,
    )
    client.force_login(student_a)
    for url, status, title in (
        (theirs.get_absolute_url(), 404, "Not found"),  # another student's job
        ("/no/such/page/", 404, "Not found"),
        (reverse("classifier:dataset-import"), 403, "Not allowed"),  # admins only
    ):
        response = client.get(url)
        text = response.content.decode()
        assert response.status_code == status and HTML_KO in text, url
        assert f"<h1>{korean(title)}</h1>" in text and korean("Back to the lab") in text, url
        assert "<h1>Not Found</h1>" not in text
        english = client.get(url, headers={"accept-language": "en"}).content.decode()
        assert HTML_EN in english and f"<h1>{title}</h1>" in english, url
    with translation.override("en"):
        assert "Something went wrong" in render_to_string("500.html")
    with translation.override("ko"):
        assert korean("Something went wrong") in render_to_string("500.html")


@pytest.mark.korean
@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_is_explained(settings):
    from django.test import Client

    settings.DEBUG = False
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x"})
    text = response.content.decode()
    assert response.status_code == 403 and korean("The form expired") in text
