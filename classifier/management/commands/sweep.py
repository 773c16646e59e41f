import time

from django.conf import settings
from django.db import DatabaseError

from classifier.management.base import LabCommand
from classifier.services import health
from classifier.services.recovery import dispatch_queued, sweep


class Command(LabCommand):
    help = (
        "Recover jobs from their rows: re-queue (or fail) running jobs whose worker died, "
        "and send again queued jobs whose message never reached a worker. Once, or every "
        "--every seconds (make run and the compose file run it that way)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            nargs="?",
            const=settings.LAB_SWEEP_SECONDS,
            default=None,
            metavar="SECONDS",
            help=f"repeat forever (default period: {settings.LAB_SWEEP_SECONDS} s)",
        )

    def handle(self, *args, **options):
        period = options["every"]
        if period is not None:
            # Starting with the lab: its queued jobs start now, not after the re-send delay.
            try:
                self.stdout.write(f"sent again {dispatch_queued()} queued jobs")
            except DatabaseError as exc:  # the sweeps below send them later
                self.stderr.write(f"could not send the queued jobs again: {exc}")
        while True:
            try:
                report = sweep()
            except DatabaseError as exc:  # the database restarting: try again next round
                self.stderr.write(f"sweep failed: {exc}")
                if period is None:
                    raise
            else:
                if report or period is None:
                    self.stdout.write(
                        f"re-queued {len(report.requeued)}, failed {len(report.failed)}, "
                        f"sent again {len(report.resent)}"
                    )
            if period is None:
                return
            health.sweeper_beat()
            time.sleep(period)
