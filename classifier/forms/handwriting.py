"""Handwriting forms: a photo or a canvas drawing, for a prediction or a submission."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from ..i18n import describe
from ..labels import model_label
from ..ml import preprocess
from ..models import Prediction, TrainingJob

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp,image/bmp,image/gif,.jpg,.jpeg,.png,.webp,.bmp,.gif"


class HandwritingInputForm(forms.Form):
    """One image: an uploaded photo (``image``) or a drawing from the canvas (``canvas``,
    a PNG data URL filled in by static/js/canvas.js). Exactly one of them is required."""

    image = forms.FileField(
        label=_("Photo"),
        required=False,
        # No "capture": a phone then offers its camera and its saved photos both.
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    canvas = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        upload, drawing = cleaned.get("image"), cleaned.get("canvas")
        if upload and drawing:
            raise forms.ValidationError(_("Send either a photo or a drawing, not both."))
        if upload:
            limit = settings.LAB_IMAGE_MAX_BYTES
            if upload.size > limit:
                raise forms.ValidationError(
                    _("The photo is %(size)s; the limit is %(limit)s.")
                    % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
                )
            cleaned["data"] = upload.read()
            cleaned["source"] = Prediction.Source.UPLOAD
            cleaned["original_name"] = upload.name
        elif drawing:
            try:
                cleaned["data"] = preprocess.decode_data_url(
                    drawing, max_bytes=settings.LAB_IMAGE_MAX_BYTES
                )
            except preprocess.ImageRejected as exc:
                raise forms.ValidationError(describe(exc)) from exc
            cleaned["source"] = Prediction.Source.CANVAS
            cleaned["original_name"] = "drawing.png"
        elif not self.errors:
            raise forms.ValidationError(_("Upload a photo or draw the character first."))
        return cleaned

    def image_fields(self) -> dict:
        """The image, ready for ``services.create_prediction`` or ``services.submit``."""
        return {key: self.cleaned_data[key] for key in ("data", "source", "original_name")}


class ModelChoice(forms.ModelChoiceField):
    """A finished model the user may use; the refusal says which models those are."""

    default_error_messages = {
        "invalid_choice": _(
            "You cannot use this model here: choose one of your own finished models, or "
            "one your instructor published to your course."
        ),
    }

    def label_from_instance(self, job):
        chars = "".join(job.classes)
        shown = chars if len(chars) <= 12 else chars[:12] + "…"
        return f"#{job.pk} {model_label(job.model_spec)} · {job.dataset} · {shown} · {job.owner}"


class PredictForm(HandwritingInputForm):
    """Which model reads the image, and (optionally) which character it was meant to be."""

    model = ModelChoice(label=_("Model"), queryset=TrainingJob.objects.none())
    expected = forms.CharField(
        label=_("Meant to be"),
        required=False,
        max_length=1,
        help_text=_("Optional: the character you wrote; its bar is drawn blue."),
    )
    field_order = ("model", "image", "canvas", "expected")

    def prediction_fields(self) -> dict:
        """The cleaned choices, as ``services.create_prediction`` takes them."""
        return {
            "model": self.cleaned_data["model"],
            "expected": self.cleaned_data["expected"],
            **self.image_fields(),
        }

    def __init__(self, *args, models, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].queryset = models

    def clean(self):
        cleaned = super().clean()
        model, expected = cleaned.get("model"), cleaned.get("expected", "").strip()
        if model and expected and expected not in model.classes:
            self.add_error(
                "expected",
                _("Model #%(pk)d does not know %(char)s; it knows %(chars)s.")
                % {"pk": model.pk, "char": expected, "chars": " ".join(model.classes)},
            )
        cleaned["expected"] = expected
        return cleaned


class SubmissionForm(HandwritingInputForm):
    """A student's image of one of an assignment's characters; ``again`` confirms a new
    attempt at a character already marked correct."""

    char = forms.CharField(widget=forms.HiddenInput, max_length=1)
    again = forms.BooleanField(
        label=_("Yes, submit a character already marked correct again"), required=False
    )
