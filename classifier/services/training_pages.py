"""What the job pages show: queue state, progress context and figures."""

import json
from collections.abc import Callable, Sequence

import numpy as np
from django.core.cache import cache

from ..i18n import language, translate
from ..ml import calibration, store
from ..ml.messages import Missing, Refusal, _
from ..models import JobStatus, TrainingJob

# How long the answer to "is a worker listening on this queue?" is reused.
WORKER_CHECK_SECONDS = 15


def queue_has_worker(queue: str) -> bool | None:
    """Whether some worker consumes ``queue``; None when the broker cannot be asked.

    Asked of the workers over the broker (a second at most) and remembered briefly,
    because every open job page polls.
    """
    key = f"lab:queue-has-worker:{queue}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    from labsite.celery import app

    try:
        replies = app.control.inspect(timeout=1.0).active_queues() or {}
    except Exception:
        return None
    answer = any(q["name"] == queue for queues in replies.values() for q in queues)
    cache.set(key, answer, WORKER_CHECK_SECONDS)
    return answer


def job_page_context(job: TrainingJob) -> dict:
    """What the job page and its polled fragment show besides the row itself."""
    context = {
        "metrics": list(job.metrics.all()),
        "has_model": job.model_path.exists(),
        "has_tflite": job.tflite_path.exists(),
        "has_filters": job.filters_path.exists(),
        "has_mistake_maps": job.mistake_maps_path.exists(),
        "embedding_epochs": embedding_epochs(job),
    }
    if job.status == JobStatus.QUEUED:
        context["jobs_ahead"] = job.jobs_ahead()
        context["no_worker"] = queue_has_worker("train") is False
    if job.status == JobStatus.SUCCEEDED:
        counts = job.split_summary.get("counts", {})
        context["per_class_rows"] = [
            {
                "char": char,
                "accuracy": job.per_class_accuracy.get(char),
                "train": counts.get(char, {}).get("train"),
                "val": counts.get(char, {}).get("val"),
            }
            for char in job.classes
        ]
        shown = job.evaluations.filter(hidden=False).select_related("dataset")
        context["evaluations"] = list(shown)
        context["evaluations_pending"] = any(not e.is_terminal for e in shown)
        context["min_calibration_samples"] = calibration.MIN_SAMPLES
        context["jamo"] = jamo_report(job)
        try:
            context["take_home"] = take_home(job)[1]
        except Refusal:  # a spec or split this version of the lab cannot read
            context["take_home"] = None
    return context


def job_plot(job: TrainingJob, kind: str) -> bytes:
    """The job's curves, confusion matrix, mistakes grid (alone, or with what the model
    looked at: ``mistake-maps``), reliability diagram, jamo or filters figure as PNG
    bytes, labelled in the active language.

    Each figure is drawn once per version (the curves after each epoch, the others once
    the job has finished) and language, and kept in the job's folder.
    """
    version = f"{job.attempts}-{job.epochs_done}" if kind == "curves" else "final"
    folder = job.artifact_dir / "plots"

    def draw():
        png = _draw(job, kind)
        # Older versions go; this version in other languages stays.
        for old in folder.glob(f"{kind}-*.png"):
            if not old.name.startswith(f"{kind}-{version}-"):
                old.unlink(missing_ok=True)
        return png

    return store.cached_file(folder / f"{kind}-{version}-{language()}.png", draw)


def _draw(job: TrainingJob, kind: str) -> bytes:
    from ..ml import training, training_plots

    if kind == "curves":
        return training_plots.curves_png(_history(job), translate=translate)
    if kind == "reliability":
        return training_plots.reliability_png(job.calibration, translate=translate)
    if kind == "filters":
        if not job.filters_path.exists():  # a model without convolutions, or files gone
            raise Missing(_("Job #%(pk)d has no convolution filters to draw.", pk=job.pk))
        return training_plots.filters_png(np.load(job.filters_path), translate=translate)
    if kind == "jamo":
        report = jamo_report(job)
        if report is None:
            raise Missing(_("Job #%(pk)d has no evaluation to draw this figure from.", pk=job.pk))
        return training_plots.jamo_png(report.as_dict(), translate=translate)
    evaluation = job.artifact_dir / "evaluation.npz"
    if not evaluation.exists():  # a model trained elsewhere, or files cleaned away
        raise Missing(_("Job #%(pk)d has no evaluation to draw this figure from.", pk=job.pk))
    with np.load(evaluation) as data:
        if kind == "confusion":
            return training_plots.confusion_png(data["confusion"], job.classes, translate=translate)
        arrays = job.dataset.open_store()
        true = training.output_labels(arrays.labels, data["indices"], job.chosen_labels)
        predicted, confidence = data["predicted"], data["confidence"]
        if kind == "mistakes":
            shown = training.shown_mistakes(true, predicted, confidence)
            maps = None
        else:  # the mistake maps, drawn for the mistakes shown when the job finished
            if not job.mistake_maps_path.exists():
                raise Missing(_("Job #%(pk)d has no saliency maps to draw.", pk=job.pk))
            with np.load(job.mistake_maps_path) as saved:
                shown, maps = saved["shown"], saved["maps"].astype(np.float32)
        images = training.gather(arrays.images, data["indices"][shown])
        figure = (true[shown], predicted[shown], confidence[shown], job.classes)
        if maps is None:
            return training_plots.mistakes_png(images, *figure, translate=translate)
        return training_plots.mistakes_saliency_png(images, maps, *figure, translate=translate)


