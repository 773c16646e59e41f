from django.core.management.base import CommandError

from classifier import services
from classifier.i18n import describe
from classifier.ml.convert import ConversionSettings
from classifier.ml.messages import Refusal

from ._dataset_command import DatasetCommand


class Command(DatasetCommand):
    help = "Convert PHD08 character files (files, folders or zips) into a data set."

    def add_arguments(self, parser):
        self.add_common_arguments(parser)
        parser.add_argument("--sigma", type=float, default=0.3, help="gaussian blur (0.3)")
        parser.add_argument(
            "--reference",
            action="store_true",
            help="reproduce the tutorial converter's arithmetic (min-max scaling, no padding)",
        )
        parser.add_argument("paths", nargs="*", help="PHD08 .txt files, folders or .zip files")

    def handle(self, *args, **options):
        if options["resume"]:
            if options["paths"]:
                raise CommandError(
                    "--resume reads the files recorded for the data set; leave the paths out."
                )
            return self.resume(options["name"], options["run_async"])
        if not options["paths"]:
            raise CommandError("Give the PHD08 files, folders or .zip files to import.")
        name = self.checked_name(options["name"])
        height, width = self.checked_size(options["size"])
        try:
            conversion = ConversionSettings(
                height=height, width=width, sigma=options["sigma"], reference=options["reference"]
            )
            # No LAB_IMPORT_ROOTS here: whoever runs a command on the server's shell can
            # read these files anyway. The web form is limited to those folders.
            dataset = services.create_phd08_dataset(
                name=name,
                paths=options["paths"],
                conversion=conversion,
                dispatch=options["run_async"],
                hidden=options["hidden"],
            )
        except Refusal as exc:
            raise CommandError(describe(exc)) from None
        self.run_build(dataset, options["run_async"])
