"""Log-in limits: per username and address with growing waits, wider counts that never
slow an account at an address it logged in from, and the client address read through
trusted proxies only."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.test import Client
from django.urls import reverse

from classifier import ratelimit
from classifier.addresses import client_address
from classifier.models import LoginAddress, LoginFailure
from tests.support.processes import run_django

pytestmark = pytest.mark.django_db

RIGHT = "pw-student_a"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LAB_LOGIN_MAX_FAILURES = 5
    settings.LAB_LOGIN_MAX_USER_FAILURES = 20
    settings.LAB_LOGIN_MAX_IP_FAILURES = 20
    settings.LAB_LOGIN_FIRST_DELAY_SECONDS = 15
    settings.LAB_LOGIN_WINDOW_SECONDS = 900
    settings.LAB_TRUSTED_PROXIES = []


def _login(client, username, password, address="10.0.0.1", url=None, **headers):
    return client.post(
        url or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def _logged_in_as(client):
    return client.get(reverse("classifier:job-list")).context["user"].username


def _time_passes(seconds):
    """Every failure counted so far happened ``seconds`` earlier (no test sleeps)."""
    LoginFailure.objects.update(at=F("at") - timedelta(seconds=seconds))


def test_five_failures_slow_the_username_at_that_address_without_checking_the_password(
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
    assert 10 <= int(response["Retry-After"]) <= 15
    page = response.content.decode()
    assert "Too many failed log-ins" in page and "Try again in 15 seconds" in page
    assert client.get(reverse("classifier:job-list")).status_code == 302  # not logged in
    # The same account from another address, and another account, are not slowed.
    assert _login(Client(), "student_a", RIGHT, address="10.0.0.2").status_code == 302
    assert _login(Client(), "student_b", "pw-student_b").status_code == 302


def test_each_failure_past_the_limit_doubles_the_wait(client, student_a, settings):
    settings.LAB_LOGIN_WINDOW_SECONDS = 3600  # long enough that none is forgotten here
    for _ in range(5):
        _login(client, "student_a", "wrong")
    waits = []
    for _ in range(6):
        refused = _login(client, "student_a", "wrong")
        assert refused.status_code == 429
        waits.append(int(refused["Retry-After"]))
        _time_passes(waits[-1])
        assert _login(client, "student_a", "wrong").status_code == 200  # counted
    # 15 s, then doubled, each measured from the last failure.
    expected = [15, 30, 60, 120, 240, 480]
    assert all(e - 5 <= w <= e for w, e in zip(waits, expected, strict=True)), waits
    _time_passes(3600)
    assert _login(client, "student_a", RIGHT).status_code == 302  # all forgotten


def test_the_wait_never_exceeds_the_window(client, student_a, settings):
    window = timedelta(seconds=settings.LAB_LOGIN_WINDOW_SECONDS)
    assert ratelimit.delay_after(5, window) == timedelta(seconds=480)
    assert ratelimit.delay_after(6, window) == window
    assert ratelimit.delay_after(10**6, window) == window
    for _ in range(5):
        _login(client, "student_a", "wrong")
    for _ in range(20):  # failures as fast as a script makes them, in the past
        LoginFailure.objects.create(username="student_a", address="10.0.0.1")
    assert int(_login(client, "student_a", RIGHT)["Retry-After"]) <= 900


def test_a_right_password_forgets_the_failures_from_that_address(client, student_a):
    for _ in range(4):
        _login(client, "student_a", "wrong")
    assert _login(client, "student_a", RIGHT).status_code == 302
    client.logout()
    assert not LoginFailure.objects.exists()
    for _ in range(4):
        assert _login(client, "student_a", "wrong").status_code == 200
    assert _login(client, "student_a", RIGHT).status_code == 302


def test_guesses_spread_over_many_addresses_slow_strangers_but_not_the_owner(client, student_a):
    assert _login(Client(), "student_a", RIGHT, address="10.0.0.5").status_code == 302
    for number in range(20):  # two guesses each from ten addresses
        _login(Client(), "student_a", "wrong", address=f"10.1.0.{number // 2}")
    assert _login(Client(), "student_a", RIGHT, address="10.2.0.1").status_code == 429
    # Where the student logged in before, the guessers' failures do not count.
    assert _login(client, "student_a", RIGHT, address="10.0.0.5").status_code == 302
    assert LoginAddress.objects.filter(user=student_a).count() == 1


def test_failures_from_a_shared_address_do_not_lock_the_class_out(student_a, student_b):
    """A classmate sprays wrong passwords from the classroom's one NAT address."""
    assert _login(Client(), "student_a", RIGHT, address="10.0.0.9").status_code == 302
    for number in range(20):
        assert _login(Client(), f"guess{number}", "wrong", address="10.0.0.9").status_code == 200
    assert _login(Client(), "student_a", RIGHT, address="10.0.0.9").status_code == 302
    # An account new to the address waits; from its own address it does not.
    assert _login(Client(), "student_b", "pw-student_b", address="10.0.0.9").status_code == 429
    assert _login(Client(), "student_b", "pw-student_b", address="10.7.7.7").status_code == 302


