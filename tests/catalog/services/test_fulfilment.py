"""Status changes: who may make which move, written out by hand per role; the
named actions of the fulfilment queue; comments, ratings, cancellation, and asking
to remove a held service."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from catalog.exceptions import (
    CatalogError,
    InvalidInput,
    ItemChanged,
    NotAllowed,
    NotFoundForUser,
    TransitionNotAllowed,
)
from catalog.models import (
    ALLOWED_TRANSITIONS,
    ApprovalStep,
    HoldReason,
    ItemStatus,
    RequestEvent,
    RequestItem,
)
from catalog.selectors.requests import held_services
from catalog.services.fulfilment import (
    held_service_removal_request,
    item_auto_close,
    item_cancel,
    item_comment_add,
    item_hold,
    item_rate,
    item_resolve,
    item_resume,
    item_start,
    item_transition,
    item_work_note_add,
    items_assign,
    request_comment_add,
)
from catalog.services.request_log import request_log_verify
from tests.conftest import order
from tests.factories import (
    FulfilmentGroupFactory,
    ServiceRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STATES = [
    ItemStatus.SUBMITTED,
    ItemStatus.AWAITING_APPROVAL,
    ItemStatus.APPROVED,
    ItemStatus.REJECTED,
    ItemStatus.IN_PROGRESS,
    ItemStatus.ON_HOLD,
    ItemStatus.FULFILLED,
    ItemStatus.CLOSED,
    ItemStatus.CANCELLED,
]
# Who may move an item by hand, from each state (rows) to each state (columns).
#   ok  the move happens and is logged
#   no  the move exists but this person may not make it
#   -   no such move (ALLOWED_TRANSITIONS has none)
#   ?   the person can't see the request at all (404)
# Approving and turning down happen only through the approval steps, so nobody
# makes those moves by hand.
COLUMNS = "sub awa app rej inp hol ful clo can"
TABLES = {
    # The person who ordered it (and for whom it is): cancel until work starts.
    "requester": """
        submitted          -   -   -   -   no  -   -   -   ok
        awaiting_approval  -   -   no  no  -   -   -   -   ok
        approved           -   -   -   -   no  -   -   -   ok
        rejected           -   -   -   -   -   -   -   no  -
        in_progress        -   -   -   -   -   no  no  -   no
        on_hold            -   -   -   -   no  -   -   -   no
        fulfilled          -   -   -   -   no  -   -   no  -
        closed             -   -   -   -   -   -   -   -   -
        cancelled          -   -   -   -   -   -   -   -   -
    """,
    # A member of the item's fulfilment group.
    "fulfiller": """
        submitted          -   -   -   -   ok  -   -   -   ok
        awaiting_approval  -   -   no  no  -   -   -   -   ok
        approved           -   -   -   -   ok  -   -   -   ok
        rejected           -   -   -   -   -   -   -   ok  -
        in_progress        -   -   -   -   -   ok  ok  -   ok
        on_hold            -   -   -   -   ok  -   -   -   ok
        fulfilled          -   -   -   -   ok  -   -   ok  -
        closed             -   -   -   -   -   -   -   -   -
        cancelled          -   -   -   -   -   -   -   -   -
    """,
    # A fulfiller of another team: sees requests, works only their own team's.
    "other_team": """
        submitted          -   -   -   -   no  -   -   -   no
        awaiting_approval  -   -   no  no  -   -   -   -   no
        approved           -   -   -   -   no  -   -   -   no
        rejected           -   -   -   -   -   -   -   no  -
        in_progress        -   -   -   -   -   no  no  -   no
        on_hold            -   -   -   -   no  -   -   -   no
        fulfilled          -   -   -   -   no  -   -   no  -
        closed             -   -   -   -   -   -   -   -   -
        cancelled          -   -   -   -   -   -   -   -   -
    """,
    # The manager asked to approve it: decides approvals, moves nothing by hand.
    "approver": """
        submitted          -   -   -   -   no  -   -   -   no
        awaiting_approval  -   -   no  no  -   -   -   -   no
        approved           -   -   -   -   no  -   -   -   no
        rejected           -   -   -   -   -   -   -   no  -
        in_progress        -   -   -   -   -   no  no  -   no
        on_hold            -   -   -   -   no  -   -   -   no
        fulfilled          -   -   -   -   no  -   -   no  -
        closed             -   -   -   -   -   -   -   -   -
        cancelled          -   -   -   -   -   -   -   -   -
    """,
    # A superuser works every team's items.
    "admin": """
        submitted          -   -   -   -   ok  -   -   -   ok
        awaiting_approval  -   -   no  no  -   -   -   -   ok
        approved           -   -   -   -   ok  -   -   -   ok
        rejected           -   -   -   -   -   -   -   ok  -
        in_progress        -   -   -   -   -   ok  ok  -   ok
        on_hold            -   -   -   -   ok  -   -   -   ok
        fulfilled          -   -   -   -   ok  -   -   ok  -
        closed             -   -   -   -   -   -   -   -   -
        cancelled          -   -   -   -   -   -   -   -   -
    """,
    # Anyone else: the request doesn't exist for them.
    "stranger": """
        submitted          ?   ?   ?   ?   ?   ?   ?   ?   ?
        awaiting_approval  ?   ?   ?   ?   ?   ?   ?   ?   ?
        approved           ?   ?   ?   ?   ?   ?   ?   ?   ?
        rejected           ?   ?   ?   ?   ?   ?   ?   ?   ?
        in_progress        ?   ?   ?   ?   ?   ?   ?   ?   ?
        on_hold            ?   ?   ?   ?   ?   ?   ?   ?   ?
        fulfilled          ?   ?   ?   ?   ?   ?   ?   ?   ?
        closed             ?   ?   ?   ?   ?   ?   ?   ?   ?
        cancelled          ?   ?   ?   ?   ?   ?   ?   ?   ?
    """,
}


def table_rows(role):
    """(from, to, expected) for each cell of the role's table."""
    rows = []
    for line in TABLES[role].strip().splitlines():
        from_state, *cells = line.split()
        assert len(cells) == len(STATES), line
        rows += [(from_state, to, cell) for to, cell in zip(STATES, cells, strict=True)]
    return rows


