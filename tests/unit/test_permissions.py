"""The permission matrix: every URL, every role, exactly the access it should have.

Roles: an anonymous visitor, student A (who owns the jobs, predictions and submissions
below and is in the course), student B (in another course), the instructor of A's
course, the instructor of the other course, and an admin (staff). Each case gives every
role's expected answer:

- ``login``: a redirect to the log-in page (anonymous visitors);
- a status code: 200, 201, 204 (the API deleted it), 302 (a redirect elsewhere), 400, 401
  (the API's answer to an anonymous call), 403, 404, 405, 409 (the API: what it acts on
  forbids it);
- a trailing ``+`` on a POST or a DELETE: the action took effect (the database or the
  media folder changed). Every such answer without it must leave both exactly as they
  were, so a refused action is checked to have done nothing, not just to have said no.

The objects (the ``world`` fixture, built by ``tests/support/world.py``) are built once
per test; each role's POST runs in a savepoint that is rolled back, so every role acts on
the same world. Plots are replaced by a stub PNG: what is tested is who gets them, not
how they look (their own tests render them).
"""

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from classifier.models import Assignment
from tests.support.handwriting import drawing_of
from tests.support.jobs import job_form
from tests.support.phd08 import make_phd08_bytes
from tests.support.predictions import white_png

pytestmark = pytest.mark.django_db

ROLES = ("anon", "student_a", "student_b", "instructor", "other_instructor", "admin")
L = "login"


def r(anon, a, b, i, o, s) -> dict[str, str]:
    """Expectations in ``ROLES`` order."""
    return dict(zip(ROLES, map(str, (anon, a, b, i, o, s)), strict=True))


ALL = r(L, 200, 200, 200, 200, 200)
ADMIN_ONLY = r(L, 403, 403, 403, 403, 200)
#: Jobs: students see their own; instructors (who run the lab's queue) and admins all.
JOB = r(L, 200, 404, 200, 200, 200)
# Acting on student A's job: A, A's instructor and admins; the other course's instructor
# sees it but may not act on it.
JOB_ACTION = r(L, 200, 404, 200, 403, 200)
# A hidden handwriting data set written in A's course.
HANDWRITING = r(L, 404, 404, 200, 404, 200)
#: A prediction that is not a submission: its owner and admins.
OWN_PREDICTION = r(L, 200, 404, 404, 404, 200)
#: A submission: its owner, the instructor of its course, admins.
SUBMISSION = r(L, 200, 404, 200, 404, 200)
#: A course's pages: its students, its instructor, admins; nobody else knows it exists.
COURSE = r(L, 200, 404, 200, 404, 200)
#: Teaching a course: a 403 to its students, a 404 to everyone outside it.
TEACHING = r(L, 403, 404, 200, 404, 200)
#: Hidden test sets: never students.
HIDDEN = r(L, 404, 404, 200, 200, 200)


def api(expect: dict[str, str]) -> dict[str, str]:
    """The same access through the REST API, whose anonymous callers get a 401 (in JSON)
    where the pages send them to the log-in page."""
    return expect | {"anon": "401"}


# --- The cases ---------------------------------------------------------------------------


@dataclass
class Case:
    """One request (``route`` with ``args``), and each role's expected answer."""

    route: str
    expect: dict[str, str]
    args: Callable = lambda w: []
    method: str = "get"
    data: Callable = lambda w: {}
    query: Callable = lambda w: {}
    label: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def id(self):
        return f"{self.method.upper()} {self.route}{' ' + self.label if self.label else ''}"


def _assignment_form(w):
    due = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    return {
        "title": "Week 2",
        "instructions": "",
        "chars": "가 다",
        "grader": w.grader.pk,
        "due_at": due,
        "attempts_allowed": 2,
    }


def _phd08_upload(w):
    return {
        "name": "uploaded",
        "size": "28x28",
        "sigma": "0.3",
        "files": SimpleUploadedFile("가.txt", make_phd08_bytes(1)),
    }


def _images_upload(w):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("가/1.png", white_png())
    return {
        "name": "images",
        "size": "28x28",
        "archive": SimpleUploadedFile("scans.zip", archive.getvalue()),
    }


def _pk(name):
    return lambda w: [getattr(w, name).pk]


