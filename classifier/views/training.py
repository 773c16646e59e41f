"""Training job pages: the form, the live job page, plots, downloads, compare, leaderboard."""

import functools

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import rates, services
from ..forms import EvaluateForm, HiddenTestForm, TrainingJobForm
from ..i18n import describe, translate
from ..ids import parse_ids
from ..ml import networks
from ..ml.messages import Refusal
from ..models import Dataset, JobStatus, TrainingJob
from ..responses import model_download, png_response, tflite_download
from ..roles import may_delete
from .refusals import not_allowed_as_403, refusal_as_404, refusals_shown


def _job_for(request, pk):
    return get_object_or_404(TrainingJob.visible_to(request.user), pk=pk)


def job_list(request):
    jobs = TrainingJob.visible_to(request.user)
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page": page})


def job_new(request):
    form = TrainingJobForm(request.POST or None, user=request.user, initial=_start(request))
    if form.is_valid():
        with refusals_shown(form=form) as outcome:
            rates.check_work(request.user)
            job = services.create_training_job(owner=request.user, **form.job_fields())
        if not outcome.refused:
            messages.success(
                request, _("Job #%(pk)d is queued.") % {"pk": job.pk}, extra_tags="live"
            )
            return redirect(job)
    return render(request, "jobs/new.html", {"form": form})


def _start(request) -> dict:
    """Where the training form starts: a job's settings, to train it again with changes
    (``?from=``); a data set (``?dataset=``); else the set this user last trained on,
    else the demo set."""
    ids = parse_ids([request.GET.get("from", "")])
    source = TrainingJob.visible_to(request.user).filter(pk__in=ids).first()
    if source is not None:
        return TrainingJobForm.initial_from(source)
    if request.GET.get("dataset"):
        return {"dataset": request.GET["dataset"]}
    last = (
        TrainingJob.objects.filter(owner=request.user)
        .order_by("-created_at")
        .values_list("dataset", flat=True)
        .first()
    )
    demo = Dataset.objects.filter(name=services.DEMO_DATASET).values_list("pk", flat=True).first()
    return {"dataset": last or demo}


def model_summary(request):
    """The layer table and parameter count of a spec, for the form (no TensorFlow)."""
    dataset = (
        Dataset.visible_to(request.user)
        .filter(pk__in=parse_ids([request.GET.get("dataset", "")]))
        .first()
    )
    if dataset is None:
        return JsonResponse({"error": _("Choose a data set.")}, status=400)
    try:
        chars = services.chosen_characters(dataset, request.GET.get("chars", ""))
        classes = len(chars) or len(dataset.classes)
        spec = networks.parse_spec(request.GET.get("spec") or "mlp")
        layers = networks.describe(spec, (dataset.height, dataset.width), classes)
        total = networks.count_params(spec, (dataset.height, dataset.width), classes)
    except Refusal as exc:
        return JsonResponse({"error": describe(exc)}, status=400)
    return JsonResponse(
        {"params": total, "layers": [[name, list(shape), n] for name, shape, n in layers]}
    )


def job_detail(request, pk):
    job = _job_for(request, pk)
    context = {"job": job, **services.job_page_context(job)}
    # Offered only where it would be done: a refused delete is explained on its own page.
    context["may_delete"] = may_delete(request.user, job) and not services.job_deletion_refusal(job)
    context["may_act"] = services.may_act(request.user, job)
    if job.status == JobStatus.SUCCEEDED and context["may_act"]:
        context["evaluate_form"] = EvaluateForm(job=job, user=request.user)
        # A model of all 2,350 syllables would otherwise make a page of 2,350 rows.
        context["per_class_rows"] = Paginator(context["per_class_rows"], 100).get_page(
            request.GET.get("chars")
        )
    return render(request, "jobs/detail.html", context)


def job_status(request, pk):
    """The polled JSON: progress numbers and the progress fragment."""
    job = _job_for(request, pk)
    context = {"job": job, **services.job_page_context(job)}
    return JsonResponse(
        {
            "status": job.status,
            "terminal": job.is_terminal,
            "epoch": job.epochs_done,
            "epochs": job.epochs,
            "batch_percent": job.batch_percent,
            "samples_per_second": job.samples_per_second,
            "eta_seconds": job.eta_seconds,
            "version": job.epochs_done,
            "fragments": {
                "progress": render_to_string("jobs/_progress.html", context, request),
            },
        }
    )


def job_curves_png(request, pk):
    return png_response(services.job_plot(_job_for(request, pk), "curves"))


def job_embedding_png(request, pk):
    """Where the network put the validation samples after epoch ``?epoch=`` (the
    newest when not given): live while the job trains."""
    job = _job_for(request, pk)
    epoch = request.GET.get("epoch")
    if epoch is not None and not epoch.isdigit():
        raise Http404(_("No such epoch."))
    with refusal_as_404():
        return png_response(services.embedding_plot(job, int(epoch) if epoch else None))