class _Undo(Exception):
    pass


@pytest.fixture
def team(db):
    return FulfilmentGroupFactory(name="Workplace hardware")


@pytest.fixture
def fulfiller(fulfiller, team):
    team.members.add(fulfiller)
    return fulfiller


@pytest.fixture
def bare_item(employee, team):
    """An item as checkout leaves it, without building a catalog: the tables are
    tested cell by cell, so each case should be cheap."""
    from django.utils import timezone

    from catalog.services.request_log import event_append

    now = timezone.now()
    request = ServiceRequestFactory(
        requested_by=employee, business_reason="Old one broke.", submitted_at=now
    )
    item = RequestItem.objects.create(
        request=request,
        line_number=1,
        service_name="New laptop",
        one_off_price=Decimal("1200"),
        monthly_price=Decimal("15"),
        currency="EUR",
        fulfilment_group=team,
        fulfilment_group_name=team.name,
        created_at=now,
        status_changed_at=now,
    )
    event_append(
        service_request=request, name="request.submitted", actor=employee, at=now
    )
    return item


def put_in_state(item, state):
    RequestItem.objects.filter(pk=item.pk).update(status=state)
    item.refresh_from_db()
    return item


@pytest.fixture
def people(employee, fulfiller, bare_item, a_manager, finance_londoner):
    from django.contrib.auth.models import Permission

    other = UserFactory(username="other-team")
    other.user_permissions.add(Permission.objects.get(codename="work_requests"))
    FulfilmentGroupFactory(name="Mobile").members.add(other)
    ApprovalStep.objects.create(
        request=bare_item.request,
        item=bare_item,
        position=1,
        kind=ApprovalStep.Kind.MANAGER,
        reason="The service needs the manager's approval",
        approver=a_manager,
        status=ApprovalStep.Status.APPROVED,
    )
    admin = UserFactory(username="root", is_superuser=True)
    return {
        "requester": employee,
        "fulfiller": fulfiller,
        "other_team": other,
        "approver": a_manager,
        "admin": admin,
        "stranger": finance_londoner,
    }


