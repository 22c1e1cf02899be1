"""Closing a month's IT bills, and checking that closed bills were never changed.

Closing freezes a cost centre's bill for a month (lines, adjustments, totals, as
``catalog.selectors.reporting.bill.bill_statement`` works them out) into an
append-only ``BillClosing`` row. Closings form one hash chain across all cost
centres, in ``sequence`` order: each hash covers the closing's content and the
previous closing's hash, so a changed, removed or inserted closing breaks the
chain from there on, which ``bill_closings_verify`` reports. Nothing in the code
updates or deletes a closing; on PostgreSQL a trigger refuses it as well.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import permissions
from catalog.exceptions import InvalidInput
from catalog.models import BillClosing, CostCentre
from catalog.selectors.reporting.bill import bill_statement, cost_centres_with_charges
from catalog.services.reporting import month_of

GENESIS = ""


def closing_hash(closing: BillClosing) -> str:
    """The hash of a closing's content chained to ``closing.previous_hash``."""
    content = {
        "cost_centre": closing.cost_centre_id,
        "month": closing.month.isoformat(),
        "closed_at": closing.closed_at.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        ),
        "closed_by": closing.closed_by_id,
        "statement": closing.statement,
        "total": f"{closing.total:.2f}",
        "sequence": closing.sequence,
        "previous_hash": closing.previous_hash,
    }
    encoded = json.dumps(
        content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return hashlib.sha256(encoded.encode()).hexdigest()


def _already_closed(closing: BillClosing) -> str:
    who = closing.closed_by
    name = (who.get_full_name() or who.get_username()) if who else "the system"
    closed_at = timezone.localtime(closing.closed_at)
    return (
        f"{closing.month:%B %Y} is already closed for {closing.cost_centre.code} "
        f"(closed on {closed_at:%-d %B %Y} by {name}). A closed bill is never "
        "changed: later corrections appear as adjustments on the next bill."
    )


def _require_ended(month: date, now: datetime) -> None:
    current = month_of(timezone.localdate(now))
    if month >= current:
        raise InvalidInput(
            {
                "month": [
                    f"{month:%B %Y} hasn't ended yet: only months before "
                    f"{current:%B %Y} can be closed."
                ]
            }
        )


def bill_close(
    *, cost_centre: CostCentre, month: date, actor=None, now: datetime | None = None
) -> BillClosing:
    """Freeze ``cost_centre``'s bill for ``month`` (a month that has ended).

    ``actor`` None is the system (the ``close_bills`` command); a person needs
    ``catalog.close_bills``. One transaction locks the chain's head, so two
    closings never take the same place in the chain (on SQLite the IMMEDIATE
    transaction mode serialises writers); the unique constraints back this up.
    A month closed already, or not over yet, is refused with a message.
    """
    if actor is not None:
        permissions.require(
            permissions.can_close_bills(actor), "You can't close IT bills."
        )
    month = month_of(month)
    now = now or timezone.now()
    _require_ended(month, now)
    with transaction.atomic():
        head = (
            BillClosing.objects.select_for_update()
            .order_by("-sequence")
            .only("sequence", "hash")
            .first()
        )
        existing = (
            BillClosing.objects.select_related("closed_by", "cost_centre")
            .filter(cost_centre=cost_centre, month=month)
            .first()
        )
        if existing is not None:
            raise InvalidInput({"month": [_already_closed(existing)]})
        statement = _normalised(bill_statement(cost_centre=cost_centre, month=month))
        closing = BillClosing(
            cost_centre=cost_centre,
            month=month,
            closed_at=now,
            closed_by=actor,
            statement=statement,
            total=Decimal(statement["totals"]["total"]),
            sequence=head.sequence + 1 if head else 1,
            previous_hash=head.hash if head else GENESIS,
        )
        closing.hash = closing_hash(closing)
        try:
            with transaction.atomic():
                closing.save(force_insert=True)
        except IntegrityError:
            # Someone closed a bill at the same moment (PostgreSQL with an empty
            # chain, where there is no head row to lock).
            raise InvalidInput(
                {
                    "month": [
                        "Another bill was closed at the same moment. Nothing was "
                        "closed: try again."
                    ]
                }
            ) from None
    return closing


def _normalised(statement: dict) -> dict:
    # Through JSON and back, so the hash covers exactly what the database keeps.
    return json.loads(json.dumps(statement, cls=DjangoJSONEncoder))


@dataclass(frozen=True)
class ClosingResult:
    cost_centre: CostCentre
    closing: BillClosing | None
    message: str = ""  # why it wasn't closed


def bills_close_month(
    *, month: date, actor=None, cost_centres: list[CostCentre] | None = None
) -> list[ClosingResult]:
    """Close ``month`` for ``cost_centres`` (every cost centre with charges
    when None), one closing each; a refusal for one doesn't stop the others."""
    if actor is not None:
        permissions.require(
            permissions.can_close_bills(actor), "You can't close IT bills."
        )
    month = month_of(month)
    _require_ended(month, timezone.now())
    if cost_centres is None:
        cost_centres = cost_centres_with_charges(month=month)
    results = []
    for centre in cost_centres:
        try:
            closing = bill_close(cost_centre=centre, month=month, actor=actor)
        except InvalidInput as exc:
            message = " ".join(m for ms in exc.errors.values() for m in ms)
            results.append(ClosingResult(centre, None, message))
        else:
            results.append(ClosingResult(centre, closing))
    return results


@dataclass(frozen=True)
class BrokenClosing:
    sequence: int
    closing_id: int
    label: str  # cost centre and month, as stored
    reason: str


def bill_closings_verify(*, chunk_size: int = 500):
    """Yield every closing whose link in the chain is broken, in chain order."""
    expected_previous = GENESIS
    expected_sequence = 1
    closings = BillClosing.objects.select_related("cost_centre").order_by("sequence")
    for closing in closings.iterator(chunk_size=chunk_size):
        label = f"{closing.cost_centre.code} {closing.month:%Y-%m}"
        if closing.sequence != expected_sequence:
            yield BrokenClosing(
                closing.sequence,
                closing.pk,
                label,
                f"expected closing number {expected_sequence}: a closing is missing "
                "or was inserted",
            )
        if closing.previous_hash != expected_previous:
            yield BrokenClosing(
                closing.sequence,
                closing.pk,
                label,
                "does not follow the previous closing (a closing was changed, "
                "removed or inserted before it)",
            )
        if closing_hash(closing) != closing.hash:
            yield BrokenClosing(
                closing.sequence, closing.pk, label, "its content was changed"
            )
        expected_previous = closing.hash
        expected_sequence = closing.sequence + 1