# The ``args`` of the cases: the primary key of one of the world's objects.
ds, hidden, building, hw_building, hw_ready, spare = map(
    _pk, ("ds", "hidden", "building", "hw_building", "hw_ready", "spare")
)
job, queued_job, grader = map(_pk, ("job", "queued_job", "grader"))
prediction, submission = map(_pk, ("prediction", "submission"))
course, assignment = map(_pk, ("course", "assignment"))


def _student_a(w):
    return [w.course.pk, w.users["student_a"].pk]


def _other_instructor(w):
    return [w.course.pk, w.users["other_instructor"].pk]


def _reset_args(w):
    student = w.users["student_a"]
    return [
        urlsafe_base64_encode(force_bytes(student.pk)),
        default_token_generator.make_token(student),
    ]


CASES = [
    # Accounts and the front door.
    Case("classifier:home", r(L, 302, 302, 302, 302, 302)),
    Case("login", r(200, 200, 200, 200, 200, 200)),
    Case(
        "login",
        r("302+", "302+", "302+", "302+", "302+", "302+"),  # the address is remembered
        method="post",
        label="as student A",
        data=lambda w: {"username": "student_a", "password": "pw-student_a"},
    ),
    Case("logout", r(L, 405, 405, 405, 405, 405)),
    Case("logout", r(L, L, L, L, L, L), method="post"),
    Case("signup", r(200, 200, 200, 200, 200, 200)),
    Case(
        "signup",
        r("302+", "302+", "302+", "302+", "302+", "302+"),
        method="post",
        data=lambda w: {
            "username": "newbie",
            "password1": "hangul-lab-pw-1",
            "password2": "hangul-lab-pw-1",
        },
    ),
    Case("healthz", r(200, 200, 200, 200, 200, 200)),
    Case("profile", r(L, 200, 200, 200, 200, 200)),
    Case(
        "profile",
        r(L, "302+", "302+", "302+", "302+", "302+"),
        method="post",
        data=lambda w: {"real_name": "이름", "student_number": "1"},
    ),
    Case("password_change", r(L, 200, 200, 200, 200, 200)),
    Case(
        "password_change",
        r(L, 200, 200, 200, 200, 200),
        method="post",
        data=lambda w: {"old_password": "wrong"},
        label="with a wrong password",
    ),
    Case("password_change_done", r(L, 200, 200, 200, 200, 200)),
    # Without e-mail, "forgot password" says to ask an instructor for a link.
    Case("password_reset", r(200, 200, 200, 200, 200, 200)),
    Case(
        "password_reset",
        r(200, 200, 200, 200, 200, 200),
        method="post",
        data=lambda w: {"email": "a@example.org"},
    ),
    Case("password_reset_done", r(200, 200, 200, 200, 200, 200)),
    # A reset link is for whoever holds it (a valid one goes on to its form).
    Case("password_reset_confirm", r(302, 302, 302, 302, 302, 302), _reset_args),
    Case("password_reset_complete", r(200, 200, 200, 200, 200, 200)),
    Case("people", ADMIN_ONLY),
    Case("set-role", r(L, 403, 403, 403, 403, 405), lambda w: [w.users["student_b"].pk]),
    Case(
        "set-role",
        r(L, 403, 403, 403, 403, "302+"),
        lambda w: [w.users["student_b"].pk],
        method="post",
        data=lambda w: {"role": "instructor"},
    ),
    Case(
        "set_language",
        r(302, 302, 302, 302, 302, 302),
        method="post",
        data=lambda w: {"language": "ko", "next": "/"},
    ),
    # Data sets: everyone browses the finished ones; only admins make or remove them.
    Case("classifier:dataset-list", ALL),
    Case("classifier:dataset-detail", ALL, ds),
    Case("classifier:dataset-detail", HIDDEN, hidden, label="hidden test set"),
    Case("classifier:dataset-detail", r(L, 404, 404, 404, 404, 200), building, label="building"),
    Case(
        "classifier:dataset-detail",
        r(L, 404, 404, 200, 404, 200),
        hw_building,
        label="instructor's handwriting build",
    ),
    Case("classifier:dataset-status", ALL, ds),
    Case("classifier:dataset-status", HIDDEN, hidden, label="hidden test set"),
    Case("classifier:dataset-status", r(L, 404, 404, 404, 404, 200), building, label="building"),
    Case("classifier:dataset-grid", ALL, ds),
    Case("classifier:dataset-grid", HIDDEN, hidden, label="hidden test set"),
    Case("classifier:dataset-counts", ALL, ds),
    Case("classifier:dataset-counts", HIDDEN, hidden, label="hidden test set"),
    # What augmentation does: font renderings only (the world's sets are not).
    Case(
        "classifier:dataset-augmentation",
        r(L, 404, 404, 404, 404, 404),
        ds,
        label="of a set not rendered from fonts",
    ),
    Case("classifier:dataset-export", ALL, ds),
    Case("classifier:dataset-export", HIDDEN, hidden, label="hidden test set"),
    Case("classifier:dataset-import", ADMIN_ONLY),
    Case(
        "classifier:dataset-import",
        r(L, 403, 403, 403, 403, "302+"),
        method="post",
        data=_phd08_upload,
    ),
    Case("classifier:dataset-import-images", ADMIN_ONLY),
    Case(
        "classifier:dataset-import-images",
        r(L, 403, 403, 403, 403, "302+"),
        method="post",
        data=_images_upload,
    ),
    # A handwriting set is its students' writing: of the instructors, only theirs see it
    # (hidden from students here); the images themselves: whoever made it, and admins.
    Case("classifier:dataset-detail", HANDWRITING, hw_ready, label="handwriting"),
    Case("classifier:dataset-export", HANDWRITING, hw_ready, label="handwriting"),
    Case("api:dataset-detail", api(HANDWRITING), hw_ready, label="handwriting"),
    Case("classifier:dataset-export-images", HANDWRITING, hw_ready),
    Case(
        "classifier:dataset-export-images",
        r(L, 403, 403, 403, 403, 403),
        ds,
        label="of a set not made of images",
    ),
    Case("classifier:dataset-render", ADMIN_ONLY),
    Case("classifier:render-preview", ADMIN_ONLY),
    Case(
        "classifier:dataset-render",
        r(L, 403, 403, 403, 403, "302+"),
        method="post",
        data=lambda w: {
            "name": "rendered",
            "size": "28x28",
            "charset": "custom",
            "chars": "가나",
            "per_font": "1",
            "seed": "0",
        },
    ),
    Case("classifier:dataset-handwriting", r(L, 403, 403, 200, 200, 200)),
    # From their own assignments only: another instructor's is not a valid choice.
    Case(
        "classifier:dataset-handwriting",
        r(L, 403, 403, "302+", 200, "302+"),
        method="post",
        data=lambda w: {"name": "hand", "assignments": [w.assignment.pk]},
    ),
    Case("classifier:dataset-cancel", r(L, 403, 403, 403, 403, "302+"), building, method="post"),
    Case("classifier:dataset-cancel", r(L, 403, 403, 403, 403, 405), building),
    Case("classifier:dataset-delete", ADMIN_ONLY, spare),
    Case("classifier:dataset-delete", r(L, 403, 403, 403, 403, "302+"), spare, method="post"),
    Case(
        "classifier:dataset-delete",
        r(L, 403, 403, 403, 403, "302+"),
        hw_building,
        method="post",
        label="instructor's own handwriting set",
    ),
    Case("classifier:leaderboard", ALL, ds),
    Case("classifier:leaderboard", HIDDEN, hidden, label="of the hidden test set"),
    # Choosing the test set hides it from every student: whoever made the data set (an
    # admin here) and admins only.
    Case(
        "classifier:leaderboard",
        r(L, 403, 403, 403, 403, "302+"),
        ds,
        method="post",
        data=lambda w: {"hidden_test": w.ds2.pk},
    ),
    # Training jobs.
    Case("classifier:job-list", ALL),
    Case("classifier:job-new", ALL),
    Case(
        "classifier:job-new",
        r(L, "302+", "302+", "302+", "302+", "302+"),
        method="post",
        data=lambda w: job_form(w.ds),
    ),
    Case("classifier:model-summary", ALL, query=lambda w: {"dataset": w.ds.pk}),
    Case(
        "classifier:model-summary",
        r(L, 400, 400, 200, 200, 200),
        label="of a hidden set",
        query=lambda w: {"dataset": w.hidden.pk},
    ),
    Case("classifier:job-compare", ALL, query=lambda w: {"jobs": [w.job.pk]}),
    Case(
        "classifier:job-compare",
        ALL,
        query=lambda w: {"jobs": [w.job.pk], "format": "png"},
        label="png",
    ),
    Case(
        "classifier:job-compare",
        ALL,
        query=lambda w: {"jobs": [w.job.pk], "format": "json"},
        label="polled",
    ),
    Case("classifier:job-detail", JOB, job),
    Case(
        "classifier:job-detail",
        r(L, 404, 404, 200, 200, 200),
        grader,
        label="published grading model",
    ),
    Case("classifier:job-status", JOB, job),
    Case("classifier:job-curves", JOB, job),
    Case("classifier:job-confusion", JOB, job),
    Case("classifier:job-mistakes", JOB, job),
    Case("classifier:job-mistake-maps", JOB, job),
    # While a job trains, its map says it comes after the first epoch; a finished job
    # without one (trained before the lab drew them) has none.
    Case("classifier:job-embedding", JOB, queued_job),
    Case("classifier:job-embedding", r(L, 404, 404, 404, 404, 404), job, label="none"),
    Case("classifier:job-reliability", JOB, job),
    Case("classifier:job-jamo", JOB, job),
    Case("classifier:job-filters", r(L, 404, 404, 404, 404, 404), job, label="an MLP"),
    Case("classifier:job-code", JOB, job),
    # Seeing a job is not acting on it: an instructor downloads, cancels, scores and
    # publishes the jobs of the students in the courses they teach (and their own).
    Case("classifier:job-model", JOB_ACTION, job),
    Case("classifier:job-tflite", JOB_ACTION, job),
    Case(
        "classifier:job-model",
        r(L, 404, 404, 200, 403, 200),
        grader,
        label="published grading model",
    ),
    Case(
        "classifier:job-cancel",
        r(L, "302+", 404, "302+", 403, "302+"),
        queued_job,
        method="post",
    ),
    Case("classifier:job-cancel", r(L, 405, 405, 405, 405, 405), queued_job),
    # Deleting a job: its owner and admins, once it has ended and no course relies on it
    # (its own prediction and its leaderboard evaluation go with it).
    Case("classifier:job-delete", r(L, 200, 404, 404, 404, 200), job),
    Case("classifier:job-delete", r(L, "302+", 404, 404, 404, "302+"), job, method="post"),
    Case(
        "classifier:job-delete",
        r(L, 302, 404, 404, 404, 302),
        queued_job,
        method="post",
        label="still queued",
    ),
    Case("classifier:job-delete", r(L, 404, 404, 200, 404, 200), grader, label="grading model"),
    Case(
        "classifier:job-delete",
        r(L, 404, 404, 302, 404, 302),
        grader,
        method="post",
        label="grading model",
    ),
    Case("classifier:job-evaluate", r(L, 405, 405, 405, 405, 405), job),
    Case(
        "classifier:job-evaluate",
        r(L, "302+", 404, "302+", 403, "302+"),
        job,
        method="post",
        data=lambda w: {"dataset": w.ds2.pk},
    ),
    # Nobody scores on a hidden test set by hand: its samples would leak through the
    # score, and the leaderboard scores every job on it itself.
    Case(
        "classifier:job-evaluate",
        r(L, 302, 404, 302, 403, 302),
        job,
        method="post",
        data=lambda w: {"dataset": w.hidden.pk},
        label="on the hidden test set",
    ),
    # Predictions and their files.
    Case("classifier:predict", ALL),
    Case(
        "classifier:predict",
        r(L, "302+", 400, 400, 400, 400),
        method="post",
        data=lambda w: {"model": w.job.pk, "canvas": drawing_of("가")},
        label="with student A's model",
    ),
    Case(
        "classifier:predict",
        r(L, "302+", 400, "302+", 400, "302+"),
        method="post",
        data=lambda w: {"model": w.grader.pk, "canvas": drawing_of("가")},
        label="with the course's published model",
    ),
    # Reading a drawing in progress: with one's own model; nobody serves it here (503).
    Case(
        "classifier:predict-live",
        r(L, 503, 400, 400, 400, 400),
        method="post",
        data=lambda w: {"model": w.job.pk, "canvas": drawing_of("가")},
    ),
    Case("classifier:predict-live", r(L, 405, 405, 405, 405, 405)),
    Case("classifier:prediction-list", ALL),
    *(
        Case(f"classifier:{name}", expect, args, label=label)
        for name in (
            "prediction-detail",
            "prediction-status",
            "prediction-original",
        )
        for expect, args, label in (
            (OWN_PREDICTION, prediction, ""),
            (SUBMISSION, submission, "of a submission"),
        )
    ),
    # Deleting a prediction: its owner and admins; a submission stays, the course's record.
    Case("classifier:prediction-delete", OWN_PREDICTION, prediction),
    Case(
        "classifier:prediction-delete",
        r(L, "302+", 404, 404, 404, "302+"),
        prediction,
        method="post",
    ),
    Case("classifier:prediction-delete", OWN_PREDICTION, submission, label="of a submission"),
    Case(
        "classifier:prediction-delete",
        r(L, 302, 404, 404, 404, 302),
        submission,
        method="post",
        label="of a submission",
    ),
    Case("classifier:prediction-step", OWN_PREDICTION, lambda w: [w.prediction.pk, "input"]),
    Case(
        "classifier:prediction-step",
        SUBMISSION,
        lambda w: [w.submission.pk, "input"],
        label="of a submission",
    ),
    Case(
        "classifier:prediction-saliency", OWN_PREDICTION, lambda w: [w.prediction.pk, "predicted"]
    ),
    Case(
        "classifier:prediction-saliency",
        SUBMISSION,
        lambda w: [w.submission.pk, "predicted"],
        label="of a submission",
    ),
    # Courses.
    Case("classifier:course-list", ALL),
    Case(
        "classifier:course-list",
        r(L, 403, 403, "302+", "302+", "302+"),
        method="post",
        data=lambda w: {"name": "New course"},
    ),
    # Anyone with the code joins (that is what it is for); instructors teach instead.
    Case(
        "classifier:course-join",
        r(L, 302, "302+", 403, 403, 403),
        method="post",
        data=lambda w: {"code": w.course.join_code},
    ),
    Case("classifier:course-join", r(L, 405, 405, 405, 405, 405)),
    Case("classifier:course-detail", COURSE, course),
    # The join link joins a student; it takes teachers to the course; other instructors
    # teach their own courses.
    Case(
        "classifier:course-join-link", r(L, 302, 302, 302, 403, 302), lambda w: [w.course.join_code]
    ),
    Case("classifier:course-qr", TEACHING, course),
    Case("classifier:course-code", r(L, 405, 405, 405, 405, 405), course),
    Case("classifier:course-code", r(L, 403, 404, "302+", 404, "302+"), course, method="post"),
    Case("classifier:course-roster", r(L, 405, 405, 405, 405, 405), course),
    Case(
        "classifier:course-roster",
        r(L, 403, 404, "302+", 404, "302+"),
        course,
        method="post",
        data=lambda w: {"roster": SimpleUploadedFile("roster.csv", b"student_b,Lee,2\n")},
    ),
    Case("classifier:course-remove-student", r(L, 405, 405, 405, 405, 405), _student_a),
    Case(
        "classifier:course-remove-student",
        r(L, 403, 404, "302+", 404, "302+"),
        _student_a,
        method="post",
    ),
    Case("classifier:course-reset-link", r(L, 405, 405, 405, 405, 405), _student_a),
    Case("classifier:course-reset-link", r(L, 403, 404, 200, 404, 200), _student_a, method="post"),
    Case("classifier:course-co-instructor-add", r(L, 405, 405, 405, 405, 405), course),
    Case(
        "classifier:course-co-instructor-add",
        r(L, 403, 404, "302+", 404, "302+"),
        course,
        method="post",
        data=lambda w: {"username": "other_instructor"},
    ),
    Case(
        "classifier:course-co-instructor-remove", r(L, 405, 405, 405, 405, 405), _other_instructor
    ),
    Case(
        "classifier:course-co-instructor-remove",
        r(L, 403, 404, 302, 404, 302),
        _other_instructor,
        method="post",
        label="who is not one",
    ),
    Case("classifier:course-publish", r(L, 405, 405, 405, 405, 405), course),
    Case(
        "classifier:course-publish",
        r(L, 403, 404, "302+", 404, "302+"),
        course,
        method="post",
        data=lambda w: {"job": w.job.pk},
    ),
    # ... but not another course's instructor, to grade their own course with it.
    Case(
        "classifier:course-publish",
        r(L, 404, 403, 404, 302, "302+"),
        lambda w: [w.other_course.pk],
        method="post",
        data=lambda w: {"job": w.job.pk},
        label="student A's job to the other course",
    ),
    Case("classifier:assignment-new", TEACHING, course),
    Case(
        "classifier:assignment-new",
        r(L, 403, 404, "302+", 404, "302+"),
        course,
        method="post",
        data=_assignment_form,
    ),
    # Outside the course, the assignment's pages say so (403, with the reason in words).
    Case("classifier:assignment-detail", r(L, 200, 403, 200, 403, 200), assignment),
    # Instructors and admins are not students of the course: nothing is stored for them.
    Case("classifier:assignment-submit", r(L, 405, 405, 405, 405, 405), assignment),
    Case(
        "classifier:assignment-submit",
        r(L, "302+", 403, 400, 403, 400),
        assignment,
        method="post",
        data=lambda w: {"char": "나", "canvas": drawing_of("나")},
    ),
    Case("classifier:gradebook", TEACHING, assignment),
    Case("classifier:gradebook-csv", TEACHING, assignment),
    Case("classifier:assignment-regrade", r(L, 405, 405, 405, 405, 405), assignment),
    Case(
        "classifier:assignment-regrade",
        r(L, 403, 404, "302+", 404, "302+"),
        assignment,
        method="post",
        data=lambda w: {"grader": w.grader.pk},
    ),
    Case("classifier:regrade-status", TEACHING, assignment),
    Case("classifier:review-queue", TEACHING, assignment),
    # The teacher's verdict on a submission: the course's teacher alone gives it.
    Case("classifier:submission-verdict", r(L, 405, 405, 405, 405, 405), submission),
    Case(
        "classifier:submission-verdict",
        r(L, 403, 404, "302+", 404, "302+"),
        submission,
        method="post",
        data=lambda w: {"verdict": "correct", "comment": "ok"},
    ),
    # The REST API: the pages' rules, over a token or the pages' session.
    Case("api:token", r(405, 405, 405, 405, 405, 405)),
    Case(
        "api:token",
        r("200+", "200+", "200+", "200+", "200+", "200+"),
        method="post",
        label="as student A",
        data=lambda w: {"username": "student_a", "password": "pw-student_a"},
    ),
    Case("api:schema", api(ALL)),
    Case("api:docs", ALL),
    Case("api:dataset-list", api(ALL)),
    Case("api:dataset-detail", api(ALL), ds),
    Case("api:dataset-detail", api(HIDDEN), hidden, label="hidden test set"),
    Case("api:dataset-detail", r(401, 404, 404, 404, 404, 200), building, label="building"),
    Case(
        "api:dataset-detail",
        r(401, 404, 404, 200, 404, 200),
        hw_building,
        label="instructor's handwriting build",
    ),
    Case("api:job-list", api(ALL)),
    Case(
        "api:job-list",
        r(401, "201+", "201+", "201+", "201+", "201+"),
        method="post",
        data=lambda w: {"dataset": w.ds.pk, "epochs": 2},
    ),
    Case(
        "api:job-list",
        r(401, 400, 400, "201+", "201+", "201+"),
        method="post",
        data=lambda w: {"dataset": w.hidden.pk},
        label="on the hidden test set",
    ),
    Case("api:job-detail", api(JOB), job),
    Case(
        "api:job-detail", r(401, 404, 404, 200, 200, 200), grader, label="published grading model"
    ),
    Case("api:job-detail", r(401, "204+", 404, 404, 404, "204+"), job, method="delete"),
    Case(
        "api:job-detail",
        r(401, 409, 404, 404, 404, 409),
        queued_job,
        method="delete",
        label="still queued",
    ),
    Case(
        "api:job-detail",
        r(401, 404, 404, 409, 404, 409),
        grader,
        method="delete",
        label="grading model",
    ),
    Case("api:job-metrics", api(JOB), job),
    Case("api:job-model", api(JOB_ACTION), job),
    Case("api:job-tflite", api(JOB_ACTION), job),
    Case("api:job-model", r(401, 404, 404, 200, 403, 200), grader, label="published grading model"),
    Case("api:job-figure", api(JOB), lambda w: [w.job.pk, "curves"]),
    Case("api:job-figure", api(JOB), lambda w: [w.job.pk, "confusion"], label="confusion"),
    Case("api:job-figure", api(JOB), lambda w: [w.job.pk, "mistakes"], label="mistakes"),
    Case("api:job-figure", api(JOB), lambda w: [w.job.pk, "reliability"], label="reliability"),
    Case("api:job-cancel", r(401, "200+", 404, "200+", 403, "200+"), queued_job, method="post"),
    Case("api:job-cancel", r(401, 405, 405, 405, 405, 405), queued_job),
    Case("api:prediction-list", api(ALL)),
    Case(
        "api:prediction-list",
        r(401, "201+", 400, 400, 400, 400),
        method="post",
        data=lambda w: {"model": w.job.pk, "canvas": drawing_of("가")},
        label="with student A's model",
    ),
    Case(
        "api:prediction-list",
        r(401, "201+", 400, "201+", 400, "201+"),
        method="post",
        data=lambda w: {"model": w.grader.pk, "canvas": drawing_of("가")},
        label="with the course's published model",
    ),
    Case("api:prediction-detail", api(OWN_PREDICTION), prediction),
    Case("api:prediction-detail", api(SUBMISSION), submission, label="of a submission"),
    Case(
        "api:prediction-detail", r(401, "204+", 404, 404, 404, "204+"), prediction, method="delete"
    ),
    Case(
        "api:prediction-detail",
        r(401, 409, 404, 404, 404, 409),
        submission,
        method="delete",
        label="of a submission",
    ),
    Case("api:prediction-saliency", api(OWN_PREDICTION), lambda w: [w.prediction.pk, "predicted"]),
    Case(
        "api:prediction-saliency",
        api(SUBMISSION),
        lambda w: [w.submission.pk, "predicted"],
        label="of a submission",
    ),
    Case("api:prediction-verdict", r(401, 405, 405, 405, 405, 405), submission),
    Case(
        "api:prediction-verdict",
        r(401, 403, 404, "200+", 404, "200+"),
        submission,
        method="post",
        data=lambda w: {"verdict": "incorrect"},
    ),
    Case(
        "api:prediction-verdict",
        r(401, 404, 404, 404, 404, 404),
        prediction,
        method="post",
        data=lambda w: {"verdict": "correct"},
        label="of a prediction of no assignment",
    ),
    Case("api:assignment-list", api(ALL)),
    Case("api:assignment-detail", api(COURSE), assignment),
    Case("api:assignment-submit", r(401, 405, 405, 405, 405, 405), assignment),
    Case(
        "api:assignment-submit",
        r(401, "201+", 404, 403, 404, 403),
        assignment,
        method="post",
        data=lambda w: {"char": "나", "canvas": drawing_of("나")},
    ),
    Case("api:assignment-gradebook", api(TEACHING), assignment),
]


