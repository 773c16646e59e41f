"""Course pages: courses and joining them, assignments and submissions, gradebooks,
regrades, and data sets made of the students' handwriting.

Students see only the courses they joined, instructors the ones they teach, admins all;
anything else is a 404. Pages for teaching a course are a 403 to its students.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import rates, services
from ..forms import (
    AssignmentForm,
    CoInstructorForm,
    CourseForm,
    HandwritingDatasetForm,
    JoinCourseForm,
    PublishModelForm,
    RegradeForm,
    RosterForm,
    SubmissionForm,
    VerdictForm,
)
from ..models import Assignment, Course, Prediction
from ..roles import is_instructor
from ..services.grading import GradeCell
from .refusals import refusals_shown

# Rows a page: a class of students, or a gradebook's, fits on one page up to CLASS_PAGE.
LIST_PAGE = 25
CLASS_PAGE = 50


def _page(request, rows, size, param="page"):
    return Paginator(rows, size).get_page(request.GET.get(param))


def _course_for(request, pk) -> Course:
    return get_object_or_404(Course.visible_to(request.user).select_related("owner"), pk=pk)


def _managed_course(request, pk) -> Course:
    course = _course_for(request, pk)
    if not services.may_manage(request.user, course):
        raise PermissionDenied
    return course


def _assignment_for(request, pk, *, explain_outsiders=False) -> Assignment:
    """The assignment ``pk`` if the user may see it, else 404; with ``explain_outsiders``,
    one that exists in a course the user has not joined is refused with the reason."""
    assignments = Assignment.visible_to(request.user).select_related("grader__dataset")
    try:
        return assignments.get(pk=pk)
    except Assignment.DoesNotExist:
        if explain_outsiders and Assignment.objects.filter(pk=pk).exists():
            raise PermissionDenied(
                _(
                    "This assignment belongs to a course you have not joined. Join it on the "
                    "Courses page with the code your instructor gave you."
                )
            ) from None
        raise Http404 from None


def _managed_assignment(request, pk) -> Assignment:
    assignment = _assignment_for(request, pk)
    if not services.may_manage(request.user, assignment.course):
        raise PermissionDenied
    return assignment


# --- Courses -----------------------------------------------------------------------------


def course_list(request):
    """The user's courses; instructors create courses here, students join one by its code."""
    teaching = is_instructor(request.user)
    create_form = CourseForm(request.POST or None) if teaching else None
    if request.method == "POST":
        if not teaching:
            raise PermissionDenied
        if create_form.is_valid():
            course = create_form.save(commit=False)
            course.owner = request.user
            course.save()
            messages.success(
                request,
                _("Created %(course)s. Give your students its join code: %(code)s.")
                % {"course": course, "code": course.join_code},
            )
            return redirect(course)
    courses = Course.visible_to(request.user).select_related("owner")
    # In order again: the model's ordering does not apply to a query with GROUP BY.
    courses = courses.annotate(n_students=Count("enrollments", distinct=True))
    courses = courses.order_by("name", "pk")
    # A code that was refused comes back typed, to be corrected (see course_join).
    join_form = None if teaching else JoinCourseForm(initial={"code": request.GET.get("code")})
    context = {
        "courses": _page(request, courses, LIST_PAGE),
        "create_form": create_form,
        "join_form": join_form,
    }
    return render(request, "courses/list.html", context)


@require_POST
def course_join(request):
    """Join the course whose code was typed (students; instructors teach courses)."""
    if is_instructor(request.user):
        raise PermissionDenied
    form = JoinCourseForm(request.POST)
    # Back to the list with the code as typed, so a mistyped one is corrected, not retyped.
    typed = f"{reverse('classifier:course-list')}?{urlencode({'code': form['code'].value() or ''})}"
    if not form.is_valid():
        messages.error(request, _("Type the join code your instructor gave you."))
        return redirect(typed)
    with refusals_shown(request) as outcome:
        course = services.join_course(request.user, form.cleaned_data["code"])
    if outcome.refused:
        return redirect(typed)
    messages.success(request, _("You joined %(course)s.") % {"course": course})
    return redirect(course)


