"""Codes the lab stores, in words for people: validation splits, models and the parts
of a syllable. The pages show these (the code itself in a tooltip), and so do the forms'
choices."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .i18n import translate
from .ml.jamo_errors import PART_NAMES
from .ml.messages import Refusal
from .ml.splits import parse_split


def split_label(code):
    """A validation split in words: 'stratified:0.2' -> 'Stratified, 20% validation'.

    The code itself is for a tooltip; a code the lab cannot read is shown as it is.
    """
    try:
        kind, argument = parse_split(code)
    except Refusal:
        return code
    if kind == "stratified":
        shown = round(argument * 100, 1)
        percent = f"{number_format(shown, 0 if shown == int(shown) else 1)}%"
        return _("Stratified, %(percent)s validation") % {"percent": percent}
    if kind == "group":
        return _("Held-out groups: %(groups)s") % {"groups": ", ".join(argument)}
    return _("Tutorial: first %(n)s per file") % {"n": number_format(argument, force_grouping=True)}


#: The presets by the names the training form gives them.
MODEL_NAMES = {
    "mlp": gettext_lazy("Tutorial MLP"),
    "cnn": "CNN",
    "cnn-large": gettext_lazy("Large CNN"),
}


def model_label(spec):
    """A model in words: 'cnn-large' -> 'Large CNN', a spec written by hand ->
    'Custom: conv32-pool-dense128'. The spec itself is for a tooltip."""
    name = MODEL_NAMES.get((spec or "").strip().lower())
    if name is not None:
        return str(name)
    return _("Custom: %(spec)s") % {"spec": spec}


def jamo_part(position):
    """A part of a syllable in words: 'medial' -> 'vowel'."""
    return translate(PART_NAMES[position]) if position in PART_NAMES else position