# --- Running them ------------------------------------------------------------------------

#: Fields that change without anybody acting (a log-in stamps ``last_login``).
VOLATILE = {"last_login"}


def _state(settings) -> tuple:
    """Every row the lab keeps (many-to-many links included) and every file it stores."""
    models = [*apps.get_app_config("classifier").get_models(), User, Group, Token]
    rows = {}
    for model in models:
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
        rows[model.__name__] = list(model.objects.order_by("pk").values_list(*names))
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            rows[through.__name__] = list(through.objects.order_by("pk").values_list())
    media = settings.MEDIA_ROOT
    files = sorted(str(p.relative_to(media)) for p in media.rglob("*")) if media.exists() else []
    return rows, files


def _outcome(response) -> str:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return L
    return str(response.status_code)


def _send(client, case, w):
    url = reverse(case.route, args=case.args(w))
    if case.method == "get":
        return client.get(url, case.query(w))
    if case.method == "delete":
        return client.delete(url)
    return client.post(url, case.data(w))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_permission_matrix(client, world, settings, case):
    problems = []
    for role in ROLES:
        client.logout()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        expected = case.expect[role]
        acts = case.method != "get"
        with transaction.atomic():
            before = _state(settings) if acts else None
            response = _send(client, case, world)
            got = _outcome(response)
            if acts and not got.startswith("5"):
                changed = _state(settings) != before
                got += "+" if changed else ""
            transaction.set_rollback(True)
        if got != expected:
            problems.append(f"{role}: expected {expected}, got {got}")
    assert not problems, f"{case.id}:\n" + "\n".join(problems)


