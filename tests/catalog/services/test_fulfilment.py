"""Status changes: every allowed and every forbidden move, who may make it,
comments, cancellation and asking to remove a held service."""

import itertools
from decimal import Decimal

import pytest

from catalog.exceptions import (
    CatalogError,
    NotAllowed,
    NotFoundForUser,
    TransitionNotAllowed,
)
from catalog.models import (
    ALLOWED_TRANSITIONS,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceRequest,
)
from catalog.selectors.requests import held_services
from catalog.services.fulfilment import (
    held_service_removal_request,
    item_cancel,
    item_transition,
    request_comment_add,
)
from catalog.services.request_log import request_log_verify
from tests.conftest import order

pytestmark = pytest.mark.django_db

ALL_MOVES = list(itertools.product(ItemStatus.values, repeat=2))
ALLOWED = [(a, b) for a, b in ALL_MOVES if b in ALLOWED_TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in ALL_MOVES if b not in ALLOWED_TRANSITIONS[a]]


@pytest.fixture
def laptop_item(employee, catalog):
    return order(employee, catalog, "laptop", reason="Old one broke.").items.get()


@pytest.fixture
def bare_item(employee):
    """An item as checkout leaves it, without building a catalog: the table of
    moves is tested 81 times, so each case should be cheap."""
    from django.utils import timezone

    from catalog.services.request_log import event_append

    now = timezone.now()
    request = ServiceRequest.objects.create(
        requested_by=employee,
        requested_for=employee,
        cost_centre=employee.profile.department.cost_centre,
        department=employee.profile.department,
        business_reason="Old one broke.",
        currency="EUR",
        submitted_at=now,
    )
    item = RequestItem.objects.create(
        request=request,
        line_number=1,
        service_name="New laptop",
        one_off_price=Decimal("1200"),
        monthly_price=Decimal("15"),
        currency="EUR",
        created_at=now,
        status_changed_at=now,
    )
    event_append(request=request, name="request.submitted", actor=employee, at=now)
    return item


def put_in_state(item, state):
    RequestItem.objects.filter(pk=item.pk).update(status=state)
    item.refresh_from_db()
    return item


def test_the_table_covers_every_status():
    assert set(ALLOWED_TRANSITIONS) == set(ItemStatus.values)
    assert ALLOWED_TRANSITIONS[ItemStatus.CLOSED] == frozenset()
    assert ALLOWED_TRANSITIONS[ItemStatus.CANCELLED] == frozenset()


@pytest.mark.parametrize(("from_state", "to_state"), ALLOWED)
def test_every_allowed_move(bare_item, fulfiller, from_state, to_state):
    put_in_state(bare_item, from_state)
    item = item_transition(
        item_id=bare_item.pk, to_state=to_state, actor=fulfiller, note="ok"
    )
    assert item.status == to_state
    event = RequestEvent.objects.filter(item=item).latest("sequence")
    assert (event.name, event.from_state, event.to_state, event.actor) == (
        "item.status_changed",
        from_state,
        to_state,
        fulfiller,
    )
    if to_state == ItemStatus.FULFILLED:
        assert item.fulfilled_at is not None
    elif to_state == ItemStatus.IN_PROGRESS:
        assert item.fulfilled_at is None  # a reopened item is not delivered
    assert list(request_log_verify()) == []


@pytest.mark.parametrize(("from_state", "to_state"), FORBIDDEN)
def test_every_forbidden_move(bare_item, fulfiller, from_state, to_state):
    put_in_state(bare_item, from_state)
    events_before = RequestEvent.objects.count()
    with pytest.raises(TransitionNotAllowed):
        item_transition(item_id=bare_item.pk, to_state=to_state, actor=fulfiller)
    bare_item.refresh_from_db()
    assert bare_item.status == from_state
    assert RequestEvent.objects.count() == events_before


def test_closing_keeps_the_delivery_time(bare_item, fulfiller):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    delivered = item_transition(
        item_id=bare_item.pk, to_state=ItemStatus.FULFILLED, actor=fulfiller
    ).fulfilled_at
    closed = item_transition(
        item_id=bare_item.pk, to_state=ItemStatus.CLOSED, actor=fulfiller
    )
    assert closed.fulfilled_at == delivered


def test_unknown_status_is_refused(laptop_item, fulfiller):
    with pytest.raises(TransitionNotAllowed):
        item_transition(item_id=laptop_item.pk, to_state="teleported", actor=fulfiller)