def outcome(item, actor, to_state) -> str:
    try:
        item_transition(item_id=item.pk, to_state=to_state, actor=actor, note="n")
    except NotFoundForUser:
        return "?"
    except TransitionNotAllowed as exc:
        return "-" if "can't move to" in exc.message else "no"
    return "ok"


@pytest.mark.parametrize("role", list(TABLES))
def test_who_may_make_each_move(people, bare_item, role):
    """Every cell of the role's hand-written table, each in its own savepoint."""
    actor = people[role]
    wrong = []
    for from_state, to_state, expected in table_rows(role):
        try:
            with transaction.atomic():
                put_in_state(bare_item, from_state)
                events_before = RequestEvent.objects.count()
                got = outcome(bare_item, actor, to_state)
                bare_item.refresh_from_db()
                if got == "ok":
                    moved = bare_item.status == to_state
                    logged = RequestEvent.objects.filter(
                        item=bare_item,
                        name="item.status_changed",
                        from_state=from_state,
                        to_state=to_state,
                        actor=actor,
                    ).exists()
                    if not (moved and logged):
                        got = "ok but not moved and logged"
                elif (
                    bare_item.status != from_state
                    or RequestEvent.objects.count() != events_before
                ):
                    got += " but something changed"
                if got != expected:
                    wrong.append((from_state, to_state, expected, got))
                raise _Undo
        except _Undo:
            pass
    assert wrong == []


def test_the_tables_agree_with_the_moves_that_exist():
    """A cell that is not "-" is a move the table of moves has, and the other way
    round: a wrong edit to ALLOWED_TRANSITIONS fails here or above."""
    for from_state, to_state, expected in table_rows("fulfiller"):
        assert (expected != "-") == (to_state in ALLOWED_TRANSITIONS[from_state]), (
            from_state,
            to_state,
        )


def test_unknown_status_is_refused(bare_item, fulfiller):
    with pytest.raises(TransitionNotAllowed):
        item_transition(item_id=bare_item.pk, to_state="teleported", actor=fulfiller)


def test_closing_keeps_the_delivery_time(bare_item, fulfiller):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    delivered = item_resolve(
        item_id=bare_item.pk, actor=fulfiller, note="Done."
    ).fulfilled_at
    closed = item_transition(
        item_id=bare_item.pk, to_state=ItemStatus.CLOSED, actor=fulfiller
    )
    assert closed.fulfilled_at == delivered


def test_reopening_clears_the_delivery_time(bare_item, fulfiller):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    item_resolve(item_id=bare_item.pk, actor=fulfiller, note="Done.")
    reopened = item_transition(
        item_id=bare_item.pk,
        to_state=ItemStatus.IN_PROGRESS,
        actor=fulfiller,
        note="Broken",
    )
    assert reopened.fulfilled_at is None


# --- The named actions ----------------------------------------------------------------


def last_events(item, n):
    return list(
        RequestEvent.objects.filter(item=item)
        .order_by("-sequence")
        .values_list("name", flat=True)[:n]
    )[::-1]


def test_starting_work_assigns_an_unassigned_item_to_whoever_starts(
    bare_item, fulfiller
):
    item = item_start(
        item_id=bare_item.pk, actor=fulfiller, expected_status="submitted"
    )
    assert (item.status, item.assigned_to) == (ItemStatus.IN_PROGRESS, fulfiller)
    assert last_events(item, 2) == ["item.assigned", "item.status_changed"]
    assigned = RequestEvent.objects.get(name="item.assigned")
    assert assigned.data == {
        "assignee": fulfiller.pk,
        "assignee_name": fulfiller.get_full_name(),
        "previous": None,
    }


