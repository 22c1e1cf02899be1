"""Close a month's IT bills: freeze each cost centre's bill so later changes
appear as adjustments on the next bill instead."""

from django.core.management.base import BaseCommand, CommandError

from catalog.exceptions import InvalidInput
from catalog.models import CostCentre
from catalog.selectors.reporting.bill import bill_month
from catalog.services.billing import bills_close_month


class Command(BaseCommand):
    help = (
        "Close the IT bills of a month that has ended, for one cost centre or "
        "every cost centre with charges."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--month", required=True, help="The month to close, as YYYY-MM."
        )
        parser.add_argument(
            "--cost-centre",
            dest="cost_centre",
            help="The cost centre's code, e.g. CC-2100. Default: every cost centre "
            "with charges that month (or closed the month before).",
        )

    def handle(self, *args, month, cost_centre=None, **options):
        choice = bill_month(month)
        if choice.error or choice.note:
            raise CommandError(f"--month {month}: {choice.error or choice.note}")
        centres = None
        if cost_centre is not None:
            centre = CostCentre.objects.filter(code=cost_centre.strip()).first()
            if centre is None:
                raise CommandError(f"There is no cost centre {cost_centre}.")
            centres = [centre]
        try:
            results = bills_close_month(month=choice.month, cost_centres=centres)
        except InvalidInput as exc:
            message = " ".join(m for ms in exc.errors.values() for m in ms)
            raise CommandError(message) from None
        closed = [r for r in results if r.closing is not None]
        for result in results:
            if result.closing is not None:
                self.stdout.write(
                    f"{result.cost_centre.code}: closed {choice.month:%B %Y}, total "
                    f"{result.closing.total:,.2f}."
                )
            else:
                self.stdout.write(f"{result.cost_centre.code}: {result.message}")
        if cost_centre is not None and not closed:
            raise CommandError(results[0].message)
        if not results:
            self.stdout.write(f"No cost centre had charges in {choice.month:%B %Y}.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Closed {len(closed)} of {len(results)} bill(s) for "
                f"{choice.month:%B %Y}."
            )
        )
