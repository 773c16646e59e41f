"""Ergonomics: a rejected form gives back what was typed, long lists come in pages, and
long commands show their progress."""

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from classifier.models import (
    Assignment,
    Course,
    Dataset,
    Enrollment,
    Evaluation,
    JobStatus,
    Prediction,
    TrainingJob,
)
from tests.support.courses import make_grader
from tests.support.datasets import make_dataset
from tests.support.handwriting import (
    blank_canvas,
    drawing_of,
    make_font_dataset,
    make_trained_job,
    photo_of,
)
from tests.support.phd08 import write_phd08_files

pytestmark = pytest.mark.django_db


class FormValues(HTMLParser):
    """The values a page's form fields hold: typed text, ticked boxes, chosen options."""

    def __init__(self, html):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select = self._textarea = None
        self.feed(html)

    def _add(self, name, value):
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            if attrs.get("type") not in ("checkbox", "radio"):
                self._add(name, attrs.get("value") or "")
            elif "checked" in attrs:
                self._add(name, attrs.get("value", "on"))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self._add(self._select, attrs.get("value"))
        elif tag == "textarea":
            self._textarea = name
            self._add(name, "")

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            # Browsers drop the newline that follows <textarea>, as Django writes it.
            text = self.values[self._textarea][-1]
            self.values[self._textarea][-1] = text.removeprefix("\n")
            self._textarea = None


@pytest.fixture
def classroom(instructor, student_a):
    """A course that student A joined, its published grader and first assignment, a data
    set, and a model of student A's own."""
    course = Course.objects.create(name="Hangul 101", owner=instructor)
    Enrollment.objects.create(course=course, student=student_a)
    grader = make_grader(instructor, name="graders")
    course.published_models.add(grader)
    assignment = Assignment.objects.create(
        course=course,
        title="Week 1",
        chars=["가", "나"],
        grader=grader,
        due_at=timezone.now() + timedelta(days=3),
    )
    return {
        "dataset": make_dataset("tiny", chars="가나다", per_char=4),
        "course": course,
        "grader": grader,
        "assignment": assignment,
        "own_model": make_grader(student_a, name="own"),
    }


@dataclass
class Rejected:
    """A form posted with a mistake in it, and the values it must show again."""

    who: str | None
    url: object  # classroom -> URL
    data: object  # classroom -> POST data
    typed: dict = field(default_factory=dict)  # field name -> value(s) shown again
    follow: bool = False


def _typed(classroom, case):
    data = case.data(classroom)
    expected = case.typed or {k: v for k, v in data.items() if k != "canvas"}
    return data, {k: v if isinstance(v, list) else [str(v)] for k, v in expected.items()}


REJECTED = {
    "training job": Rejected(
        "student_a",
        lambda w: reverse("classifier:job-new"),
        lambda w: {
            "dataset": w["dataset"].pk,
            "chars": "가 나 라",
            "model": "custom",
            "spec": "conv8-pool-dense16",
            "optimizer": "sgd",
            "learning_rate": "0.05",
            "epochs": "7",
            "batch_size": "16",
            "seed": "42",
            "split_kind": "group",
            "held_out": "S",
            "val_fraction": "0.3",
            "tutorial_n": "100",
        },
    ),
    "PHD08 import": Rejected(
        "staff",
        lambda w: reverse("classifier:dataset-import"),
        lambda w: {
            "name": "my-set",
            "size": "huge",
            "sigma": "1.5",
            "server_path": "phd08/",
            "reference": "on",
        },
        typed={
            "name": "my-set",
            "size": "huge",
            "sigma": "1.5",
            "server_path": "phd08/",
            "reference": "on",
        },
    ),
    "font rendering": Rejected(
        "staff",
        lambda w: reverse("classifier:dataset-render"),
        lambda w: {
            "name": "fonts-x",
            "size": "32x32",
            "charset": "custom",
            "chars": "가 abc",
            "fonts": ["NanumGothic"],
            "per_font": "7",
            "seed": "3",
        },
    ),
    "sign-up": Rejected(
        None,
        lambda w: reverse("signup"),
        lambda w: {"username": "minji", "password1": "hangul-lab-pw-1", "password2": "other"},
        typed={"username": "minji"},
    ),
    "new course": Rejected(
        "instructor",
        lambda w: reverse("classifier:course-list"),
        lambda w: {"name": "x" * 121},
    ),
    "join course": Rejected(
        "student_b",
        lambda w: reverse("classifier:course-join"),
        lambda w: {"code": "NOPE2345"},
        follow=True,
    ),
    "new assignment": Rejected(
        "instructor",
        lambda w: reverse("classifier:assignment-new", args=[w["course"].pk]),
        lambda w: {
            "title": "Week 9",
            "instructions": "Write neatly",
            "chars": "가 라",
            "grader": w["grader"].pk,
            "due_at": "2030-01-02T03:04",
            "attempts_allowed": "4",
            "accept_late": "on",
        },
    ),
    "predict": Rejected(
        "student_a",
        lambda w: reverse("classifier:predict"),
        lambda w: {"model": w["own_model"].pk, "canvas": drawing_of("가"), "expected": "라"},
    ),
    "submission": Rejected(
        "student_a",
        lambda w: reverse("classifier:assignment-submit", args=[w["assignment"].pk]),
        lambda w: {"char": "나", "canvas": blank_canvas()},
    ),
    "handwriting data set": Rejected(
        "instructor",
        lambda w: reverse("classifier:dataset-handwriting"),
        lambda w: {"name": "bad name!", "assignments": [w["assignment"].pk]},
        typed={"name": "bad name!"},
    ),
}


