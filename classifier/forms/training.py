"""Training job forms: the job itself, evaluations and the hidden test set."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .. import services
from ..i18n import describe, translate
from ..ml import charsets, networks
from ..ml.messages import Refusal
from ..models import Dataset, JobStatus, TrainingJob


class DatasetSelect(forms.Select):
    """The data set choice. An option whose set holds the tutorial's eight characters
    says so (``data-tutorial8``), so the form offers its one-click button only there."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        dataset = getattr(value, "instance", None)
        if dataset is not None and set(charsets.charset("tutorial8")) <= set(dataset.classes):
            option["attrs"]["data-tutorial8"] = ""
        return option


class GroupChecklist(forms.CheckboxSelectMultiple):
    """The groups to hold out, as checkboxes: the groups of every data set offered, each
    one shown only beside its own data sets (``data-datasets``, read by job_form.js).

    The value stays one comma-separated text ("Y,N"), as the API's ``held_out`` is
    written, so the page and the API send the same field.
    """

    #: group name -> the ids of the offered data sets that have it (set by the form)
    datasets_of: dict[str, list[int]]

    def format_value(self, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return super().format_value(value)

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name) or ""]
        parts = (part.strip() for value in values for part in str(value).split(","))
        return ",".join(part for part in parts if part)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].pop("maxlength", None)  # the field's limit is on the joined text
        datasets = getattr(self, "datasets_of", {}).get(value, ())
        option["attrs"]["data-datasets"] = " ".join(map(str, datasets))
        return option


