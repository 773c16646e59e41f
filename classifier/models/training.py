"""Training jobs, their epochs, and their evaluations on other data sets."""

from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..roles import is_instructor
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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_jobs"
    )
    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="training_jobs", verbose_name=_("data set")
    )
    #: The chosen characters, in the model's output order; empty means all of them.
    chars = models.JSONField(_("characters"), default=list, blank=True)
    model_spec = models.CharField(_("model"), max_length=300)
    optimizer = models.CharField(_("optimizer"), max_length=10, choices=Optimizer.choices,
                                 default=Optimizer.ADAM)  # fmt: skip
    learning_rate = models.FloatField(_("learning rate"), default=0.001)
    epochs = models.PositiveSmallIntegerField(_("epochs"), default=5)
    batch_size = models.PositiveIntegerField(_("batch size"), default=32)
    seed = models.PositiveIntegerField(_("random seed"), default=0)
    split = models.CharField(_("validation split"), max_length=200, default="stratified:0.2")
    param_count = models.PositiveBigIntegerField(_("parameters"), default=0)

    # Progress while it runs.
    epochs_done = models.PositiveSmallIntegerField(default=0)
    batch_percent = models.FloatField(default=0)
    samples_per_second = models.FloatField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)

    #: The epoch a later attempt went on from, when the first attempt's worker died.
    resumed_from_epoch = models.PositiveSmallIntegerField(null=True, blank=True)

    # Results.
    split_summary = models.JSONField(default=dict, blank=True)
    train_accuracy = models.FloatField(null=True, blank=True)
    val_accuracy = models.FloatField(_("validation accuracy"), null=True, blank=True)
    val_loss = models.FloatField(null=True, blank=True)
    best_val_accuracy = models.FloatField(null=True, blank=True)
    per_class_accuracy = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("training job")
        verbose_name_plural = _("training jobs")

    def __str__(self):
        return f"#{self.pk} {self.model_spec} on {self.dataset}"

    def get_absolute_url(self):
        return reverse("classifier:job-detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user):
        """Students see their own jobs; instructors and admins see everybody's."""
        jobs = cls.objects.select_related("dataset", "owner")
        return jobs if is_instructor(user) else jobs.filter(owner=user)

    @property
    def artifact_dir(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "jobs" / str(self.pk)

    @property
    def model_path(self) -> Path:
        return self.artifact_dir / "model.keras"

    @property
    def checkpoint_path(self) -> Path:
        """The model after its last finished epoch, kept while the job runs."""
        return self.artifact_dir / "checkpoint.keras"

    @property
    def classes(self):
        return self.chars or self.dataset.classes

    @property
    def chosen_labels(self) -> list[int]:
        """The data set's label of each model output, in output order."""
        return [self.dataset.classes.index(char) for char in self.classes]

    @property
    def percent_done(self):
        if not self.epochs:
            return 0
        done = self.epochs_done + self.batch_percent / 100
        return min(100, round(100 * done / self.epochs))

    @classmethod
    def active_count(cls, user):
        """How many of ``user``'s jobs are queued or running."""
        return cls.objects.filter(
            owner=user, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
        ).count()

    def jobs_ahead(self):
        """How many queued jobs were submitted before this one."""
        return TrainingJob.objects.filter(
            status=JobStatus.QUEUED, created_at__lt=self.created_at
        ).count()


class EpochMetric(models.Model):
    """One finished epoch of a training job."""

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="metrics")
    epoch = models.PositiveSmallIntegerField()
    loss = models.FloatField()
    accuracy = models.FloatField()
    val_loss = models.FloatField(null=True)
    val_accuracy = models.FloatField(null=True)
    seconds = models.FloatField()
    samples_per_second = models.FloatField()

    class Meta:
        ordering = ("job", "epoch")
        constraints = [
            models.UniqueConstraint(fields=("job", "epoch"), name="one_metric_per_epoch")
        ]

    def __str__(self):
        return f"{self.job_id} epoch {self.epoch}"


class Evaluation(Job):
    """A finished job's model scored on a data set with the same characters.

    ``hidden`` evaluations are the leaderboard's: the score on an instructor's hidden
    test set, whose samples students never see.
    """

    task_name = "classifier.tasks.evaluate_job"

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="evaluations")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="evaluations")
    hidden = models.BooleanField(default=False)
    accuracy = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    per_class = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("job", "dataset"), name="one_evaluation_per_set")
        ]

    def __str__(self):
        return f"{self.job} on {self.dataset}"
