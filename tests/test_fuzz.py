"""Hostile input on every form and list a person reaches: no answer is a 5xx, a
refusal has words on it, and a refused change leaves the data exactly as it was.

Each form is sent its good values with one field swapped for a hostile one
(empty, a 30-digit number, a negative or junk page, a NUL byte, 100 KB of text,
markup, a date that doesn't exist, a choice that isn't offered); hypothesis then
mixes several at once. Run it on SQLite and on PostgreSQL (``DATABASE_URL``):
they fail differently (SQLite on big integers, PostgreSQL on NUL bytes).
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import (
    ApprovalDelegation,
    ApprovalStep,
    Basket,
    FulfilmentGroup,
    HoldReason,
    RequestEvent,
    RequestItem,
    ServicePage,
    ServiceRequest,
)
from catalog.selectors.basket import basket_review
from catalog.services import fulfilment
from catalog.services.basket import basket_line_add
from tests.conftest import order
from tests.factories import UserFactory, service_page

pytestmark = pytest.mark.django_db

HOSTILE = {
    "empty": "",
    "huge": "9" * 30,
    "negative": "-1",
    "zero": "0",
    "junk": "junk",
    "nul": "a\x00b",
    "long": "x" * 100_000,
    "markup": "<script>alert(1)</script>",
    "bad_date": "2025-02-30",
    "unknown": "zz-not-offered",
}
# Which hostile values a field of each kind must refuse (the others may be
# fine: markup is a valid comment, an empty note is optional).
MUST_REFUSE = {
    "text": {"nul", "long"},
    "value": {"nul", "long", "huge", "junk", "markup", "bad_date", "unknown"},
    # Read but never stored, nor a condition of the change (assignment doesn't
    # depend on the status the page showed).
    "free": set(),
}
BIG_ID = "9" * 30

FUZZ_QUESTIONS = [
    {
        "type": "short_text",
        "id": "room",
        "value": {"label": "Which room?", "help_text": "", "required": True},
    },
    {
        "type": "long_text",
        "id": "notes",
        "value": {"label": "Anything else?", "help_text": "", "required": False},
    },
    {
        "type": "number",
        "id": "seats",
        "value": {
            "label": "How many seats?",
            "help_text": "",
            "required": True,
            "min_value": 1,
            "max_value": 50,
        },
    },
    {
        "type": "date",
        "id": "when",
        "value": {
            "label": "From when?",
            "help_text": "",
            "required": True,
            "not_in_past": True,
        },
    },
    {
        "type": "single_choice",
        "id": "size",
        "value": {
            "label": "Size",
            "help_text": "",
            "required": True,
            "choices": ["Small", "Large"],
        },
    },
    {
        "type": "multiple_choice",
        "id": "extras",
        "value": {
            "label": "Extras",
            "help_text": "",
            "required": False,
            "choices": ["Mouse", "Bag"],
        },
    },
]


def good_answers() -> dict:
    tomorrow = timezone.localdate() + timedelta(days=1)
    return {
        "quantity": "2",
        "q_room": "Room 4",
        "q_notes": "By the window.",
        "q_seats": "3",
        "q_when": tomorrow.isoformat(),
        "q_size": "Large",
        "q_extras": ["Mouse"],
    }


ANSWER_KINDS = {
    "quantity": "value",
    "q_room": "text",
    "q_notes": "text",
    "q_seats": "value",
    "q_when": "value",
    "q_size": "value",
    "q_extras": "value",
}


# --- The world ------------------------------------------------------------------------


@pytest.fixture
def world(catalog, employee, a_manager, reports_to_manager, order_on_behalf):
    """A requester, their approving manager, a fulfiller and an administrator;
    an approval waiting, an open item in the queue, a delivered item held every
    month, an item not started yet, and an open basket."""
    team = FulfilmentGroup.objects.create(name="Hardware")
    fuzz = service_page(
        catalog["computers"],
        "Docking station",
        one_off_price=Decimal("90"),
        monthly_price=Decimal("10"),
        max_quantity=5,
        request_form=FUZZ_QUESTIONS,
    )
    ServicePage.objects.filter(
        pk__in=[fuzz.pk, catalog["laptop"].pk, catalog["password"].pk]
    ).update(fulfilment_group=team)
    fixer = UserFactory(username="fixer", groups=[Group.objects.get(name="Fulfiller")])
    team.members.add(fixer)
    admin = UserFactory(
        username="chief", groups=[Group.objects.get(name="Administrator")]
    )
    reason = HoldReason.objects.create(name="Waiting for parts")

    for_approval = order(employee, catalog, "laptop")
    step = ApprovalStep.objects.get(item__request=order(employee, catalog, "laptop"))
    not_started = order(employee, catalog, "password").items.get()
    held = _order_fuzz(employee, fuzz).items.get()
    fulfilment.item_start(item_id=held.pk, actor=fixer)
    fulfilment.item_resolve(item_id=held.pk, actor=fixer, note="Done.")
    in_queue = _order_fuzz(employee, fuzz).items.get()
    fulfilment.item_start(item_id=in_queue.pk, actor=fixer)
    basket_line_add(user=employee, service_id=fuzz.pk, data=good_answers())
    basket_line_add(user=a_manager, service_id=catalog["password"].pk, data={})
    return {
        **catalog,
        "fuzz": fuzz,
        "team": team,
        "employee": employee,
        "manager": a_manager,
        "fixer": fixer,
        "admin": admin,
        "hold_reason": reason,
        "for_approval": for_approval,
        "step": step,
        "not_started": not_started,
        "held": held,
        "in_queue": in_queue,
        "line": basket_review(user=employee).lines[0].line,
    }


def _order_fuzz(user, service):
    basket_line_add(user=user, service_id=service.pk, data=good_answers())
    review = basket_review(user=user)
    from catalog.services.checkout import request_submit

    return request_submit(
        user=user,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        business_reason="Needed for work.",
    ).service_request


def snapshot() -> dict:
    """Everything a form on these pages could change."""
    return {
        "requests": list(
            ServiceRequest.objects.order_by("pk").values_list(
                "pk", "business_reason", "cost_centre_id", "requested_for_id"
            )
        ),
        "items": list(
            RequestItem.objects.order_by("pk").values_list(
                "pk",
                "status",
                "assigned_to_id",
                "hold_reason_id",
                "rating",
                "rating_comment",
                "answers",
            )
        ),
        "events": RequestEvent.objects.count(),
        "steps": list(
            ApprovalStep.objects.order_by("pk").values_list("pk", "status", "note")
        ),
        "baskets": list(
            Basket.objects.order_by("pk").values_list("pk", "status", "owner_id")
        ),
        "lines": list(
            Basket.objects.filter(status=Basket.Status.OPEN)
            .order_by("lines__pk")
            .values_list("lines__pk", "lines__quantity", "lines__answers")
        ),
        "delegations": list(
            ApprovalDelegation.objects.order_by("pk").values_list(
                "pk", "substitute_id", "starts_on", "ends_on"
            )
        ),
        "service_revisions": list(
            ServicePage.objects.order_by("pk").values_list(
                "pk", "latest_revision_id", "live"
            )
        ),
    }


def visible_text(response) -> str:
    body = response.content.decode(errors="replace")
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def check(response, label: str) -> None:
    """No server error; a refusal says something a person can read."""
    assert response.status_code < 500, f"{label}: {response.status_code}"
    if 400 <= response.status_code < 500:
        assert len(visible_text(response)) > 20, f"{label}: a refusal with no words"


# --- Lists and filters ------------------------------------------------------------


def lists(w) -> list[tuple[str, str, list[str]]]:
    """(who, address, query parameters) for every list with filters."""
    return [
        (
            "employee",
            "/services/",
            ["q", "category", "price", "delivery", "no_approval", "sort", "page"],
        ),
        ("employee", w["computers"].url, ["q", "price", "sort", "page"]),
        ("employee", w["fuzz"].url, ["quantity"]),
        (
            "employee",
            "/requests/",
            ["status", "submitted_from", "submitted_to", "page"],
        ),
        ("employee", f"/requests/items/{w['held'].pk}/rate/", ["rating"]),
        ("employee", "/basket/", ["page"]),
        ("employee", "/my-services/", ["page"]),
        ("manager", "/checkout/", ["for_q", "requested_for"]),
        ("manager", "/approvals/", ["page"]),
        ("manager", "/approvals/substitutes/", ["q", "substitute"]),
        (
            "fixer",
            "/queue/",
            ["status", "group", "service", "assignee", "due", "sort", "page"],
        ),
        (
            "admin",
            "/executive/",
            [
                "period",
                "year",
                "month",
                "date_from",
                "department",
                "cost_centre",
                "category",
                "service",
            ],
        ),
        ("admin", "/executive/items/", ["metric", "age", "service", "page"]),
        ("admin", "/executive/export.csv", ["year", "cost_centre", "service"]),
        ("admin", "/executive/bill/", ["cost_centre", "month", "page"]),
        ("admin", "/executive/bill/export.csv", ["cost_centre", "month"]),
        ("admin", "/executive/review/", ["page"]),
        ("admin", "/admin/bills/close/", ["cost_centre", "month"]),
    ]


# Parameters left to the mixtures only, to keep the sweep short: they are read
# the same way as ones the sweep covers (checkboxes, choices, a second date).
MORE_PARAMS = {
    "/queue/": ["at_risk", "breached", "age"],
    "/executive/": ["quarter", "date_to"],
}

# For the sweep of every parameter: "junk" and "zero" behave as "unknown" and
# "negative" do, and "empty" is a list's first page; the mixtures use them all.
SWEEP = ["huge", "negative", "nul", "long", "markup", "bad_date", "unknown"]


def test_every_list_answers_hostile_filters_without_a_server_error(client, world):
    for who, url, params in lists(world):
        client.force_login(world[who])
        for param in params:
            for name in SWEEP:
                value = HOSTILE[name]
                response = client.get(url, {param: value})
                check(response, f"{who} GET {url}?{param}={name}")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_filter_mixtures_never_break_a_list(client, world, data):
    who, url, params = data.draw(st.sampled_from(lists(world)), label="list")
    params = params + MORE_PARAMS.get(url, [])
    query = data.draw(
        st.dictionaries(
            st.sampled_from(params), st.sampled_from(sorted(HOSTILE)), min_size=1
        ),
        label="hostile parameters",
    )
    client.force_login(world[who])
    response = client.get(url, {param: HOSTILE[key] for param, key in query.items()})
    check(response, f"{who} GET {url} {query}")


def test_unknown_and_oversized_ids_in_addresses_are_not_found(client, world):
    client.force_login(world["employee"])
    shapes = [
        "/requests/{}/",
        "/requests/{}/submitted/",
        "/requests/items/{}/rate/",
        "/basket/lines/{}/edit/",
    ]
    posts = [
        "/basket/add/{}/",
        "/basket/lines/{}/remove/",
        "/requests/{}/comment/",
        "/requests/items/{}/cancel/",
        "/approvals/steps/{}/decide/",
        "/approvals/requests/{}/decide/",
        "/approvals/substitutes/{}/remove/",
        "/executive/review/{}/suspend/",
        "/my-services/{}/remove/",
    ]
    before = snapshot()
    for value in (BIG_ID, "9" * 19, "9" * 18, "0", "-1", "1e3"):
        for shape in shapes:
            response = client.get(shape.format(value))
            check(response, shape.format(value))
            assert response.status_code == 404, shape.format(value)
        for shape in posts:
            response = client.post(shape.format(value), {"text": "x", "note": "x"})
            check(response, shape.format(value))
            assert response.status_code in (403, 404), shape.format(value)
    client.force_login(world["fixer"])
    for value in (BIG_ID, "9" * 18):
        response = client.get(f"/queue/items/{value}/")
        assert response.status_code == 404
        response = client.post(f"/queue/items/{value}/start/", {})
        assert response.status_code == 404
    assert snapshot() == before


# --- Forms that change something ------------------------------------------------


def actions(w) -> dict:
    """name: (who, address, good values, kind of each field). Good values are
    accepted (``test_good_values_are_accepted`` proves it), so a refusal of a
    hostile value is the value's doing."""
    step, held = w["step"], w["held"]
    in_queue = RequestItem.objects.get(pk=w["in_queue"].pk)
    today = timezone.localdate()
    review = basket_review(user=w["employee"])
    return {
        "add to basket": (
            "employee",
            f"/basket/add/{w['fuzz'].pk}/",
            good_answers(),
            ANSWER_KINDS,
        ),
        "edit basket line": (
            "employee",
            f"/basket/lines/{w['line'].pk}/edit/",
            {**good_answers(), "q_room": "Room 5"},
            ANSWER_KINDS,
        ),
        "check out": (
            "employee",
            "/checkout/",
            {
                "basket": str(review.basket.pk),
                "fingerprint": review.fingerprint,
                "business_reason": "For the new desk.",
                "cost_centre": "",
                "for_q": "",
            },
            {
                "basket": "value",
                "fingerprint": "value",
                "business_reason": "text",
                "cost_centre": "value",
                "for_q": "text",
            },
        ),
        "comment on a request": (
            "employee",
            f"/requests/{w['for_approval'].pk}/comment/",
            {"text": "Any news?"},
            {"text": "text"},
        ),
        "cancel an item": (
            "employee",
            f"/requests/items/{w['not_started'].pk}/cancel/",
            {"request_id": str(w["not_started"].request_id), "note": ""},
            {"note": "text"},
        ),
        "rate an item": (
            "employee",
            f"/requests/items/{held.pk}/rate/",
            {"rating": "5", "comment": "Quick, thanks."},
            {"rating": "value", "comment": "text"},
        ),
        "ask to remove a held service": (
            "employee",
            f"/my-services/{held.pk}/remove/",
            {"reason": "Moving to a laptop dock."},
            {"reason": "text"},
        ),
        "decide an approval": (
            "manager",
            f"/approvals/steps/{step.pk}/decide/",
            {f"step-{step.pk}-decision": "decline", f"step-{step.pk}-note": "No."},
            {f"step-{step.pk}-decision": "value", f"step-{step.pk}-note": "text"},
        ),
        "decide a whole request": (
            "manager",
            f"/approvals/requests/{w['for_approval'].pk}/decide/",
            {
                f"request-{w['for_approval'].pk}-decision": "decline",
                f"request-{w['for_approval'].pk}-note": "Not this year.",
            },
            {
                f"request-{w['for_approval'].pk}-decision": "value",
                f"request-{w['for_approval'].pk}-note": "text",
            },
        ),
        "name a substitute": (
            "manager",
            "/approvals/substitutes/",
            {
                "substitute": str(w["fixer"].pk),
                "starts_on": (today + timedelta(days=1)).isoformat(),
                "ends_on": (today + timedelta(days=8)).isoformat(),
                "q": "",
            },
            {
                "substitute": "value",
                "starts_on": "value",
                "ends_on": "value",
                "q": "text",
            },
        ),
        "ask to suspend a rarely requested service": (
            "admin",
            f"/executive/review/{w['london_kit'].pk}/suspend/",
            {"reason": "Nobody has ordered it for a year."},
            {"reason": "text"},
        ),
        "queue: assign in bulk": (
            "fixer",
            "/queue/assign/",
            {"items": str(in_queue.pk), "assignee": "none", "return_query": ""},
            {"items": "value", "assignee": "value"},
        ),
        "queue: assign": (
            "fixer",
            f"/queue/items/{in_queue.pk}/assign/",
            {
                "assign-assignee": str(w["fixer"].pk),
                "assign-expected_status": in_queue.status,
            },
            {"assign-assignee": "value", "assign-expected_status": "free"},
        ),
        "queue: hold": (
            "fixer",
            f"/queue/items/{in_queue.pk}/hold/",
            {
                "hold-reason": str(w["hold_reason"].pk),
                "hold-note": "Parts ordered.",
                "hold-expected_status": in_queue.status,
            },
            {
                "hold-reason": "value",
                "hold-note": "text",
                "hold-expected_status": "value",
            },
        ),
        "queue: cancel": (
            "fixer",
            f"/queue/items/{in_queue.pk}/cancel/",
            {"cancel-note": "Duplicate.", "cancel-expected_status": in_queue.status},
            {"cancel-note": "text", "cancel-expected_status": "value"},
        ),
        "queue: work note": (
            "fixer",
            f"/queue/items/{in_queue.pk}/work-note/",
            {"work-note-text": "Ordered from the usual supplier."},
            {"work-note-text": "text"},
        ),
        "queue: comment": (
            "fixer",
            f"/queue/items/{in_queue.pk}/comment/",
            {"comment-text": "On its way."},
            {"comment-text": "text"},
        ),
    }


