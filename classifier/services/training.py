"""Training jobs: recording them, and training them in a worker or in-process."""

import io
import logging
import shutil
import time
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import translation

from ..i18n import message_of, stored
from ..ml import calibration, charsets, networks, preprocess, splits, store
from ..ml.messages import Conflict, Message, NotAllowed, Refusal, _
from ..models import Dataset, EpochMetric, JobStatus, TrainingJob
from .evaluation import create_evaluation, finite_or_none
from .failures import job_run
from .queue_limits import take_a_place_in_the_queue
from .storage import check_storage, record_job_files
from .training_pages import embedding_plot, job_plot

logger = logging.getLogger(__name__)

# Batch progress is written at most this often (a few times a second, per the design).
BATCH_PROGRESS_INTERVAL = 0.3
# The in-epoch rate is shown once an epoch has run this long.
RATE_AFTER_SECONDS = 1.0


def chosen_characters(dataset: Dataset, text: str) -> list[str]:
    """The characters typed for a job, checked against the data set; none typed: []."""
    if not text.strip():
        return []
    chars = charsets.parse_chars(text)
    missing = [c for c in chars if c not in dataset.classes]
    if missing:
        raise Refusal(_("Not in %(name)s: %(chars)s", name=dataset.name, chars=" ".join(missing)))
    return chars


def check_split(dataset: Dataset, text: str):
    """Refuse ``text`` unless it is a split that ``dataset`` can be cut by."""
    kind, argument = splits.parse_split(text)
    if kind != "group":
        return
    unknown = sorted(set(argument) - set(dataset.group_names))
    if unknown:
        raise Refusal(
            _(
                "%(name)s has no group %(unknown)s; its groups are %(groups)s.",
                name=dataset.name,
                unknown=", ".join(unknown),
                groups=", ".join(dataset.group_names),
            )
        )
    if set(argument) >= set(dataset.group_names):
        raise Refusal(_("Keep at least one group for training."))


@transaction.atomic
def create_training_job(
    *,
    owner,
    dataset: Dataset,
    chars: Sequence[str],
    model_spec: str,
    optimizer: str,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    seed: int,
    split: str,
    param_count: int | None = None,
    dispatch: bool = True,
    limit: bool = True,
) -> TrainingJob:
    """Record a training job (validated by the caller's form or command) and queue it.

    With ``limit``, a student past ``LAB_MAX_ACTIVE_JOBS`` is refused here, in the
    transaction that records the job (a form's earlier check can be raced), and so is
    anyone whose files already fill their storage quota."""
    if limit:
        check_storage(owner)
        take_a_place_in_the_queue(owner)
    classes = len(chars) or len(dataset.classes)
    if param_count is None:
        param_count = networks.count_params(
            networks.parse_spec(model_spec), (dataset.height, dataset.width), classes
        )
    splits.parse_split(split)
    job = TrainingJob.objects.create(
        owner=owner,
        dataset=dataset,
        chars=list(chars),
        model_spec=model_spec,
        optimizer=optimizer,
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        split=split,
        param_count=param_count,
    )
    if dispatch:
        job.dispatch()
    return job


def may_act(user, job: TrainingJob) -> bool:
    """Whether ``user`` may act on ``job`` (cancel, download, publish, score it): it is
    theirs, they teach a course its owner is in, or they are an admin."""
    return TrainingJob.actionable_by(user).filter(pk=job.pk).exists()


def check_may_act(user, job: TrainingJob) -> None:
    """Refuse ``user`` acting on ``job`` unless :func:`may_act`, with why."""
    if not may_act(user, job):
        raise NotAllowed(
            _(
                "You may act on your own jobs, and on those of the students in the courses "
                "you teach."
            )
        )


def cancel_job(user, job: TrainingJob) -> None:
    """Cancel a queued job, or ask a running one to stop after its batch; a Conflict when
    it has already ended."""
    check_may_act(user, job)
    if not job.request_cancel():
        raise Conflict(
            _(
                "Job #%(pk)d has already ended (%(status)s).",
                pk=job.pk,
                status=str(job.get_status_display()),
            )
        )


