"""What the API reads and writes.

Requests that make something are checked by the pages' own forms (``FormSerializer``),
so a field the page refuses is refused here with the same message; answers are plain
read-only serializers of the models.
"""

from collections.abc import Mapping

from django import forms
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from .. import services
from ..forms import PredictForm, SubmissionForm, TrainingJobForm, VerdictForm
from ..models import (
    Assignment,
    Dataset,
    EpochMetric,
    ExplanationState,
    JobStatus,
    Prediction,
    TrainingJob,
)
from ..models.predictions import TEACHER_VERDICTS

#: The schema of the five most probable characters: [character, probability] pairs.
TOP5 = {
    "type": "array",
    "items": {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "items": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    },
}

#: The figures of a finished job, by the name the API gives them.
JOB_FIGURES = (
    "curves",
    "embedding",
    "confusion",
    "mistakes",
    "mistake-maps",
    "reliability",
    "jamo",
    "filters",
)


def link(holder, name, *args) -> str:
    """The absolute URL of route ``name``, for the reader of the answer to follow;
    ``holder`` is the serializer or view that has the request."""
    url = reverse(name, args=args)
    request = getattr(holder, "request", None) or holder.context.get("request")
    return request.build_absolute_uri(url) if request else url


# --- Requests, checked by the pages' forms --------------------------------------------------


def _field_for(field: forms.Field) -> serializers.Field:
    """The schema's picture of a form field; the form alone validates the value."""
    options = {
        "required": field.required and field.initial is None,
        "label": str(field.label or ""),
        "help_text": str(field.help_text or "") or None,
    }
    if field.initial is not None:
        options["default"] = field.initial
    if isinstance(field, forms.ModelChoiceField):
        return serializers.IntegerField(min_value=1, **options)  # a row's id
    if isinstance(field, forms.ChoiceField):
        return serializers.ChoiceField(choices=field.choices, **options)
    if isinstance(field, forms.FileField):
        return serializers.FileField(**options)
    limits = {
        "min_value": getattr(field, "min_value", None),
        "max_value": getattr(field, "max_value", None),
    }
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(**options, **limits)
    if isinstance(field, forms.FloatField):
        return serializers.FloatField(**options, **limits)
    return serializers.CharField(
        allow_blank=True, max_length=getattr(field, "max_length", None), **options
    )


class FormSerializer(serializers.Serializer):
    """A request body checked by ``form_class``, one of the pages' forms.

    Its fields (for the schema) are made from the form's, and the form alone validates
    them, so the API refuses what the page refuses, in the same words; a field left out
    takes the form's initial value, as the page shows it. After ``is_valid()``, ``form``
    is the valid form. ``form_kwargs`` (from the view) go to the form, and ``choices``
    narrow its model choice fields, as the page's view does.
    """

    form_class: type[forms.Form]

    def __init__(self, *args, form_kwargs=None, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.form_kwargs = form_kwargs or {}
        #: Querysets that narrow the form's model choices to what the caller may pick.
        self.choices = choices or {}
        self.form = None

    def get_fields(self):
        return {name: _field_for(field) for name, field in self.form_class.base_fields.items()}

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            message = self.error_messages["invalid"].format(datatype=type(data).__name__)
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})
        initial = {
            name: field.initial
            for name, field in self.form_class.base_fields.items()
            if field.initial is not None
        }
        values = data.dict() if hasattr(data, "dict") else dict(data)
        request = self.context.get("request")
        files = request.FILES if request is not None else None
        self.form = self.form_class(initial | values, files, **self.form_kwargs)
        for name, queryset in self.choices.items():
            self.form.fields[name].queryset = queryset
        if not self.form.is_valid():
            raise serializers.ValidationError(form_errors(self.form))
        return self.form.cleaned_data


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    """A form's errors as DRF words them: per field, and ``non_field_errors``."""
    return {
        api_settings.NON_FIELD_ERRORS_KEY if name == forms.forms.NON_FIELD_ERRORS else name: [
            str(message) for message in messages
        ]
        for name, messages in form.errors.items()
    }


class NewTrainingJob(FormSerializer):
    """A new training job: the fields of the training form (New job page)."""

    form_class = TrainingJobForm


class NewPrediction(FormSerializer):
    """An image to classify (``image``, a file; or ``canvas``, a PNG data URL) and the
    finished training job whose model reads it (``model``)."""

    form_class = PredictForm


class NewSubmission(FormSerializer):
    """One character of an assignment (``char``) and its image."""

    form_class = SubmissionForm


class NewVerdict(FormSerializer):
    """The teacher's ``verdict`` on a submission (correct, incorrect, or empty: back to
    the model's) and a ``comment`` the student sees."""

    form_class = VerdictForm