def embedding_epochs(job: TrainingJob) -> list[int]:
    """The epochs whose map of the validation samples the job has (``ml.embedding``)."""
    from ..ml import embedding

    try:
        return [int(epoch) for epoch in embedding.read(job.embedding_path)["epochs"]]
    except (FileNotFoundError, KeyError, ValueError, OSError):
        return []


def embedding_plot(job: TrainingJob, epoch: int | None = None) -> bytes:
    """The map of the validation samples after ``epoch`` (the newest when None) as PNG
    bytes, drawn once per epoch and language; ``Missing`` when there is none."""
    from ..ml import embedding, training_plots

    try:
        maps = embedding.read(job.embedding_path)
    except (FileNotFoundError, KeyError, ValueError, OSError) as exc:
        if not job.is_terminal:  # its first epoch is still training
            return training_plots.embedding_png([], [], job.classes, 0, [], translate=translate)
        raise Missing(_("Job #%(pk)d has no map of its samples.", pk=job.pk)) from exc
    epochs = [int(e) for e in maps["epochs"]]
    epoch = epochs[-1] if epoch is None and epochs else epoch
    if epoch not in epochs:
        raise Missing(_("Job #%(pk)d has no map of epoch %(epoch)s.", pk=job.pk, epoch=epoch))
    at = epochs.index(epoch)
    folder = job.artifact_dir / "plots"

    def draw():
        for old in folder.glob("embedding-*.png"):  # a run before this one's
            if not old.name.startswith(f"embedding-{job.attempts}-"):
                old.unlink(missing_ok=True)
        return training_plots.embedding_png(
            maps["points"][at].astype(float),
            maps["labels"],
            job.classes,
            epoch,
            maps["explained"][at],
            translate=translate,
        )

    name = f"embedding-{job.attempts}-{epoch}-{language()}.png"
    return store.cached_file(folder / name, draw)


def jamo_report(job: TrainingJob):
    """What the finished ``job`` gets wrong about the parts of its syllables
    (``ml.jamo_errors``), worked out from its validation confusion matrix once and kept
    beside it; None when it has no evaluation (a model trained elsewhere, files gone)."""
    from ..ml import jamo_errors

    evaluation = job.artifact_dir / "evaluation.npz"
    if job.status != JobStatus.SUCCEEDED or not evaluation.exists():
        return None

    def work_out() -> bytes:
        with np.load(evaluation) as data:
            report = jamo_errors.jamo_report(data["confusion"], job.classes)
        return json.dumps(report.as_dict() if report else None).encode()

    stored = json.loads(store.cached_file(job.artifact_dir / "jamo.json", work_out))
    return jamo_errors.JamoReport.from_dict(stored) if stored else None


def take_home(job: TrainingJob):
    """The finished ``job`` as a script a student can run at home
    (``ml.take_home``), its comments in the active language."""
    from ..ml import take_home

    script = take_home.TakeHomeJob(
        pk=job.pk,
        dataset_name=job.dataset.name,
        input_shape=(job.dataset.height, job.dataset.width),
        classes=list(job.classes),
        split=job.split,
        config=job.train_config(),
    )
    return script.file_name, take_home.job_script(script, translate=translate)


def _history(job: TrainingJob) -> list[dict]:
    return [
        {
            "epoch": m.epoch,
            "loss": m.loss,
            "accuracy": m.accuracy,
            "val_loss": m.val_loss,
            "val_accuracy": m.val_accuracy,
        }
        for m in job.metrics.all()
    ]


def compare_context(jobs: Sequence[TrainingJob]) -> dict:
    """What the compare page shows beside the plot: each job with its jamo report (None
    until it has one), and whether the jobs were validated on different samples (their
    accuracies then do not compare)."""
    return {
        "rows": [(job, jamo_report(job)) for job in jobs],
        "different_validation": len({job.validation_key for job in jobs}) > 1,
    }


# How long a comparison stays drawn: a class opens the same ones, and a live one is asked
# for again after each epoch of a job in it (a new version, a new key).
COMPARE_CACHE_SECONDS = 3600


def compare_plot(
    jobs: Sequence[TrainingJob], *, before_drawing: Callable[[], None] = lambda: None
) -> bytes:
    """The validation accuracy of several jobs, one line each: drawn once per version of
    each job (its runs and epochs) and language, then kept in the cache.
    ``before_drawing`` is called when it must be drawn (and may refuse)."""
    from ..ml import training_plots

    versions = ",".join(f"{job.pk}-{job.attempts}-{job.epochs_done}" for job in jobs)
    key = f"lab:compare:{versions}:{language()}"
    png = cache.get(key)
    if png is None:
        before_drawing()
        histories = {f"#{job.pk} {job.model_spec}": _history(job) for job in jobs}
        png = training_plots.compare_png(histories, translate=translate)
        cache.set(key, png, COMPARE_CACHE_SECONDS)
    return png
