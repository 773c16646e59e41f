"""Template filters for the lab: numbers, durations, moments, roles, and the codes of
splits and models in words."""

from django import template
from django.utils import dateformat, timezone
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from .. import labels, roles, services
from ..i18n import translate

register = template.Library()


@register.filter
def percent(value, digits=1):
    """0.9123 -> '91.2%'; an empty value -> '–'."""
    if value is None or value == "":
        return "–"
    # Rounded first: number_format cuts the digits off (0.99996 would read 99.9%).
    digits = int(digits)
    return f"{number_format(round(float(value) * 100, digits), digits)}%"


@register.filter
def seconds(value):
    """A duration (seconds or a timedelta) in the reader's language: '3 min 5 s', '3분 5초'."""
    if value is None:
        return "–"
    if hasattr(value, "total_seconds"):
        value = value.total_seconds()
    total = round(float(value))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(min)d min") % {"h": hours, "min": minutes}
    if minutes:
        return _("%(min)d min %(s)d s") % {"min": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


@register.filter
def when(value):
    """A moment as every page writes it, whatever the language: '2026-12-07 14:05 KST', in
    the active time zone (``TIME_ZONE``); nothing for no moment."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, "Y-m-d H:i T")


register.filter(labels.split_label)
register.filter(labels.model_label)
register.filter(labels.jamo_part)


@register.filter
def is_instructor(user):
    """Whether ``user`` teaches (instructors and admins): ``{% if user|is_instructor %}``."""
    return roles.is_instructor(user)


@register.simple_tag(takes_context=True)
def page_url(context, param, number):
    """This page's query string with ``param`` set to ``number``, other parameters kept:
    two paginated lists on one page (or a filter) survive turning either's pages."""
    query = context["request"].GET.copy()
    query[param] = number
    return "?" + query.urlencode()


@register.inclusion_tag("predictions/_bars.html")
def probability_bars(prediction):
    """A finished prediction's bar graph, drawn in the page as SVG."""
    chart = services.prediction_bars(prediction)
    return {"chart": chart, "title": translate(chart.title) if chart.title else ""}


@register.filter
def python_code(source):
    """Python source as HTML, its tokens marked with Pygments' classes (coloured by
    ``static/css/code.css``)."""
    return mark_safe(highlight(source, PythonLexer(), HtmlFormatter(cssclass="code")))