def test_a_move_from_a_stale_page_changes_nothing(bare_item, fulfiller):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    before = RequestEvent.objects.count()
    with pytest.raises(ItemChanged, match="it is now “Being worked on”"):
        item_start(item_id=bare_item.pk, actor=fulfiller, expected_status="submitted")
    bare_item.refresh_from_db()
    assert (bare_item.status, bare_item.assigned_to) == (ItemStatus.IN_PROGRESS, None)
    assert RequestEvent.objects.count() == before


def test_hold_records_the_reasons_policy_and_resume_clears_it(bare_item, fulfiller):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    supplier = HoldReason.objects.get(name="Waiting for a supplier")
    item = item_hold(
        item_id=bare_item.pk,
        actor=fulfiller,
        reason_id=supplier.pk,
        note="Ordered; due Friday.",
        expected_status="in_progress",
    )
    assert (item.status, item.hold_reason) == (ItemStatus.ON_HOLD, supplier)
    event = RequestEvent.objects.filter(item=item).latest("sequence")
    assert event.data == {
        "hold_reason_id": supplier.pk,
        "hold_reason": "Waiting for a supplier",
        "customer_text": "while we wait for a delivery from our supplier",
        "pauses_customer": True,
        "pauses_internal": False,
        "requester_must_act": False,
    }
    # Editing the reason later doesn't rewrite what the log says of this hold.
    HoldReason.objects.filter(pk=supplier.pk).update(pauses_internal_clock=True)
    event.refresh_from_db()
    assert event.data["pauses_internal"] is False
    item = item_resume(item_id=item.pk, actor=fulfiller, expected_status="on_hold")
    assert (item.status, item.hold_reason) == (ItemStatus.IN_PROGRESS, None)


@pytest.mark.parametrize(
    ("reason_name", "note", "error"),
    [
        ("Waiting for the requester", "", "Tell the requester what you need"),
        ("Waiting for the requester", "a\x00b", "(a null byte)"),
        ("Waiting for a supplier", "x" * 4001, "Keep it under 4,000 characters"),
    ],
)
def test_bad_hold_changes_nothing(bare_item, fulfiller, reason_name, note, error):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    before = RequestEvent.objects.count()
    reason = HoldReason.objects.get(name=reason_name)
    with pytest.raises(InvalidInput) as exc:
        item_hold(item_id=bare_item.pk, actor=fulfiller, reason_id=reason.pk, note=note)
    assert error in exc.value.errors["note"][0]
    bare_item.refresh_from_db()
    assert bare_item.status == ItemStatus.IN_PROGRESS
    assert RequestEvent.objects.count() == before


def test_an_inactive_or_unknown_hold_reason_is_refused(bare_item, fulfiller):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    HoldReason.objects.filter(name="Waiting for a supplier").update(active=False)
    for reason_id in (HoldReason.objects.get(name="Waiting for a supplier").pk, 999999):
        with pytest.raises(InvalidInput):
            item_hold(item_id=bare_item.pk, actor=fulfiller, reason_id=reason_id)
    bare_item.refresh_from_db()
    assert bare_item.status == ItemStatus.IN_PROGRESS


def test_resolving_needs_a_note_and_work_in_progress(bare_item, fulfiller):
    with pytest.raises(TransitionNotAllowed, match="start work on it"):
        item_resolve(item_id=bare_item.pk, actor=fulfiller, note="Done.")
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    with pytest.raises(InvalidInput, match="Check the details"):
        item_resolve(item_id=bare_item.pk, actor=fulfiller, note="  ")
    item = item_resolve(item_id=bare_item.pk, actor=fulfiller, note="At your desk.")
    assert item.status == ItemStatus.FULFILLED
    assert RequestEvent.objects.filter(item=item).latest("sequence").note == (
        "At your desk."
    )


