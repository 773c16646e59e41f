import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from classifier import services
from classifier.i18n import describe
from classifier.ml import networks
from classifier.models import Dataset, JobStatus, TrainingJob


class Command(BaseCommand):
    help = "Train a model on a data set, here with a progress bar or (--async) on the workers."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="data set name")
        parser.add_argument("--chars", default="", help="a subset of its characters")
        parser.add_argument("--model", default="mlp", help="mlp, cnn, cnn-large or a layer spec")
        parser.add_argument("--epochs", type=int, default=5)
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--optimizer", default="adam", choices=TrainingJob.Optimizer.values)
        parser.add_argument("--lr", type=float, default=0.001, help="learning rate")
        parser.add_argument(
            "--split", default="stratified:0.2",
            help="stratified:FRACTION, group:GROUP,GROUP or tutorial:N",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--user", default="admin", help="who owns the job (admin)")
        parser.add_argument("--async", action="store_true", dest="run_async")
        parser.add_argument("--json", action="store_true", help="end with one JSON line")

    def handle(self, *args, **options):
        from django.contrib.auth.models import User

        try:
            dataset = Dataset.objects.get(name=options["dataset"], status=JobStatus.SUCCEEDED)
        except Dataset.DoesNotExist:
            raise CommandError(f"No finished data set named {options['dataset']!r}.") from None
        try:
            owner = User.objects.get(username=options["user"])
            chars = services.chosen_characters(dataset, options["chars"])
            networks.parse_spec(options["model"])
            services.check_split(dataset, options["split"])
            job = services.create_training_job(
                owner=owner, dataset=dataset, chars=chars, model_spec=options["model"],
                optimizer=options["optimizer"], learning_rate=options["lr"],
                epochs=options["epochs"], batch_size=options["batch_size"], seed=options["seed"],
                split=options["split"], dispatch=options["run_async"],
            )  # fmt: skip
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['user']!r}.") from None
        except ValueError as exc:
            raise CommandError(describe(exc)) from None
        self.stdout.write(f"Job {job.pk}: {job.model_spec} on {dataset.name}")
        if options["run_async"]:
            self.stdout.write("Queued for the training worker.")
            return
        # The bar counts epochs, in hundredths, so it moves inside an epoch too.
        bar_format = "{percentage:3.0f}%|{bar}| {desc} [{elapsed}<{remaining}]"
        with tqdm(total=job.epochs, file=sys.stderr, dynamic_ncols=True,
                  bar_format=bar_format) as bar:  # fmt: skip

            def echo(current):
                bar.n = round(current.epochs_done + current.batch_percent / 100, 2)
                accuracy = current.val_accuracy
                shown = f"{accuracy:.2%}" if accuracy is not None else "–"
                bar.set_description_str(
                    f"epoch {current.epochs_done}/{job.epochs}, val_acc {shown}", refresh=False
                )
                bar.refresh()

            services.run_training_job(job.pk, echo=echo)
        job.refresh_from_db()
        self.report(job, options["json"])
        if job.status == JobStatus.FAILED:
            raise CommandError(job.error_text)

    def report(self, job, as_json):
        seconds = job.duration.total_seconds() if job.duration else None
        summary = {
            "job": job.pk, "status": job.status, "train_accuracy": job.train_accuracy,
            "val_accuracy": job.val_accuracy, "val_loss": job.val_loss,
            "epochs": job.epochs_done, "seconds": seconds, "params": job.param_count,
            "split": job.split,
        }  # fmt: skip
        for name, value in summary.items():
            self.stdout.write(f"{name:>15}: {value}")
        if as_json:
            self.stdout.write(json.dumps(summary))