def course_detail(request, pk):
    """The instructor's view (code, students, models, assignments) or a student's."""
    course = _course_for(request, pk)
    page = _page(request, course.assignments.select_related("grader"), LIST_PAGE, "assignments")
    assignments = list(page)
    models = course.published_models.select_related("dataset", "owner").order_by("pk")
    context = {"course": course, "models": models, "assignments_page": page}
    if services.may_manage(request.user, course):
        counts = services.submission_counts(assignments)
        enrollments = course.enrollments.select_related("student__profile")
        context |= {
            "enrollments": _page(request, enrollments, CLASS_PAGE, "students"),
            "publish_form": PublishModelForm(course=course, user=request.user),
            "assignment_rows": [(a, counts.get(a.pk, 0)) for a in assignments],
            "join_link": request.build_absolute_uri(services.join_url(course)),
            "roster_form": RosterForm(),
            "co_instructors": course.co_instructors.order_by("username"),
            "co_instructor_form": CoInstructorForm(),
            "may_choose_teachers": course.can_choose_teachers(request.user),
        }
        return render(request, "courses/manage.html", context)
    context["assignment_rows"] = [
        (a, services.gradebook(a, student=request.user).rows[0]) for a in assignments
    ]
    return render(request, "courses/detail.html", context)


@require_POST
def course_publish(request, pk):
    """Share a finished model with the course: students predict with it, it can grade."""
    course = _managed_course(request, pk)
    form = PublishModelForm(request.POST, course=course, user=request.user)
    if form.is_valid():
        job = form.cleaned_data["job"]
        with refusals_shown(request):
            services.publish_model(course, job)
            messages.success(request, _("Model #%(pk)d is published.") % {"pk": job.pk})
    else:
        messages.error(request, " ".join(form.errors.get("job", [])))
    return redirect(course)


# --- Assignments and submissions ---------------------------------------------------------


def assignment_new(request, pk):
    course = _managed_course(request, pk)
    form = AssignmentForm(request.POST or None, course=course)
    if form.is_valid():
        assignment = form.save()
        messages.success(request, _("The assignment is open to the course's students."))
        return redirect(assignment)
    has_graders = form.fields["grader"].queryset.exists()
    return render(
        request,
        "assignments/new.html",
        {"course": course, "form": form, "has_graders": has_graders},
    )


def assignment_detail(request, pk):
    """Students write the characters here; the instructor sees a summary."""
    assignment = _assignment_for(request, pk, explain_outsiders=True)
    if services.may_manage(request.user, assignment.course):
        book = services.gradebook(assignment)
        context = {
            "assignment": assignment,
            "book": book,
            "per_char": list(zip(book.chars, book.correct_per_char, strict=True)),
            "submitted": assignment.submissions.count(),
            "regrade": services.active_regrade(assignment),
        }
        return render(request, "assignments/manage.html", context)
    return _student_page(request, assignment, SubmissionForm())


@require_POST
def assignment_submit(request, pk):
    """Grade one image of one character; a refusal stores nothing and says why."""
    assignment = _assignment_for(request, pk, explain_outsiders=True)
    form = SubmissionForm(request.POST, request.FILES)
    if form.is_valid():
        char = form.cleaned_data["char"]
        with refusals_shown(form=form) as outcome:  # preprocess.ImageRejected too
            rates.check_work(request.user)
            submission = services.submit(
                assignment,
                request.user,
                char,
                again=form.cleaned_data["again"],
                wait=True,
                **form.image_fields(),
            )
        if not outcome.refused:
            # The worker usually answers within the wait, so the page shows the verdict.
            messages.success(
                request,
                _("Submitted %(char)s (attempt %(n)d of %(total)d).")
                % {"char": char, "n": submission.attempt, "total": assignment.attempts_allowed},
            )
            return redirect(submission)
    return _student_page(request, assignment, form, status=400)


def _student_page(request, assignment, form, status=200):
    rows = services.gradebook(assignment, student=request.user).rows
    # Someone who is not a student of the course (an instructor trying the form) sees
    # the characters with no submissions.
    cells = rows[0].cells if rows else [GradeCell(char) for char in assignment.chars]
    targets = [
        {"cell": cell, "left": max(0, assignment.attempts_allowed - cell.attempts)}
        for cell in cells
    ]
    chosen = form["char"].value() or next(
        (t["cell"].char for t in targets if t["left"] and t["cell"].verdict != "correct"),
        assignment.chars[0] if assignment.chars else "",
    )
    context = {
        "assignment": assignment,
        "form": form,
        "targets": targets,
        "chosen": chosen,
        "score": sum(cell.verdict == "correct" for cell in cells),
        "closed": assignment.is_past_due and not assignment.accept_late,
        "pending": next((cell.pending for cell in cells if cell.pending), None),
        "any_correct": any(cell.verdict == "correct" for cell in cells),
        "image_limit": settings.LAB_IMAGE_MAX_BYTES,
    }
    return render(request, "assignments/detail.html", context, status=status)


# --- Gradebook and regrades --------------------------------------------------------------


