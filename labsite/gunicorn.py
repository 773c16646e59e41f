"""The web server's settings, for `make run` (runlab) and the compose file alike:
``gunicorn -c python:labsite.gunicorn``. Each starter gives the address and the number of
processes, which differ between a laptop and a server."""

from django.conf import settings
from gunicorn.glogging import Logger


class AccessLogWithoutStaticFiles(Logger):
    """The access log, less the requests for static files: a page brings a handful of
    them, and in a class of fifty they would bury every line worth reading."""

    def access(self, resp, req, environ, request_time):
        if not environ.get("PATH_INFO", "").startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
            super().access(resp, req, environ, request_time)


accesslog = "-"
logger_class = AccessLogWithoutStaticFiles
