"""Answers that carry a file rather than a page: figures, stored images, model files.
The pages and the API send them alike, with the same headers."""

from pathlib import Path

from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext as _


def png_response(data: bytes, *, max_age: int | None = None) -> HttpResponse:
    """A figure as PNG bytes. ``max_age`` (seconds) lets the browser keep one that does
    not change once drawn; without it the browser asks again each time (a job's curves
    grow each epoch)."""
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = f"private, max-age={max_age}" if max_age else "private, no-cache"
    return response


def file_response(path: Path, content_type: str, *, download_name: str | None = None):
    """A stored file with an explicit content type (never guessed from its contents:
    SecurityMiddleware adds ``X-Content-Type-Options: nosniff``), never run as a page;
    with ``download_name``, as a download of that name."""
    if not path.exists():
        raise Http404(_("The file is gone."))
    response = FileResponse(
        path.open("rb"),
        content_type=content_type,
        as_attachment=download_name is not None,
        filename=download_name or "",
    )
    # The files change only when a regrade preprocesses them again.
    response["Cache-Control"] = "private, no-cache"
    # Should a browser ever open one as a document, it gets no scripts and no origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def model_download(job) -> FileResponse:
    """A training job's model as a ``.keras`` file (its characters and input size inside)."""
    if not job.model_path.exists():
        raise Http404(_("This job saved no model."))
    return file_response(
        job.model_path, "application/octet-stream", download_name=f"hangul-lab-job{job.pk}.keras"
    )


def tflite_download(job) -> FileResponse:
    """A training job's model as TensorFlow Lite, zipped with its description."""
    if not job.tflite_path.exists():
        raise Http404(_("This job has no TensorFlow Lite model."))
    return file_response(
        job.tflite_path, "application/zip", download_name=f"hangul-lab-job{job.pk}-tflite.zip"
    )