def test_assignment_is_all_or_nothing(bare_item, fulfiller, team, employee):
    from django.contrib.auth.models import Permission

    colleague = UserFactory(username="colleague")
    colleague.user_permissions.add(Permission.objects.get(codename="work_requests"))
    team.members.add(colleague)
    second = RequestItem.objects.create(
        request=bare_item.request,
        line_number=2,
        service_name="Mouse",
        one_off_price=Decimal("20"),
        monthly_price=Decimal("0"),
        currency="EUR",
        fulfilment_group=FulfilmentGroupFactory(name="Mobile"),
        fulfilment_group_name="Mobile",
        created_at=bare_item.created_at,
        status_changed_at=bare_item.created_at,
    )
    before = RequestEvent.objects.count()
    with pytest.raises(CatalogError) as exc:
        items_assign(
            item_ids=[bare_item.pk, second.pk],
            assignee_id=colleague.pk,
            actor=fulfiller,
        )
    assert exc.value.message == (
        f"Nothing was assigned: {second.number} is for Mobile, which "
        f"{colleague.get_full_name()} is not in."
    )
    assert RequestEvent.objects.count() == before
    assert not RequestItem.objects.filter(assigned_to__isnull=False).exists()
    assert (
        items_assign(item_ids=[bare_item.pk], assignee_id=colleague.pk, actor=fulfiller)
        == 1
    )
    bare_item.refresh_from_db()
    assert bare_item.assigned_to == colleague
    # Assigning to the same person again changes (and logs) nothing.
    assert (
        items_assign(item_ids=[bare_item.pk], assignee_id=colleague.pk, actor=fulfiller)
        == 0
    )
    assert RequestEvent.objects.filter(name="item.assigned").count() == 1


def test_only_the_team_adds_work_notes_and_item_comments(bare_item, fulfiller, people):
    item_work_note_add(item_id=bare_item.pk, actor=fulfiller, text="Check stock.")
    with pytest.raises(NotAllowed):
        item_work_note_add(
            item_id=bare_item.pk, actor=people["other_team"], text="Mine"
        )
    with pytest.raises(NotAllowed):
        item_comment_add(item_id=bare_item.pk, actor=people["requester"], text="Hi")
    with pytest.raises(NotFoundForUser):
        item_work_note_add(item_id=bare_item.pk, actor=people["stranger"], text="x")
    assert list(
        RequestEvent.objects.filter(item=bare_item).values_list("name", "note")
    ) == [("item.work_note", "Check stock.")]


def test_requester_cannot_cancel_once_work_started(bare_item, employee):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    with pytest.raises(TransitionNotAllowed, match="work on it has started"):
        item_cancel(item_id=bare_item.pk, actor=employee)


def test_cancelling_withdraws_open_approvals(people, bare_item, employee):
    put_in_state(bare_item, ItemStatus.AWAITING_APPROVAL)
    ApprovalStep.objects.filter(item=bare_item).update(
        status=ApprovalStep.Status.PENDING
    )
    item_cancel(item_id=bare_item.pk, actor=employee, note="Found a spare one.")
    assert ApprovalStep.objects.get(item=bare_item).status == "withdrawn"
    assert last_events(bare_item, 2) == ["item.status_changed", "approval.withdrawn"]


# --- Ratings and closing --------------------------------------------------------------


def delivered(item, fulfiller):
    put_in_state(item, ItemStatus.IN_PROGRESS)
    return item_resolve(item_id=item.pk, actor=fulfiller, note="Delivered.")


def test_rating_closes_the_delivered_item(bare_item, fulfiller, employee):
    delivered(bare_item, fulfiller)
    item = item_rate(item_id=bare_item.pk, actor=employee, rating="4", comment="Quick")
    assert (item.status, item.rating, item.rating_comment) == (
        ItemStatus.CLOSED,
        4,
        "Quick",
    )
    assert last_events(item, 2) == ["item.rated", "item.status_changed"]
    rated = RequestEvent.objects.get(name="item.rated")
    assert (rated.data, rated.note, rated.actor) == ({"rating": 4}, "Quick", employee)


@pytest.mark.parametrize("rating", ["0", "6", "-1", "five", "", None, "4.5"])
def test_a_rating_out_of_range_changes_nothing(bare_item, fulfiller, employee, rating):
    delivered(bare_item, fulfiller)
    with pytest.raises(InvalidInput) as exc:
        item_rate(item_id=bare_item.pk, actor=employee, rating=rating)
    assert exc.value.errors == {"rating": ["Choose from 1 (poor) to 5 (excellent)."]}
    bare_item.refresh_from_db()
    assert (bare_item.status, bare_item.rating) == (ItemStatus.FULFILLED, None)


