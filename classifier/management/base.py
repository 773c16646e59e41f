"""What every management command of the lab is built on."""

from django.core.management.base import BaseCommand
from django.utils import translation


class LabCommand(BaseCommand):
    """A command of the lab: it speaks English, whatever the lab's language.

    Commands are for the server's operator and its logs, and their own messages are
    English; so what they pass on runs in English too (status labels, reasons from
    services through ``classifier.i18n.describe``), not Korean inside an English line.
    """

    def execute(self, *args, **options):
        with translation.override("en"):
            return super().execute(*args, **options)
