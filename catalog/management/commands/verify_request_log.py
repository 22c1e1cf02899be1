"""Check the request log: its hash chains, the heads on the request rows, the key,
the request and item rows against the log and, given one, an anchor. Exit
non-zero if anything is off."""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import RequestEvent
from catalog.services.request_log import (
    Anchor,
    request_log_anchor_check,
    request_log_verify,
)


class Command(BaseCommand):
    help = (
        "Verify that no request log event was changed, removed or inserted, and "
        "that requests and their items are what their log says."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--request",
            type=int,
            action="append",
            dest="requests",
            help="Only check these request ids (repeatable).",
        )
        parser.add_argument(
            "--anchor",
            help="An anchor printed by request_log_anchor (EVENT_ID:DIGEST): also "
            "prove that nothing up to that event changed since it was taken.",
        )

    def handle(self, *args, requests=None, anchor=None, **options):
        if anchor is not None:
            try:
                anchor = Anchor.parse(anchor)
            except ValueError as error:
                raise CommandError(str(error)) from error
        total = RequestEvent.objects.count() if requests is None else None
        broken = 0
        for link in request_log_verify(request_ids=requests):
            broken += 1
            where = f"REQ-{link.request_id:06d}"
            if link.sequence is not None:
                where += f" event #{link.sequence} (id {link.event_id})"
            self.stdout.write(f"{where}: {link.reason}")
        anchor_broken = anchor is not None and not request_log_anchor_check(anchor)
        if anchor_broken:
            self.stdout.write(
                f"Anchor {anchor} does not match: the log up to event id "
                f"{anchor.upto_id} is not what it was when the anchor was taken."
            )
        if broken or anchor_broken:
            problems = [f"{broken} broken link(s) in the request log"] if broken else []
            if anchor_broken:
                problems.append("the anchor does not match")
            raise CommandError("; ".join(problems) + ".")
        checked = f"{total} events" if total is not None else "the chosen requests"
        self.stdout.write(self.style.SUCCESS(f"Request log intact: {checked} checked."))
        if anchor is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Anchor matches: nothing up to event id {anchor.upto_id} "
                    "changed since it was taken."
                )
            )
