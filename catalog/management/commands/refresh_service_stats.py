"""Work out the delivery figures on service pages and cards again now (the
scheduled check does it once a day by itself)."""

from django.core.management.base import BaseCommand

from catalog.services.service_stats import service_stats_refresh


class Command(BaseCommand):
    help = (
        "Refresh every service's delivery figures (typical time to deliver over "
        "the last 90 days, share on time last quarter)."
    )

    def handle(self, *args, **options):
        count = service_stats_refresh()
        self.stdout.write(
            self.style.SUCCESS(f"Refreshed the delivery figures of {count:,} services.")
        )
