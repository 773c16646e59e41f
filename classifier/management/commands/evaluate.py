import json
import sys

from django.core.management.base import CommandError

from classifier import services
from classifier.i18n import describe
from classifier.management.base import LabCommand
from classifier.management.progress import count_bar
from classifier.ml.messages import Refusal
from classifier.models import Dataset, JobStatus, TrainingJob


class Command(LabCommand):
    help = "Score a finished job's model on every sample of a data set with its characters."

    def add_arguments(self, parser):
        parser.add_argument("--job", type=int, required=True)
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        try:
            job = TrainingJob.objects.get(pk=options["job"])
            dataset = Dataset.objects.get(name=options["dataset"], status=JobStatus.SUCCEEDED)
        except TrainingJob.DoesNotExist:
            raise CommandError(f"There is no job {options['job']}.") from None
        except Dataset.DoesNotExist:
            raise CommandError(f"No finished data set named {options['dataset']!r}.") from None
        try:
            with count_bar(sys.stderr, "sample", "scored") as bar:
                result = services.evaluate_job_on(job, dataset, on_progress=bar)
        except (Refusal, OSError) as exc:
            raise CommandError(describe(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(f"accuracy {result['accuracy']:.4f} on {result['n']} samples")
        for char, accuracy in result["per_class"].items():
            shown = "–" if accuracy is None else f"{accuracy:.4f}"
            self.stdout.write(f"  {char}  {shown}")
