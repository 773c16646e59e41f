"""What every management command of the lab is built on."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import translation


class LabCommand(BaseCommand):
    """A command of the lab: it speaks English, whatever the lab's language, and says in
    words when the database cannot be used.

    Commands are for the server's operator and its logs, and their own messages are
    English; so what they pass on runs in English too (status labels, reasons from
    services through ``classifier.i18n.describe``), not Korean inside an English line.
    """

    def execute(self, *args, **options):
        with translation.override("en"):
            try:
                return super().execute(*args, **options)
            except DatabaseError as exc:
                # Not a traceback: the operator needs to know what to look at.
                raise CommandError(
                    f"The database could not be read or written ({exc}). Is it running, "
                    "and is there room for its files (a full disk, or a file-size limit "
                    "such as ulimit -f smaller than its journal)?"
                ) from exc
