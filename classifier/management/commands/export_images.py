import sys
from pathlib import Path

from django.core.management.base import CommandError

from classifier import services
from classifier.i18n import describe
from classifier.management.base import LabCommand
from classifier.management.progress import count_bar
from classifier.ml.messages import Refusal
from classifier.models import Dataset


class Command(LabCommand):
    help = (
        "Write the images a handwriting or labelled-image data set was built from as a zip "
        "(a folder per character and writer, and manifest.csv: file,char,writer) that "
        "import_images reads back."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--out", required=True, help="the .zip file to write")

    def handle(self, *args, **options):
        dataset = Dataset.objects.filter(name=options["name"]).first()
        if dataset is None:
            raise CommandError(f"There is no data set named {options['name']!r}.")
        if not dataset.exports_images:
            raise CommandError(
                f"{dataset.name} was not made of images; export_dataset writes its arrays."
            )
        if not dataset.is_ready:
            raise CommandError(f"{dataset.name} is {dataset.get_status_display()}, not ready.")
        out = Path(options["out"])
        tmp = out.with_name(out.name + ".part")
        written = 0
        try:
            with tmp.open("wb") as fh, count_bar(sys.stderr, "image", "exported") as bar:
                for written in services.export_images(dataset, fh):
                    bar(written, dataset.num_samples)
            tmp.replace(out)
        except (OSError, Refusal) as exc:
            tmp.unlink(missing_ok=True)
            raise CommandError(f"Could not export: {describe(exc)}") from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {written:,} images to {out}"))
