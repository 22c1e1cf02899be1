"""Writes to the basket: add, change and remove lines.

Each line captures the service's name and prices when added; checkout compares
them with the live catalog again (``catalog.selectors.basket``).

Every write locks the basket row as checkout does (``request_submit``) and looks
at its status again once it holds the lock, so a line is never changed in a
basket that checkout is turning into a request at the same moment: an add goes to
the person's new open basket, an edit or removal is refused with
``BasketSubmitted``.
"""

from django.db import IntegrityError, transaction

from catalog.exceptions import (
    BasketSubmitted,
    InvalidAnswers,
    NotFoundForUser,
    ServiceNotOrderable,
)
from catalog.forms import validate_answers
from catalog.models import Basket, BasketLine, ServicePage, ServiceRequest
from catalog.selectors.basket import basket_open_for, own_basket_lines
from catalog.selectors.entitlements import visible_services

QUANTITY_FIELD = "quantity"


def basket_get_or_create(*, user) -> Basket:
    """The person's one open basket (a database constraint guarantees one)."""
    basket = basket_open_for(user=user)
    if basket is not None:
        return basket
    try:
        with transaction.atomic():
            return Basket.objects.create(owner=user)
    except IntegrityError:
        # Another request of the same person created it a moment ago.
        return Basket.objects.get(owner=user, status=Basket.Status.OPEN)


# Checkout may submit the open basket between our read and our lock, and (rarely)
# another of the person's tabs may submit the new one too; a few rounds suffice.
LOCK_ATTEMPTS = 3


def _locked_open_basket(*, user) -> Basket:
    """The person's open basket, locked until the transaction ends. Call inside
    ``transaction.atomic``."""
    for _ in range(LOCK_ATTEMPTS):
        basket = basket_get_or_create(user=user)
        locked = Basket.objects.select_for_update().get(pk=basket.pk)
        if locked.status == Basket.Status.OPEN:
            return locked
    raise _submitted(locked)


def _submitted(basket: Basket) -> BasketSubmitted:
    service_request = ServiceRequest.objects.filter(basket=basket).first()
    return BasketSubmitted(service_request.number if service_request else "")


def _locked_own_line(*, user, line_id) -> BasketLine:
    """A line of the person's basket with that basket locked and still open.
    Call inside ``transaction.atomic``; the line is read again under the lock, so
    a removal by another tab a moment ago is seen."""
    basket_id = (
        own_basket_lines(user=user)
        .filter(pk=line_id)
        .values_list("basket_id", flat=True)
        .first()
    )
    if basket_id is None:
        raise NotFoundForUser("No such line in your basket.")
    basket = Basket.objects.select_for_update().get(pk=basket_id)
    if basket.status != Basket.Status.OPEN:
        raise _submitted(basket)
    line = BasketLine.objects.filter(pk=line_id, basket=basket).first()
    if line is None:
        raise NotFoundForUser("No such line in your basket.")
    line.basket = basket
    return line


def _orderable_service(*, user, service_id) -> ServicePage:
    service = visible_services(user=user).filter(pk=service_id).first()
    if service is None:
        raise NotFoundForUser("No such service.")
    if not service.orderable:
        raise ServiceNotOrderable(
            f"{service.title} can't be ordered right now: "
            f"{service.not_orderable_reason}"
        )
    return service


def _parse_quantity(service: ServicePage, raw) -> int:
    if service.max_quantity <= 1 and raw in (None, ""):
        return 1
    try:
        quantity = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidAnswers({QUANTITY_FIELD: ["Enter a whole number."]}) from None
    if quantity < 1:
        raise InvalidAnswers({QUANTITY_FIELD: ["Order at least 1."]})
    if quantity > service.max_quantity:
        raise InvalidAnswers(
            {QUANTITY_FIELD: [f"You can order at most {service.max_quantity} at once."]}
        )
    return quantity


def _validated(service: ServicePage, data) -> tuple[int, list[dict]]:
    result = validate_answers(questions=service.request_questions, data=data)
    errors = {}
    quantity = 1
    try:
        quantity = _parse_quantity(service, data.get(QUANTITY_FIELD))
    except InvalidAnswers as exc:
        errors.update(exc.errors)
    # Keyed by form field (``q_<key>``), as the page that shows them names them.
    errors.update({name: list(msgs) for name, msgs in result.form.errors.items()})
    if errors:
        raise InvalidAnswers(errors, form=result.form)
    return quantity, [answer.to_json() for answer in result.answers]


def basket_line_add(*, user, service_id: int, data) -> BasketLine:
    """Put a service in the person's basket with their answers.

    ``data`` is the submitted form (question fields ``q_<key>`` and ``quantity``).
    Raises ``NotFoundForUser`` for a service they may not see, ``ServiceNotOrderable``
    for a suspended one and ``InvalidAnswers`` with per-field errors.
    """
    service = _orderable_service(user=user, service_id=service_id)
    quantity, answers = _validated(service, data)
    with transaction.atomic():
        basket = _locked_open_basket(user=user)
        line = BasketLine.objects.create(
            basket=basket,
            service=service,
            quantity=quantity,
            answers=answers,
            service_name=service.title,
            one_off_price=service.one_off_price,
            monthly_price=service.monthly_price,
        )
        Basket.objects.filter(pk=basket.pk).update(updated_at=line.added_at)
    return line


def _own_line(*, user, line_id) -> BasketLine:
    # Whatever the basket's status: the lock decides, and says if it was sent.
    line = (
        own_basket_lines(user=user).select_related("service").filter(pk=line_id).first()
    )
    if line is None:
        raise NotFoundForUser("No such line in your basket.")
    return line


def basket_line_update(*, user, line_id: int, data) -> BasketLine:
    """Change a line's answers or quantity; the captured price is refreshed too,
    since the person sees the current price on the page they submit from. Raises
    ``BasketSubmitted`` if checkout sent the basket meanwhile."""
    line = _own_line(user=user, line_id=line_id)
    service = _orderable_service(user=user, service_id=line.service_id)
    quantity, answers = _validated(service, data)
    with transaction.atomic():
        line = _locked_own_line(user=user, line_id=line_id)
        line.quantity = quantity
        line.answers = answers
        line.service_name = service.title
        line.one_off_price = service.one_off_price
        line.monthly_price = service.monthly_price
        line.save(
            update_fields=[
                "quantity",
                "answers",
                "service_name",
                "one_off_price",
                "monthly_price",
            ]
        )
    return line


def basket_line_remove(*, user, line_id: int) -> None:
    """Take a line out of the person's open basket. Raises ``BasketSubmitted`` if
    checkout sent the basket meanwhile."""
    with transaction.atomic():
        line = _locked_own_line(user=user, line_id=line_id)
        line.delete()