def _named_routes(patterns, namespace="") -> set[str]:
    names = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(namespace + entry.name)
    return names


def test_every_named_route_is_in_the_matrix():
    """A new URL without a row in the matrix fails here. The admin site's own URLs are
    covered by ``test_admin_site_is_for_staff_only``."""
    routes = {
        name for name in _named_routes(get_resolver().url_patterns) if not name.startswith("admin:")
    }
    covered = {case.route for case in CASES}
    assert routes - covered == set(), "routes missing from the permission matrix"
    assert covered - routes == set(), "matrix rows for routes that do not exist"
    # Every page is asked with GET, and every route that acts is tried with a POST.
    assert {case.route for case in CASES if case.method == "get"} >= routes - {"set_language"}


def test_admin_site_is_for_staff_only(client, world):
    urls = [reverse("admin:index")]
    staff = SimpleNamespace(user=world.users["admin"])
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        # Jobs are made by the lab's pages, which queue them: their admins add none.
        if model_admin.has_add_permission(staff):
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    urls.append(reverse("admin:classifier_dataset_change", args=[world.ds.pk]))
    urls.append(reverse("admin:auth_user_change", args=[world.users["student_a"].pk]))
    # Anonymous visitors meet the lab's log-in page first (LoginRequiredMiddleware);
    # logged-in users who are not staff are sent to the admin's.
    logins = (reverse("admin:login"), reverse("login"))
    for role in ROLES:
        client.logout()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        for url in urls:
            response = client.get(url)
            if role == "admin":
                assert response.status_code == 200, (role, url)
            else:
                assert response.status_code == 302, (role, url)
                assert response["Location"].startswith(logins), (role, url)