def rerun_training_job(job: TrainingJob) -> TrainingJob:
    """Queue a new copy of a finished, failed or cancelled job, owned by the same user.

    The copy has the same data set, characters, model and settings; a Refusal says why
    a job cannot be run again (still running, its data set not ready or changed).
    """
    if not job.is_terminal:
        raise Refusal(
            _(
                "Job #%(pk)d is still %(status)s; cancel it or wait for it to finish.",
                pk=job.pk,
                status=str(job.get_status_display()),
            )
        )
    dataset = job.dataset
    if dataset.status != JobStatus.SUCCEEDED:
        raise Refusal(
            _(
                "Job #%(pk)d: its data set %(name)s is not ready (%(status)s).",
                pk=job.pk,
                name=dataset.name,
                status=str(dataset.get_status_display()),
            )
        )
    missing = [char for char in job.chars if char not in dataset.classes]
    if missing:
        raise Refusal(
            _(
                "Job #%(pk)d: its data set %(name)s no longer has %(chars)s.",
                pk=job.pk,
                name=dataset.name,
                chars=" ".join(missing),
            )
        )
    try:
        check_split(dataset, job.split)
    except Refusal as exc:
        raise Refusal(_("Job #%(pk)d: %(reason)s", pk=job.pk, reason=message_of(exc))) from None
    return create_training_job(
        owner=job.owner,
        dataset=dataset,
        chars=job.chars,
        model_spec=job.model_spec,
        optimizer=job.optimizer,
        learning_rate=job.learning_rate,
        epochs=job.epochs,
        batch_size=job.batch_size,
        seed=job.seed,
        split=job.split,
        limit=False,  # the admin's action, not the student's queue
    )


def job_deletion_refusal(job: TrainingJob) -> Message | str:
    """Why ``job`` cannot be deleted, as a message to translate; "" when it can.

    A job still queued or running is cancelled first. A model a course relies on is kept
    as the course's record: one that grades or regraded an assignment, is published to a
    course, or graded submissions (deleting it would delete them: ``Prediction.model``
    and ``Regrade.grader`` cascade). So is one that other people predicted with, since
    their predictions would go with it. Its own evaluations and epochs may go.
    """
    if not job.is_terminal:
        return _(
            "Job #%(pk)d has not finished, so it cannot be deleted: cancel it first, and "
            "delete it once it has stopped.",
            pk=job.pk,
        )
    if job.grades_assignments.exists():
        return _grades_an_assignment(job.pk)
    submissions = job.predictions.filter(assignment__isnull=False).count()
    if submissions:
        return _(
            "Job #%(pk)d graded submissions (%(n)d), so it is kept as the course's record.",
            pk=job.pk,
            n=submissions,
        )
    if job.regrades.exists():
        return _(
            "Job #%(pk)d regraded an assignment, so it is kept as the course's record.", pk=job.pk
        )
    if job.published_in.exists():
        return _(
            "Job #%(pk)d is published to a course, so it is kept for the course's students.",
            pk=job.pk,
        )
    others = job.predictions.exclude(owner_id=job.owner_id).count()
    if others:
        return _(
            "Other people made predictions with job #%(pk)d (%(n)d), so it is kept: "
            "deleting it would delete theirs.",
            pk=job.pk,
            n=others,
        )
    return ""


def _grades_an_assignment(pk: int) -> Message:
    return _("Job #%(pk)d grades an assignment, so it is kept as the course's record.", pk=pk)


def delete_training_job(job: TrainingJob):
    """Delete a finished, failed or cancelled job with its epochs, its evaluations (and
    so its leaderboard entries) and its owner's predictions made with it.

    A Conflict (a Refusal) says why a job is kept (``job_deletion_refusal``). Its files,
    and those of its predictions, go once the deletion commits (``classifier.signals``),
    so a refusal leaves them alone.
    """
    try:
        with transaction.atomic():
            # Judged on the row as it is now, not as the caller read it.
            current = TrainingJob.objects.select_for_update().filter(pk=job.pk).first()
            if current is None:
                return  # deleted meanwhile (a second click): nothing left to do
            refusal = job_deletion_refusal(current)
            if refusal:
                raise Conflict(refusal)
            current.delete()
    except ProtectedError:
        # An assignment chose it as its grader after the checks above.
        raise Conflict(_grades_an_assignment(job.pk)) from None


def _selection(job: TrainingJob, arrays: store.ArrayStore):
    """The job's label values (model output order) and the samples that carry them."""
    chosen_labels = job.chosen_labels
    candidates = np.flatnonzero(np.isin(arrays.labels, chosen_labels))
    return chosen_labels, candidates


