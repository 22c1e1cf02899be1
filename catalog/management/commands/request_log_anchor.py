"""Print an anchor: a digest over every request's chain head as of the newest
event, to keep outside the database (docs/security.md)."""

from django.core.management.base import BaseCommand

from catalog.services.request_log import request_log_anchor


class Command(BaseCommand):
    help = (
        "Print EVENT_ID:DIGEST over every request log's head up to the newest "
        "event; check it later with verify_request_log --anchor."
    )

    def handle(self, *args, **options):
        self.stdout.write(str(request_log_anchor()))
