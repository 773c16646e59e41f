"""Login rate limiting: per username and per address, refused without checking the password."""

import os
import subprocess
import sys
import time
from unittest import mock

import pytest
from django.contrib.auth.backends import ModelBackend
from django.test import Client
from django.urls import reverse

from classifier import ratelimit
from classifier.models import LoginFailure
from tests.support.paths import REPO
from tests.support.workers import database_env

pytestmark = pytest.mark.django_db

RIGHT = "pw-student_a"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LAB_LOGIN_MAX_FAILURES = 5
    settings.LAB_LOGIN_MAX_IP_FAILURES = 20
    settings.LAB_LOGIN_WINDOW_SECONDS = 900


def _login(client, username, password, address="10.0.0.1", url=None):
    return client.post(
        url or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def _logged_in_as(client):
    return client.get(reverse("classifier:job-list")).context["user"].username


def test_five_failures_lock_the_username_without_checking_the_password(
    client, student_a, student_b
):
    for _ in range(5):
        response = _login(client, "student_a", "wrong")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    with mock.patch.object(ModelBackend, "authenticate") as authenticate:
        response = _login(client, "student_a", RIGHT)
    authenticate.assert_not_called()
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 890
    page = response.content.decode()
    assert "Too many failed log-ins" in page and "Try again in 15 minutes" in page
    assert client.get(reverse("classifier:job-list")).status_code == 302  # not logged in
    # Another user, from another address, is not affected.
    other = _login(client, "student_b", "pw-student_b", address="10.0.0.2")
    assert other.status_code == 302


def test_the_lock_ends_when_the_window_has_passed(client, student_a, settings):
    # Long enough that six log-ins fit inside it on a busy machine, short for a test.
    settings.LAB_LOGIN_WINDOW_SECONDS = 2
    for _ in range(5):
        _login(client, "student_a", "wrong")
    assert _login(client, "student_a", RIGHT).status_code == 429
    time.sleep(2.1)
    assert _login(client, "student_a", RIGHT).status_code == 302
    assert _logged_in_as(client) == "student_a"


def test_a_successful_login_clears_the_username_count(client, student_a):
    for _ in range(4):
        _login(client, "student_a", "wrong")
    assert _login(client, "student_a", RIGHT).status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "student_a", "wrong").status_code == 200
    assert _login(client, "student_a", RIGHT).status_code == 302


def test_twenty_failures_from_one_address_lock_it_for_every_username(client, student_a):
    for number in range(20):
        assert _login(client, f"guess{number}", "wrong").status_code == 200
    assert _login(client, "student_a", RIGHT).status_code == 429
    # The same account from elsewhere still logs in: only the address is locked.
    assert _login(client, "student_a", RIGHT, address="10.9.9.9").status_code == 302


def test_successful_logins_from_one_address_do_not_lock_it(client, student_a):
    # A classroom behind one NAT address: only failures count against the address.
    for _ in range(25):
        assert _login(client, "student_a", RIGHT).status_code == 302
        client.logout()


def test_the_admin_login_counts_and_obeys_the_same_limits(client, staff):
    admin_login = reverse("admin:login")
    for _ in range(3):
        _login(client, "staff", "wrong", url=admin_login)
    for _ in range(2):
        _login(client, "staff", "wrong")
    with mock.patch.object(ModelBackend, "authenticate") as authenticate:
        response = _login(client, "staff", "pw-staff", url=admin_login)
    authenticate.assert_not_called()
    assert "Too many failed log-ins" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_attempts_at_once_cannot_slip_under_the_limit(rf, student_a):
    """Each attempt takes its place in the count before the password is checked."""
    request = rf.post("/", REMOTE_ADDR="10.0.0.1")
    attempts = [ratelimit.LoginAttempt(request, "student_a") for _ in range(8)]
    assert [a.refused for a in attempts] == [False] * 5 + [True] * 3


def test_refused_attempts_do_not_keep_the_lock_going(client, student_a, settings):
    settings.LAB_LOGIN_WINDOW_SECONDS = 2
    for _ in range(5):
        _login(client, "student_a", "wrong")
    for _ in range(10):  # someone hammers the locked account
        assert _login(client, "student_a", "wrong").status_code == 429
    assert LoginFailure.objects.filter(kind="user", value="student_a").count() == 5
    time.sleep(2.1)
    assert _login(client, "student_a", RIGHT).status_code == 302
    assert not LoginFailure.objects.filter(kind="user").exists()


@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_another_web_process_lock_this_one(client, student_a, settings):
    """Every gunicorn worker (and web machine) shares the counts: they are in the database."""
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from classifier.ratelimit import LoginAttempt\n"
        "request = RequestFactory().post('/', REMOTE_ADDR='10.0.0.7')\n"
        "print([LoginAttempt(request, 'student_a').refused for _ in range(6)])\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "labsite.settings",
        **database_env(settings.DATABASES["default"]),
    }
    other = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert other.stdout.strip() == "[False, False, False, False, False, True]", other.stderr
    # This process, from another address, finds the username locked.
    response = _login(client, "student_a", RIGHT, address="10.0.0.8")
    assert response.status_code == 429


def test_an_admin_unlocks_an_account_by_deleting_its_failures(staff_client, student_a):
    student = Client()
    for _ in range(5):
        _login(student, "student_a", "wrong")
    assert _login(student, "student_a", RIGHT).status_code == 429
    changelist = reverse("admin:classifier_loginfailure_changelist")
    listing = staff_client.get(changelist, {"q": "student_a"})
    locked = [row.pk for row in listing.context["cl"].result_list]
    assert len(locked) == 5 and "student_a" in listing.content.decode()
    staff_client.post(
        changelist, {"action": "delete_selected", "_selected_action": locked, "post": "yes"}
    )
    assert _login(student, "student_a", RIGHT).status_code == 302
