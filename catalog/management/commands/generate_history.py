"""Generate months of demo requests: their items, approvals, work and log, as the
live services would have written them (see catalog.demo.history)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.demo.history import history_generate
from catalog.demo.loader import load_demo
from catalog.models import ServicePage


class Progress:
    """One self-updating line on a terminal; a line per tenth when logged to a file.

    Small enough not to be worth a dependency (tqdm) for one demo command.
    """

    def __init__(self, stream):
        self.stream = stream  # a command's OutputWrapper
        self.live = stream.isatty()
        self.started = time.monotonic()
        self.shown_at = 0.0
        self.shown_tenth = 0

    def __call__(self, done: int, total: int, items: int) -> None:
        now = time.monotonic()
        tenth = done * 10 // total
        if self.live and (now - self.shown_at < 0.5 and done < total):
            return
        if not self.live and tenth == self.shown_tenth and done < total:
            return
        self.shown_at, self.shown_tenth = now, tenth
        elapsed = now - self.started
        rate = done / elapsed if elapsed else 0.0
        left = (total - done) / rate if rate else 0.0
        bar = "#" * (done * 24 // total)
        line = (
            f"[{bar:<24}] {done:,}/{total:,} requests, {items:,} items, "
            f"{rate:,.0f}/s, {_duration(elapsed)} elapsed, {_duration(left)} left"
        )
        if self.live:
            ending = "\n" if done >= total else ""
            self.stream.write("\r" + line + "\033[K", style_func=str, ending=ending)
        else:
            self.stream.write(line, style_func=str)
        self.stream.flush()


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Add months of demo service requests with their approvals, work and log, "
        "in bulk; with 100 requests or more, the named demo users' recent requests "
        "too. Loads the demo catalog first if there are no services."
    )

    def add_arguments(self, parser):
        amount = parser.add_mutually_exclusive_group(required=True)
        amount.add_argument(
            "--requests", type=_positive, help="How many requests to add."
        )
        amount.add_argument(
            "--items",
            type=_positive,
            help="Add requests until exactly this many items were added.",
        )
        parser.add_argument(
            "--months",
            type=_positive,
            default=13,
            help="Spread them over this many months up to now (default 13).",
        )
        parser.add_argument(
            "--seed", type=int, help="Random seed, for a repeatable history."
        )
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=2000,
            help="Requests written per transaction (default 2000).",
        )
        parser.add_argument(
            "--people",
            type=int,
            default=200,
            help="Demo employees to make sure exist (default 200).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. Demo data does not belong in production.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: refusing to add demo people and requests to what may "
                "be a production database. Use --force if you mean it."
            )
        if not ServicePage.objects.exists():
            self.stdout.write("No services yet: loading the demo catalog first.")
            load_demo()
        progress = Progress(self.stderr) if options["verbosity"] > 0 else None
        summary = history_generate(
            requests=options["requests"],
            items=options["items"],
            months=options["months"],
            seed=options["seed"],
            batch_size=options["batch_size"],
            people=options["people"],
            progress=progress,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {summary.requests:,} requests with {summary.items:,} items "
                f"and {summary.events:,} log events in {summary.seconds:,.1f}s "
                f"({summary.people_created} new demo people)."
            )
        )
