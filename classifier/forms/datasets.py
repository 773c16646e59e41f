"""Data set forms: PHD08 imports, labelled images and font renderings."""

import re
from pathlib import Path

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ..i18n import describe
from ..ml import charsets, fonts
from ..ml.convert import ConversionSettings
from ..ml.messages import Message, Refusal
from ..ml.phd08 import Phd08Error, label_from_filename
from ..ml.render import RenderSettings
from ..ml.sources import SourceError, check_import_path
from ..models import Dataset, dataset_name_validator


def parse_size(text: str) -> tuple[int, int]:
    """'28x28' (or '28') -> (28, 28); a Refusal with a readable message otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*", text or "")
    if not match:
        raise Refusal(Message(gettext_noop("Write the size as HEIGHTxWIDTH, for example 28x28.")))
    height = int(match[1])
    width = int(match[2] or match[1])
    if not (8 <= height <= 256 and 8 <= width <= 256):
        raise Refusal(Message(gettext_noop("Each side must be between 8 and 256 pixels.")))
    return height, width


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files at once."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".txt,.zip"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if not data and not self.required:
            return []
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class DatasetFormMixin(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        validators=[dataset_name_validator],
        help_text=_("Letters, digits, dots, hyphens and underscores."),
    )
    size = forms.CharField(label=_("Image size"), initial="28x28", max_length=12)
    hidden = forms.BooleanField(
        label=_("Hidden from students"),
        required=False,
        help_text=_(
            "A test set for the leaderboard: students never see it, download it or train on it."
        ),
    )

    def __init__(self, *args, retrying: Dataset | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hidden"] = self.fields.pop("hidden")  # last, after each form's own
        #: The failed data set this form edits and builds again (it may keep its name).
        self.retrying = retrying

    @classmethod
    def initial_from(cls, dataset: Dataset) -> dict:
        """The form filled in with ``dataset``'s settings, to edit them and build again."""
        return {
            "name": dataset.name,
            "size": f"{dataset.height}x{dataset.width}",
            "hidden": dataset.is_hidden,
        }

    def clean_name(self):
        name = self.cleaned_data["name"]
        others = Dataset.objects.filter(name=name)
        if self.retrying is not None:
            others = others.exclude(pk=self.retrying.pk)
        if others.exists():
            raise forms.ValidationError(_("A data set with this name already exists."))
        return name

    def clean_size(self):
        try:
            return parse_size(self.cleaned_data["size"])
        except Refusal as exc:
            raise forms.ValidationError(describe(exc)) from None


class ServerImportMixin(DatasetFormMixin):
    """An import from an upload (the field ``upload_field``) or from ``server_path`` on
    the server, under ``LAB_IMPORT_ROOTS``: one of the two, never both."""

    upload_field = ""
    server_help = ""  # says what may be named, with %(roots)s
    both_message = ""
    neither_message = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        roots = ", ".join(str(root) for root in settings.LAB_IMPORT_ROOTS)
        self.fields["server_path"].help_text = (
            self.server_help % {"roots": roots}
            if roots
            else _("Turned off: LAB_IMPORT_ROOTS names no folder.")
        )

    def clean_server_path(self):
        text = self.cleaned_data["server_path"].strip()
        if not text:
            return None
        # Checked here for a clear message on the field; the service checks again, with
        # every file found under the path.
        try:
            return check_import_path(text, settings.LAB_IMPORT_ROOTS)
        except SourceError as exc:
            raise forms.ValidationError(describe(exc)) from None

    def clean(self):
        cleaned = super().clean()
        upload, server_path = cleaned.get(self.upload_field), cleaned.get("server_path")
        if upload and server_path:
            raise forms.ValidationError(self.both_message)
        if not self.errors and not upload and not server_path:
            raise forms.ValidationError(self.neither_message)
        return cleaned


def _server_path(path) -> str:
    """A data set's source path as the form takes it: "" for an upload, which lies in the
    lab's own media folder and is uploaded again."""
    if not path or Path(path).is_relative_to(Path(settings.MEDIA_ROOT)):
        return ""
    return str(path)


class Phd08ImportForm(ServerImportMixin):
    """Uploaded PHD08 files, or a file or folder on the server under ``LAB_IMPORT_ROOTS``."""

    files = MultipleFileField(
        label=_("PHD08 files"),
        required=False,
        help_text=_("One or more <character>.txt files, or .zip archives of them."),
    )
    server_path = forms.CharField(
        label=_("Or a file or folder on the server"),
        required=False,
        max_length=1000,
    )
    sigma = forms.FloatField(
        label=_("Gaussian blur (sigma)"), initial=0.3, min_value=0, max_value=10
    )
    reference = forms.BooleanField(
        label=_("Reproduce the tutorial's converter exactly"),
        required=False,
        help_text=_("Min-max scaling and a straight resize, without keeping the aspect ratio."),
    )
    upload_field = "files"
    server_help = _("A .txt or .zip file or a folder of them, inside %(roots)s.")
    both_message = _("Upload files or name a server path, not both.")
    neither_message = _("Upload PHD08 files or name a server path.")

    def clean_files(self):
        files = self.cleaned_data["files"]
        total = sum(f.size for f in files)
        if total > settings.LAB_ZIP_MAX_BYTES:
            raise forms.ValidationError(_("The upload is larger than the configured limit."))
        for upload in files:
            if Path(upload.name).suffix.lower() == ".zip":
                continue
            try:
                label_from_filename(upload.name)
            except Phd08Error as exc:
                raise forms.ValidationError(describe(exc)) from None
        return files

    @classmethod
    def initial_from(cls, dataset: Dataset) -> dict:
        conversion = dataset.params.get("conversion", {})
        paths = dataset.params.get("paths", [])
        return {
            **super().initial_from(dataset),
            "sigma": conversion.get("sigma", 0.3),
            "reference": conversion.get("reference", False),
            "server_path": _server_path(paths[0]) if len(paths) == 1 else "",
        }

    def conversion(self) -> ConversionSettings:
        height, width = self.cleaned_data["size"]
        return ConversionSettings(
            height=height,
            width=width,
            sigma=self.cleaned_data["sigma"],
            reference=self.cleaned_data["reference"],
        )


