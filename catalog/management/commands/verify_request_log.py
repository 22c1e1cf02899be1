"""Check the request log's hash chain; exit non-zero if any link is broken."""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import RequestEvent
from catalog.services.request_log import request_log_verify


class Command(BaseCommand):
    help = "Verify that no request log event was changed, removed or inserted."

    def add_arguments(self, parser):
        parser.add_argument(
            "--request",
            type=int,
            action="append",
            dest="requests",
            help="Only check these request ids (repeatable).",
        )

    def handle(self, *args, requests=None, **options):
        total = RequestEvent.objects.count() if requests is None else None
        broken = 0
        for link in request_log_verify(request_ids=requests):
            broken += 1
            self.stdout.write(
                f"REQ-{link.request_id:06d} event #{link.sequence} "
                f"(id {link.event_id}): {link.reason}"
            )
        if broken:
            raise CommandError(f"{broken} broken link(s) in the request log.")
        checked = f"{total} events" if total is not None else "the chosen requests"
        self.stdout.write(self.style.SUCCESS(f"Request log intact: {checked} checked."))
