"""Run the scheduled check: breaches and items at risk, approval reminders and
escalations, closing delivered items after the rating window.

In production run it every few minutes from cron or a systemd timer, either
inline or with --enqueue (the database worker then runs it); locally
`./portal run` runs it in a loop next to the development server.
"""

import time

from django.core.management.base import BaseCommand

from catalog.services.sweep import service_desk_sweep
from catalog.tasks import service_desk_check


class Command(BaseCommand):
    help = "Mark breaches and risks, remind and escalate approvals, auto-close items."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the check for the task worker instead of running it here.",
        )
        parser.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="Keep running, once every SECONDS (for development).",
        )

    def handle(self, *args, enqueue: bool, every: int | None, **options):
        while True:
            if enqueue:
                result = service_desk_check.enqueue()
                self.stdout.write(f"Queued the service desk check ({result.id}).")
            else:
                summary = service_desk_sweep().as_dict()
                if options["verbosity"] > 0:
                    self.stdout.write(
                        "Service desk check: "
                        + ", ".join(f"{k} {v}" for k, v in summary.items())
                    )
            if not every:
                return
            time.sleep(max(every, 1))
