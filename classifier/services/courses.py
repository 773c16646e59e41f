"""Courses and assignments: joining, publishing models, submitting, grading, regrading."""

import logging

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from ..ml.messages import NotAllowed, Refusal, _
from ..models import (
    TERMINAL_STATUSES,
    Assignment,
    Course,
    Enrollment,
    JobStatus,
    Prediction,
    Regrade,
    TrainingJob,
    Verdict,
)
from ..roles import is_instructor
from .explanations import explain_prediction
from .failures import failure_reason, job_run
from .grading import grade_cell, grade_fields
from .predictions import (
    classify,
    create_prediction,
    model_input,
    prepare_image,
    store_images,
    stored_steps,
    waited_for,
)

logger = logging.getLogger(__name__)


def join_course(user, code: str) -> Course:
    """Enrol ``user`` in the course whose join code is ``code`` (any case, spaces ignored)."""
    normalised = "".join(code.split()).upper()
    course = Course.objects.filter(join_code=normalised).first()
    if course is None:
        raise Refusal(_("No course has the join code %(code)s.", code=normalised))
    if course.teaches(user):
        raise Refusal(_("You teach %(course)s.", course=course.name))
    created = Enrollment.objects.get_or_create(course=course, student=user)[1]
    if not created:
        raise Refusal(_("You are already in %(course)s.", course=course.name))
    return course


def publish_model(course: Course, job: TrainingJob):
    """Share a finished model with the course's students (and make it able to grade)."""
    if job.status != JobStatus.SUCCEEDED:
        raise Refusal(_("Only a model whose training succeeded can be published."))
    course.published_models.add(job)


def _again_refusal(assignment: Assignment, char: str) -> Refusal:
    """What a student is told before submitting ``char`` again once it is marked correct."""
    if assignment.grade_policy == Assignment.GradePolicy.LATEST:
        return Refusal(
            _(
                "%(char)s is already marked correct. A new attempt replaces that "
                "verdict, even if it is read wrong, and uses one of your attempts. "
                "Tick the box to submit it anyway.",
                char=char,
            )
        )
    return Refusal(
        _(
            "%(char)s is already marked correct, and that stays: a new attempt only "
            "uses one of your attempts. Tick the box to submit it anyway.",
            char=char,
        )
    )


def check_submission(assignment: Assignment, student, char: str, *, again: bool = False) -> int:
    """Why ``student`` may not submit ``char`` to ``assignment`` now, as a Refusal;
    else the number the new attempt gets.

    A character already marked correct is submitted again only when ``again`` says the
    student confirmed it."""
    if not assignment.course.has_student(student):
        raise NotAllowed(_("You are not in the course of this assignment."))
    if char not in assignment.chars:
        raise Refusal(_("%(char)s is not one of this assignment's characters.", char=char))
    if assignment.is_past_due and not assignment.accept_late:
        due = timezone.localtime(assignment.due_at).strftime("%Y-%m-%d %H:%M")
        raise Refusal(_("This assignment was due %(due)s; it takes no more submissions.", due=due))
    cell = grade_cell(assignment, student, char)
    if cell.attempts >= assignment.attempts_allowed:
        raise Refusal(
            _(
                "You have used all %(n)d attempts for %(char)s.",
                n=assignment.attempts_allowed,
                char=char,
            )
        )
    if not again and cell.verdict == Verdict.CORRECT:
        raise _again_refusal(assignment, char)
    return cell.attempts + 1


def submit(
    assignment: Assignment,
    student,
    char: str,
    *,
    data: bytes,
    source: str,
    original_name: str = "",
    again: bool = False,
    wait: bool = False,
) -> Prediction:
    """Record ``student``'s image of ``char`` for ``assignment`` and queue its grading
    (``again``: confirmed, for a character already marked correct; ``wait``: as
    ``create_prediction`` waits, once the submission is committed)."""
    with transaction.atomic():
        # The enrolment row is locked so that two submissions at once cannot both take
        # the last attempt.
        Enrollment.objects.select_for_update().filter(
            course=assignment.course, student=student
        ).first()
        attempt = check_submission(assignment, student, char, again=again)
        submission = create_prediction(
            owner=student,
            model=assignment.grader,
            data=data,
            source=source,
            original_name=original_name,
            expected=char,
            assignment=assignment,
            attempt=attempt,
            late=assignment.is_past_due,
        )
    return waited_for(submission) if wait else submission