@pytest.mark.parametrize("case", REJECTED.values(), ids=REJECTED.keys())
def test_a_rejected_form_shows_what_was_typed(client, classroom, case, request, settings):
    settings.LAB_PREDICT_WAIT_SECONDS = 0
    if case.who:
        client.force_login(request.getfixturevalue(case.who))
    data, typed = _typed(classroom, case)
    response = client.post(case.url(classroom), data, follow=case.follow)
    assert response.status_code in (200, 400)
    html = response.content.decode()
    # It was refused, and says why: on the form, or in a message.
    said = any(m.level_tag == "error" for m in get_messages(response.wsgi_request))
    assert 'class="errorlist' in html or said, html[:3000]
    shown = FormValues(html).values
    for name, values in typed.items():
        for value in values:
            assert str(value) in shown.get(name, []), (name, value, shown.get(name))
    if "canvas" in data:  # the drawing is kept, to be painted again (static/js/canvas.js)
        assert shown["canvas"] == [data["canvas"]]


# --- Pages of long lists ------------------------------------------------------------------


def _students(n, course):
    users = User.objects.bulk_create(User(username=f"s{i:03d}") for i in range(n))
    Enrollment.objects.bulk_create(Enrollment(course=course, student=user) for user in users)
    return users


def _page_names(response, key):
    return [getattr(row, "username", None) or row.student.username for row in response.context[key]]


def test_a_class_of_sixty_comes_in_pages_of_its_course_and_gradebook(client, classroom, instructor):
    course, assignment = classroom["course"], classroom["assignment"]
    _students(60, course)  # with student_a: 61
    client.force_login(instructor)
    first = client.get(course.get_absolute_url())
    assert len(first.context["enrollments"]) == 50
    text = first.content.decode()
    assert "?students=2#students" in text and "s048" in text and "s055" not in text
    second = client.get(course.get_absolute_url(), {"students": 2})
    assert [e.student.username for e in second.context["enrollments"]] == [
        f"s{i:03d}" for i in range(50, 60)
    ] + ["student_a"]

    gradebook_url = reverse("classifier:gradebook", args=[assignment.pk])
    book = client.get(gradebook_url)
    assert len(book.context["rows"]) == 50 and len(book.context["book"].rows) == 61
    last = client.get(gradebook_url, {"page": 2}).content.decode()
    assert "student_a" in last and "s000" not in last
    assert "0 / 61" in last  # the totals still count the whole class


def test_two_lists_on_one_page_turn_their_pages_apart(client, classroom, instructor):
    course = classroom["course"]
    _students(55, course)
    for week in range(30):
        Assignment.objects.create(
            course=course,
            title=f"Drill {week:02d}",
            chars=["가"],
            grader=classroom["grader"],
            due_at=timezone.now(),
        )
    client.force_login(instructor)
    page = client.get(course.get_absolute_url(), {"students": 2, "assignments": 2})
    assert page.context["enrollments"].number == 2
    assert page.context["assignments_page"].number == 2
    text = page.content.decode()
    # Each list's links keep the other list's page.
    assert "?students=1&amp;assignments=2#students" in text
    assert "?students=2&amp;assignments=1#assignments" in text


