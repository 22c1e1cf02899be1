"""Reading a person's basket: its lines checked against the live catalog."""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.forms import validate_answers
from catalog.models import Basket, BasketLine
from catalog.selectors.entitlements import visible_among


@dataclass
class LineReview:
    line: BasketLine
    one_off_price: Decimal
    monthly_price: Decimal
    blocking: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def one_off_total(self) -> Decimal:
        return self.one_off_price * self.line.quantity

    @property
    def monthly_total(self) -> Decimal:
        return self.monthly_price * self.line.quantity

    @property
    def price_changed(self) -> bool:
        return (self.one_off_price, self.monthly_price) != (
            self.line.one_off_price,
            self.line.monthly_price,
        )


@dataclass
class BasketReview:
    basket: Basket | None
    lines: list[LineReview]

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def one_off_total(self) -> Decimal:
        return sum((r.one_off_total for r in self.lines), Decimal("0"))

    @property
    def monthly_total(self) -> Decimal:
        return sum((r.monthly_total for r in self.lines), Decimal("0"))

    @property
    def can_check_out(self) -> bool:
        return bool(self.lines) and not any(r.blocking for r in self.lines)

    @property
    def has_notices(self) -> bool:
        return any(r.notices for r in self.lines)

    @property
    def fingerprint(self) -> str:
        """What the person was shown; checkout refuses if it no longer holds."""
        parts = [
            f"{r.line.pk}:{r.line.quantity}:{r.one_off_price}:{r.monthly_price}"
            for r in self.lines
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def basket_open_for(*, user) -> Basket | None:
    return Basket.objects.filter(owner=user, status=Basket.Status.OPEN).first()


def own_basket_lines(*, user):
    """Lines of the person's baskets, whatever each basket's status: the one rule
    for "a line of your own". Anyone else's line is not found."""
    return BasketLine.objects.filter(basket__owner=user)


def review_lines(*, user, lines) -> list[LineReview]:
    """Check each line against the live catalog as ``user`` may see it."""
    lines = list(lines)
    visible_ids = visible_among(user=user, services={line.service for line in lines})
    reviews = []
    for line in lines:
        service = line.service
        review = LineReview(line, service.one_off_price, service.monthly_price)
        if not service.live or service.pk not in visible_ids:
            review.blocking.append("This service is no longer available to you.")
        elif not service.orderable:
            review.blocking.append(
                f"This service can't be ordered right now: "
                f"{service.not_orderable_reason}"
            )
        elif line.quantity > service.max_quantity:
            review.blocking.append(
                f"You can order at most {service.max_quantity} of this now."
            )
        if review.price_changed:
            review.notices.append(
                "The price has changed since you added it to your basket."
            )
        if not review.blocking and service.request_questions:
            data = _answers_as_data(line.answers)
            if not validate_answers(questions=service.request_questions, data=data).ok:
                review.blocking.append(
                    "The questions for this service have changed: please check "
                    "your answers."
                )
        reviews.append(review)
    return reviews


def _answers_as_data(answers: list[dict]):
    from django.utils.datastructures import MultiValueDict

    from catalog.forms import initial_from_answers

    data = MultiValueDict()
    for key, value in initial_from_answers(answers).items():
        if isinstance(value, list):
            data.setlist(key, value)
        elif value is not None:
            data[key] = str(value)
    return data


def basket_review(*, user) -> BasketReview:
    basket = basket_open_for(user=user)
    if basket is None:
        return BasketReview(basket=None, lines=[])
    lines = basket.lines.select_related("service").order_by("added_at", "pk")
    return BasketReview(basket=basket, lines=review_lines(user=user, lines=lines))


def basket_line_for(*, user, line_id) -> BasketLine:
    """A line of the person's own open basket, or 404."""
    from catalog.exceptions import NotFoundForUser

    line = (
        own_basket_lines(user=user)
        .select_related("service")
        .filter(pk=line_id, basket__status=Basket.Status.OPEN)
        .first()
    )
    if line is None:
        raise NotFoundForUser("No such line in your basket.")
    return line