class Credentials(serializers.Serializer):
    """A username and password, checked as the log-in page checks them."""

    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class ApiToken(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as the header: Authorization: Token <token>")


# --- Answers ---------------------------------------------------------------------------------


class DatasetSerializer(serializers.ModelSerializer):
    page = serializers.SerializerMethodField()
    error = serializers.CharField(source="error_text", read_only=True)

    class Meta:
        model = Dataset
        fields = (
            "id",
            "name",
            "source",
            "status",
            "error",
            "height",
            "width",
            "classes",
            "counts",
            "group_names",
            "num_samples",
            "created_at",
            "finished_at",
            "page",
        )
        read_only_fields = fields

    def get_page(self, dataset) -> str:
        return link(self, "classifier:dataset-detail", dataset.pk)


class EpochMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = EpochMetric
        fields = (
            "epoch",
            "loss",
            "accuracy",
            "val_loss",
            "val_accuracy",
            "seconds",
            "samples_per_second",
        )
        read_only_fields = fields


class JobArtifacts(serializers.Serializer):
    """Links to a job's files: the model (once one is saved) and the figures."""

    model = serializers.URLField(allow_null=True, help_text="The .keras file; null until saved.")
    tflite = serializers.URLField(
        allow_null=True,
        help_text="The model as TensorFlow Lite, zipped with model.json (its characters and "
        "how to feed it); null when there is none.",
    )
    curves = serializers.URLField(help_text="Loss and accuracy per epoch (PNG).")
    embedding = serializers.URLField(
        allow_null=True,
        help_text="The validation samples on the network's last hidden layer (PCA), a "
        "colour per character, after the newest epoch or after ?epoch=N (PNG); null "
        "until the first epoch.",
    )
    confusion = serializers.URLField(allow_null=True, help_text="Once it succeeded (PNG).")
    mistakes = serializers.URLField(allow_null=True, help_text="Once it succeeded (PNG).")
    mistake_maps = serializers.URLField(
        allow_null=True,
        help_text="The mistakes with what the model looked at: for each, the sample and the "
        "saliency maps of the character read and of the true one; null when there are none "
        "(PNG).",
    )
    reliability = serializers.URLField(
        allow_null=True,
        help_text="The reliability diagram, before and after calibration; once it succeeded (PNG).",
    )
    filters = serializers.URLField(
        allow_null=True,
        help_text="The first convolution's filters; null for a model without one (PNG).",
    )
    jamo = serializers.URLField(
        allow_null=True,
        help_text="Each part of the syllable read right, and the mistakes by the part they "
        "changed; once it succeeded (PNG).",
    )


class JamoParts(serializers.Serializer):
    initial = serializers.FloatField()
    medial = serializers.FloatField()
    final = serializers.FloatField()


class JamoMistakes(serializers.Serializer):
    initial = serializers.IntegerField(help_text="Mistakes that changed the initial only.")
    medial = serializers.IntegerField(help_text="Mistakes that changed the vowel only.")
    final = serializers.IntegerField(help_text="Mistakes that changed the final only.")
    several = serializers.IntegerField(help_text="Mistakes that changed more than one part.")


class JamoConfusionField(serializers.Serializer):
    position = serializers.ChoiceField(choices=["initial", "medial", "final"])
    true = serializers.CharField(help_text='The jamo written; "" is no final consonant.')
    read = serializers.CharField(help_text="The jamo the model read instead.")
    count = serializers.IntegerField()


class JobJamo(serializers.Serializer):
    """The job's validation mistakes read through the parts of its syllables."""

    samples = serializers.IntegerField(help_text="Validation samples.")
    mistakes = serializers.IntegerField()
    position_accuracy = JamoParts(help_text="Per part, the share of samples read with it right.")
    mistakes_by_parts = JamoMistakes()
    confusions = JamoConfusionField(many=True, help_text="The most frequent, first (up to 12).")


class ReliabilityBin(serializers.Serializer):
    """One confidence bin of a reliability diagram."""

    lower = serializers.FloatField(help_text="Bins hold top-1 confidences in (lower, upper].")
    upper = serializers.FloatField()
    count = serializers.IntegerField(help_text="Validation answers in the bin.")
    confidence = serializers.FloatField(allow_null=True, help_text="Their mean confidence.")
    accuracy = serializers.FloatField(allow_null=True, help_text="How many of them were right.")


class JobCalibration(serializers.Serializer):
    """How far the model's confidence can be trusted, measured on its validation split."""

    measured = serializers.BooleanField(
        help_text="False when the validation split had too few samples (under 20): then the "
        "temperature is 1 and nothing else was measured.",
    )
    temperature = serializers.FloatField(
        help_text="Fitted on the validation split; every prediction with the model applies it "
        "(probabilities p become p^(1/T), renormalised). Above 1 the model was over-confident.",
    )
    n = serializers.IntegerField(help_text="Validation samples it was fitted and measured on.")
    at_bound = serializers.BooleanField(
        help_text="The fit stopped at the end of its range (0.05 to 20): typically a validation "
        "split without mistakes.",
    )
    bins = serializers.IntegerField(help_text="Equal-width confidence bins of the ECE.")
    ece_before = serializers.FloatField(
        allow_null=True, help_text="Expected calibration error (0 to 1) before calibration."
    )
    ece_after = serializers.FloatField(allow_null=True, help_text="The same, after it.")
    bins_before = ReliabilityBin(many=True)
    bins_after = ReliabilityBin(many=True)


class TrainingJobSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    dataset_name = serializers.CharField(source="dataset.name", read_only=True)
    classes = serializers.ListField(child=serializers.CharField(), read_only=True)
    error = serializers.CharField(source="error_text", read_only=True)
    percent_done = serializers.IntegerField(read_only=True)
    split_description = serializers.CharField(read_only=True)
    queue_notice = serializers.CharField(
        read_only=True,
        help_text="Set while the queue cannot be reached: the job is saved "
        "and starts by itself once it is back.",
    )
    calibration = serializers.SerializerMethodField()
    jamo = serializers.SerializerMethodField()
    artifacts = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    class Meta:
        model = TrainingJob
        fields = (
            "id",
            "owner",
            "dataset",
            "dataset_name",
            "classes",
            "model_spec",
            "optimizer",
            "learning_rate",
            "epochs",
            "batch_size",
            "seed",
            "split",
            "split_description",
            "param_count",
            "status",
            "queue_notice",
            "error",
            "epochs_done",
            "percent_done",
            "batch_percent",
            "samples_per_second",
            "eta_seconds",
            "train_accuracy",
            "val_accuracy",
            "val_loss",
            "best_val_accuracy",
            "per_class_accuracy",
            "calibration",
            "jamo",
            "created_at",
            "started_at",
            "finished_at",
            "artifacts",
            "page",
        )
        read_only_fields = fields

    @extend_schema_field(JobCalibration(allow_null=True))
    def get_calibration(self, job) -> dict | None:
        """Null until the job succeeds, and for jobs finished before the lab calibrated."""
        return job.calibration or None

    @extend_schema_field(JobJamo(allow_null=True))
    def get_jamo(self, job) -> dict | None:
        """Null until the job succeeds, and for a job without an evaluation."""
        report = services.jamo_report(job)
        return report.as_dict() if report else None

    def get_artifacts(self, job) -> JobArtifacts:
        succeeded = job.status == JobStatus.SUCCEEDED
        figure = {kind: link(self, "api:job-figure", job.pk, kind) for kind in JOB_FIGURES}
        return {
            "model": link(self, "api:job-model", job.pk) if job.model_path.exists() else None,
            "tflite": link(self, "api:job-tflite", job.pk) if job.tflite_path.exists() else None,
            "curves": figure["curves"],
            "embedding": figure["embedding"] if job.embedding_path.exists() else None,
            "confusion": figure["confusion"] if succeeded else None,
            "mistakes": figure["mistakes"] if succeeded else None,
            "reliability": figure["reliability"] if succeeded else None,
            "jamo": figure["jamo"] if succeeded else None,
            "filters": figure["filters"] if job.filters_path.exists() else None,
            "mistake_maps": figure["mistake-maps"] if job.mistake_maps_path.exists() else None,
        }

    def get_page(self, job) -> str:
        return link(self, "classifier:job-detail", job.pk)


class SaliencyMap(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=["predicted", "expected"],
        help_text="For the character read, or for the one meant when the model read another.",
    )
    char = serializers.CharField()
    url = serializers.URLField(
        help_text="The model's input in grey, each pixel's share of the character's "
        "probability over it: red for, blue against (PNG, the input's size)."
    )


class PredictionSaliency(serializers.Serializer):
    """What the model looked at: drawn by the worker right after it answered."""

    state = serializers.ChoiceField(
        choices=ExplanationState.choices,
        help_text="pending for a moment after the answer; none before one, or when the "
        "worker stopped before drawing the maps.",
    )
    method = serializers.CharField(allow_null=True, help_text="integrated-gradients")
    error = serializers.CharField(help_text="Why the maps could not be drawn, when they could not.")
    maps = SaliencyMap(many=True)


class PredictionSerializer(serializers.ModelSerializer):
    """A prediction (or a submission) and its result once the worker has read it."""

    error = serializers.CharField(source="error_text", read_only=True)
    char = serializers.CharField(
        source="predicted", read_only=True, help_text="The model's top-1 character, once read."
    )
    top5 = serializers.SerializerMethodField()
    correct = serializers.BooleanField(read_only=True, allow_null=True)
    verdict = serializers.SerializerMethodField()
    teacher_verdict = serializers.ChoiceField(
        choices=TEACHER_VERDICTS,
        allow_blank=True,
        read_only=True,
        help_text="The teacher's verdict; empty while the model's stands.",
    )
    reviewed_by = serializers.CharField(
        source="reviewed_by.username", default=None, allow_null=True, read_only=True
    )
    queue_notice = serializers.CharField(
        read_only=True,
        help_text="Set while the queue cannot be reached: the prediction "
        "is saved and is read once it is back.",
    )
    saliency = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = (
            "id",
            "model",
            "status",
            "queue_notice",
            "error",
            "char",
            "confidence",
            "top5",
            "expected",
            "correct",
            "verdict",
            "teacher_verdict",
            "teacher_comment",
            "reviewed_by",
            "reviewed_at",
            "source",
            "assignment",
            "attempt",
            "late",
            "created_at",
            "finished_at",
            "saliency",
            "page",
        )
        read_only_fields = fields

    def get_verdict(self, prediction) -> str | None:
        """A submission's verdict: correct, incorrect, review (the teacher decides),
        pending or failed; the teacher's where given. None for other predictions."""
        return str(prediction.verdict) if prediction.assignment_id else None

    @extend_schema_field(TOP5)
    def get_top5(self, prediction) -> list[tuple[str, float]]:
        """The five most probable characters as [character, probability] pairs."""
        return [[char, p] for char, p in prediction.top] if prediction.probabilities else []

    @extend_schema_field(PredictionSaliency)
    def get_saliency(self, prediction) -> dict:
        maps = [
            {
                "role": role,
                "char": char,
                "url": link(self, "api:prediction-saliency", prediction.pk, role),
            }
            for role, char in prediction.saliency_maps
        ]
        return {
            "state": prediction.explanation_state,
            "method": prediction.explanation.get("method") if maps else None,
            "error": prediction.explanation_error,
            "maps": maps,
        }

    def get_page(self, prediction) -> str:
        return link(self, "classifier:prediction-detail", prediction.pk)


class AssignmentSerializer(serializers.ModelSerializer):
    course = serializers.CharField(source="course.name", read_only=True)
    is_past_due = serializers.BooleanField(read_only=True)
    review_threshold = serializers.FloatField(
        read_only=True,
        help_text="The confidence under which an answer read as another "
        "character needs review: review_below, else the grading model's own.",
    )
    page = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = (
            "id",
            "course",
            "title",
            "instructions",
            "chars",
            "grader",
            "due_at",
            "is_past_due",
            "attempts_allowed",
            "grade_policy",
            "review_below",
            "review_threshold",
            "accept_late",
            "page",
        )
        read_only_fields = fields

    def get_page(self, assignment) -> str:
        return link(self, "classifier:assignment-detail", assignment.pk)


class GradeCellSerializer(serializers.Serializer):
    char = serializers.CharField()
    verdict = serializers.CharField(
        help_text="correct, incorrect, review (the teacher decides), pending, failed or "
        "missing (nothing submitted); the teacher's where given"
    )
    teacher_verdict = serializers.CharField(source="submission.teacher_verdict", default="")
    comment = serializers.CharField(source="submission.teacher_comment", default="")
    attempts = serializers.IntegerField()
    submission = serializers.IntegerField(source="submission.pk", allow_null=True, default=None)
    confidence = serializers.FloatField(
        source="submission.confidence", allow_null=True, default=None
    )
    late = serializers.BooleanField(source="submission.late", default=False)


class GradeRowSerializer(serializers.Serializer):
    student = serializers.CharField(source="student.username")
    name = serializers.CharField(source="profile.real_name")
    student_number = serializers.CharField(source="profile.student_number")
    score = serializers.IntegerField()
    late = serializers.BooleanField()
    cells = GradeCellSerializer(many=True)


class GradebookSerializer(serializers.Serializer):
    """The gradebook page as data: students x characters, and the scores."""

    assignment = serializers.IntegerField(source="assignment.pk")
    chars = serializers.ListField(child=serializers.CharField())
    correct_per_char = serializers.ListField(child=serializers.IntegerField())
    rows = GradeRowSerializer(many=True)