class TrainingJobForm(forms.Form):
    """What a student chooses to train; ``user`` is needed for the queue limit."""

    SPLITS = [
        ("stratified", _("Stratified: a fraction of every character")),
        ("group", _("Group: hold out whole font groups (unseen fonts)")),
        ("tutorial", _("Tutorial: the first N samples of each file train, the rest validate")),
    ]
    MODELS = [
        ("mlp", _("Tutorial MLP (Flatten, Dense 128, Dense)")),
        ("cnn", _("CNN (small convolutional network)")),
        ("cnn-large", _("Large CNN (for hundreds of characters)")),
        ("custom", _("Custom layer spec:")),
    ]

    dataset = forms.ModelChoiceField(
        label=_("Data set"),
        queryset=Dataset.objects.none(),
        empty_label=None,
        widget=DatasetSelect,
    )
    chars = forms.CharField(
        label=_("Characters"),
        required=False,
        max_length=10000,
        help_text=_("Leave empty to train on every character of the data set."),
    )
    model = forms.ChoiceField(
        label=_("Model"), choices=MODELS, initial="mlp", widget=forms.RadioSelect
    )
    spec = forms.CharField(
        label=_("Layer spec"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "conv32-pool-conv64-pool-dense128"}),
    )
    optimizer = forms.ChoiceField(
        label=_("Optimizer"), choices=TrainingJob.Optimizer.choices, initial="adam"
    )
    learning_rate = forms.FloatField(
        label=_("Learning rate"),
        required=False,
        min_value=1e-6,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "any", "placeholder": "0.001"}),
        help_text=_("Empty: the model's own, 0.001 (0.003 for the large CNN)."),
    )
    epochs = forms.IntegerField(label=_("Epochs"), initial=5, min_value=1, max_value=200)
    batch_size = forms.IntegerField(label=_("Batch size"), initial=32, min_value=1, max_value=4096)
    seed = forms.IntegerField(label=_("Random seed"), initial=0, min_value=0, max_value=2**31)
    split_kind = forms.ChoiceField(
        label=_("Validation split"),
        choices=SPLITS,
        initial="stratified",
        widget=forms.RadioSelect,
    )
    val_fraction = forms.FloatField(
        label=_("Validation fraction"), initial=0.2, min_value=0.01, max_value=0.9, required=False
    )
    held_out = forms.CharField(
        label=_("Held-out groups"),
        required=False,
        # What the job's split holds, less its "group:".
        max_length=TrainingJob._meta.get_field("split").max_length - len("group:"),
        widget=GroupChecklist,
        help_text=_(
            "The groups the model never sees in training (fonts, or writers): validating on "
            "them shows how it reads what it has never seen."
        ),
    )
    tutorial_n = forms.IntegerField(
        label=_("Training samples per file"), initial=3000, min_value=1, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Only the data sets this user may see: a hidden test set is never trained on.
        datasets = Dataset.visible_to(user).filter(status=JobStatus.SUCCEEDED)
        self.fields["dataset"].queryset = datasets
        checklist = self.fields["held_out"].widget
        checklist.datasets_of = {}  # a new dict: copies of a widget share their attributes
        for dataset in datasets:
            for group in dataset.group_names:
                checklist.datasets_of.setdefault(group, []).append(dataset.pk)
        checklist.choices = [(group, group) for group in sorted(checklist.datasets_of)]

    @classmethod
    def initial_from(cls, job: TrainingJob) -> dict:
        """The form filled in with ``job``'s settings, to train it again with changes."""
        kind, _colon, argument = job.split.partition(":")
        preset = job.model_spec in dict(cls.MODELS) and job.model_spec != "custom"
        initial = {
            "dataset": job.dataset_id,
            "chars": "".join(job.chars),
            "model": job.model_spec if preset else "custom",
            "spec": "" if preset else job.model_spec,
            "optimizer": job.optimizer,
            "learning_rate": job.learning_rate,
            "epochs": job.epochs,
            "batch_size": job.batch_size,
            "seed": job.seed,
            "split_kind": kind,
        }
        if kind == "stratified":
            initial["val_fraction"] = float(argument)
        elif kind == "group":
            initial["held_out"] = argument
        elif kind == "tutorial":
            initial["tutorial_n"] = int(argument)
        return initial

    def clean(self):
        cleaned = super().clean()
        dataset = cleaned.get("dataset")
        if dataset is None:
            return cleaned
        try:
            cleaned["chars"] = services.chosen_characters(dataset, cleaned.get("chars", ""))
        except Refusal as exc:
            self.add_error("chars", describe(exc))
            cleaned["chars"] = []
        if len(cleaned["chars"] or dataset.classes) < 2:
            self.add_error("chars", _("A classifier needs at least two characters."))
        spec_text = cleaned.get("spec", "").strip() if cleaned.get("model") == "custom" else None
        if spec_text == "":
            self.add_error("spec", _("Write the layers of your model, e.g. conv32-pool-dense128."))
        else:
            try:
                cleaned["model_spec"] = spec_text or cleaned.get("model", "mlp")
                classes = len(cleaned.get("chars") or dataset.classes)
                spec = networks.parse_spec(cleaned["model_spec"])
                size = (dataset.height, dataset.width)
                cleaned["param_count"] = networks.count_params(spec, size, classes)
            except Refusal as exc:
                self.add_error("spec" if spec_text else "model", describe(exc))
            else:
                self._clean_batch_memory(cleaned, spec, size, classes)
        self._clean_split(cleaned, dataset)
        if refusal := self.queue_limit_refusal():
            raise forms.ValidationError(refusal)
        return cleaned

    def _clean_batch_memory(self, cleaned, spec, size, classes):
        if not cleaned.get("batch_size"):
            return  # the field's own error says why
        limit = settings.LAB_MAX_BATCH_ACTIVATIONS_MIB * 2**20
        try:
            networks.check_batch_memory(spec, size, classes, cleaned["batch_size"], limit)
        except Refusal as exc:
            self.add_error("batch_size", describe(exc))

    def queue_limit_refusal(self) -> str | None:
        """Why this student may not queue another job now, or None: the page says it
        before the student fills the form in (the service checks again as it records
        the job)."""
        refusal = services.queue_limit_refusal(self.user)
        return translate(refusal) if refusal else None

    def _clean_split(self, cleaned, dataset):
        kind = cleaned.get("split_kind")
        if not kind:
            return  # the field's own error says it is required
        argument = {
            "stratified": cleaned.get("val_fraction") or 0.2,
            "tutorial": cleaned.get("tutorial_n") or 3000,
            "group": ",".join(g.strip() for g in cleaned.get("held_out", "").split(",")),
        }.get(kind)
        cleaned["split"] = f"{kind}:{argument}"
        try:
            services.check_split(dataset, cleaned["split"])
        except Refusal as exc:
            self.add_error("held_out" if kind == "group" else "split_kind", describe(exc))

    def job_fields(self) -> dict:
        """The cleaned choices, as ``services.create_training_job`` takes them."""
        data = self.cleaned_data
        rate = data["learning_rate"] or networks.recipe(data["model_spec"]).learning_rate
        return {
            "dataset": data["dataset"],
            "chars": data["chars"],
            "model_spec": data["model_spec"],
            "optimizer": data["optimizer"],
            "learning_rate": rate,
            "epochs": data["epochs"],
            "batch_size": data["batch_size"],
            "seed": data["seed"],
            "split": data["split"],
            "param_count": data["param_count"],
        }


def compatible_datasets(job_classes, height, width):
    """Finished data sets of that image size holding every one of ``job_classes``."""
    ready = Dataset.objects.filter(status="SUCCEEDED", height=height, width=width)
    return [d.pk for d in ready if set(job_classes) <= set(d.classes)]


class EvaluateForm(forms.Form):
    """The data sets a finished job may be scored on: those its owner could see. Hidden
    sets and leaderboards' test sets are never offered, not even to an instructor: a
    leaderboard scores on them itself, and a score asked for here would be shown."""

    dataset = forms.ModelChoiceField(label=_("Data set"), queryset=Dataset.objects.none())

    def __init__(self, *args, job, user, **kwargs):
        super().__init__(*args, **kwargs)
        pks = compatible_datasets(job.classes, job.dataset.height, job.dataset.width)
        leaderboard_tests = Dataset.objects.filter(hidden_test__isnull=False).values("hidden_test")
        self.fields["dataset"].queryset = (
            Dataset.visible_to(user)
            .filter(pk__in=pks, is_hidden=False)
            .exclude(pk__in=leaderboard_tests)
        )


class HiddenTestForm(forms.ModelForm):
    """An instructor picks the leaderboard's hidden test set for a data set."""

    class Meta:
        model = Dataset
        fields = ("hidden_test",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        dataset = self.instance
        pks = compatible_datasets(dataset.classes, dataset.height, dataset.width)
        self.fields["hidden_test"].queryset = Dataset.objects.filter(pk__in=pks).exclude(
            pk=dataset.pk
        )
        self.fields["hidden_test"].help_text = _(
            "Other fonts, or handwriting collected from assignments; students never see it."
        )
