"""Predict pages: upload or draw a character, see what the model sees and what it says."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import rates, services
from ..forms import PredictForm, VerdictForm
from ..i18n import translate
from ..ml.messages import Busy, Refusal, TooOften
from ..models import Prediction
from ..responses import file_response
from ..roles import may_delete
from .refusals import refusals_shown

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "gif": "image/gif",
}


def _visible(request, pk) -> Prediction:
    return get_object_or_404(Prediction.visible_to(request.user), pk=pk)


def predict(request):
    """The predict form; a POST classifies the image and shows the result.

    The request waits briefly for the worker, so the result usually comes with the
    answer; otherwise the prediction's page polls. Programs use the API
    (``POST /api/predictions/``), which answers in JSON.
    """
    models = services.usable_models(request.user)
    initial = {"model": request.GET.get("model") or models.order_by("-finished_at").first()}
    form = PredictForm(request.POST or None, request.FILES or None, models=models, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusals_shown(form=form) as outcome:
            rates.check_work(request.user)
            prediction = services.create_prediction(
                owner=request.user, wait=True, **form.prediction_fields()
            )
        if not outcome.refused:
            return redirect(prediction)
    context = {
        "form": form,
        "image_limit": settings.LAB_IMAGE_MAX_BYTES,
        "has_models": models.exists(),
    }
    return render(request, "predictions/new.html", context, status=400 if form.errors else 200)


@require_POST
def predict_live(request):
    """Read the drawing on the Predict page while the student draws (or the webcam's
    picture while it films), storing nothing: JSON with the character, the top 5 and the
    model's input, or the reason it cannot (400 a bad image, 429 too often, 503 a busy
    worker). Assignments have no live
    reading: a submission is judged once it is handed in."""
    models = services.usable_models(request.user)
    form = PredictForm(request.POST, request.FILES, models=models)
    try:
        if not form.is_valid():
            return JsonResponse({"error": _first_error(form)}, status=400)
        rates.check_live(request.user)
        fields = form.prediction_fields()
        canvas = fields["source"] == Prediction.Source.CANVAS
        return JsonResponse(services.read_live(fields["model"], fields["data"], canvas=canvas))
    except Refusal as exc:
        status = 429 if isinstance(exc, TooOften) else 503 if isinstance(exc, Busy) else 400
        return JsonResponse({"error": translate(exc.message)}, status=status)


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0]


def prediction_list(request):
    """The user's own predictions and submissions, newest first."""
    rows = Prediction.objects.filter(owner=request.user).select_related("model", "assignment")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "used": services.storage_used(request.user),
        "quota": services.storage_quota(request.user),
    }
    return render(request, "predictions/list.html", context)


def prediction_detail(request, pk):
    """A prediction and what the model saw; the teacher of a submission's course may
    give a verdict and a comment here."""
    prediction = _visible(request, pk)
    context = {
        "prediction": prediction,
        "may_delete": may_delete(request.user, prediction)
        and not services.prediction_deletion_refusal(prediction),
    }
    if prediction.assignment and services.may_manage(request.user, prediction.assignment.course):
        context["verdict_form"] = VerdictForm(
            initial={"verdict": prediction.teacher_verdict, "comment": prediction.teacher_comment}
        )
    return render(request, "predictions/detail.html", context)


def prediction_delete(request, pk):
    """Ask, then delete a prediction with its images: its owner or an admin; a submission
    stays as the course's record."""
    prediction = _visible(request, pk)
    if not may_delete(request.user, prediction):
        raise Http404
    if request.method == "POST":
        with refusals_shown(request) as outcome:
            services.delete_prediction(prediction)
        if outcome.refused:
            return redirect(prediction)
        messages.success(request, _("Deleted prediction #%(pk)d.") % {"pk": pk})
        return redirect("classifier:prediction-list")
    context = {
        "prediction": prediction,
        "refusal": translate(services.prediction_deletion_refusal(prediction)),
    }
    return render(request, "predictions/confirm_delete.html", context)


def prediction_status(request, pk):
    """The polled JSON: the result so far and the result fragment."""
    prediction = _visible(request, pk)
    fragment = render_to_string("predictions/_result.html", {"prediction": prediction}, request)
    return JsonResponse(
        {
            **services.prediction_summary(prediction),
            "terminal": prediction.is_settled,
            "saliency": prediction.explanation_state,
            "version": f"{prediction.status}-{prediction.explanation_state}",
            "fragments": {"progress": fragment},
        }
    )


def prediction_original(request, pk):
    """The upload as it came, as a download: it is the user's file, not the lab's, so it
    is never shown inline on the lab's origin (and its own name is not used)."""
    prediction = _visible(request, pk)
    extension = prediction.original_file.rpartition(".")[2]
    content_type = CONTENT_TYPES.get(extension, "application/octet-stream")
    name = f"prediction-{prediction.pk}.{extension if extension in CONTENT_TYPES else 'bin'}"
    return file_response(prediction.original_path, content_type, download_name=name)


def prediction_step(request, pk, key):
    prediction = _visible(request, pk)
    if key not in {step_key for step_key, _ in prediction.steps}:
        raise Http404(_("No such step."))
    return file_response(prediction.step_path(key), "image/png")


def prediction_saliency(request, pk, role):
    """A saliency map of the prediction (``predicted`` or ``expected``), once drawn."""
    prediction = _visible(request, pk)
    if role not in dict(prediction.saliency_maps):
        raise Http404(_("No such map."))
    return file_response(prediction.saliency_path(role), "image/png")
