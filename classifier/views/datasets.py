"""Data set pages: list, detail with live progress and plots, imports (PHD08, labelled
images), render, downloads, delete."""

import functools

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import rates, services
from ..forms import LabelledImagesForm, Phd08ImportForm, RenderDatasetForm
from ..i18n import language, translate
from ..ids import parse_ids
from ..ml import fonts
from ..ml.render import STYLES, RenderSettings
from ..models import Dataset, JobStatus
from ..models.datasets import augmentation_png
from ..responses import png_response
from ..roles import admin_required
from .refusals import refusal_as_404, refusals_shown


def dataset_list(request):
    page = Paginator(Dataset.visible_to(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "datasets/list.html", {"page": page})


def _dataset_for(request, pk):
    return get_object_or_404(Dataset.visible_to(request.user), pk=pk)


CHARACTERS_PER_PAGE = 200
SKIPPED_PER_PAGE = 100


def dataset_detail(request, pk):
    dataset = _dataset_for(request, pk)
    # Every character with its label and count, 200 a page (the full PHD08 has 2,350).
    rows = [(label, char, count) for label, (char, count) in enumerate(dataset.counts_by_class())]
    characters = Paginator(rows, CHARACTERS_PER_PAGE).get_page(request.GET.get("chars"))
    # The files left out, 100 a page, each page's reasons put in the reader's language;
    # for whoever may see the files (their names may say who wrote them).
    left_out = dataset.skipped if services.may_see_files(request.user, dataset) else []
    skipped = Paginator(left_out, SKIPPED_PER_PAGE).get_page(request.GET.get("left"))
    skipped.object_list = [(item["name"], translate(item["reason"])) for item in skipped]
    context = {
        "dataset": dataset,
        "characters": characters,
        "skipped": skipped,
        "may_export_images": services.may_export_images(request.user, dataset),
    }
    return render(request, "datasets/detail.html", context)


def dataset_status(request, pk):
    """The polled JSON: status, progress and the progress fragment, re-rendered."""
    dataset = _dataset_for(request, pk)
    return JsonResponse(
        {
            "status": dataset.status,
            "terminal": dataset.is_terminal,
            "files_done": dataset.files_done,
            "files_total": dataset.files_total,
            "samples_done": dataset.samples_done,
            "samples_per_second": dataset.samples_per_second,
            "eta_seconds": dataset.eta_seconds,
            "fragments": {
                "progress": render_to_string(
                    "datasets/_progress.html", {"dataset": dataset}, request
                ),
            },
        }
    )


def _preview(request, pk, kind):
    dataset = _dataset_for(request, pk)
    if not dataset.is_ready:
        raise Http404(_("This data set has no arrays yet."))
    with refusal_as_404():  # its files cannot be read, or its font is gone
        png = dataset.preview_png(kind)
    return png_response(png, max_age=3600)


def dataset_grid_png(request, pk):
    return _preview(request, pk, "grid")


def dataset_counts_png(request, pk):
    return _preview(request, pk, "counts")


def dataset_augmentation_png(request, pk):
    if not _dataset_for(request, pk).shows_augmentation:
        raise Http404(_("Only a data set rendered from fonts has augmentation to show."))
    return _preview(request, pk, "augmentation")


@admin_required
def render_preview_png(request):
    """What each augmentation of a style does, for the render form: the tutorial's 밟 in
    the plots' font, drawn once per style and language."""
    style = request.GET.get("style", "handwriting")
    if style not in STYLES:
        raise Http404(_("There is no such style."))
    return png_response(_style_preview(style, language()), max_age=3600)


@functools.lru_cache(maxsize=len(STYLES) * len(settings.LANGUAGES))
def _style_preview(style: str, language_code: str) -> bytes:
    font = fonts.plot_font()
    if font is None:
        raise Http404(fonts.INSTALL_HINT)
    return augmentation_png("밟", font, RenderSettings(style=style))


class _Pipe:
    """A write-only file whose bytes are taken out as they come, for a streamed response."""

    def __init__(self):
        self.chunks = []

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def _npz_stream(arrays):
    pipe = _Pipe()
    for _done in arrays.write_npz(pipe):
        yield pipe.take()


def dataset_export(request, pk):
    """The data set as one ``.npz``, streamed as it is written: the download starts at
    once, shows its progress in the browser, and no copy is kept on the server."""
    dataset = _dataset_for(request, pk)
    if not dataset.is_ready:
        raise Http404(_("This data set has no arrays yet."))
    rates.check_work(request.user)
    response = StreamingHttpResponse(
        _npz_stream(dataset.open_store()), content_type="application/octet-stream"
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{dataset.name}.npz"
    )
    return response


def dataset_export_images(request, pk):
    """The images the data set was built from, as a labelled zip (a folder per character
    and writer, and a manifest.csv), streamed as it is written."""
    dataset = _dataset_for(request, pk)
    if not services.may_export_images(request.user, dataset):
        raise PermissionDenied
    rates.check_work(request.user)
    pipe = _Pipe()
    with refusal_as_404():  # the archive it was imported from is gone
        written = services.export_images(dataset, pipe)
    response = StreamingHttpResponse(_zip_stream(written, pipe), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{dataset.name}-images.zip"
    )
    return response


def _zip_stream(written, pipe):
    for _done in written:
        yield pipe.take()
    yield pipe.take()  # the manifest and the archive's directory, written as it closes


def _creation_form(form_class, request, source):
    """A data set form; with ``?retry=``, the failed (or cancelled) data set of that
    source whose settings it edits, filled in."""
    ids = parse_ids([request.GET.get("retry", "")])
    retrying = Dataset.objects.filter(
        pk__in=ids, source=source, status__in=(JobStatus.FAILED, JobStatus.CANCELLED)
    ).first()
    initial = form_class.initial_from(retrying) if retrying is not None else None
    data = (request.POST or None, request.FILES or None)
    return form_class(*data, initial=initial, retrying=retrying)


def _created(form, create):
    """The data set ``create()`` makes; when the form edits a failed one, it replaces it."""
    if form.retrying is not None:
        return services.retry_dataset(form.retrying, create)
    return create()


@admin_required
def dataset_import(request):
    form = _creation_form(Phd08ImportForm, request, Dataset.Source.PHD08)
    if form.is_valid():
        server_path = form.cleaned_data["server_path"]
        field = "server_path" if server_path else "files"
        with refusals_shown(form=form, field=field) as outcome:
            if server_path:
                create = functools.partial(
                    services.create_phd08_dataset,
                    name=form.cleaned_data["name"],
                    paths=[server_path],
                    conversion=form.conversion(),
                    user=request.user,
                    allowed_roots=settings.LAB_IMPORT_ROOTS,
                    hidden=form.cleaned_data["hidden"],
                )
            else:
                create = functools.partial(
                    services.create_uploaded_phd08_dataset,
                    name=form.cleaned_data["name"],
                    uploads=form.cleaned_data["files"],
                    conversion=form.conversion(),
                    user=request.user,
                    hidden=form.cleaned_data["hidden"],
                )
            dataset = _created(form, create)
        if not outcome.refused:
            messages.success(
                request, _("The import is queued; this page follows it."), extra_tags="live"
            )
            return redirect(dataset)
    return render(request, "datasets/import.html", {"form": form})


@admin_required
def dataset_import_images(request):
    form = _creation_form(LabelledImagesForm, request, Dataset.Source.IMAGES)
    if form.is_valid():
        common = {
            "name": form.cleaned_data["name"],
            "size": form.cleaned_data["size"],
            "user": request.user,
            "hidden": form.cleaned_data["hidden"],
        }
        server_path = form.cleaned_data["server_path"]
        field = "server_path" if server_path else "archive"
        with refusals_shown(form=form, field=field) as outcome:
            if server_path:
                create = functools.partial(
                    services.create_image_dataset,
                    path=server_path,
                    allowed_roots=settings.LAB_IMPORT_ROOTS,
                    **common,
                )
            else:
                create = functools.partial(
                    services.create_uploaded_image_dataset,
                    upload=form.cleaned_data["archive"],
                    **common,
                )
            dataset = _created(form, create)
        if not outcome.refused:
            messages.success(
                request, _("The import is queued; this page follows it."), extra_tags="live"
            )
            return redirect(dataset)
    return render(request, "datasets/import_images.html", {"form": form})


@admin_required
def dataset_render(request):
    form = _creation_form(RenderDatasetForm, request, Dataset.Source.FONTS)
    if form.is_valid():
        with refusals_shown(form=form) as outcome:
            create = functools.partial(
                services.create_font_dataset,
                name=form.cleaned_data["name"],
                chars=form.cleaned_data["char_list"],
                font_specs=form.cleaned_data["fonts"],
                rendering=form.rendering(),
                user=request.user,
                hidden=form.cleaned_data["hidden"],
            )
            dataset = _created(form, create)
        if not outcome.refused:
            messages.success(
                request, _("Rendering is queued; this page follows it."), extra_tags="live"
            )
            return redirect(dataset)
    return render(request, "datasets/render.html", {"form": form})


@admin_required
@require_POST
def dataset_cancel(request, pk):
    dataset = get_object_or_404(Dataset, pk=pk)
    if dataset.request_cancel():
        messages.info(request, _("The build will stop after the file in progress."))
    return redirect(dataset)


@admin_required
def dataset_delete(request, pk):
    dataset = get_object_or_404(Dataset, pk=pk)
    if request.method == "POST":
        with refusals_shown(request) as outcome:
            services.delete_dataset(dataset)
        if outcome.refused:
            return redirect(dataset)
        messages.success(request, _("Deleted the data set %(name)s.") % {"name": dataset.name})
        return redirect("classifier:dataset-list")
    return render(request, "datasets/confirm_delete.html", {"dataset": dataset})
