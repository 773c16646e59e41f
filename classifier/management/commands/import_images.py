from django.core.management.base import CommandError

from classifier import services
from classifier.i18n import describe
from classifier.ml.messages import Refusal

from ._dataset_command import DatasetCommand


class Command(DatasetCommand):
    help = (
        "Make a data set of labelled images (real handwriting) from a zip archive: a folder "
        "per character (가/1.png or 가/<writer>/1.png), or the images with a labels.csv "
        "(file,char[,writer]) or labels.json manifest. Files left out are listed with why."
    )

    def add_arguments(self, parser):
        self.add_common_arguments(parser)
        parser.add_argument("archive", nargs="?", help="the .zip archive of labelled images")

    def handle(self, *args, **options):
        if options["resume"]:
            if options["archive"]:
                raise CommandError(
                    "--resume reads the archive recorded for the data set; leave it out."
                )
            return self.resume(options["name"], options["run_async"])
        if not options["archive"]:
            raise CommandError("Give the .zip archive of labelled images to import.")
        name = self.checked_name(options["name"])
        size = self.checked_size(options["size"])
        try:
            # No LAB_IMPORT_ROOTS here: whoever runs a command on the server's shell can
            # read the archive anyway. The web form is limited to those folders.
            dataset = services.create_image_dataset(
                name=name,
                path=options["archive"],
                size=size,
                dispatch=options["run_async"],
                hidden=options["hidden"],
            )
        except Refusal as exc:
            raise CommandError(describe(exc)) from None
        self.run_build(dataset, options["run_async"])
