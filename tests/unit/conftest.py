"""The permission matrix's world (users in every role, data sets, jobs, a course with an
assignment, predictions; ``tests/support/world.py``) for the unit tests that need one:
the matrix, the API's and the deletion tests among them; and a course with an assignment
of 가 and 나 for the course pages' tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from classifier.models import Assignment, Course, Enrollment
from tests.support.courses import make_grader
from tests.support.world import stub_figures


@pytest.fixture
def world(drawn_world, monkeypatch):
    """Everything the permission matrix's cases reach, built once per test; no worker
    and no broker is asked anything, and every figure is a stub PNG."""
    stub_figures(monkeypatch)
    return drawn_world


@pytest.fixture
def course(instructor, student_a):
    """Hangul 101, taught by ``instructor``; ``student_a`` has joined."""
    course = Course.objects.create(name="Hangul 101", owner=instructor)
    Enrollment.objects.create(course=course, student=student_a)
    return course


@pytest.fixture
def grader(course, instructor):
    """A grading model of 가나다 published to the course."""
    job = make_grader(instructor)
    course.published_models.add(job)
    return job


@pytest.fixture
def assignment(course, grader):
    """Week 1: 가 and 나, two attempts each, due in three days."""
    return Assignment.objects.create(
        course=course,
        title="Week 1",
        chars=["가", "나"],
        grader=grader,
        due_at=timezone.now() + timedelta(days=3),
        attempts_allowed=2,
    )
