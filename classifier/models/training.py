"""Training jobs, their epochs, and their evaluations on other data sets."""

from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..i18n import translate_stored
from ..ml import calibration
from ..roles import is_admin, is_instructor
from .base import Job, JobStatus
from .datasets import Dataset


class TrainingJob(Job):
    """A student's request to train a Keras model on a data set, and what came of it."""

    task_name = "classifier.tasks.train_model"

    class Optimizer(models.TextChoices):
        ADAM = "adam", "Adam"
        SGD = "sgd", "SGD"
        RMSPROP = "rmsprop", "RMSprop"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_jobs",
        verbose_name=_("owner"),
    )
    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="training_jobs", verbose_name=_("data set")
    )
    #: The chosen characters, in the model's output order; empty means all of them.
    chars = models.JSONField(_("characters"), default=list, blank=True)
    model_spec = models.CharField(_("model"), max_length=300)
    optimizer = models.CharField(
        _("optimizer"), max_length=10, choices=Optimizer.choices, default=Optimizer.ADAM
    )
    learning_rate = models.FloatField(_("learning rate"), default=0.001)
    epochs = models.PositiveSmallIntegerField(_("epochs"), default=5)
    batch_size = models.PositiveIntegerField(_("batch size"), default=32)
    seed = models.PositiveIntegerField(_("random seed"), default=0)
    # Long enough for a group split that holds out many writers or font faces.
    split = models.CharField(_("validation split"), max_length=1000, default="stratified:0.2")
    param_count = models.PositiveBigIntegerField(_("parameters"), default=0)

    # Progress while it runs.
    epochs_done = models.PositiveSmallIntegerField(_("epochs done"), default=0)
    batch_percent = models.FloatField(_("percent of the epoch done"), default=0)
    samples_per_second = models.FloatField(_("samples per second"), default=0)
    eta_seconds = models.FloatField(_("seconds left"), null=True, blank=True)

    #: The epochs done when the current run started, and how many runs in a row died
    #: before finishing one (the sweeper gives up on the second: out of memory).
    epochs_at_run_start = models.PositiveSmallIntegerField(_("epochs at run start"), default=0)
    runs_without_an_epoch = models.PositiveSmallIntegerField(
        _("runs that died before an epoch"), default=0
    )

    #: The epoch a later attempt went on from, when the first attempt's worker died.
    resumed_from_epoch = models.PositiveSmallIntegerField(
        _("resumed from epoch"), null=True, blank=True
    )

    # Results.
    split_summary = models.JSONField(_("split summary"), default=dict, blank=True)
    train_accuracy = models.FloatField(_("training accuracy"), null=True, blank=True)
    val_accuracy = models.FloatField(_("validation accuracy"), null=True, blank=True)
    val_loss = models.FloatField(_("validation loss"), null=True, blank=True)
    best_val_accuracy = models.FloatField(_("best validation accuracy"), null=True, blank=True)
    per_class_accuracy = models.JSONField(_("accuracy per character"), default=dict, blank=True)
    #: The temperature fitted on the validation split and the reliability of the answers
    #: before and after it (``classifier.ml.calibration.Calibration.as_dict``); empty for
    #: jobs that did not finish, and for those finished before the lab calibrated.
    calibration = models.JSONField(_("calibration"), default=dict, blank=True)
    #: The bytes of its files (model, checkpoint, figures) when its last run ended,
    #: counted against its owner's storage quota (``services.storage``).
    stored_bytes = models.PositiveBigIntegerField(_("stored bytes"), default=0)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("training job")
        verbose_name_plural = _("training jobs")

    def __str__(self):
        return gettext("#%(pk)s %(model)s on %(dataset)s") % {
            "pk": self.pk,
            "model": self.model_spec,
            "dataset": self.dataset,
        }

    def get_absolute_url(self):
        return reverse("classifier:job-detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user):
        """Students see their own jobs; instructors and admins see everybody's."""
        jobs = cls.objects.select_related("dataset", "owner")
        return jobs if is_instructor(user) else jobs.filter(owner=user)

    @classmethod
    def actionable_by(cls, user):
        """The jobs ``user`` may act on (cancel, download, publish, score): their own; an
        instructor's also those of the students in the courses they teach (as owner or
        co-instructor); an admin's every job. Seeing a job is not acting on it."""
        jobs = cls.visible_to(user)
        if is_admin(user):
            return jobs
        if not is_instructor(user):
            return jobs.filter(owner=user)
        taught = models.Q(owner__enrollments__course__owner=user) | models.Q(
            owner__enrollments__course__co_instructors=user
        )
        return jobs.filter(models.Q(owner=user) | taught).distinct()

    @classmethod
    def _run_start_fields(cls) -> dict:
        return {"epochs_at_run_start": models.F("epochs_done")}

    def _died_before_an_epoch(self) -> bool:
        return self.epochs_done == self.epochs_at_run_start

    def _death_fields(self) -> dict:
        stalled = self._died_before_an_epoch()
        return {"runs_without_an_epoch": self.runs_without_an_epoch + 1 if stalled else 0}

    def keeps_crashing(self) -> bool:
        return self._died_before_an_epoch() and self.runs_without_an_epoch >= 1

    @property
    def artifact_dir(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "jobs" / str(self.pk)

    @property
    def file_folders(self) -> tuple[Path, ...]:
        """The model, its checkpoint, its evaluation and its figures."""
        return (self.artifact_dir,)

    @property
    def model_path(self) -> Path:
        return self.artifact_dir / "model.keras"

    @property
    def tflite_path(self) -> Path:
        """The model as TensorFlow Lite with its description, zipped (for phones)."""
        return self.artifact_dir / "model-tflite.zip"

    @property
    def filters_path(self) -> Path:
        """The first convolution's kernels, for the job page (convolutional models)."""
        return self.artifact_dir / "filters.npy"

    @property
    def embedding_path(self) -> Path:
        """Where the network put the validation samples after each epoch
        (``ml.embedding``)."""
        return self.artifact_dir / "embedding.npz"

    @property
    def mistake_maps_path(self) -> Path:
        """The saliency maps of the mistakes the job page shows (``ml.saliency``)."""
        return self.artifact_dir / "mistake-maps.npz"

    @property
    def checkpoint_path(self) -> Path:
        """The model after its last finished epoch, kept while the job runs."""
        return self.artifact_dir / "checkpoint.keras"

    def discard_resume_state(self):
        # A checkpoint is a model with its optimiser's state (megabytes); a job that
        # failed is trained again from the start. LAB_KEEP_CHECKPOINTS keeps them to debug.
        if not settings.LAB_KEEP_CHECKPOINTS:
            self.checkpoint_path.unlink(missing_ok=True)

    @property
    def classes(self):
        return self.chars or self.dataset.classes

    def train_config(self):
        """The settings a run of this job trains with (``ml.training.TrainConfig``)."""
        from ..ml import networks, training

        return training.TrainConfig(
            spec_text=self.model_spec,
            epochs=self.epochs,
            batch_size=self.batch_size,
            optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            seed=self.seed,
            recipe=networks.recipe(self.model_spec),
        )

    @property
    def validation_key(self) -> tuple:
        """What decides which samples validate the job (``services.training.make_split``):
        jobs with the same key were scored on the same samples, so their accuracies
        compare; the seed only shuffles a stratified split."""
        seed = self.seed if self.split.startswith("stratified") else None
        return (self.dataset_id, self.split, seed, tuple(self.classes))

    @property
    def chosen_labels(self) -> list[int]:
        """The data set's label of each model output, in output order."""
        return [self.dataset.classes.index(char) for char in self.classes]

    @property
    def split_description(self) -> str:
        """The validation split in words, in the active language."""
        summary = self.split_summary
        return translate_stored(summary.get("description", ""), summary.get("description_params"))

    @property
    def review_threshold(self) -> float:
        """The confidence under which a wrong-looking answer of this model goes to the
        teacher, from how right its calibrated validation answers were
        (``calibration.review_threshold``)."""
        return calibration.review_threshold(self.calibration.get("bins_after", []))

    @property
    def percent_done(self):
        if not self.epochs:
            return 0
        done = self.epochs_done + self.batch_percent / 100
        return min(100, round(100 * done / self.epochs))

    def jobs_ahead(self):
        """How many jobs this queued one waits for: those training now, and those queued
        before it."""
        return TrainingJob.objects.filter(
            models.Q(status=JobStatus.RUNNING)
            | models.Q(status=JobStatus.QUEUED, created_at__lt=self.created_at)
        ).count()


class EpochMetric(models.Model):
    """One finished epoch of a training job."""

    job = models.ForeignKey(
        TrainingJob,
        on_delete=models.CASCADE,
        related_name="metrics",
        verbose_name=_("training job"),
    )
    epoch = models.PositiveSmallIntegerField(_("epoch"))
    loss = models.FloatField(_("loss"))
    accuracy = models.FloatField(_("accuracy"))
    val_loss = models.FloatField(_("validation loss"), null=True)
    val_accuracy = models.FloatField(_("validation accuracy"), null=True)
    seconds = models.FloatField(_("seconds"))
    samples_per_second = models.FloatField(_("samples per second"))

    class Meta:
        ordering = ("job", "epoch")
        verbose_name = _("epoch")
        verbose_name_plural = _("epochs")
        constraints = [
            models.UniqueConstraint(fields=("job", "epoch"), name="one_metric_per_epoch")
        ]

    def __str__(self):
        return gettext("%(job)s epoch %(epoch)s") % {"job": self.job_id, "epoch": self.epoch}


class Evaluation(Job):
    """A finished job's model scored on a data set with the same characters.

    ``hidden`` evaluations are the leaderboard's: the score on an instructor's hidden
    test set, whose samples students never see.
    """

    task_name = "classifier.tasks.evaluate_job"

    job = models.ForeignKey(
        TrainingJob,
        on_delete=models.CASCADE,
        related_name="evaluations",
        verbose_name=_("training job"),
    )
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="evaluations", verbose_name=_("data set")
    )
    hidden = models.BooleanField(_("hidden test"), default=False)
    accuracy = models.FloatField(_("accuracy"), null=True, blank=True)
    n = models.PositiveIntegerField(_("samples"), default=0)
    per_class = models.JSONField(_("accuracy per character"), default=dict, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(fields=("job", "dataset"), name="one_evaluation_per_set")
        ]

    def __str__(self):
        return gettext("%(job)s on %(dataset)s") % {"job": self.job, "dataset": self.dataset}
