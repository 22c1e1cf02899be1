"""Build the reporting facts and rollups again from the request items."""

from django.core.management.base import BaseCommand

from catalog.services.reporting import reporting_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the executive figures' facts and rollups from the request items "
        "(after restoring data by hand; the services keep them up to date)."
    )

    def handle(self, *args, verbosity: int, **options):
        def progress(done):
            if verbosity > 1:
                self.stdout.write(f"{done:,} items…")

        count = reporting_rebuild(progress=progress)
        self.stdout.write(
            self.style.SUCCESS(f"Rebuilt the figures of {count:,} items.")
        )