class LabelledImagesForm(ServerImportMixin):
    """A zip of labelled images, uploaded or on the server under ``LAB_IMPORT_ROOTS``."""

    archive = forms.FileField(
        label=_("Zip archive of images"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
        help_text=_(
            "A folder per character (가/0001.png, or 가/writer07/0001.png), or the "
            "images with a labels.csv (file,char,writer) or labels.json beside them."
        ),
    )
    server_path = forms.CharField(
        label=_("Or a zip archive on the server"),
        required=False,
        max_length=1000,
    )
    upload_field = "archive"
    server_help = _("A .zip file inside %(roots)s.")
    both_message = _("Upload an archive or name a server path, not both.")
    neither_message = _("Upload a zip archive of images or name one on the server.")

    @classmethod
    def initial_from(cls, dataset: Dataset) -> dict:
        archive = dataset.params.get("archive", "")
        return {**super().initial_from(dataset), "server_path": _server_path(archive)}

    def clean_archive(self):
        upload = self.cleaned_data["archive"]
        if not upload:
            return None
        if Path(upload.name).suffix.lower() != ".zip":
            raise forms.ValidationError(_("Upload the images as one .zip archive."))
        if upload.size > settings.LAB_ZIP_MAX_BYTES:
            raise forms.ValidationError(_("The upload is larger than the configured limit."))
        return upload


def font_choices():
    return [(font.name, font.name) for font in fonts.find_hangul_fonts()]


class RenderDatasetForm(DatasetFormMixin):
    charset = forms.ChoiceField(
        label=_("Characters"),
        choices=[
            ("tutorial8", _("The tutorial's 8: 라 호 댜 밟 자 꺅 갠 아")),
            ("ks2350", _("All 2,350 KS X 1001 syllables")),
            ("custom", _("These characters:")),
        ],
        initial="tutorial8",
        widget=forms.RadioSelect,
    )
    chars = forms.CharField(label=_("Characters"), required=False, max_length=10000)
    fonts = forms.MultipleChoiceField(
        label=_("Fonts"),
        choices=font_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every installed Hangul font."),
    )
    per_font = forms.IntegerField(
        label=_("Samples per character and font"), initial=40, min_value=1, max_value=2000
    )
    seed = forms.IntegerField(label=_("Random seed"), initial=0, min_value=0)
    style = forms.ChoiceField(
        label=_("Style"),
        choices=[
            (
                "handwriting",
                _(
                    "Handwriting: jamo moved, strokes redrawn with a pen, stronger "
                    "distortion (for models that read handwriting)"
                ),
            ),
            ("print", _("Print: the font's own glyphs, lightly distorted (like scanned print)")),
        ],
        initial="handwriting",
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Left out (an older script, the API): handwriting."),
    )
    augment = forms.BooleanField(
        label=_("Augment (distortion, rotation, jitter, stroke, blur, noise)"),
        initial=True,
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        try:
            if cleaned.get("charset") == "custom":
                cleaned["char_list"] = charsets.parse_chars(cleaned.get("chars", ""))
            elif cleaned.get("charset"):
                cleaned["char_list"] = charsets.charset(cleaned["charset"])
        except Refusal as exc:
            self.add_error("chars", describe(exc))
        if not fonts.find_hangul_fonts():
            raise forms.ValidationError(fonts.INSTALL_HINT)
        return cleaned

    @classmethod
    def initial_from(cls, dataset: Dataset) -> dict:
        params = dataset.params
        rendering = params.get("rendering", {})
        chars = params.get("chars", [])
        charset = next(
            (name for name in ("tutorial8", "ks2350") if charsets.charset(name) == chars),
            "custom",
        )
        return {
            **super().initial_from(dataset),
            "charset": charset,
            "chars": "".join(chars) if charset == "custom" else "",
            "fonts": params.get("fonts", []),
            "per_font": rendering.get("per_font", 40),
            "seed": rendering.get("seed", 0),
            "style": rendering.get("style", "handwriting"),
            "augment": rendering.get("augment", True),
        }

    def rendering(self) -> RenderSettings:
        height, width = self.cleaned_data["size"]
        return RenderSettings(
            height=height,
            width=width,
            per_font=self.cleaned_data["per_font"],
            seed=self.cleaned_data["seed"],
            augment=self.cleaned_data["augment"],
            style=self.cleaned_data["style"] or "handwriting",
        )
