"""Who may call the API beyond being logged in, by the same rules as the pages."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, throttling

from .. import rates, services
from ..addresses import client_address
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


class UserRateThrottle(throttling.BaseThrottle):
    """At most ``settings.LAB_API_RATE`` requests per user, or per client address before
    log-in (read through trusted proxies only), counted in the broker's Redis so that
    every web process counts together (``classifier.rates``)."""

    wait_seconds = 0

    def allow_request(self, request, view):
        if request.user and request.user.is_authenticated:
            key = f"api:user:{request.user.pk}"
        else:
            key = f"api:address:{client_address(request)}"
        self.wait_seconds = rates.count(key, settings.LAB_API_RATE)
        return not self.wait_seconds

    def wait(self):
        return self.wait_seconds
