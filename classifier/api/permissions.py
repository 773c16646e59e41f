"""Who may call the API beyond being logged in, by the same rules as the pages."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, throttling

from .. import services
from ..models import Prediction


class TeachesCourse(permissions.BasePermission):
    """The instructor of the object's course (an assignment's, a submission's), or an
    admin: its students get a 403, as on the pages; people outside the course never see
    the object (404)."""

    message = _("Only the course's instructor may do this.")

    def has_object_permission(self, request, view, obj):
        if isinstance(obj, Prediction):
            obj = obj.assignment
        return services.may_manage(request.user, obj.course)


class UserRateThrottle(throttling.UserRateThrottle):
    """At most ``settings.LAB_API_RATE`` requests per user (per address for anonymous
    ones), read on each request rather than once at import."""

    def get_rate(self):
        return settings.LAB_API_RATE
