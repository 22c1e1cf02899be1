"""Check the closed bills' hash chain; exit non-zero if any link is broken."""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import BillClosing
from catalog.services.billing import bill_closings_verify


class Command(BaseCommand):
    help = "Verify that no closed IT bill was changed, removed or inserted."

    def handle(self, *args, **options):
        total = BillClosing.objects.count()
        broken = 0
        for link in bill_closings_verify():
            broken += 1
            self.stdout.write(
                f"Closing #{link.sequence} ({link.label}, id {link.closing_id}): "
                f"{link.reason}"
            )
        if broken:
            raise CommandError(f"{broken} broken link(s) in the closed bills.")
        self.stdout.write(
            self.style.SUCCESS(f"Closed bills intact: {total} closings checked.")
        )
