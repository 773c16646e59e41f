"""Who is who in a course: real names and student numbers, roster imports, join codes,
removing students, co-instructors, instructors, and one-time password reset links."""

import csv
import io
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import Resolver404, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ..ml.messages import Message, Refusal, _
from ..models import Course, Enrollment, Profile
from ..models.courses import new_join_code
from ..roles import INSTRUCTOR, STUDENT, is_instructor

#: A roster is a class list, not a database dump: bounded so one upload stays quick.
ROSTER_MAX_BYTES = 1024 * 1024
ROSTER_MAX_ROWS = 5000
#: Header words a roster's first row may use for its columns (any case).
USERNAME_HEADERS = {"username", "user", "login", "아이디", "사용자 이름", "사용자명"}


def save_profile(user, *, real_name: str, student_number: str) -> Profile:
    """Set ``user``'s real name and student number (either may be empty)."""
    profile = Profile.of(user)
    profile.real_name = real_name.strip()
    profile.student_number = student_number.strip()
    profile.save()
    return profile


@dataclass
class RosterImport:
    """What a roster import did: students enrolled by it, those already in the course
    whose names were brought up to date, and rows skipped with their reason (to translate)."""

    enrolled: list[User] = field(default_factory=list)
    updated: list[User] = field(default_factory=list)
    skipped: list[tuple[int, Message]] = field(default_factory=list)


def import_roster(course: Course, data: bytes) -> RosterImport:
    """Enrol the students a roster CSV names (``username, name, number``; a header row
    is allowed) in ``course`` and set their real names and student numbers.

    A row that names no account, or an instructor's, is skipped with its line number and
    reason; a name or number left empty keeps the one the student gave. Nothing is
    written unless the file as a whole can be read.
    """
    if len(data) > ROSTER_MAX_BYTES:
        raise Refusal(_("A roster may be at most %(n)d KiB.", n=ROSTER_MAX_BYTES // 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refusal(_("The roster is not UTF-8 text: save it as CSV UTF-8.")) from None
    rows = [row for row in csv.reader(io.StringIO(text), _dialect(text)) if any(row)]
    if rows and rows[0][0].strip().lower() in USERNAME_HEADERS:
        rows = [None, *rows[1:]]  # the header keeps its line number
    if len(rows) > ROSTER_MAX_ROWS:
        raise Refusal(_("A roster may have at most %(n)d rows.", n=ROSTER_MAX_ROWS))
    result = RosterImport()
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=[row[0].strip() for row in rows if row]
        ).select_related("profile")
    }
    with transaction.atomic():
        for line, row in enumerate(rows, start=1):
            if row is None:
                continue
            username, name, number = [*(cell.strip() for cell in row), "", ""][:3]
            user = users.get(username)
            if not username:
                result.skipped.append((line, _("no username")))
            elif user is None:
                reason = _("no account is named %(name)s", name=username)
                result.skipped.append((line, reason))
            elif is_instructor(user) or course.owner_id == user.pk:
                result.skipped.append((line, _("%(name)s is an instructor", name=username)))
            else:
                created = Enrollment.objects.get_or_create(course=course, student=user)[1]
                (result.enrolled if created else result.updated).append(user)
                profile = Profile.of(user)
                profile.real_name = name or profile.real_name
                profile.student_number = number or profile.student_number
                profile.save()
    return result


def _dialect(text: str):
    """Comma-separated, unless the file is plainly semicolon- or tab-separated (as
    spreadsheets in some languages save it)."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def regenerate_join_code(course: Course) -> str:
    """Give ``course`` a new join code: the old code and its link stop working."""
    course.join_code = new_join_code()
    course.save(update_fields=["join_code"])
    return course.join_code


def join_url(course: Course) -> str:
    """The path of the link that joins ``course`` (with its current code)."""
    return reverse("classifier:course-join-link", args=[course.join_code])


def course_of_join_link(url: str) -> Course | None:
    """The course whose join link (with its current code) ``url`` is, else None."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    if match.view_name != "classifier:course-join-link":
        return None
    return Course.objects.filter(join_code=match.kwargs["code"].upper()).first()


def signup_refusal(next_url: str) -> Message | None:
    """Why nobody may make an account here under ``LAB_SIGNUP``, on the way to
    ``next_url`` (a course's join link, say); None when they may."""
    if settings.LAB_SIGNUP == "closed":
        return _("This lab makes its students' accounts itself: ask your instructor for yours.")
    if settings.LAB_SIGNUP == "join-links" and course_of_join_link(next_url) is None:
        return _(
            "New accounts are made through a course's join link or QR code: ask your "
            "instructor for it."
        )
    return None


def remove_student(course: Course, student) -> None:
    """Take ``student`` out of ``course``. Their submissions stay, as the course's record,
    and come back should they join again."""
    deleted, _rows = Enrollment.objects.filter(course=course, student=student).delete()
    if not deleted:
        raise Refusal(_("%(name)s is not in this course.", name=student.username))


def add_co_instructor(course: Course, username: str) -> User:
    """Let the instructor ``username`` teach ``course`` beside its owner."""
    user = User.objects.filter(username=username.strip()).first()
    if user is None:
        raise Refusal(_("No account is named %(name)s.", name=username.strip()))
    if not is_instructor(user):
        raise Refusal(
            _(
                "%(name)s is not an instructor: an admin makes them one on the People page.",
                name=user.username,
            )
        )
    if course.teaches(user):
        raise Refusal(_("%(name)s already teaches this course.", name=user.username))
    course.co_instructors.add(user)
    return user


def remove_co_instructor(course: Course, user) -> None:
    if not course.co_instructors.filter(pk=user.pk).exists():
        raise Refusal(_("%(name)s is not a co-instructor.", name=user.username))
    course.co_instructors.remove(user)


def set_instructor(user, instructor: bool) -> None:
    """Make ``user`` an instructor (``instructor``) or a student again."""
    if user.is_staff:
        raise Refusal(
            _("%(name)s is an admin, who can do everything an instructor can.", name=user.username)
        )
    instructors = Group.objects.get_or_create(name=INSTRUCTOR)[0]
    students = Group.objects.get_or_create(name=STUDENT)[0]
    if instructor:
        user.groups.add(instructors)
        user.groups.remove(students)
    else:
        if Course.objects.filter(owner=user).exists():
            raise Refusal(
                _("%(name)s owns courses: give them to someone else first.", name=user.username)
            )
        user.groups.remove(instructors)
        user.groups.add(students)


def reset_link(course: Course, student) -> str:
    """The path of a one-time link that lets ``student`` of ``course`` choose a new
    password: valid for ``settings.PASSWORD_RESET_TIMEOUT``, and spent once the password
    changes (Django's password reset tokens)."""
    if not course.enrollments.filter(student=student).exists():
        raise Refusal(_("%(name)s is not in this course.", name=student.username))
    if is_instructor(student):
        raise Refusal(_("Only a student's password can be reset here."))
    uid = urlsafe_base64_encode(force_bytes(student.pk))
    token = default_token_generator.make_token(student)
    return reverse("password_reset_confirm", args=[uid, token])
