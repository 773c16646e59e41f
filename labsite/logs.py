"""Filters of the run log: what a person reading it needs, no more."""

import logging


class ClientErrorsWithoutTracebacks(logging.Filter):
    """A 403 or 404 is the lab answering as it should, not a fault: Django logs one with
    the exception's traceback; one line says it all."""

    def filter(self, record):
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