# --- Regrading ---------------------------------------------------------------------------


def start_regrade(assignment: Assignment, grader: TrainingJob, user) -> Regrade:
    """Grade every submission of ``assignment`` again with ``grader``, which grades from now on."""
    model_input(grader)  # a model that cannot predict is refused here, not in the worker
    check_grader(grader, assignment.chars)
    with transaction.atomic():
        Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
        if assignment.regrades.exclude(status__in=TERMINAL_STATUSES).exists():
            raise Refusal(_("A regrade of this assignment is already running."))
        assignment.grader = grader
        assignment.save(update_fields=["grader"])
        regrade = Regrade.objects.create(
            assignment=assignment,
            grader=grader,
            requested_by=user,
            total=assignment.submissions.count(),
        )
        regrade.dispatch()
    return regrade


def run_regrade(pk: int) -> Regrade | None:
    """Claim regrade ``pk`` and grade each submission again (the worker's part)."""
    if not Regrade.claim(pk):
        return None
    regrade = Regrade.objects.select_related("grader").get(pk=pk)
    submissions = list(regrade.assignment.submissions.select_related("assignment").order_by("pk"))
    regrade.update_progress(total=len(submissions), done=0)
    failures = []
    with job_run(regrade):
        model_input(regrade.grader)  # a model that cannot predict fails the whole regrade
        for done, submission in enumerate(submissions, start=1):
            try:
                _regrade_one(submission, regrade.grader)
            except (Refusal, OSError) as exc:  # this one is listed; the others go on
                failures.append((submission.pk, failure_reason(exc)))
            regrade.update_progress(done=done)
        if failures:
            (first_pk, first_reason), count = failures[0], len(failures)
            regrade.fail(
                _(
                    "Submissions that could not be graded: %(count)d. The first, "
                    "#%(pk)d: %(reason)s",
                    count=count,
                    pk=first_pk,
                    reason=first_reason,
                )
            )
        else:
            regrade.succeed()
    return regrade


def _regrade_one(submission: Prediction, grader: TrainingJob):
    """Preprocess the stored original for ``grader`` and predict again, in place."""
    data = submission.original_path.read_bytes()
    prepared = prepare_image(grader, data, canvas=submission.source == Prediction.Source.CANVAS)
    store_images(submission, data, prepared.steps)
    results = classify(grader, prepared.input)
    submission.regraded(
        grader,
        steps=stored_steps(prepared.steps),
        **results,
        **grade_fields(submission, grader, results),
    )
    explain_prediction(submission, grader, prepared.input, results["predicted"])


def active_regrade(assignment: Assignment) -> Regrade | None:
    return assignment.regrades.exclude(status__in=TERMINAL_STATUSES).first()


def submission_counts(assignments) -> dict[int, int]:
    """Graded submissions per assignment id."""
    rows = (
        Prediction.objects.filter(assignment__in=assignments, status=JobStatus.SUCCEEDED)
        .values("assignment")
        .annotate(n=Count("pk"))
    )
    return {row["assignment"]: row["n"] for row in rows}


def graders_for(course: Course):
    """Models that may grade the course's assignments: those published to it."""
    return course.published_models.filter(status=JobStatus.SUCCEEDED)


def check_grader(grader: TrainingJob, chars) -> None:
    """Refuse a model that cannot grade ``chars``: one that
    does not know them all would mark every submission of the others incorrect."""
    unknown = [char for char in chars if char not in grader.classes]
    if unknown:
        raise Refusal(
            _(
                "Model #%(pk)d does not know %(unknown)s; it knows %(known)s.",
                pk=grader.pk,
                unknown=" ".join(unknown),
                known=" ".join(grader.classes),
            )
        )


def may_manage(user, course: Course) -> bool:
    return is_instructor(user) and course.can_manage(user)