@pytest.mark.parametrize(
    ("who", "to_state", "allowed"),
    [
        ("requester", ItemStatus.CANCELLED, True),
        ("requester", ItemStatus.APPROVED, False),
        ("fulfiller", ItemStatus.APPROVED, True),
        ("stranger", ItemStatus.CANCELLED, None),  # can't even see it
    ],
)
def test_who_may_move_an_item(
    laptop_item, employee, fulfiller, finance_londoner, who, to_state, allowed
):
    actor = {
        "requester": employee,
        "fulfiller": fulfiller,
        "stranger": finance_londoner,
    }[who]
    if allowed:
        assert (
            item_transition(
                item_id=laptop_item.pk, to_state=to_state, actor=actor
            ).status
            == to_state
        )
    elif allowed is False:
        with pytest.raises(NotAllowed):
            item_transition(item_id=laptop_item.pk, to_state=to_state, actor=actor)
    else:
        with pytest.raises(NotFoundForUser):
            item_transition(item_id=laptop_item.pk, to_state=to_state, actor=actor)


def test_requester_cannot_cancel_once_work_started(laptop_item, employee):
    put_in_state(laptop_item, ItemStatus.IN_PROGRESS)
    with pytest.raises(NotAllowed):
        item_cancel(item_id=laptop_item.pk, actor=employee)


def test_status_change_sends_an_email(
    laptop_item, fulfiller, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        item_transition(
            item_id=laptop_item.pk, to_state=ItemStatus.APPROVED, actor=fulfiller
        )
    (mail,) = mailoutbox
    assert laptop_item.number in mail.subject and "Approved" in mail.subject


def test_fulfilment_email_says_it_is_ready(
    laptop_item, fulfiller, mailoutbox, django_capture_on_commit_callbacks
):
    put_in_state(laptop_item, ItemStatus.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        item_transition(
            item_id=laptop_item.pk, to_state=ItemStatus.FULFILLED, actor=fulfiller
        )
    assert "is ready" in mailoutbox[-1].subject


def test_comment_is_logged_and_mailed_to_the_other_side(
    laptop_item, employee, fulfiller, mailoutbox, django_capture_on_commit_callbacks
):
    laptop_item.fulfilment_group = None
    with django_capture_on_commit_callbacks(execute=True):
        request_comment_add(
            request_id=laptop_item.request_id, actor=fulfiller, text="Which colour?"
        )
    event = RequestEvent.objects.get(name="request.commented")
    assert event.note == "Which colour?" and event.actor == fulfiller
    assert mailoutbox[-1].to == [employee.email]


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
def test_bad_comment_changes_nothing(laptop_item, employee, text):
    before = RequestEvent.objects.count()
    with pytest.raises(CatalogError):
        request_comment_add(
            request_id=laptop_item.request_id, actor=employee, text=text
        )
    assert RequestEvent.objects.count() == before


def test_stranger_cannot_comment(laptop_item, finance_londoner):
    with pytest.raises(NotFoundForUser):
        request_comment_add(
            request_id=laptop_item.request_id, actor=finance_londoner, text="hi"
        )


def test_held_service_removal_raises_a_new_request(laptop_item, employee, fulfiller):
    put_in_state(laptop_item, ItemStatus.IN_PROGRESS)
    item_transition(
        item_id=laptop_item.pk, to_state=ItemStatus.FULFILLED, actor=fulfiller
    )
    assert [i.pk for i in held_services(user=employee)] == [laptop_item.pk]
    removal = held_service_removal_request(
        item_id=laptop_item.pk, actor=employee, reason="Leaving the team."
    )
    assert removal.pk != laptop_item.request_id
    new_item = removal.items.get()
    assert new_item.removes_item_id == laptop_item.pk
    assert new_item.service_name == "Remove: New laptop"
    assert new_item.monthly_price == Decimal("0")
    assert held_services(user=employee).get().removal_pending
    with pytest.raises(CatalogError, match="already asked"):
        held_service_removal_request(item_id=laptop_item.pk, actor=employee, reason="")
    new_item.status = ItemStatus.FULFILLED
    new_item.save()
    assert not held_services(user=employee).exists()


def test_cannot_remove_what_you_do_not_hold(laptop_item, employee, finance_londoner):
    with pytest.raises(NotFoundForUser):  # not delivered yet
        held_service_removal_request(item_id=laptop_item.pk, actor=employee, reason="")
    put_in_state(laptop_item, ItemStatus.FULFILLED)
    with pytest.raises(NotFoundForUser):  # someone else's
        held_service_removal_request(
            item_id=laptop_item.pk, actor=finance_londoner, reason=""
        )
