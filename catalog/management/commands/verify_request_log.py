"""Check the request log: its hash chains, the heads on the request rows, the key,
the request and item rows against the log and, given one, an anchor; or, with
``--since``, only what changed after an anchor. Exit non-zero if anything is off."""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import RequestEvent
from catalog.services.request_log import (
    Anchor,
    request_log_anchor_check,
    request_log_verify,
    request_log_verify_since,
)


class Command(BaseCommand):
    help = (
        "Verify that no request log event was changed, removed or inserted, and "
        "that requests and their items are what their log says. With --since, "
        "check only the requests changed after an anchor (for a nightly run) and "
        "rely on the anchor and the last full check for the rest."
    )

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument(
            "--request",
            type=int,
            action="append",
            dest="requests",
            help="Only check these request ids (repeatable).",
        )
        scope.add_argument(
            "--since",
            metavar="ANCHOR",
            help="An anchor kept from request_log_anchor or from the last --since "
            "run (EVENT_ID:DIGEST). Proves that (a) every log's head as of that "
            "event is unchanged and no event of a log untouched since is missing, "
            "and (b) every log that received events after it is intact end to "
            "end, rows included; then prints a new anchor to keep for the next "
            "run. It does NOT re-check the older events or the rows of untouched "
            "requests: an event edited in place in the middle of such a log is "
            "found only by the full check (without --since), so run that "
            "periodically, e.g. weekly.",
        )
        parser.add_argument(
            "--anchor",
            help="An anchor printed by request_log_anchor (EVENT_ID:DIGEST): also "
            "prove that nothing up to that event changed since it was taken.",
        )

    def handle(self, *args, requests=None, anchor=None, since=None, **options):
        if since is not None:
            if anchor is not None:
                raise CommandError(
                    "--since checks its anchor itself: give --since or --anchor."
                )
            return self.check_since(_parse(since))
        if anchor is not None:
            anchor = _parse(anchor)
        total = RequestEvent.objects.count() if requests is None else None
        broken = self.report(request_log_verify(request_ids=requests))
        anchor_broken = anchor is not None and not request_log_anchor_check(anchor)
        if anchor_broken:
            self.report_anchor(anchor)
        self.fail_if(broken, anchor_broken)
        checked = f"{total} events" if total is not None else "the chosen requests"
        self.stdout.write(self.style.SUCCESS(f"Request log intact: {checked} checked."))
        if anchor is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Anchor matches: nothing up to event id {anchor.upto_id} "
                    "changed since it was taken."
                )
            )

    def check_since(self, anchor: Anchor):
        result = request_log_verify_since(anchor=anchor)
        broken = self.report(result.broken)
        if not result.anchor_matches:
            self.report_anchor(anchor)
        self.fail_if(broken, not result.anchor_matches)
        self.stdout.write(
            self.style.SUCCESS(
                f"Anchor matches: the head of every log up to event id "
                f"{anchor.upto_id} is as it was."
            )
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Request log intact: checked {result.changed} requests changed "
                f"since anchor {anchor.upto_id}; {result.untouched} untouched "
                "requests rely on the anchor and the last full check."
            )
        )
        self.stdout.write("New anchor, to keep outside the database for --since:")
        self.stdout.write(str(result.anchor))

    def report(self, links) -> int:
        broken = 0
        for link in links:
            broken += 1
            where = f"REQ-{link.request_id:06d}"
            if link.sequence is not None:
                where += f" event #{link.sequence} (id {link.event_id})"
            self.stdout.write(f"{where}: {link.reason}")
        return broken

    def report_anchor(self, anchor: Anchor):
        self.stdout.write(
            f"Anchor {anchor} does not match: the log up to event id "
            f"{anchor.upto_id} is not what it was when the anchor was taken."
        )

    def fail_if(self, broken: int, anchor_broken: bool):
        if broken or anchor_broken:
            problems = [f"{broken} broken link(s) in the request log"] if broken else []
            if anchor_broken:
                problems.append("the anchor does not match")
            raise CommandError("; ".join(problems) + ".")


def _parse(text: str) -> Anchor:
    try:
        return Anchor.parse(text)
    except ValueError as error:
        raise CommandError(str(error)) from error
