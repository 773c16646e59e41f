"""Who may do what: the Student and Instructor groups, and admins (staff)."""

from functools import wraps

from django.core.exceptions import PermissionDenied

STUDENT = "Student"
INSTRUCTOR = "Instructor"
ROLES = (STUDENT, INSTRUCTOR)


def is_admin(user) -> bool:
    return user.is_authenticated and user.is_staff


def is_instructor(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.groups.filter(name=INSTRUCTOR).exists())


def role_of(user) -> str:
    """ "admin", "instructor" or "student"."""
    if is_admin(user):
        return "admin"
    return "instructor" if is_instructor(user) else "student"


def admin_required(view):
    """Only staff may call ``view``; everyone else gets 403 (anonymous users log in first)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def may_delete(user, row) -> bool:
    """Whether ``user`` may delete ``row`` (a training job or a prediction): students own
    their data, and admins look after everyone's. Teaching a course gives no such right."""
    return is_admin(user) or (user.is_authenticated and row.owner_id == user.pk)
