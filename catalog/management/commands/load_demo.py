"""Load the demo catalog and demo people (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.demo.content import DEMO_PASSWORD
from catalog.demo.history import history_generate
from catalog.demo.loader import load_demo
from catalog.models import CatalogIndexPage


class Command(BaseCommand):
    help = "Create the demo catalog and demo users. Safe to run more than once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. Demo users have a published password.",
        )
        parser.add_argument(
            "--history",
            type=int,
            default=0,
            metavar="N",
            help="Also generate N requests of history (see generate_history).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the catalog already exists.",
        )

    def handle(self, *args, force=False, if_empty=False, history=0, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: refusing to create demo users with a known password "
                "in what may be a production database. Use --force if you mean it."
            )
        if if_empty and CatalogIndexPage.objects.exists():
            self.stdout.write("The catalog already has content; demo data not loaded.")
            return
        summary = load_demo()
        if history > 0:
            added = history_generate(requests=history, seed=2026)
            self.stdout.write(
                f"Added a history of {added.requests:,} requests "
                f"({added.items:,} items) over the last 13 months."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog ready: {summary['services']} services in "
                f"{summary['categories']} categories."
            )
        )
        self.stdout.write(
            f"Demo users (password '{DEMO_PASSWORD}'): " + ", ".join(summary["users"])
        )