def post(client, world, name, data):
    who, url, _, _ = actions(world)[name]
    client.force_login(world[who])
    return client.post(url, data)


# In an order where accepting one form's good values leaves the next one's
# still acceptable (checkout last: it empties the basket).
ACTION_NAMES = [
    "add to basket",
    "edit basket line",
    "comment on a request",
    "cancel an item",
    "rate an item",
    "ask to remove a held service",
    "decide an approval",
    "decide a whole request",
    "name a substitute",
    "ask to suspend a rarely requested service",
    "queue: work note",
    "queue: comment",
    "queue: assign in bulk",
    "queue: assign",
    "queue: hold",
    "queue: cancel",
    "check out",
]


def test_one_hostile_field_is_refused_and_changes_nothing(client, world):
    """Each form, each field, each value it must refuse: nothing changes. Then
    the good values are accepted and do change something, so the refusals were
    the hostile value's doing."""
    for name in ACTION_NAMES:
        _, _, good, kinds = actions(world)[name]
        for field, kind in kinds.items():
            for key in sorted(MUST_REFUSE[kind] & set(SWEEP)):
                before = snapshot()
                response = post(client, world, name, {**good, field: HOSTILE[key]})
                label = f"{name}: {field}={key}"
                check(response, label)
                assert snapshot() == before, f"{label} changed data"
        before = snapshot()
        response = post(client, world, name, good)
        assert response.status_code == 302, (name, visible_text(response)[:300])
        assert snapshot() != before, f"{name}: the good values changed nothing"


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_mixtures_never_break_a_form(client, world, data):
    # Hypothesis runs every example on the same world: each one is rolled
    # back, so a mixture the form rightly accepts (a checkout with odd but
    # valid text, say) can't leave the next example without a basket.
    with transaction.atomic():
        _try_a_hostile_mixture(client, world, data)
        transaction.set_rollback(True)


def _try_a_hostile_mixture(client, world, data):
    name = data.draw(st.sampled_from(ACTION_NAMES), label="form")
    _, _, good, kinds = actions(world)[name]
    chosen = data.draw(
        st.dictionaries(
            st.sampled_from(sorted(kinds)),
            st.sampled_from(sorted(HOSTILE)),
            min_size=1,
        ),
        label="hostile fields",
    )
    before = snapshot()
    response = post(
        client, world, name, {**good, **{f: HOSTILE[k] for f, k in chosen.items()}}
    )
    check(response, f"{name}: {chosen}")
    if response.status_code >= 400 or any(
        key in MUST_REFUSE[kinds[field]] for field, key in chosen.items()
    ):
        assert snapshot() == before, f"{name}: {chosen} changed data"
