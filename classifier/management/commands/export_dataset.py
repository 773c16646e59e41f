import sys
from pathlib import Path

from django.core.management.base import CommandError

from classifier.management.base import LabCommand
from classifier.management.progress import count_bar
from classifier.ml.store import StoreError
from classifier.models import Dataset


class Command(LabCommand):
    help = "Write a data set as one .npz: images, labels, groups and classes (label order)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--out", required=True, help="the .npz file to write")

    def handle(self, *args, **options):
        try:
            dataset = Dataset.objects.get(name=options["name"])
        except Dataset.DoesNotExist:
            raise CommandError(f"There is no data set named {options['name']!r}.") from None
        if not dataset.is_ready:
            raise CommandError(f"{dataset.name} is {dataset.get_status_display()}, not ready.")
        out = Path(options["out"])
        tmp = out.with_name(out.name + ".part")
        try:
            with tmp.open("wb") as fh, count_bar(sys.stderr, "image", "exported") as bar:
                for done in dataset.open_store().write_npz(fh):
                    bar(done, dataset.num_samples)
            tmp.replace(out)
        except (OSError, StoreError) as exc:
            tmp.unlink(missing_ok=True)
            raise CommandError(f"Could not export: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {dataset.num_samples:,} samples to {out}"))