def test_a_replayed_rating_is_refused(bare_item, fulfiller, employee):
    delivered(bare_item, fulfiller)
    item_rate(item_id=bare_item.pk, actor=employee, rating=5)
    with pytest.raises(CatalogError, match="already rated"):
        item_rate(item_id=bare_item.pk, actor=employee, rating=1)
    bare_item.refresh_from_db()
    assert bare_item.rating == 5
    assert RequestEvent.objects.filter(name="item.rated").count() == 1


def test_only_the_people_on_the_request_rate_it(bare_item, fulfiller, people):
    delivered(bare_item, fulfiller)
    with pytest.raises(NotFoundForUser):
        item_rate(item_id=bare_item.pk, actor=people["stranger"], rating=5)
    with pytest.raises(NotFoundForUser):  # fulfillers see it but don't rate it
        item_rate(item_id=bare_item.pk, actor=fulfiller, rating=5)


def test_an_undelivered_item_cannot_be_rated(bare_item, employee):
    with pytest.raises(CatalogError, match="isn't delivered yet"):
        item_rate(item_id=bare_item.pk, actor=employee, rating=5)


def test_auto_close_waits_for_the_rating_window(bare_item, fulfiller):
    from datetime import timedelta

    item = delivered(bare_item, fulfiller)
    assert not item_auto_close(
        item_id=item.pk, now=item.fulfilled_at + timedelta(days=4, hours=23)
    )
    assert item_auto_close(item_id=item.pk, now=item.fulfilled_at + timedelta(days=5))
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED
    closing = RequestEvent.objects.filter(item=item).latest("sequence")
    assert (closing.actor, closing.note) == (
        None,
        "Closed automatically 5 days after delivery.",
    )


# --- Comments and e-mail --------------------------------------------------------------


@pytest.fixture
def laptop_item(employee, catalog):
    return order(employee, catalog, "laptop", reason="Old one broke.").items.get()


def test_status_change_sends_an_email(
    bare_item, fulfiller, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        item_start(item_id=bare_item.pk, actor=fulfiller)
    (mail,) = mailoutbox
    assert mail.subject == f"{bare_item.number}: New laptop is now “Being worked on”"


def test_fulfilment_email_says_it_is_ready_and_asks_for_a_rating(
    bare_item, fulfiller, mailoutbox, django_capture_on_commit_callbacks
):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        item_resolve(item_id=bare_item.pk, actor=fulfiller, note="At reception.")
    mail = mailoutbox[-1]
    assert mail.subject == f"{bare_item.number}: your New laptop is ready"
    assert "What we did: At reception." in mail.body
    assert f"/requests/items/{bare_item.pk}/rate/" in mail.body


def test_a_hold_that_needs_the_requester_emails_them(
    bare_item, fulfiller, employee, mailoutbox, django_capture_on_commit_callbacks
):
    put_in_state(bare_item, ItemStatus.IN_PROGRESS)
    waiting = HoldReason.objects.get(name="Waiting for the requester")
    supplier = HoldReason.objects.get(name="Waiting for a supplier")
    with django_capture_on_commit_callbacks(execute=True):
        item_hold(
            item_id=bare_item.pk,
            actor=fulfiller,
            reason_id=supplier.pk,
            note="Ordered.",
        )
    assert mailoutbox == []  # nothing for them to do
    item_resume(item_id=bare_item.pk, actor=fulfiller)
    with django_capture_on_commit_callbacks(execute=True):
        item_hold(
            item_id=bare_item.pk,
            actor=fulfiller,
            reason_id=waiting.pk,
            note="Which desk should we deliver to?",
        )
    (mail,) = mailoutbox
    assert mail.to == [employee.email]
    assert mail.subject == f"{bare_item.number}: we need something from you"
    assert "What we need from you: Which desk should we deliver to?" in mail.body


def test_comment_is_logged_and_mailed_to_the_other_side(
    laptop_item, employee, fulfiller, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request_comment_add(
            request_id=laptop_item.request_id, actor=fulfiller, text="Which colour?"
        )
    event = RequestEvent.objects.get(name="request.commented")
    assert event.note == "Which colour?" and event.actor == fulfiller
    assert mailoutbox[-1].to == [employee.email]


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001, "nul\x00byte"])
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