def job_result_png(request, pk, kind):
    """A figure of a finished job: its confusion matrix, mistakes (alone or with their
    saliency maps), reliability diagram, jamo analysis or first-layer filters."""
    job = _job_for(request, pk)
    if job.status != JobStatus.SUCCEEDED:
        raise Http404(_("The job has not finished."))
    with refusal_as_404():  # what it is drawn from is gone
        return png_response(services.job_plot(job, kind))


def _job_to_act_on(request, pk):
    """Job ``pk`` if the user may act on it: 404 where they may not see it, 403 with the
    reason where they may see it only (an instructor, a job of another course's student)."""
    job = _job_for(request, pk)
    with not_allowed_as_403():
        services.check_may_act(request.user, job)
    return job


def job_code(request, pk):
    """The finished job as a Python script to take home, as a download."""
    job = _job_for(request, pk)
    if job.status != JobStatus.SUCCEEDED:
        raise Http404(_("The job has not finished."))
    with refusal_as_404():  # a spec or split this version of the lab cannot read
        name, script = services.take_home(job)
    response = HttpResponse(script, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def job_model_download(request, pk):
    return model_download(_job_to_act_on(request, pk))


def job_tflite_download(request, pk):
    return tflite_download(_job_to_act_on(request, pk))


@require_POST
def job_cancel(request, pk):
    job = _job_to_act_on(request, pk)
    with refusals_shown(request, level=messages.INFO):  # it had ended meanwhile
        services.cancel_job(request.user, job)
        messages.info(request, _("The job stops after the batch in progress."))
    return redirect(job)


def job_delete(request, pk):
    """Ask, then delete a job with its model, its evaluations and the predictions made with
    it: its owner or an admin, while nothing else depends on it."""
    job = _job_for(request, pk)
    if not may_delete(request.user, job):
        raise Http404
    if request.method == "POST":
        with refusals_shown(request) as outcome:
            services.delete_training_job(job)
        if outcome.refused:
            return redirect(job)
        messages.success(request, _("Deleted job #%(pk)d.") % {"pk": pk})
        return redirect("classifier:job-list")
    context = {
        "job": job,
        "refusal": translate(services.job_deletion_refusal(job)),
        "predictions": job.predictions.count(),
        "evaluations": job.evaluations.count(),
    }
    return render(request, "jobs/confirm_delete.html", context)


@require_POST
def job_evaluate(request, pk):
    job = _job_to_act_on(request, pk)
    form = EvaluateForm(request.POST, job=job, user=request.user)
    if form.is_valid():
        with refusals_shown(request):
            rates.check_work(request.user)
            services.create_evaluation(
                job=job, dataset=form.cleaned_data["dataset"], requested_by=request.user
            )
            messages.success(request, _("The evaluation is queued; its result appears below."))
    else:
        messages.error(request, " ".join(form.errors.get("dataset", [])))
    return redirect(job)


def job_compare(request):
    ids = parse_ids(request.GET.getlist("jobs"))
    jobs = list(TrainingJob.visible_to(request.user).filter(pk__in=ids).select_related("dataset"))
    if request.GET.get("format") == "png":
        drawing = functools.partial(rates.check_work, request.user)
        return png_response(services.compare_plot(jobs, before_drawing=drawing))
    context = {
        "jobs": jobs,
        **services.compare_context(jobs),
        "terminal": all(job.is_terminal for job in jobs),
        # Changes whenever any of the jobs finishes an epoch or changes state.
        "version": "-".join(f"{job.pk}.{job.epochs_done}.{job.status}" for job in jobs),
    }
    if request.GET.get("format") == "json":  # polled while any of them runs
        table = render_to_string("jobs/_compare_table.html", context, request)
        return JsonResponse(
            {
                "terminal": context["terminal"],
                "version": context["version"],
                "fragments": {"progress": table},
            }
        )
    return render(request, "jobs/compare.html", context)


def leaderboard(request, pk):
    dataset = get_object_or_404(Dataset.visible_to(request.user), pk=pk)
    form = None
    may_choose = services.may_choose_hidden_test(request.user, dataset)
    if request.method == "POST" and not may_choose:
        raise PermissionDenied(
            _("Only whoever made the data set, or an admin, chooses its leaderboard's test set.")
        )
    if may_choose:
        form = HiddenTestForm(request.POST or None, instance=dataset)
        if request.method == "POST" and form.is_valid():
            services.set_hidden_test(dataset, form.cleaned_data["hidden_test"])
            messages.success(request, _("The hidden test set is set; finished jobs are scored."))
            return redirect("classifier:leaderboard", pk=dataset.pk)
    # Fifty students a page: a class fits on one.
    rows = Paginator(services.leaderboard_rows(dataset), 50).get_page(request.GET.get("page"))
    context = {
        "dataset": dataset,
        "rows": rows,
        "form": form,
        "scoring": services.leaderboard_pending(dataset),
    }
    return render(request, "jobs/leaderboard.html", context)