def test_successful_logins_from_one_address_never_slow_it(client, student_a):
    for _ in range(25):
        assert _login(client, "student_a", RIGHT).status_code == 302
        client.logout()


def test_behind_a_trusted_proxy_each_client_is_counted_apart(settings, student_a):
    """Every request arrives from the proxy; its X-Forwarded-For tells the clients apart."""
    settings.LAB_TRUSTED_PROXIES = ["172.18.0.0/16"]
    proxy = "172.18.0.1"
    for number in range(25):
        _login(
            Client(), f"guess{number}", "wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9"
        )
    outsider = _login(
        Client(), "student_a", RIGHT, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert outsider.status_code == 429
    student = _login(
        Client(), "student_a", RIGHT, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert student.status_code == 302
    assert LoginAddress.objects.get(user=student_a).address == "198.51.100.7"


def test_an_untrusted_client_cannot_pick_a_fresh_address_with_the_header(student_a):
    for number in range(20):
        _login(
            Client(),
            f"guess{number}",
            "wrong",
            address="10.0.0.3",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number}",
        )
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"10.0.0.3"}
    assert _login(Client(), "student_a", RIGHT, address="10.0.0.3").status_code == 429


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.3", "198.51.100.1", "10.0.0.3"),  # not a proxy: the header is ignored
        ("172.18.0.1", "198.51.100.1", "198.51.100.1"),
        ("172.18.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own say
        ("172.18.0.1", "198.51.100.1, 172.18.0.7", "198.51.100.1"),  # two proxies
        ("172.18.0.1", "198.51.100.1, garbage, 172.18.0.7", "172.18.0.7"),
        ("172.18.0.1", "", "172.18.0.1"),
        ("fd00::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_the_client_address_is_read_through_trusted_proxies_only(
    rf, settings, peer, forwarded, client
):
    settings.LAB_TRUSTED_PROXIES = ["172.18.0.0/16", "fd00::/8"]
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == client


def test_a_trusted_proxy_that_is_no_address_stops_the_lab_starting():
    started = run_django("", LAB_TRUSTED_PROXIES="10.0.0.0/8,proxy.local")
    assert started.returncode != 0
    assert "'proxy.local' is not an address or a CIDR range" in started.stderr


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


def test_refused_attempts_do_not_keep_the_wait_going(client, student_a):
    for _ in range(5):
        _login(client, "student_a", "wrong")
    for _ in range(10):  # someone hammers the slowed account
        assert _login(client, "student_a", "wrong").status_code == 429
    assert LoginFailure.objects.filter(username="student_a").count() == 5
    _time_passes(15)
    assert _login(client, "student_a", RIGHT).status_code == 302
    assert not LoginFailure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_another_web_process_slow_this_one(client, student_a, settings):
    """Every gunicorn worker (and web machine) shares the counts: they are in the database."""
    script = (
        "from django.test import RequestFactory\n"
        "from classifier.ratelimit import LoginAttempt\n"
        "request = RequestFactory().post('/', REMOTE_ADDR='10.0.0.7')\n"
        "print([LoginAttempt(request, 'student_a').refused for _ in range(6)])\n"
    )
    other = run_django(script, settings.DATABASES["default"])
    assert other.stdout.strip() == "[False, False, False, False, False, True]", other.stderr
    assert _login(client, "student_a", RIGHT, address="10.0.0.7").status_code == 429


def test_an_admin_lifts_the_wait_from_the_failed_log_ins_list(staff_client, student_a):
    student = Client()
    for _ in range(5):
        _login(student, "student_a", "wrong")
    assert _login(student, "student_a", RIGHT).status_code == 429
    changelist = reverse("admin:classifier_loginfailure_changelist")
    listing = staff_client.get(changelist, {"q": "student_a"})
    rows = [row.pk for row in listing.context["cl"].result_list]
    assert len(rows) == 5 and "10.0.0.1" in listing.content.decode()
    lifted = staff_client.post(
        changelist, {"action": "lift_waits", "_selected_action": rows[:1]}, follow=True
    )
    assert "Forgot 5 failed log-ins of student_a." in lifted.content.decode()
    assert _login(student, "student_a", RIGHT).status_code == 302
