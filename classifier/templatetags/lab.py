"""Template filters for the lab: numbers, durations, roles."""

from django import template
from django.utils.formats import number_format

from .. import roles

register = template.Library()


@register.filter
def percent(value, digits=1):
    """0.9123 -> '91.2%'; an empty value -> '–'."""
    if value is None or value == "":
        return "–"
    return f"{number_format(float(value) * 100, int(digits))}%"


@register.filter
def seconds(value):
    """A duration (seconds or a timedelta), as '42 s', '3 min 5 s' or '1 h 2 min'."""
    if value is None:
        return "–"
    if hasattr(value, "total_seconds"):
        value = value.total_seconds()
    total = round(float(value))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


@register.filter
def is_instructor(user):
    """Whether ``user`` teaches (instructors and admins): ``{% if user|is_instructor %}``."""
    return roles.is_instructor(user)
