"""Small, real data sets: random arrays on disk and the rows that describe them."""

import numpy as np

from classifier.ml.store import StoreBuilder
from classifier.models import Dataset, JobStatus


def make_dataset(
    name="tiny",
    chars="가나다",
    per_char=20,
    size=(28, 28),
    groups=("S", "G"),
    status=JobStatus.SUCCEEDED,
    seed=0,
    source=Dataset.Source.PHD08,
    **fields,
) -> Dataset:
    """A data set row with real random arrays under MEDIA_ROOT (ready unless told)."""
    dataset = Dataset.objects.create(
        name=name,
        source=source,
        height=size[0],
        width=size[1],
        status=status,
        **fields,
    )
    if status != JobStatus.SUCCEEDED:
        return dataset
    rng = np.random.default_rng(seed)
    builder = StoreBuilder(dataset.store_dir, size[0], size[1], {"test": name})
    for label, char in enumerate(chars):
        images = rng.integers(0, 60, size=(per_char, *size), dtype=np.uint8)
        # A bright bar whose row depends on the class: easy to learn, so tests can
        # tell learning from chance.
        row = (label * 3 + 2) % (size[0] - 2)
        images[:, row : row + 2, 2:-2] = 255
        names = [groups[i % len(groups)] for i in range(per_char)]
        builder.write_part(f"{ord(char):05x}", char, images, names)
    arrays = builder.finish(list(chars))
    dataset.classes = arrays.manifest.classes
    dataset.counts = arrays.manifest.counts
    dataset.group_names = arrays.manifest.group_names
    dataset.num_samples = len(arrays)
    dataset.save()
    return dataset
