import json
import sys
from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import CommandError

from classifier import services
from classifier.i18n import describe
from classifier.management.base import LabCommand
from classifier.management.progress import count_bar
from classifier.ml.messages import Refusal
from classifier.models import TrainingJob


class Command(LabCommand):
    help = (
        "Classify images of handwritten characters with a finished job's model, with the "
        "same preprocessing as the predict page: top-1 character, confidence and top 5."
    )

    def add_arguments(self, parser):
        parser.add_argument("images", nargs="+", metavar="IMAGE")
        parser.add_argument("--job", type=int, required=True, help="the training job's id")
        parser.add_argument(
            "--json", action="store_true", help="print one JSON list on the last line"
        )
        parser.add_argument(
            "--steps",
            metavar="DIR",
            help="also save each image's preprocessing steps as PNGs in DIR",
        )

    def handle(self, *args, **options):
        self.as_json = options["json"]
        try:
            job = TrainingJob.objects.get(pk=options["job"])
            services.model_input(job)
        except TrainingJob.DoesNotExist:
            raise CommandError(f"There is no job {options['job']}.") from None
        except Refusal as exc:
            raise CommandError(describe(exc)) from None
        paths = [Path(name) for name in options["images"]]
        # Text output prints a line an image as it goes; JSON comes at the end, so a bar
        # on stderr shows how far it has come.
        results = []
        with count_bar(sys.stderr, "image", "classified") if self.as_json else nullcontext() as bar:
            for path in paths:
                results.append(self.predict_one(job, path, options["steps"]))
                if bar:
                    bar(len(results), len(paths))
        if options["json"]:
            self.stdout.write(json.dumps(results, ensure_ascii=False))
        failed = [r for r in results if "error" in r]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} images could not be classified.")

    def predict_one(self, job, path: Path, steps_dir) -> dict:
        try:
            prepared, result = services.predict_image(job, path.read_bytes())
        except (OSError, Refusal) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else describe(exc)
            self.stderr.write(f"{path}: {reason}")
            return {"file": str(path), "error": reason}
        if steps_dir:
            services.write_steps(prepared.steps, Path(steps_dir) / path.stem)
        ranked = sorted(
            zip(result["classes"], result["probabilities"], strict=True), key=lambda pair: -pair[1]
        )[:5]
        top5 = [[char, round(p, 4)] for char, p in ranked]
        if not self.as_json:
            shown = "  ".join(f"{char} {p:.1%}" for char, p in top5)
            best = f"{result['predicted']} ({result['confidence']:.1%})"
            self.stdout.write(f"{path}: {best}  top 5: {shown}")
        return {
            "file": str(path),
            "char": result["predicted"],
            "confidence": round(result["confidence"], 4),
            "top5": top5,
        }