def make_split(job: TrainingJob, arrays: store.ArrayStore, candidates) -> "splits.Split":
    """The job's validation split (the same for the same seed)."""
    kind, argument = splits.parse_split(job.split)
    if kind == "stratified":
        return splits.stratified(arrays.labels, candidates, argument, job.seed)
    if kind == "group":
        return splits.group(arrays.groups, job.dataset.group_names, candidates, argument)
    return splits.tutorial(arrays.labels, candidates, argument)


def run_training_job(pk: int, *, echo=None) -> TrainingJob | None:
    """Claim job ``pk`` and train it; None if another run already claimed it.

    Failures end FAILED with a reason in words; a cancelled job keeps its epochs and
    the model as it was at the last finished batch.
    """
    if not TrainingJob.claim(pk):
        logger.info("Training job %s is not queued; nothing to do.", pk)
        return None
    job = TrainingJob.objects.select_related("dataset").get(pk=pk)

    def discard_unwritable(exc):
        # Nothing half-written stays: the model and figures of a job that could not
        # write its files are not worth keeping.
        if isinstance(exc, OSError):
            shutil.rmtree(job.artifact_dir, ignore_errors=True)

    with job_run(job, on_failure=discard_unwritable):
        _train(job, echo)
    record_job_files(job)
    return job


