"""The Hangul Lab Django project; importing it makes the Celery app available."""

from .celery import app as celery_app

__all__ = ("celery_app",)
