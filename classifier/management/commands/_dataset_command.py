"""What the data set commands share: naming checks, and running a build with a bar."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from classifier import services
from classifier.forms import parse_size
from classifier.i18n import describe
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
        parser.add_argument(
            "--resume", action="store_true",
            help="go on with the interrupted (or failed) build of the data set --name, "
            "from its recorded sources; what was built already is kept",
        )  # fmt: skip

    def checked_name(self, name):
        try:
            dataset_name_validator(name)
        except ValidationError as exc:
            raise CommandError(f"--name {name!r}: {' '.join(exc.messages)}") from None
        existing = Dataset.objects.filter(name=name).first()
        if existing:
            hint = "" if existing.status == JobStatus.SUCCEEDED else (
                f" Its build is {existing.get_status_display().lower()}: go on with it "
                f"with  {self.resume_command(name)}"
            )  # fmt: skip
            raise CommandError(f"A data set named {name!r} already exists.{hint}")
        return name

    def resume_command(self, name):
        command = type(self).__module__.rsplit(".", 1)[-1]
        return f"python manage.py {command} --name {name} --resume"

    def resume(self, name, run_async):
        """Build the data set ``name`` again from its sources, keeping what was built."""
        dataset = Dataset.objects.filter(name=name).first()
        if dataset is None:
            raise CommandError(f"There is no data set named {name!r} to resume.")
        if dataset.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise CommandError(
                f"{name} is {dataset.get_status_display().lower()} already. If the process "
                "building it died, the sweeper (`manage.py sweep`, started by `make run`) "
                "sends it back to a data worker, which goes on from where it stopped."
            )
        if dataset.status == JobStatus.SUCCEEDED:
            raise CommandError(f"{name} is built already; there is nothing to resume.")
        try:
            services.rebuild_dataset(dataset, dispatch=run_async)
        except ValueError as exc:
            raise CommandError(describe(exc)) from None
        self.run_build(dataset, run_async)

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
        try:
            with progress_bar(sys.stderr) as bar:
                services.run_dataset_build(dataset.pk, on_progress=bar)
        except KeyboardInterrupt:
            # The units built so far are whole (the pool lets running ones finish) and
            # kept: a cancelled build resumes from them.
            dataset.refresh_from_db()
            dataset.finish(JobStatus.CANCELLED)
            raise CommandError(
                f"Interrupted after {dataset.files_done:,} of {dataset.files_total:,} files; "
                f"they are kept. Go on with  {self.resume_command(dataset.name)}"
            ) from None
        dataset.refresh_from_db()
        if dataset.status != JobStatus.SUCCEEDED:
            raise CommandError(f"{dataset.get_status_display()}: {dataset.error_text}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{dataset.num_samples:,} samples of {len(dataset.classes):,} characters "
                f"in {dataset.duration.total_seconds():.1f} s."
            )
        )