def test_courses_leaderboard_and_per_character_results_come_in_pages(
    client, classroom, staff, instructor
):
    for number in range(30):
        Course.objects.create(name=f"Class {number:02d}", owner=instructor)
    client.force_login(staff)
    courses = client.get(reverse("classifier:course-list"))
    assert len(courses.context["courses"]) == 25 and "?page=2" in courses.content.decode()

    dataset, test = classroom["dataset"], make_dataset("hidden", chars="가나다", per_char=2)
    Dataset.objects.filter(pk=dataset.pk).update(hidden_test=test)
    for number in range(55):
        owner = User.objects.create(username=f"r{number:02d}")
        job = TrainingJob.objects.create(
            owner=owner,
            dataset=dataset,
            model_spec="mlp",
            status=JobStatus.SUCCEEDED,
            val_accuracy=0.5,
        )
        Evaluation.objects.create(
            job=job, dataset=test, hidden=True, status=JobStatus.SUCCEEDED, accuracy=number / 100
        )
    board = client.get(reverse("classifier:leaderboard", args=[dataset.pk]), {"page": 2})
    rows = board.context["rows"]
    assert [row["owner"] for row in rows] == ["r04", "r03", "r02", "r01", "r00"]
    assert "<tr><td>51</td><td>r04</td>" in board.content.decode()  # ranks go on

    chars = [chr(ord("가") + i) for i in range(120)]
    big = make_dataset("big", chars="".join(chars), per_char=1)
    job = TrainingJob.objects.create(
        owner=staff, dataset=big, model_spec="mlp", status=JobStatus.SUCCEEDED
    )
    detail = client.get(job.get_absolute_url())
    assert len(detail.context["per_class_rows"]) == 100
    assert "?chars=2#per-class" in detail.content.decode()
    rest = client.get(job.get_absolute_url(), {"chars": 2}).context["per_class_rows"]
    assert [row["char"] for row in rest] == chars[100:]


# --- Progress of long commands ------------------------------------------------------------


def test_the_prediction_list_is_paged_too(client, student_a, classroom):
    for _ in range(30):
        Prediction.objects.create(
            owner=student_a, model=classroom["own_model"], source="canvas", original_file="x.png"
        )
    client.force_login(student_a)
    listing = client.get(reverse("classifier:prediction-list"))
    assert len(listing.context["page"].object_list) == 25


def test_the_leaderboard_follows_the_scoring_of_a_new_hidden_test_set(
    client, classroom, instructor
):
    dataset, test = classroom["dataset"], make_dataset("hidden", chars="가나다", per_char=2)
    dataset.created_by = instructor  # who made a data set chooses its test set
    dataset.save()
    job = TrainingJob.objects.create(
        owner=instructor, dataset=dataset, model_spec="mlp", status=JobStatus.SUCCEEDED
    )
    client.force_login(instructor)
    url = reverse("classifier:leaderboard", args=[dataset.pk])
    client.post(url, {"hidden_test": test.pk})
    scoring = client.get(url).content.decode()
    assert '<meta http-equiv="refresh"' in scoring
    assert "1 job is being scored on the hidden test set" in scoring
    Evaluation.objects.filter(job=job).update(status=JobStatus.SUCCEEDED, accuracy=0.8)
    scored = client.get(url).content.decode()
    assert '<meta http-equiv="refresh"' not in scored and "80.0%" in scored


def test_data_set_commands_show_a_progress_bar(capsys, tmp_path):
    call_command(
        "render_dataset",
        "--name",
        "bar-test",
        "--chars",
        "가나",
        "--per-font",
        "1",
        "--fonts",
        "NanumGothic,UnDotum",
        "--size",
        "16x16",
    )
    assert "4/4" in capsys.readouterr().err  # characters x fonts
    write_phd08_files(tmp_path, chars="가나다")
    call_command("import_phd08", "--name", "bar-import", str(tmp_path))
    assert "3/3" in capsys.readouterr().err  # files


@pytest.mark.slow
def test_evaluate_and_predict_json_show_a_progress_bar(capsys, student_a, tmp_path):
    job = make_trained_job(student_a, make_font_dataset())
    call_command("evaluate", "--job", str(job.pk), "--dataset", job.dataset.name)
    n = job.dataset.num_samples
    assert f"{n:,}/{n:,}" in capsys.readouterr().err  # samples scored
    photos = []
    for char in "라호":
        photos.append(tmp_path / f"{char}.png")
        photos[-1].write_bytes(photo_of(char, fmt="PNG"))
    call_command("predict", "--job", str(job.pk), "--json", *map(str, photos))
    # The JSON comes at the end; the bar says how far it has come meanwhile.
    assert "2/2" in capsys.readouterr().err
