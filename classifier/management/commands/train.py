import json
import sys
import time
from contextlib import contextmanager

from django.core.management.base import CommandError

from classifier import services
from classifier.forms import TrainingJobForm
from classifier.management.base import LabCommand
from classifier.management.progress import fraction_bar
from classifier.models import Dataset, JobStatus, TrainingJob

# The form's fields, as this command's options name them (for its error messages).
OPTION_OF_FIELD = {
    "dataset": "--dataset",
    "chars": "--chars",
    "model": "--model",
    "spec": "--model",
    "optimizer": "--optimizer",
    "learning_rate": "--lr",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "seed": "--seed",
    "split_kind": "--split",
    "val_fraction": "--split",
    "held_out": "--split",
    "tutorial_n": "--split",
}
PRESETS = {"mlp", "cnn", "cnn-large"}
SPLIT_ARGUMENT = {"stratified": "val_fraction", "group": "held_out", "tutorial": "tutorial_n"}


class Command(LabCommand):
    help = (
        "Train a model on a data set, here with a progress bar, or (--async) on the workers "
        "while this command follows it; both end with the final metrics."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="data set name")
        parser.add_argument("--chars", default="", help="a subset of its characters")
        parser.add_argument("--model", default="mlp", help="mlp, cnn, cnn-large or a layer spec")
        parser.add_argument("--epochs", type=int, default=5)
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--optimizer", default="adam", choices=TrainingJob.Optimizer.values)
        parser.add_argument(
            "--lr",
            type=float,
            default=None,
            help="learning rate (the model's own: 0.001, 0.003 for cnn-large)",
        )
        parser.add_argument(
            "--split",
            default="stratified:0.2",
            help="stratified:FRACTION, group:GROUP,GROUP or tutorial:N",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--user", default="admin", help="who owns the job (admin)")
        parser.add_argument(
            "--async",
            action="store_true",
            dest="run_async",
            help="queue it for the train workers and follow it there (Ctrl-C stops "
            "following, not the job)",
        )
        parser.add_argument("--json", action="store_true", help="end with one JSON line")

    def handle(self, *args, **options):
        from django.contrib.auth.models import User

        try:
            owner = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['user']!r}.") from None
        dataset = Dataset.objects.filter(name=options["dataset"]).first()
        if dataset is None or not dataset.is_ready:
            raise CommandError(f"No finished data set named {options['dataset']!r}.")
        # The training form checks the options, so the command refuses what the page does.
        form = TrainingJobForm(self.form_data(options, dataset), user=owner)
        if not form.is_valid():
            raise CommandError(self.form_errors(form))
        job = services.create_training_job(
            owner=owner, dispatch=options["run_async"], **form.job_fields()
        )
        self.stdout.write(f"Job {job.pk}: {job.model_spec} on {dataset.name}")
        with self.progress_bar(job) as echo:
            if options["run_async"]:
                self.stdout.write("Queued for the training workers; following it there.")
                job = self.follow(job, echo)
            else:
                services.run_training_job(job.pk, echo=echo)
        job.refresh_from_db()
        self.report(job, options["json"])
        if job.status == JobStatus.FAILED:
            raise CommandError(job.error_text)

    @staticmethod
    def form_data(options, dataset) -> dict:
        kind, _, argument = options["split"].partition(":")
        model = options["model"]
        data = {
            "dataset": dataset.pk,
            "chars": options["chars"],
            "model": model if model in PRESETS else "custom",
            "spec": "" if model in PRESETS else model,
            "optimizer": options["optimizer"],
            "learning_rate": "" if options["lr"] is None else options["lr"],
            "epochs": options["epochs"],
            "batch_size": options["batch_size"],
            "seed": options["seed"],
            "split_kind": kind,
        }
        if kind in SPLIT_ARGUMENT:
            data[SPLIT_ARGUMENT[kind]] = argument
        return data

    @staticmethod
    def form_errors(form) -> str:
        lines = []
        for field, messages in form.errors.items():
            option = OPTION_OF_FIELD.get(field)
            lines += [f"{option}: {message}" if option else str(message) for message in messages]
        return "\n".join(lines)

    @contextmanager
    def progress_bar(self, job):
        """Yield ``echo(job)``, which draws the job's progress (epochs, in hundredths)."""
        with fraction_bar(sys.stderr, job.epochs) as show:

            def echo(current):
                accuracy = current.val_accuracy
                shown = f"{accuracy:.2%}" if accuracy is not None else "–"
                show(
                    round(current.epochs_done + current.batch_percent / 100, 2),
                    f"epoch {current.epochs_done}/{job.epochs}, val_acc {shown}",
                )

            yield echo

    @staticmethod
    def follow(job, echo, interval=0.5):
        """Wait for a queued job to end on the workers, drawing its progress."""
        try:
            while True:
                job.refresh_from_db()
                echo(job)
                if job.is_terminal:
                    return job
                time.sleep(interval)
        except KeyboardInterrupt:
            raise CommandError(
                f"Stopped following job {job.pk}; it goes on on the workers: "
                f"{job.get_absolute_url()}"
            ) from None

    def report(self, job, as_json):
        seconds = job.duration.total_seconds() if job.duration else None
        summary = {
            "job": job.pk,
            "status": job.status,
            "train_accuracy": job.train_accuracy,
            "val_accuracy": job.val_accuracy,
            "val_loss": job.val_loss,
            "epochs": job.epochs_done,
            "seconds": seconds,
            "params": job.param_count,
            "split": job.split,
        }
        for name, value in summary.items():
            self.stdout.write(f"{name:>15}: {value}")
        if as_json:
            self.stdout.write(json.dumps(summary))
