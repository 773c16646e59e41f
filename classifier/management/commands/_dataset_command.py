"""What the data set commands share: naming checks, and running a build with a bar."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from classifier import services
from classifier.forms import parse_size
from classifier.management.progress import progress_bar
from classifier.models import Dataset, JobStatus, dataset_name_validator


class DatasetCommand(BaseCommand):
    def add_common_arguments(self, parser, name_required=True):
        parser.add_argument("--name", required=name_required, help="name of the new data set")
        parser.add_argument("--size", default="28x28", help="HEIGHTxWIDTH (default 28x28)")
        parser.add_argument(
            "--async", action="store_true", dest="run_async",
            help="queue the build for the Celery workers instead of running it here",
        )  # fmt: skip

    def checked_name(self, name):
        try:
            dataset_name_validator(name)
        except ValidationError as exc:
            raise CommandError(f"--name {name!r}: {' '.join(exc.messages)}") from None
        if Dataset.objects.filter(name=name).exists():
            raise CommandError(f"A data set named {name!r} already exists.")
        return name

    def checked_size(self, text):
        try:
            return parse_size(text)
        except ValueError as exc:
            raise CommandError(f"--size: {exc}") from None

    def run_build(self, dataset, run_async):
        """Queue the build, or run it here with a progress bar; fail loudly on errors."""
        self.stdout.write(f"Data set {dataset.name} (id {dataset.pk})")
        if run_async:
            self.stdout.write("Queued for the data workers; follow it on the data set page.")
            return
        with progress_bar(sys.stderr) as bar:
            services.run_dataset_build(dataset.pk, on_progress=bar)
        dataset.refresh_from_db()
        if dataset.status != JobStatus.SUCCEEDED:
            raise CommandError(f"{dataset.get_status_display()}: {dataset.error_text}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{dataset.num_samples:,} samples of {len(dataset.classes):,} characters "
                f"in {dataset.duration.total_seconds():.1f} s."
            )
        )
