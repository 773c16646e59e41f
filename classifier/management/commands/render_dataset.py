from django.core.management.base import CommandError

from classifier import services
from classifier.i18n import describe
from classifier.ml import charsets, fonts
from classifier.ml.messages import Refusal
from classifier.ml.render import STYLES, RenderSettings

from ._dataset_command import DatasetCommand


class Command(DatasetCommand):
    help = "Render characters from the installed Hangul fonts, with augmentation, into a data set."

    def add_arguments(self, parser):
        parser.add_argument(
            "--list-fonts", action="store_true", help="list the installed Hangul fonts and exit"
        )
        self.add_common_arguments(parser, name_required=False)
        chars = parser.add_mutually_exclusive_group()
        chars.add_argument("--chars", help="the characters to render, e.g. 가나다")
        chars.add_argument("--charset", choices=sorted(charsets.CHARSETS), help="a named set")
        parser.add_argument(
            "--fonts", default="", help="comma-separated font names or files (default: all)"
        )
        parser.add_argument("--per-font", type=int, default=40, help="samples per font (40)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--style",
            choices=STYLES,
            default="handwriting",
            help="handwriting (the default: jamo moved, pen strokes, stronger distortion) or "
            "print (the font's own glyphs, lightly distorted)",
        )
        parser.add_argument("--no-augment", action="store_true", help="clean, centred glyphs")

    def handle(self, *args, **options):
        if options["list_fonts"]:
            return self.list_fonts()
        if not options["name"]:
            raise CommandError("--name is required (or use --list-fonts).")
        if options["resume"]:
            return self.resume(options["name"], options["run_async"])
        name = self.checked_name(options["name"])
        height, width = self.checked_size(options["size"])
        try:
            if options["chars"]:
                chars = charsets.parse_chars(options["chars"])
            else:
                chars = charsets.charset(options["charset"] or "tutorial8")
            rendering = RenderSettings(
                height=height,
                width=width,
                per_font=options["per_font"],
                seed=options["seed"],
                augment=not options["no_augment"],
                style=options["style"],
            )
            specs = [spec.strip() for spec in options["fonts"].split(",") if spec.strip()]
            dataset = services.create_font_dataset(
                name=name,
                chars=chars,
                font_specs=specs,
                rendering=rendering,
                dispatch=options["run_async"],
                hidden=options["hidden"],
            )
        except Refusal as exc:
            raise CommandError(describe(exc)) from None
        self.run_build(dataset, options["run_async"])

    def list_fonts(self):
        found = fonts.find_hangul_fonts()
        if not found:
            raise CommandError(f"No Hangul fonts are installed. Install some: {fonts.INSTALL_HINT}")
        width = max(len(font.name) for font in found)
        for font in found:
            self.stdout.write(f"{font.name:<{width}}  {font.path}")
