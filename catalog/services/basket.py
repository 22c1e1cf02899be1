"""Writes to the basket: add, change and remove lines.

Each line captures the service's name and prices when added; checkout compares
them with the live catalog again (``catalog.selectors.basket``).
"""

from django.db import IntegrityError, transaction

from catalog.exceptions import InvalidAnswers, NotFoundForUser, ServiceNotOrderable
from catalog.forms import RequestForm
from catalog.models import Basket, BasketLine, ServicePage
from catalog.selectors.catalog import visible_services

QUANTITY_FIELD = "quantity"


def basket_get_or_create(*, user) -> Basket:
    """The person's one open basket (a database constraint guarantees one)."""
    basket = Basket.objects.filter(owner=user, status=Basket.Status.OPEN).first()
    if basket is not None:
        return basket
    try:
        with transaction.atomic():
            return Basket.objects.create(owner=user)
    except IntegrityError:
        # Another request of the same person created it a moment ago.
        return Basket.objects.get(owner=user, status=Basket.Status.OPEN)


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
    form = RequestForm(data, questions=service.request_questions)
    errors = {}
    quantity = 1
    try:
        quantity = _parse_quantity(service, data.get(QUANTITY_FIELD))
    except InvalidAnswers as exc:
        errors.update(exc.errors)
    if not form.is_valid():
        errors.update({name: list(msgs) for name, msgs in form.errors.items()})
    if errors:
        raise InvalidAnswers(errors, form=form)
    return quantity, [answer.to_json() for answer in form.answers()]


def basket_line_add(*, user, service_id: int, data) -> BasketLine:
    """Put a service in the person's basket with their answers.

    ``data`` is the submitted form (question fields ``q_<key>`` and ``quantity``).
    Raises ``NotFoundForUser`` for a service they may not see, ``ServiceNotOrderable``
    for a suspended one and ``InvalidAnswers`` with per-field errors.
    """
    service = _orderable_service(user=user, service_id=service_id)
    quantity, answers = _validated(service, data)
    with transaction.atomic():
        basket = basket_get_or_create(user=user)
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


def _own_open_line(*, user, line_id) -> BasketLine:
    line = (
        BasketLine.objects.select_related("service", "basket")
        .filter(pk=line_id, basket__owner=user, basket__status=Basket.Status.OPEN)
        .first()
    )
    if line is None:
        raise NotFoundForUser("No such line in your basket.")
    return line


def basket_line_update(*, user, line_id: int, data) -> BasketLine:
    """Change a line's answers or quantity; the captured price is refreshed too,
    since the person sees the current price on the page they submit from."""
    line = _own_open_line(user=user, line_id=line_id)
    service = _orderable_service(user=user, service_id=line.service_id)
    quantity, answers = _validated(service, data)
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
    line = _own_open_line(user=user, line_id=line_id)
    line.delete()
