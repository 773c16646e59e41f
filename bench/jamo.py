"""Benchmark: a jamo model (three heads) against the one-head model, on syllables seen in
training and on syllables never seen.

    python bench/jamo.py [--epochs 12] [--per-font 8] [--held-out-per-font 4]
        [--model cnn] [--never-seen 0.2] [--seed 0] [--json PATH]

The syllables are every combination of 8 initials (ㄱㄴㄷㄹㅁㅂㅅㅇ), 5 vowels (ㅏㅓㅗㅜㅣ)
and 4 finals (none, ㄱ, ㄴ, ㄹ): 160. A share of them (``--never-seen``, drawn with the
seed, such that every part of them is still in the others) is kept out of training
altogether. Both models are trained on the rest, rendered by the lab's renderer from
the 11 print fonts of ``bench/hangul2350.py`` (its ``print`` style, ``--per-font``
samples per syllable and font), with the same network (``--model``), epochs, batch,
optimiser and seed; each keeps the weights of the epoch with the lowest loss on a 10%
validation split of the training samples (the only choice made, and made there).

Both are then measured on the 4 print families held out of training entirely, on the
syllables they were trained on and on the never-seen ones: the one-head model cannot
name a syllable it has no class for, so it scores 0 there by construction; the jamo
model names a syllable by the product of its parts' probabilities over every
combination of the parts it saw (``jamo_model.combinations``: the 160). Printed: the
accuracies, the jamo model's accuracy per part, its accuracy among the trained
syllables only (like for like with the one-head model), and each model's training
time and parameters.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from hangul2350 import HELD_OUT_FONTS, TRAINING_FONTS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classifier.ml import fonts, jamo, jamo_model, networks, render  # noqa: E402

INITIALS = "ㄱㄴㄷㄹㅁㅂㅅㅇ"
MEDIALS = "ㅏㅓㅗㅜㅣ"
FINALS = ("", "ㄱ", "ㄴ", "ㄹ")
BATCH_SIZE = 64
VALIDATION = 0.1


def syllables() -> list[str]:
    return [
        jamo.compose(jamo.INITIALS.index(i), jamo.MEDIALS.index(m), jamo.FINALS.index(f))
        for i in INITIALS
        for m in MEDIALS
        for f in FINALS
    ]


def never_seen(chars: list[str], share: float, seed: int) -> list[str]:
    """A draw of ``share`` of ``chars`` whose parts all stay in the others."""
    rng = np.random.default_rng(seed)
    kept_out = []
    for char in rng.permutation(chars)[: int(len(chars) * share) * 3]:
        rest = [c for c in chars if c != char and c not in kept_out]
        if sorted(jamo_model.combinations(rest)) == sorted(chars):
            kept_out.append(str(char))
        if len(kept_out) == int(len(chars) * share):
            break
    return sorted(kept_out)


def rendered(chars, font_names, per_font, seed):
    installed = {font.name: font for font in fonts.find_hangul_fonts()}
    missing = [name for name in font_names if name not in installed]
    if missing:
        sys.exit(f"Fonts missing: {', '.join(missing)}; install them with:  {fonts.INSTALL_HINT}")
    settings = render.RenderSettings(per_font=per_font, seed=seed, style="print")
    images, labels = [], []
    for label, char in enumerate(chars):
        for name in font_names:
            try:
                drawn = render.render_samples(char, installed[name], settings)
            except render.GlyphMissing:
                continue
            images.append(drawn)
            labels.extend([label] * len(drawn))
    return np.concatenate(images), np.asarray(labels)


def train(model, images, targets, args):
    import keras

    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(images))
    val = order[: int(len(order) * VALIDATION)]
    fit = order[len(val) :]
    best = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=args.epochs, restore_best_weights=True
    )
    started = time.monotonic()
    model.fit(
        images[fit],
        _rows(targets, fit),
        validation_data=(images[val], _rows(targets, val)),
        epochs=args.epochs,
        batch_size=BATCH_SIZE,
        callbacks=[best],
        verbose=0,
    )
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--per-font", type=int, default=8)
    parser.add_argument("--held-out-per-font", type=int, default=4)
    parser.add_argument("--model", default="cnn", help="a preset or a layer spec")
    parser.add_argument("--never-seen", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    import keras

    keras.utils.set_random_seed(args.seed)
    chars = syllables()
    unseen = never_seen(chars, args.never_seen, args.seed)
    seen = [c for c in chars if c not in unseen]
    candidates = jamo_model.combinations(seen)
    assert sorted(candidates) == sorted(chars)
    print(f"{len(chars)} syllables; never seen in training ({len(unseen)}): {' '.join(unseen)}")

    train_x, train_y = rendered(seen, TRAINING_FONTS, args.per_font, args.seed)
    test_seen_x, test_seen_y = rendered(seen, HELD_OUT_FONTS, args.held_out_per_font, 1000)
    test_unseen_x, test_unseen_y = rendered(unseen, HELD_OUT_FONTS, args.held_out_per_font, 1000)
    print(
        f"training: {len(train_x):,} samples from {len(TRAINING_FONTS)} fonts; held-out fonts "
        f"({', '.join(HELD_OUT_FONTS)}): {len(test_seen_x):,} samples of seen syllables, "
        f"{len(test_unseen_x):,} of never-seen ones"
    )
    spec = networks.parse_spec(args.model)
    shape = train_x.shape[1:]

    one_head = networks.build_model(spec, shape, len(seen), args.seed)
    one_head.compile("adam", "sparse_categorical_crossentropy")
    one_seconds = train(one_head, train_x, train_y, args)
    one_seen = float(np.mean(_top1(one_head, test_seen_x) == test_seen_y))

    heads = jamo_model.build(spec, shape, args.seed)
    heads.compile(
        "adam", loss={name: "sparse_categorical_crossentropy" for name in jamo_model.HEAD_NAMES}
    )
    seen_parts = jamo_model.jamo_targets(seen)
    jamo_seconds = train(heads, train_x, jamo_model.head_targets(seen_parts[train_y]), args)

    def jamo_read(images, among):
        probabilities = jamo_model.syllable_probabilities(
            jamo_model.head_probabilities(heads, images), among
        )
        return np.asarray(among)[probabilities.argmax(axis=1)]

    jamo_seen = float(np.mean(jamo_read(test_seen_x, candidates) == np.asarray(seen)[test_seen_y]))
    jamo_seen_only = float(np.mean(jamo_read(test_seen_x, seen) == np.asarray(seen)[test_seen_y]))
    truth_unseen = np.asarray(unseen)[test_unseen_y]
    jamo_unseen = float(np.mean(jamo_read(test_unseen_x, candidates) == truth_unseen))
    parts = jamo_model.head_probabilities(heads, test_unseen_x)
    unseen_parts = jamo_model.jamo_targets(unseen)[test_unseen_y]
    per_part = {
        name: float(np.mean(parts[name].argmax(axis=1) == unseen_parts[:, column]))
        for column, name in enumerate(jamo_model.HEAD_NAMES)
    }
    figures = {
        "model": spec.text,
        "epochs": args.epochs,
        "syllables": len(chars),
        "never_seen": unseen,
        "training_samples": len(train_x),
        "one_head": {
            "seen": one_seen,
            "never_seen": 0.0,
            "seconds": one_seconds,
            "parameters": one_head.count_params(),
        },
        "jamo": {
            "seen": jamo_seen,
            "seen_among_trained_only": jamo_seen_only,
            "never_seen": jamo_unseen,
            "never_seen_per_part": per_part,
            "seconds": jamo_seconds,
            "parameters": heads.count_params(),
        },
    }
    print(f"\nheld-out fonts, {spec.text}, {args.epochs} epochs (best on validation):")
    print(f"{'':34}{'one head':>12}{'jamo heads':>12}")
    print(f"{'seen syllables':34}{one_seen:>12.1%}{jamo_seen:>12.1%}")
    print(f"{'  (jamo: among the trained only)':34}{'':>12}{jamo_seen_only:>12.1%}")
    print(f"{'never-seen syllables':34}{'0.0%':>12}{jamo_unseen:>12.1%}")
    print(
        "never-seen, per part: "
        + ", ".join(f"{name} {value:.1%}" for name, value in per_part.items())
    )
    print(
        f"training time: {one_seconds:.0f} s / {jamo_seconds:.0f} s; parameters: "
        f"{one_head.count_params():,} / {heads.count_params():,}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2))


def _rows(targets, rows):
    """``rows`` of one target array, or of each head's."""
    if isinstance(targets, dict):
        return {name: values[rows] for name, values in targets.items()}
    return targets[rows]


def _top1(model, images):
    return np.concatenate(
        [
            np.asarray(model(images[start : start + 256], training=False)).argmax(axis=1)
            for start in range(0, len(images), 256)
        ]
    )


if __name__ == "__main__":
    main()
