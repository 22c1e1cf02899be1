"""Re-derive every item's service-level figures from the request log and the
calendars, and report (or repair) any stored figure that differs."""

from django.core.management.base import BaseCommand, CommandError

from catalog.services.service_levels import service_levels_rebuild

SHOWN = 50


class Command(BaseCommand):
    help = (
        "Recompute every item's due times, pauses, first response, risk and "
        "breaches from its log; store them, or with --check only report."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit with code 1 if any stored figure differs.",
        )

    def handle(self, *args, check: bool, verbosity: int, **options):
        differences = service_levels_rebuild(fix=not check)
        items = {d.item_id for d in differences}
        for difference in differences[:SHOWN]:
            self.stdout.write(
                f"{difference.number} {difference.field}: stored "
                f"{difference.stored!r}, from the log {difference.rebuilt!r}"
            )
        if len(differences) > SHOWN:
            self.stdout.write(f"… and {len(differences) - SHOWN} more.")
        if not differences:
            self.stdout.write(
                self.style.SUCCESS("Service levels match the request log.")
            )
            return
        if check:
            raise CommandError(
                f"{len(differences)} stored figures on {len(items)} items differ "
                "from the request log. Run without --check to repair them."
            )
        self.stdout.write(
            self.style.WARNING(
                f"Repaired {len(differences)} figures on {len(items)} items."
            )
        )