def gradebook(request, pk):
    """Students x characters, with the regrade form and the regrade's progress."""
    assignment = _managed_assignment(request, pk)
    book = services.gradebook(assignment)
    context = {
        "assignment": assignment,
        "book": book,
        "rows": _page(request, book.rows, CLASS_PAGE),
        "regrade_form": RegradeForm(assignment=assignment),
        "regrade": assignment.regrades.first(),
    }
    return render(request, "assignments/gradebook.html", context)


def gradebook_csv(request, pk):
    """The gradebook as a CSV download; the BOM makes Excel read it as UTF-8 (Hangul)."""
    assignment = _managed_assignment(request, pk)
    rates.check_work(request.user)
    text = services.gradebook_csv(services.gradebook(assignment))
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gradebook-{assignment.pk}.csv"'
    return response


def review_queue(request, pk):
    """The counted answers the model doubted, each with what the model saw and said,
    to accept or reject with a comment."""
    assignment = _managed_assignment(request, pk)
    book = services.gradebook(assignment)
    context = {"assignment": assignment, "items": book.to_review}
    return render(request, "assignments/review.html", context)


def _managed_submission(request, pk) -> Prediction:
    """Submission ``pk`` if the user teaches its course; 404 if they may not see it."""
    submission = get_object_or_404(
        Prediction.visible_to(request.user)
        .filter(assignment__isnull=False)
        .select_related("assignment__course"),
        pk=pk,
    )
    if not services.may_manage(request.user, submission.assignment.course):
        raise PermissionDenied
    return submission


@require_POST
def submission_verdict(request, pk):
    """The teacher accepts, rejects or overrides a submission's verdict, with a comment;
    back to ``next`` (the review queue, the gradebook) or the submission."""
    submission = _managed_submission(request, pk)
    form = VerdictForm(request.POST)
    if form.is_valid():
        with refusals_shown(request):
            services.set_verdict(
                submission, request.user, form.cleaned_data["verdict"], form.cleaned_data["comment"]
            )
            messages.success(
                request,
                _("%(student)s's %(char)s (attempt %(n)d): %(verdict)s.")
                % {
                    "student": submission.owner.username,
                    "char": submission.expected,
                    "n": submission.attempt,
                    "verdict": submission.verdict_label,
                },
            )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = submission.get_absolute_url()
    return redirect(target)


@require_POST
def regrade(request, pk):
    """Grade every submission again with the chosen model (which grades from now on)."""
    assignment = _managed_assignment(request, pk)
    form = RegradeForm(request.POST, assignment=assignment)
    if form.is_valid():
        with refusals_shown(request):
            services.start_regrade(assignment, form.cleaned_data["grader"], request.user)
            messages.success(
                request, _("The regrade is queued; this page follows it."), extra_tags="live"
            )
    else:
        messages.error(request, " ".join(form.errors.get("grader", [])))
    return redirect("classifier:gradebook", pk=assignment.pk)


def regrade_status(request, pk):
    """The polled JSON of the assignment's latest regrade, with its progress fragment."""
    assignment = _managed_assignment(request, pk)
    latest = assignment.regrades.select_related("grader").first()
    if latest is None:
        raise Http404(_("This assignment has not been regraded."))
    fragment = render_to_string("assignments/_regrade.html", {"regrade": latest}, request)
    return JsonResponse(
        {
            "status": latest.status,
            "terminal": latest.is_terminal,
            "done": latest.done,
            "total": latest.total,
            "version": latest.done,
            "fragments": {"progress": fragment},
        }
    )


# --- Handwriting data sets ---------------------------------------------------------------


def handwriting_dataset(request):
    """Make a data set of the verified answers to some assignments (instructors): the
    chosen assignments' samples are shown as a grid, where any can be left out."""
    if not is_instructor(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = HandwritingDatasetForm(request.POST, user=request.user)
    else:
        # Linked from a gradebook (?assignment=), or the grid asked for (?assignments=).
        picked = request.GET.getlist("assignment") + request.GET.getlist("assignments")
        form = HandwritingDatasetForm(user=request.user, initial={"assignments": picked})
    if form.is_valid():
        with refusals_shown(form=form, field="assignments") as outcome:
            rates.check_work(request.user)
            dataset = services.create_handwriting_dataset(
                name=form.cleaned_data["name"],
                assignments=form.cleaned_data["assignments"],
                user=request.user,
                hidden=form.cleaned_data["hidden"],
                exclude=form.cleaned_data["exclude"],
            )
        if not outcome.refused:
            messages.success(
                request,
                _("The data set is queued; this page follows its build."),
                extra_tags="live",
            )
            return redirect(dataset)
    chosen = form.chosen_assignments()
    context = {
        "form": form,
        "corpus": services.corpus(chosen) if chosen else None,
        "excluded": {str(pk) for pk in form["exclude"].value() or []},
    }
    return render(request, "datasets/handwriting.html", context)
