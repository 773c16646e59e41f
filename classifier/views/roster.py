"""Who is in a course: the join link and its QR code, the roster, removing students,
co-instructors and password reset links.

The course's teachers (its owner, co-instructors, admins) manage it; only the owner and
admins choose its co-instructors.
"""

import io

import segno
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..forms import CoInstructorForm, RosterForm
from ..i18n import translate
from ..models import Course
from ..roles import is_instructor
from .courses import _managed_course
from .refusals import refusals_shown


def _back_to_students(course):
    return redirect(f"{course.get_absolute_url()}#students")


def join_link(request, code):
    """Opening a course's join link joins it (the link carries the code, which is what
    a student would type); someone logged out logs in or signs up first and comes back."""
    course = Course.objects.filter(join_code=code.upper()).first()
    if course is None:
        messages.error(
            request, _("This join link is no longer valid: ask your instructor for the new one.")
        )
        return redirect("classifier:course-list")
    if course.can_manage(request.user):
        return redirect(course)
    if is_instructor(request.user):
        raise PermissionDenied(_("Instructors teach courses; a join link is for students."))
    with refusals_shown(request, level=messages.INFO):  # already in it
        services.join_course(request.user, course.join_code)
        messages.success(request, _("You joined %(course)s.") % {"course": course})
    return redirect(course)


def join_qr(request, pk):
    """The join link as a QR code (SVG) for the classroom's projector."""
    course = _managed_course(request, pk)
    url = request.build_absolute_uri(services.join_url(course))
    svg = io.BytesIO()
    # A whole SVG document (with its namespace): a browser shows it as an <img>.
    segno.make(url, error="m").save(svg, kind="svg", scale=8, border=2, xmldecl=False)
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-cache"  # a new code makes a new picture
    return response


@require_POST
def regenerate_code(request, pk):
    course = _managed_course(request, pk)
    code = services.regenerate_join_code(course)
    messages.success(
        request,
        _("The new join code is %(code)s; the old code and link no longer work.") % {"code": code},
    )
    return redirect(course)


@require_POST
def remove_student(request, pk, user_pk):
    course = _managed_course(request, pk)
    student = get_object_or_404(User, pk=user_pk)
    with refusals_shown(request):
        services.remove_student(course, student)
        messages.success(
            request,
            _("%(name)s is no longer in the course; their submissions are kept.")
            % {"name": student.username},
        )
    return _back_to_students(course)


@require_POST
def import_roster(request, pk):
    """Enrol the students of a roster CSV and set their names and numbers."""
    course = _managed_course(request, pk)
    form = RosterForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _back_to_students(course)
    with refusals_shown(request) as outcome:
        result = services.import_roster(course, form.cleaned_data["roster"].read())
    if outcome.refused:
        return _back_to_students(course)
    messages.success(
        request,
        _(
            "Roster imported: %(enrolled)d enrolled, %(updated)d already in the course "
            "brought up to date, %(skipped)d skipped."
        )
        % {
            "enrolled": len(result.enrolled),
            "updated": len(result.updated),
            "skipped": len(result.skipped),
        },
    )
    for line, reason in result.skipped:
        messages.warning(
            request, _("Line %(line)d: %(reason)s.") % {"line": line, "reason": translate(reason)}
        )
    return _back_to_students(course)


@require_POST
def reset_link(request, pk, user_pk):
    """A one-time password reset link for a student of the course, shown once."""
    course = _managed_course(request, pk)
    student = get_object_or_404(User, pk=user_pk)
    with refusals_shown(request) as outcome:
        path = services.reset_link(course, student)
    if outcome.refused:
        return _back_to_students(course)
    context = {"course": course, "student": student, "link": request.build_absolute_uri(path)}
    response = render(request, "courses/reset_link.html", context)
    response["Cache-Control"] = "no-store"  # the link is a key: not kept in any cache
    return response


@require_POST
def add_co_instructor(request, pk):
    course = _owned_course(request, pk)
    form = CoInstructorForm(request.POST)
    if form.is_valid():
        with refusals_shown(request):
            user = services.add_co_instructor(course, form.cleaned_data["username"])
            messages.success(
                request, _("%(name)s now teaches the course with you.") % {"name": user.username}
            )
    return redirect(f"{course.get_absolute_url()}#teachers")


@require_POST
def remove_co_instructor(request, pk, user_pk):
    course = _owned_course(request, pk)
    user = get_object_or_404(User, pk=user_pk)
    with refusals_shown(request):
        services.remove_co_instructor(course, user)
        messages.success(
            request, _("%(name)s no longer teaches the course.") % {"name": user.username}
        )
    return redirect(f"{course.get_absolute_url()}#teachers")


def _owned_course(request, pk) -> Course:
    """The course ``pk`` if the user owns it (or is an admin): co-instructors teach it,
    but do not choose who else does."""
    course = _managed_course(request, pk)
    if not course.can_choose_teachers(request.user):
        raise PermissionDenied(_("Only the course's owner chooses its co-instructors."))
    return course