# --- What list pages show ----------------------------------------------------------------


def _login(client, world, role):
    client.logout()
    client.force_login(world.users[role])


def test_job_lists_and_comparisons_show_only_visible_jobs(client, world):
    for role, sees in (("student_a", True), ("student_b", False), ("other_instructor", True)):
        _login(client, world, role)
        page = client.get(reverse("classifier:job-list"))
        assert (world.job in page.context["page"].object_list) is sees, role
        compare = client.get(reverse("classifier:job-compare"), {"jobs": [world.job.pk]})
        assert (world.job in compare.context["jobs"]) is sees, role


def test_prediction_list_shows_only_the_users_own(client, world):
    _login(client, world, "student_a")
    mine = set(client.get(reverse("classifier:prediction-list")).context["page"].object_list)
    assert mine == {world.prediction, world.submission}
    for role in ("student_b", "instructor", "admin"):
        _login(client, world, role)
        page = client.get(reverse("classifier:prediction-list"))
        assert list(page.context["page"].object_list) == [], role


def test_course_list_shows_only_the_users_courses(client, world):
    for role, expected in (
        ("student_a", {"Hangul 101"}),
        ("student_b", {"Other class"}),
        ("instructor", {"Hangul 101"}),
        ("other_instructor", {"Other class"}),
        ("admin", {"Hangul 101", "Other class"}),
    ):
        _login(client, world, role)
        courses = client.get(reverse("classifier:course-list")).context["courses"]
        assert {c.name for c in courses} == expected, role


def test_students_are_not_offered_hidden_sets_or_other_students_models(client, world):
    _login(client, world, "student_b")
    form = client.get(reverse("classifier:job-new")).context["form"]
    offered = set(form.fields["dataset"].queryset)
    assert world.hidden not in offered and world.ds in offered
    predict = client.get(reverse("classifier:predict")).context["form"]
    assert world.job not in predict.fields["model"].queryset
    assert world.grader not in predict.fields["model"].queryset  # not B's course
    listing = client.get(reverse("classifier:dataset-list")).content.decode()
    assert "hidden-test" not in listing and "tiny" in listing


def test_the_handwriting_form_offers_only_the_instructors_own_assignments(client, world):
    other = Assignment.objects.create(
        course=world.other_course,
        title="Theirs",
        chars=["가"],
        grader=world.grader,
        due_at=timezone.now(),
    )
    _login(client, world, "instructor")
    form = client.get(reverse("classifier:dataset-handwriting")).context["form"]
    assert set(form.fields["assignments"].queryset) == {world.assignment}
    _login(client, world, "other_instructor")
    form = client.get(reverse("classifier:dataset-handwriting")).context["form"]
    assert set(form.fields["assignments"].queryset) == {other}
