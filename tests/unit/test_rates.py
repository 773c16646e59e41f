"""Rates counted in the broker's Redis: the API's per user and per address, the work a
user may ask for (pages and API), and sign-ups per address; shared by every process and
never in the way when the broker hangs."""

import socket

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from classifier import rates
from tests.support.clients import token_client
from tests.support.jobs import job_form
from tests.support.processes import run_django

pytestmark = pytest.mark.django_db


def test_rates_read_as_drf_writes_them():
    assert rates.parse("600/minute") == (600, 60)
    assert rates.parse("3/s") == (3, 1)
    assert rates.parse("60/hour") == (60, 3600)
    with pytest.raises(ValueError, match="not a rate"):
        rates.parse("fast")


def test_a_count_says_when_its_window_ends(shared_rates):
    assert [rates.count("k", "2/minute") for _ in range(2)] == [0, 0]
    wait = rates.count("k", "2/minute")
    assert 1 <= wait <= 60
    assert rates.count("other", "2/minute") == 0  # per key


@pytest.mark.django_db(transaction=True)
def test_requests_counted_by_another_web_process_count_here(world, settings, shared_rates):
    """Every gunicorn worker counts in the same Redis, not in its own memory."""
    settings.LAB_API_RATE = "3/minute"
    student = world.users["student_a"]
    script = (
        "from classifier import rates\n"
        f"print([rates.count('api:user:{student.pk}', '3/minute') for _ in range(3)])\n"
    )
    other = run_django(
        script, settings.DATABASES["default"], CELERY_BROKER_URL=settings.CELERY_BROKER_URL
    )
    assert other.stdout.strip() == "[0, 0, 0]", other.stderr
    refused = token_client(student).get("/api/datasets/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0


def test_before_log_in_the_api_counts_the_client_address_not_its_header(
    world, settings, shared_rates
):
    settings.LAB_API_RATE = "3/minute"
    client = token_client()
    answers = [
        client.post(
            "/api/token/",
            {"username": f"nobody{n}", "password": "x"},
            REMOTE_ADDR="10.0.0.3",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",  # not from a trusted proxy: ignored
        ).status_code
        for n in range(4)
    ]
    assert answers == [400, 400, 400, 429]
    elsewhere = client.post(
        "/api/token/", {"username": "nobody", "password": "x"}, REMOTE_ADDR="10.0.0.4"
    )
    assert elsewhere.status_code == 400


@pytest.fixture
def hung_broker(settings):
    """A "Redis" that takes connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    settings.LAB_RATE_TIMEOUT = 0.2
    rates._down_until.clear()
    yield settings.CELERY_BROKER_URL
    listener.close()
    rates._down_until.clear()


def test_a_hung_broker_lets_requests_through_and_is_left_alone_a_while(world, hung_broker):
    settings_rate = "1/minute"
    assert rates.count("k", settings_rate) == 0
    assert rates._down_until[hung_broker] > 0  # not asked again for a while
    client = token_client(world.users["student_a"])
    assert [client.get("/api/datasets/").status_code for _ in range(3)] == [200] * 3


def test_work_past_the_rate_is_refused_with_the_reason_on_pages(world, settings, shared_rates):
    settings.LAB_WORK_RATE = "2/minute"
    client = token_client()  # a session client is enough for pages
    client.force_login(world.users["instructor"])
    url = reverse("classifier:gradebook-csv", args=[world.assignment.pk])
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url)
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Too many requests" in page
    assert "more often than it allows (2/minute)" in page
    # The same budget covers every kind of work: an export too.
    export = client.get(reverse("classifier:dataset-export", args=[world.ds.pk]))
    assert export.status_code == 429
    # Another user has a budget of their own.
    client.force_login(world.users["student_a"])
    assert client.get(reverse("classifier:dataset-export", args=[world.ds.pk])).status_code == 200


def test_work_past_the_rate_keeps_the_form_and_says_why(world, settings, shared_rates):
    settings.LAB_WORK_RATE = "1/minute"
    client = token_client()
    client.force_login(world.users["student_a"])
    rates.check_work(world.users["student_a"])  # the budget is spent
    page = client.post(reverse("classifier:job-new"), job_form(world.ds))
    assert page.status_code == 200
    assert "more often than it allows (1/minute)" in page.content.decode()
    assert page.context["form"]["epochs"].value() == "2"  # what was typed is kept


def test_work_past_the_rate_is_a_429_with_the_reason_in_the_api(world, settings, shared_rates):
    settings.LAB_WORK_RATE = "1/minute"
    student = world.users["student_a"]
    rates.check_work(student)
    api = token_client(student)
    answer = api.post(
        "/api/jobs/",
        {"dataset": world.ds.pk, "model": "mlp", "epochs": 2, "val_fraction": 0.25},
        format="json",
    )
    assert answer.status_code == 429 and int(answer["Retry-After"]) >= 1
    assert "more often than it allows (1/minute)" in answer.json()["detail"]


def test_only_drawing_a_comparison_counts_not_serving_it_drawn(
    world, settings, shared_rates, client
):
    settings.LAB_WORK_RATE = "1/minute"
    client.force_login(world.users["student_a"])
    query = {"jobs": [world.job.pk, world.queued_job.pk], "format": "png"}
    url = reverse("classifier:job-compare")
    assert [client.get(url, query).status_code for _ in range(4)] == [200] * 4
    world.job.update_progress(epochs_done=world.job.epochs_done + 1)  # a new figure to draw
    assert client.get(url, query).status_code == 429


def _sign_up(client, name, address="10.0.0.5", next_url=""):
    fields = {
        "username": name,
        "password1": "a-long-pass-phrase-1",
        "password2": "a-long-pass-phrase-1",
    }
    if next_url:
        fields["next"] = next_url
    return client.post(reverse("signup"), fields, REMOTE_ADDR=address)


def test_sign_ups_from_one_address_are_limited(client, settings, shared_rates):
    settings.LAB_SIGNUP_RATE = "2/hour"
    assert _sign_up(client, "new1").status_code == 302
    client.logout()
    assert _sign_up(client, "new2").status_code == 302
    client.logout()
    refused = _sign_up(client, "new3")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many new accounts from this address" in refused.content.decode()
    assert refused.context["form"]["username"].value() == "new3"
    assert not User.objects.filter(username="new3").exists()
    assert _sign_up(client, "new3", address="10.0.0.6").status_code == 302


def test_sign_up_can_be_closed(client, settings):
    settings.LAB_SIGNUP = "closed"
    page = client.get(reverse("signup"))
    assert page.status_code == 403
    assert "ask your instructor for yours" in page.content.decode()
    assert _sign_up(client, "new1").status_code == 403
    assert not User.objects.filter(username="new1").exists()
    assert reverse("signup") not in client.get(reverse("login")).content.decode()


def test_sign_up_can_be_kept_to_course_join_links(client, settings, world):
    settings.LAB_SIGNUP = "join-links"
    link = reverse("classifier:course-join-link", args=[world.course.join_code])
    assert client.get(reverse("signup")).status_code == 403
    assert reverse("signup") not in client.get(reverse("login")).content.decode()
    login_on_the_way = client.get(reverse("login"), {"next": link}).content.decode()
    assert reverse("signup") in login_on_the_way
    stale = reverse("classifier:course-join-link", args=["NOSUCH"])
    assert _sign_up(client, "new1", next_url=stale).status_code == 403
    joined = _sign_up(client, "new2", next_url=link)
    assert joined.status_code == 302 and joined["Location"] == link
    assert client.get(link).status_code == 302
    assert world.course.students.filter(username="new2").exists()
