"""The permission matrix's world: everything its cases reach, built once per test.

The roles are the personas of ``tests/conftest.py``: an anonymous visitor, student A
(who owns the jobs, predictions and submissions below and is in the course), student B
(in another course), the instructor of A's course, the instructor of the other course,
and an admin (staff). The ``world`` fixture (``tests/unit/conftest.py``) builds it with
the figures replaced by ``PNG_STUB``: what is tested with it is who gets them, not how
they look (their own tests render them).
"""

from datetime import timedelta
from types import SimpleNamespace

import numpy as np
from django.core.cache import cache
from django.utils import timezone

from classifier.ml import plots, training_plots
from classifier.models import (
    Assignment,
    Course,
    Dataset,
    Enrollment,
    Evaluation,
    JobStatus,
    Regrade,
    TrainingJob,
)
from tests.support.datasets import make_dataset
from tests.support.jobs import make_evaluated_job
from tests.support.predictions import make_stored_prediction, white_png

#: What every figure of the world answers.
PNG_STUB = b"\x89PNG\r\n\x1a\nstub"
#: The functions that draw figures (module, names), replaced by ones that give PNG_STUB.
FIGURES = (
    (
        training_plots,
        (
            "curves_png",
            "confusion_png",
            "mistakes_png",
            "mistakes_saliency_png",
            "embedding_png",
            "compare_png",
            "reliability_png",
            "jamo_png",
        ),
    ),
    (plots, ("sample_grid", "class_counts")),
)


def stub_figures(monkeypatch) -> None:
    """Every figure is ``PNG_STUB`` until the test ends."""
    for module, names in FIGURES:
        for name in names:
            monkeypatch.setattr(module, name, lambda *args, **kwargs: PNG_STUB)


def world_without_workers(settings, **people) -> SimpleNamespace:
    """``build_world`` for a test that no worker serves: a prediction is not waited for,
    and nobody asks a broker whether a worker listens. ``people``: the personas, as
    ``build_world`` takes them."""
    settings.LAB_PREDICT_WAIT_SECONDS = 0
    cache.clear()
    cache.set("lab:queue-has-worker:train", True, 3600)
    return build_world(**people, media_root=settings.MEDIA_ROOT)


def build_world(
    *, student_a, student_b, instructor, other_instructor, staff, media_root
) -> SimpleNamespace:
    """The users in every role (``users``, ``None`` for the anonymous visitor), data
    sets, jobs, a course with an assignment, a submission and a prediction."""
    w = SimpleNamespace()
    w.users = {
        "anon": None,
        "student_a": student_a,
        "student_b": student_b,
        "instructor": instructor,
        "other_instructor": other_instructor,
        "admin": staff,
    }
    w.ds = make_dataset("tiny", chars="가나다", per_char=4, created_by=staff)
    w.hidden = make_dataset("hidden-test", chars="가나다", per_char=2, seed=1, is_hidden=True)
    w.ds.hidden_test = w.hidden
    w.ds.save()
    w.ds2 = make_dataset("tiny-again", chars="가나다", per_char=2, seed=2)
    w.spare = make_dataset("spare", chars="가나", per_char=2, seed=3)
    w.building = Dataset.objects.create(
        name="building", source=Dataset.Source.PHD08, status=JobStatus.QUEUED, created_by=staff
    )
    w.hw_building = Dataset.objects.create(
        name="hw-building",
        source=Dataset.Source.HANDWRITING,
        status=JobStatus.QUEUED,
        created_by=instructor,
    )
    original = media_root / "submissions" / "1.png"
    original.parent.mkdir(parents=True)
    original.write_bytes(white_png())
    w.hw_ready = make_dataset(
        "hw-ready",
        chars="가",
        per_char=1,
        groups=("writer-1",),
        source=Dataset.Source.HANDWRITING,
        created_by=instructor,
        is_hidden=True,
        params={"samples": [["submissions/1.png", "가", "writer-1"]]},
    )

    w.job = make_evaluated_job(student_a, w.ds)
    w.job.tflite_path.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    np.savez(w.job.mistake_maps_path, shown=np.zeros(0, np.int64), maps=np.zeros((0, 2, 8, 8)))
    w.queued_job = TrainingJob.objects.create(owner=student_a, dataset=w.ds, model_spec="mlp")
    w.grader = make_evaluated_job(instructor, w.ds)
    Evaluation.objects.create(
        job=w.job, dataset=w.hidden, hidden=True, status=JobStatus.SUCCEEDED, accuracy=0.7, n=6
    )

    w.course = Course.objects.create(name="Hangul 101", owner=instructor)
    w.hw_ready.source_courses.set([w.course])  # its students' writing
    Enrollment.objects.create(course=w.course, student=student_a)
    w.course.published_models.add(w.grader)
    w.other_course = Course.objects.create(name="Other class", owner=other_instructor)
    Enrollment.objects.create(course=w.other_course, student=student_b)
    w.assignment = Assignment.objects.create(
        course=w.course,
        title="Week 1",
        chars=["가", "나"],
        grader=w.grader,
        due_at=timezone.now() + timedelta(days=3),
        attempts_allowed=3,
    )
    w.submission = make_stored_prediction(
        student_a, w.grader, assignment=w.assignment, expected="가", attempt=1
    )
    w.prediction = make_stored_prediction(student_a, w.job)
    Regrade.objects.create(
        assignment=w.assignment,
        grader=w.grader,
        requested_by=instructor,
        status=JobStatus.SUCCEEDED,
        total=1,
        done=1,
    )
    return w