def _train(job: TrainingJob, echo):
    from ..ml import training

    arrays = job.dataset.open_store()
    chosen_labels, candidates = _selection(job, arrays)
    split = make_split(job, arrays, candidates)
    classes = job.classes
    description, description_params = stored(split.description)
    job.update_progress(
        split_summary={
            "description": description,
            "description_params": description_params,
            "counts": splits.describe_split(split, arrays.labels, job.dataset.classes),
        }
    )
    config = job.train_config()
    first_epoch = _resume_point(job)
    listener = _JobListener(job, len(split.train), echo, first_epoch)
    job.artifact_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = training.train(
            arrays.images,
            arrays.labels,
            split,
            len(classes),
            config,
            listener,
            chosen_labels=chosen_labels,
            checkpoint=job.checkpoint_path,
            epoch_maps=_epoch_maps(job, arrays, split.val, chosen_labels, first_epoch),
        )
    finally:
        # Kept only while a dead worker's job may still be resumed from it.
        job.checkpoint_path.unlink(missing_ok=True)
    input_shape = (job.dataset.height, job.dataset.width)
    style = preprocess.InputStyle.from_images(
        training.gather(arrays.images, split.train[:: max(1, len(split.train) // 500)])
    )
    finished = not (listener.timed_out or result.stopped_early)
    # Fitted before the model is saved, so that the file carries its temperature.
    fitted = _calibrate(job, result.model, arrays, split) if finished else None
    extras = {
        "input_style": style.as_dict(),
        "calibration": fitted.model_entry() if fitted else None,
    }
    training.save_model(result.model, job.model_path, classes, input_shape, **extras)
    filters = training.first_filters(result.model)
    if filters is not None:  # what the job page shows of what the network learned
        np.save(job.filters_path, filters)
    try:  # for phones: a job whose conversion fails is no less a success
        metadata = training.model_metadata(classes, input_shape, **extras)
        training.save_tflite(result.model, job.tflite_path, metadata)
    except Exception:
        logger.exception("Converting job %s to TensorFlow Lite failed", job.pk)
    if listener.timed_out:
        job.fail(_time_limit_reason(job))
        return
    if result.stopped_early:
        job.stop()
        return
    evaluation = training.evaluate(
        result.model,
        arrays.images,
        arrays.labels,
        split.val,
        chosen_labels,
        temperature=fitted.temperature,
    )
    _save_evaluation(job, split, evaluation)
    try:  # a job whose maps fail is no less a success: its page shows the mistakes alone
        _explain_mistakes(job, result.model, arrays, split.val, evaluation, chosen_labels)
    except Exception:
        logger.exception("Drawing what job %s looked at in its mistakes failed", job.pk)
    per_class = map(finite_or_none, evaluation.per_class)
    job.update_progress(
        per_class_accuracy=dict(zip(classes, per_class, strict=True)),
        calibration=fitted.as_dict(),
        batch_percent=0,
        eta_seconds=0,
    )
    # One transaction, with the data set's row locked and read afresh: a hidden test set
    # attached while this job trained is seen here, or set_hidden_test sees this job.
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=job.dataset_id)
        job.succeed()
        if dataset.hidden_test_id is not None:
            create_evaluation(job=job, dataset=dataset.hidden_test, hidden=True)
    # Drawn here, once, in the lab's language, rather than by the first page view in the
    # web server; a figure that fails is drawn (or fails) again on view, and the job
    # stays a success.
    with translation.override(settings.LANGUAGE_CODE):
        kinds = ["curves", "confusion", "mistakes", "reliability", "jamo"]
        if job.filters_path.exists():  # a convolutional model
            kinds.append("filters")
        if job.mistake_maps_path.exists():
            kinds.append("mistake-maps")
        for kind in kinds:
            try:
                job_plot(job, kind)
            except Exception:
                logger.exception("Drawing the %s of job %s failed", kind, job.pk)
        try:  # the map of the last epoch, which the job page shows first
            if job.embedding_path.exists():
                embedding_plot(job)
        except Exception:
            logger.exception("Drawing the map of job %s failed", job.pk)


def _epoch_maps(job, arrays, val, chosen_labels, first_epoch):
    """Where the network puts each character, recorded after every epoch
    (``ml.embedding``); a resumed job keeps the epochs it had."""
    from ..ml import embedding, training

    labels = training.output_labels(arrays.labels, val, chosen_labels)
    chosen = embedding.choose_samples(labels, job.seed)
    images = training.gather(arrays.images, np.asarray(val)[chosen])
    return embedding.EpochMaps(
        job.embedding_path, images, labels[chosen], chosen, keep_epochs=first_epoch
    )


def _calibrate(job: TrainingJob, model, arrays: store.ArrayStore, split) -> calibration.Calibration:
    """The temperature of ``model``, fitted on the job's validation split only (never on
    an evaluation set), with the reliability of its answers before and after."""
    from ..ml import training

    # A large validation split is represented by a draw of it: all its probabilities at
    # once would take samples x classes x 8 bytes.
    sample = calibration.fitting_sample(split.val, len(job.classes), job.seed)
    probabilities = training.predict_probabilities(model, arrays.images, sample)
    truth = training.output_labels(arrays.labels, sample, job.chosen_labels)
    return calibration.calibrate(probabilities, truth)


def _time_limit_reason(job: TrainingJob) -> Message:
    limit, done, epochs = settings.LAB_TRAIN_TIME_LIMIT, job.epochs_done, job.epochs
    if limit >= 120:
        return _(
            "Stopped at the lab's time limit of %(limit)d minutes, after %(done)d of "
            "%(epochs)d epochs; those epochs and the model as it was then are kept. Train "
            "fewer epochs, or a smaller model or data set.",
            limit=limit // 60,
            done=done,
            epochs=epochs,
        )
    return _(
        "Stopped at the lab's time limit of %(limit)d seconds, after %(done)d of "
        "%(epochs)d epochs; those epochs and the model as it was then are kept. Train "
        "fewer epochs, or a smaller model or data set.",
        limit=limit,
        done=done,
        epochs=epochs,
    )


def _resume_point(job: TrainingJob) -> int:
    """The epochs a previous attempt finished and checkpointed (0: start afresh).

    Epochs recorded after the checkpoint (the worker died before saving it) are trained
    again, so their rows go; so does everything when there is no checkpoint to go on from.
    """
    from ..ml import training

    done = training.checkpoint_epoch(job.checkpoint_path) if job.attempts > 1 else 0
    if not done:
        job.checkpoint_path.unlink(missing_ok=True)
    job.metrics.filter(epoch__gt=done).delete()
    job.update_progress(
        epochs_done=done,
        batch_percent=0,
        resumed_from_epoch=done or None,
    )
    if done:
        logger.info(
            "Training job %s resumes after epoch %s (attempt %s)", job.pk, done, job.attempts
        )
    return done


def _save_evaluation(job, split, evaluation):
    path = job.artifact_dir / "evaluation.npz"
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        np.savez(
            fh,
            indices=np.asarray(split.val),
            predicted=evaluation.predicted,
            confidence=evaluation.confidence,
            confusion=evaluation.confusion,
        )
    tmp.replace(path)


def _explain_mistakes(job, model, arrays, val, evaluation, chosen_labels):
    """Saliency maps of the mistakes the job page shows, for the character read and
    the true one, kept beside the evaluation (``TrainingJob.mistake_maps_path``)."""
    from ..ml import saliency, training

    true = training.output_labels(arrays.labels, val, chosen_labels)
    shown = training.shown_mistakes(true, evaluation.predicted, evaluation.confidence)
    if not len(shown):  # nothing to explain: the page says there were no mistakes
        job.mistake_maps_path.unlink(missing_ok=True)
        return
    pairs = np.stack([evaluation.predicted[shown], true[shown]], axis=1)
    images = training.gather(arrays.images, np.asarray(val)[shown])
    maps = saliency.explain_samples(model, images, pairs)
    buffer = io.BytesIO()
    np.savez(buffer, shown=shown, maps=maps.astype(np.float16))
    store.write_atomically(job.mistake_maps_path, buffer.getvalue())


class _JobListener:
    """Writes epochs, batch progress and heartbeats to the job's rows; notices cancels."""

    def __init__(self, job: TrainingJob, train_samples: int, echo, first_epoch: int = 0):
        self.job = job
        self.echo = echo
        self.train_samples = train_samples
        # A resumed job starts counting here; rates and times are of this run only.
        self.first_epoch = first_epoch
        self.started = time.monotonic()
        self.epoch_started = self.started
        self.last_write = 0.0
        self.last_cancel_check = 0.0
        self.cancelled = False
        self.timed_out = False

    def on_epoch_begin(self, epoch):
        self.epoch_started = time.monotonic()

    def on_batch(self, epoch: int, batch: int, batches: int):
        now = time.monotonic()
        if now - self.last_write < BATCH_PROGRESS_INTERVAL:
            return
        self.last_write = now
        epochs_left = self.job.epochs - self.first_epoch
        done = (epoch - self.first_epoch + (batch + 1) / batches) / epochs_left
        elapsed = now - self.started
        seen = min(self.train_samples, (batch + 1) * self.job.batch_size)
        progress = {
            "batch_percent": round(100 * (batch + 1) / batches, 1),
            # Only once an epoch of this run is measured: the first batches also build the
            # model and warm the pipeline up, which made a 46 s job first say 9 min 38 s.
            "eta_seconds": round(elapsed / done - elapsed, 1) if epoch > self.first_epoch else None,
        }
        # The first batches of an epoch wait for the data pipeline: a rate measured over
        # them would be far too low, so the last epoch's rate stands until then.
        if now - self.epoch_started >= RATE_AFTER_SECONDS:
            progress["samples_per_second"] = round(seen / (now - self.epoch_started), 1)
        self.job.update_progress(**progress)
        if self.echo:
            self.echo(self.job)

    def on_epoch_end(self, epoch: int, metrics: dict):
        number = epoch + 1
        EpochMetric.objects.update_or_create(
            job=self.job,
            epoch=number,
            defaults={
                name: metrics.get(name)
                for name in (
                    "loss",
                    "accuracy",
                    "val_loss",
                    "val_accuracy",
                    "seconds",
                    "samples_per_second",
                )
            },
        )
        best = max(
            (m for m in (self.job.best_val_accuracy, metrics.get("val_accuracy")) if m is not None),
            default=None,
        )
        per_epoch = (time.monotonic() - self.started) / (number - self.first_epoch)
        self.job.update_progress(
            epochs_done=number,
            batch_percent=0,
            train_accuracy=metrics.get("accuracy"),
            val_accuracy=metrics.get("val_accuracy"),
            val_loss=metrics.get("val_loss"),
            best_val_accuracy=best,
            samples_per_second=metrics.get("samples_per_second", 0),
            eta_seconds=round(per_epoch * (self.job.epochs - number), 1),
        )
        if self.echo:
            self.echo(self.job)

    def should_stop(self) -> bool:
        now = time.monotonic()
        if now - self.started > settings.LAB_TRAIN_TIME_LIMIT:
            self.timed_out = True
            return True
        if not self.cancelled and now - self.last_cancel_check > 0.5:
            self.last_cancel_check = now
            self.cancelled = TrainingJob.objects.filter(
                pk=self.job.pk, cancel_requested=True
            ).exists()
        return self.cancelled
