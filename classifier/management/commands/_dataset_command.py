"""What the data set commands share: naming checks, and running a build with a bar."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from classifier import services
from classifier.forms import parse_size
from classifier.i18n import describe
from classifier.management.base import LabCommand
from classifier.management.progress import progress_bar
from classifier.ml.messages import Refusal
from classifier.models import Dataset, JobStatus, dataset_name_validator
from classifier.services.recovery import take_back_dead

# How a log line names a build's progress: "rendered 1,234/16,450 files (...)".
BUILT = {
    Dataset.Source.FONTS: "rendered",
    Dataset.Source.PHD08: "converted",
    Dataset.Source.IMAGES: "imported",
    Dataset.Source.HANDWRITING: "collected",
}


class DatasetCommand(LabCommand):
    def add_common_arguments(self, parser, name_required=True):
        parser.add_argument("--name", required=name_required, help="name of the new data set")
        parser.add_argument("--size", default="28x28", help="HEIGHTxWIDTH (default 28x28)")
        parser.add_argument(
            "--async",
            action="store_true",
            dest="run_async",
            help="queue the build for the Celery workers instead of running it here",
        )
        parser.add_argument(
            "--hidden",
            action="store_true",
            help="hide it from students: a test set for the leaderboard",
        )
        parser.add_argument(
            "--resume",
            action="store_true",
            help="go on with the interrupted (or failed) build of the data set --name, "
            "from its recorded sources; what was built already is kept",
        )

    def checked_name(self, name):
        try:
            dataset_name_validator(name)
        except ValidationError as exc:
            raise CommandError(f"--name {name!r}: {' '.join(exc.messages)}") from None
        existing = Dataset.objects.filter(name=name).first()
        if existing:
            hint = (
                ""
                if existing.status == JobStatus.SUCCEEDED
                else (
                    f" Its build is {existing.get_status_display().lower()}: go on with it "
                    f"with  {self.resume_command(name)}"
                )
            )
            raise CommandError(f"A data set named {name!r} already exists.{hint}")
        return name

    def resume_command(self, name):
        command = type(self).__module__.rsplit(".", 1)[-1]
        return f"python manage.py {command} --name {name} --resume"

    def resume(self, name, run_async):
        """Go on with the build of the data set ``name``, keeping what was built: a build
        that was interrupted, failed, or whose process died (its row says RUNNING, but
        its heartbeat has stopped)."""
        dataset = Dataset.objects.filter(name=name).first()
        if dataset is None:
            raise CommandError(f"There is no data set named {name!r} to resume.")
        if dataset.status == JobStatus.SUCCEEDED:
            raise CommandError(f"{name} is built already; there is nothing to resume.")
        if dataset.status == JobStatus.RUNNING and not take_back_dead(dataset):
            raise CommandError(
                f"{name} is being built right now (its heartbeat is fresh). Follow it on "
                "its page, or cancel it there first."
            )
        dataset.refresh_from_db()
        if dataset.status == JobStatus.QUEUED:
            if run_async:
                dataset.dispatch()
        else:
            try:
                services.rebuild_dataset(dataset, dispatch=run_async)
            except Refusal as exc:
                raise CommandError(describe(exc)) from None
        self.run_build(dataset, run_async)

    def checked_size(self, text):
        try:
            return parse_size(text)
        except Refusal as exc:
            raise CommandError(f"--size: {describe(exc)}") from None

    def run_build(self, dataset, run_async):
        """Queue the build, or run it here with a progress bar; fail loudly on errors.

        What the build left out is listed after it, whether it succeeded or failed."""
        try:
            self._run_build(dataset, run_async)
        finally:
            self.list_skipped(dataset)

    def list_skipped(self, dataset):
        """Every file (or character a font cannot draw) left out of the data set, and why."""
        dataset.refresh_from_db()
        if not dataset.skipped:
            return
        fonts = dataset.source == Dataset.Source.FONTS
        what = "characters a font cannot draw" if fonts else "files"
        self.stdout.write(self.style.WARNING(f"Left out {len(dataset.skipped):,} {what}:"))
        for name, reason in dataset.skipped_files:
            self.stdout.write(f"  {name}: {reason}")

    def _run_build(self, dataset, run_async):
        self.stdout.write(f"Data set {dataset.name} (id {dataset.pk})")
        if run_async:
            self.stdout.write("Queued for the data workers; follow it on the data set page.")
            return
        try:
            # The run keeps its heartbeat fresh, so the sweeper knows this process lives.
            with progress_bar(sys.stderr, verb=BUILT.get(dataset.source, "built")) as bar:
                built = services.run_dataset_build(dataset.pk, on_progress=bar)
        except KeyboardInterrupt:
            # The units built so far are whole (the pool lets running ones finish) and
            # kept: a cancelled build resumes from them.
            dataset.refresh_from_db()
            dataset.stop()
            raise CommandError(
                f"Interrupted after {dataset.files_done:,} of {dataset.files_total:,} files; "
                f"they are kept. Go on with  {self.resume_command(dataset.name)}"
            ) from None
        if built is None:
            raise CommandError(f"A data worker took {dataset.name} first; follow it on its page.")
        dataset.refresh_from_db()
        if dataset.status != JobStatus.SUCCEEDED:
            raise CommandError(f"{dataset.get_status_display()}: {dataset.error_text}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{dataset.num_samples:,} samples of {len(dataset.classes):,} characters "
                f"in {dataset.duration.total_seconds():.1f} s."
            )
        )