def test_the_log_verifies_after_a_full_life(bare_item, fulfiller, employee):
    item_start(item_id=bare_item.pk, actor=fulfiller)
    reason = HoldReason.objects.get(name="Waiting for the requester")
    item_hold(item_id=bare_item.pk, actor=fulfiller, reason_id=reason.pk, note="Desk?")
    request_comment_add(request_id=bare_item.request_id, actor=employee, text="3.12")
    item_resume(item_id=bare_item.pk, actor=fulfiller)
    item_resolve(item_id=bare_item.pk, actor=fulfiller, note="Delivered.")
    item_rate(item_id=bare_item.pk, actor=employee, rating=5)
    assert list(request_log_verify()) == []


# --- Held services --------------------------------------------------------------------


def test_held_service_removal_raises_a_new_request(laptop_item, employee, fulfiller):
    put_in_state(laptop_item, ItemStatus.IN_PROGRESS)
    item_resolve(item_id=laptop_item.pk, actor=fulfiller, note="Delivered.")
    assert [i.pk for i in held_services(user=employee)] == [laptop_item.pk]
    removal = held_service_removal_request(
        item_id=laptop_item.pk, actor=employee, reason="Leaving the team."
    )
    assert removal.pk != laptop_item.request_id
    new_item = removal.items.get()
    assert new_item.removes_item_id == laptop_item.pk
    assert new_item.service_name == "Remove: New laptop"
    assert new_item.monthly_price == Decimal("0")
    assert (
        new_item.status == ItemStatus.SUBMITTED
    )  # free, and removals need no approval
    assert held_services(user=employee).get().removal_pending
    with pytest.raises(CatalogError, match="already asked"):
        held_service_removal_request(item_id=laptop_item.pk, actor=employee, reason="")
    new_item.status = ItemStatus.FULFILLED
    new_item.save()
    assert not held_services(user=employee).exists()
    with pytest.raises(NotFoundForUser):  # removed: no longer held
        held_service_removal_request(item_id=laptop_item.pk, actor=employee, reason="")


def test_cannot_remove_what_you_do_not_hold(laptop_item, employee, finance_londoner):
    with pytest.raises(NotFoundForUser):  # not delivered yet
        held_service_removal_request(item_id=laptop_item.pk, actor=employee, reason="")
    put_in_state(laptop_item, ItemStatus.FULFILLED)
    with pytest.raises(NotFoundForUser):  # someone else's
        held_service_removal_request(
            item_id=laptop_item.pk, actor=finance_londoner, reason=""
        )


# --- Two fulfillers at once -----------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    "sqlite" in connection.settings_dict["ENGINE"],
    reason="row locks across threads need PostgreSQL",
)
def test_two_concurrent_moves_on_one_item_never_both_succeed(bare_item, team):
    from django.contrib.auth.models import Permission

    workers = []
    for n in range(4):
        person = UserFactory(username=f"worker{n}")
        person.user_permissions.add(Permission.objects.get(codename="work_requests"))
        team.members.add(person)
        workers.append(person)
    results, errors = [], []
    barrier = threading.Barrier(len(workers))

    def work(person):
        try:
            barrier.wait()
            item_start(item_id=bare_item.pk, actor=person, expected_status="submitted")
            results.append(person)
        except ItemChanged as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(p,)) for p in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(results), len(errors)) == (1, 3)
    bare_item.refresh_from_db()
    assert (bare_item.status, bare_item.assigned_to) == (
        ItemStatus.IN_PROGRESS,
        results[0],
    )
    assert RequestEvent.objects.filter(name="item.status_changed").count() == 1
    assert RequestEvent.objects.filter(name="item.assigned").count() == 1
