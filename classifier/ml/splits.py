"""Validation splits: which samples of a data set train a model and which judge it.

Three kinds, written as ``kind:argument``:

- ``stratified:0.2``: that fraction of every character validates (random, seeded);
- ``group:Y,N``: whole font (or writer) groups are held out, the honest test of
  generalising to fonts the model has never seen;
- ``tutorial:3000``: the seed tutorial's split. It converted the characters two to a
  file and trained on the first N samples of each file, so its validation set was
  mostly the second character of each file: the lab reproduces that to show why it
  misleads.

Splits are sorted sample indices into the data set's arrays, so reading them from a
memory map walks the file forwards.
"""

from dataclasses import dataclass

import numpy as np

from .messages import Message, Refusal, _

KINDS = ("stratified", "group", "tutorial")


@dataclass(frozen=True)
class Split:
    """Sorted indices of the training and validation samples, and the split in words."""

    train: np.ndarray
    val: np.ndarray
    description: Message


def parse_split(text: str):
    """``(kind, argument)`` of a split written as ``kind:argument``; ValueError otherwise.

    The argument is a float for stratified, a list of group names for group and an int
    for tutorial.
    """
    kind, _colon, argument = (text or "").strip().partition(":")
    kind, argument = kind.strip().lower(), argument.strip()
    if kind not in KINDS:
        raise Refusal(
            _(
                'Unknown split "%(split)s". Use stratified:0.2, group:Y,N or tutorial:3000.',
                split=text,
            )
        )
    if kind == "stratified":
        try:
            fraction = float(argument)
        except ValueError:
            raise Refusal(
                _("stratified:%(argument)s: write a fraction, e.g. 0.2.", argument=argument)
            ) from None
        if not 0 < fraction < 1:
            raise Refusal(
                _("stratified:%(argument)s: the fraction is between 0 and 1.", argument=argument)
            )
        return kind, fraction
    if kind == "group":
        names = [name.strip() for name in argument.split(",") if name.strip()]
        if not names:
            raise Refusal(_("group: name the groups to hold out, e.g. group:Y,N."))
        return kind, names
    try:
        n_train = int(argument)
    except ValueError:
        raise Refusal(
            _("tutorial:%(argument)s: write a number of samples, e.g. 3000.", argument=argument)
        ) from None
    if n_train < 1:
        raise Refusal(_("tutorial: train on at least one sample per file."))
    return kind, n_train


def stratified(labels, candidates, fraction: float, seed: int) -> Split:
    """Hold out ``fraction`` of every label's samples, chosen at random with ``seed``.

    Every label with two samples or more keeps at least one on each side.
    """
    candidates = np.asarray(candidates)
    picked = np.asarray(labels)[candidates]
    rng = np.random.default_rng(seed)
    val_parts = []
    for label in np.unique(picked):
        members = candidates[picked == label]
        n_val = round(len(members) * fraction)
        if len(members) >= 2:
            n_val = min(max(n_val, 1), len(members) - 1)
        val_parts.append(rng.choice(members, size=n_val, replace=False))
    val = np.sort(np.concatenate(val_parts)) if val_parts else np.empty(0, np.int64)
    train = np.setdiff1d(candidates, val, assume_unique=True)
    return _checked(
        Split(
            train,
            val,
            _(
                "Stratified: %(percent)s of every character's samples validate, "
                "chosen at random (seed %(seed)d).",
                percent=f"{fraction:.0%}",
                seed=seed,
            ),
        ),
    )


def group(groups, group_names, candidates, held_out) -> Split:
    """Validate on the samples of the ``held_out`` groups, train on all the others."""
    unknown = [name for name in held_out if name not in group_names]
    if unknown:
        raise Refusal(
            _(
                "No group %(unknown)s; the groups are %(groups)s.",
                unknown=", ".join(unknown),
                groups=", ".join(group_names),
            )
        )
    candidates = np.asarray(candidates)
    held = [group_names.index(name) for name in held_out]
    is_val = np.isin(np.asarray(groups)[candidates], held)
    kept = [name for name in group_names if name not in held_out]
    return _checked(
        Split(
            candidates[~is_val],
            candidates[is_val],
            _(
                "Group: the groups %(held_out)s are held out for validation; the model "
                "trains on %(kept)s and never sees the held-out ones.",
                held_out=", ".join(held_out),
                kept=", ".join(kept),
            ),
        ),
    )


def tutorial(labels, candidates, n_train: int, chars_per_file: int = 2) -> Split:
    """The seed tutorial's split: characters two to a file, the first ``n_train`` of each
    file train and the rest validate."""
    candidates = np.asarray(candidates)
    picked = np.asarray(labels)[candidates]
    # Files hold the characters in data set order, as the tutorial's converter wrote them.
    first_seen = np.unique(picked, return_index=True)
    order = first_seen[0][np.argsort(first_seen[1])]
    train_parts, val_parts = [], []
    for start in range(0, len(order), chars_per_file):
        members = candidates[np.isin(picked, order[start : start + chars_per_file])]
        train_parts.append(members[:n_train])
        val_parts.append(members[n_train:])
    train = np.sort(np.concatenate(train_parts)) if train_parts else np.empty(0, np.int64)
    val = np.sort(np.concatenate(val_parts)) if val_parts else np.empty(0, np.int64)
    return _checked(
        Split(
            train,
            val,
            _(
                "Tutorial: the characters go %(per_file)d to a file, as in the "
                "seed tutorial; the first %(n_train)d samples of each file train "
                "and the rest validate, so validation is mostly the second "
                "character of each file.",
                per_file=chars_per_file,
                n_train=n_train,
            ),
        ),
    )


def _checked(split: Split) -> Split:
    if not len(split.train):
        raise Refusal(_("This split leaves no samples to train on."))
    if not len(split.val):
        raise Refusal(_("This split leaves no samples to validate on."))
    return split


def describe_split(split: Split, labels, classes) -> dict[str, dict[str, int]]:
    """Training and validation samples per character: ``{"가": {"train": n, "val": n}}``."""
    labels = np.asarray(labels)
    train = np.bincount(labels[split.train], minlength=len(classes))
    val = np.bincount(labels[split.val], minlength=len(classes))
    return {
        char: {"train": int(train[i]), "val": int(val[i])}
        for i, char in enumerate(classes)
        if train[i] or val[i]
    }
