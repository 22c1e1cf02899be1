"""Reference data in the admin's "Catalog setup" menu: business calendars (checked
as a whole, versioned, and previewed), hold reasons, internal targets that must stay
stricter than the customer's, who may edit people, and the service desk settings."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from wagtail.test.utils.form_data import (
    inline_formset,
    nested_form_data,
    querydict_from_html,
)

from catalog.models import (
    BusinessCalendar,
    CalendarVersion,
    FulfilmentGroup,
    InternalTarget,
    RequestEvent,
    ServiceLevel,
    UserProfile,
)
from tests.conftest import order
from tests.factories import UserFactory, service_page

pytestmark = pytest.mark.django_db

CALENDARS = "/admin/snippets/catalog/businesscalendar/"
PREVIEW = "/admin/catalog/calendars/preview/"


def person_in(role: str, username: str, **fields):
    return UserFactory(
        username=username, groups=[Group.objects.get(name=role)], **fields
    )


@pytest.fixture
def editor_client(client):
    client.force_login(person_in("Catalog editor", "ed"))
    return client


def calendar_form(name="Night desk", *, hours=(), closures=(), **fields):
    return nested_form_data(
        {
            "name": name,
            "time_zone": "Europe/London",
            "holiday_country": "",
            "holiday_subdivision": "",
            **fields,
            "hours": inline_formset(
                [
                    {"weekday": str(day), "opens": opens, "closes": closes}
                    for day, opens, closes in hours
                ]
            ),
            "closures": inline_formset(
                [
                    {"first_day": first, "last_day": last, "name": label}
                    for first, last, label in closures
                ]
            ),
        }
    )


def form_on_page(client, url):
    """The edit form's data as the page filled it in, ready to change and post."""
    return querydict_from_html(client.get(url).content.decode(), "w-editor-form")


def errors_on_page(response) -> list[str]:
    form = response.context["form"]
    return [str(e) for e in form.non_field_errors()]


# --- Business calendars --------------------------------------------------------------


def test_overlapping_hours_are_refused_and_nothing_is_saved(editor_client):
    response = editor_client.post(
        CALENDARS + "add/",
        calendar_form(hours=[(0, "08:00", "12:00"), (0, "11:00", "14:00")]),
    )
    assert response.status_code == 200
    assert errors_on_page(response) == [
        "Monday 08:00–12:00 overlaps Monday 11:00–14:00."
    ]
    assert "Monday 08:00–12:00 overlaps Monday 11:00–14:00." in (
        response.content.decode()
    )
    assert not BusinessCalendar.objects.filter(name="Night desk").exists()


def test_a_week_without_hours_is_refused(editor_client):
    response = editor_client.post(CALENDARS + "add/", calendar_form())
    assert response.status_code == 200
    assert errors_on_page(response) == [
        "The calendar has no opening hours: add at least one row under Opening "
        "hours, or tick “around the clock (24x7)”."
    ]
    assert not BusinessCalendar.objects.filter(name="Night desk").exists()


def test_around_the_clock_needs_no_hours(editor_client):
    response = editor_client.post(CALENDARS + "add/", calendar_form(always_open="on"))
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Night desk")
    assert calendar.always_open
    assert list(calendar.versions.values_list("number", flat=True)) == [1]


def test_rows_marked_for_deletion_do_not_count(editor_client):
    data = calendar_form(hours=[(0, "08:00", "12:00"), (0, "11:00", "14:00")])
    data["hours-1-DELETE"] = "1"
    response = editor_client.post(CALENDARS + "add/", data)
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Night desk")
    assert [str(row) for row in calendar.hours.all()] == ["Monday 08:00–12:00"]


def test_an_unknown_holiday_region_is_shown_at_the_field(editor_client):
    response = editor_client.post(
        CALENDARS + "add/",
        calendar_form(hours=[(0, "08:00", "18:00")], holiday_country="XX"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["holiday_country"] == [
        '"XX" is not a country with known public holidays.'
    ]
    assert not BusinessCalendar.objects.filter(name="Night desk").exists()


def test_a_closing_time_before_opening_is_shown_on_its_row(editor_client):
    response = editor_client.post(
        CALENDARS + "add/", calendar_form(hours=[(1, "18:00", "08:00")])
    )
    assert response.status_code == 200
    hours = response.context["form"].formsets["hours"]
    assert hours.forms[0].errors["closes"] == [
        "Closing time must be after opening time."
    ]
    assert not BusinessCalendar.objects.filter(name="Night desk").exists()


@pytest.fixture
def keyboard(catalog, standard_level):
    """A service on the Standard level (Office hours: Monday to Friday
    08:00-18:00 London, English holidays; 16 h customer, 12 h internal)."""
    return service_page(
        catalog["access"],
        "Replace a keyboard",
        service_level=standard_level,
    )


def test_saving_a_calendar_moves_open_items_to_the_new_version(
    client, catalog, keyboard, employee
):
    office = BusinessCalendar.objects.get(name="Office hours")
    # Monday 13 January 2025, 09:00 in London.
    with time_machine.travel(datetime(2025, 1, 13, 9, 0, tzinfo=UTC), tick=False):
        catalog["keyboard"] = keyboard
        item = order(employee, catalog, "keyboard").items.get()
    # Nine hours on Monday, then Tuesday from 08:00.
    assert item.resolution_due_at == datetime(2025, 1, 14, 15, 0, tzinfo=UTC)
    assert item.internal_resolution_due_at == datetime(2025, 1, 14, 11, 0, tzinfo=UTC)
    versions_before = office.versions.count()

    admin = person_in("Administrator", "boss")
    client.force_login(admin)
    edit_url = f"{CALENDARS}edit/{office.pk}/"
    with time_machine.travel(datetime(2025, 1, 13, 10, 0, tzinfo=UTC), tick=False):
        data = querydict_from_html(
            client.get(edit_url).content.decode(), "w-editor-form"
        )
        # The office closes on Tuesday 14 January for a move.
        total = int(data["closures-TOTAL_FORMS"])
        data.update(
            {
                f"closures-{total}-first_day": "2025-01-14",
                f"closures-{total}-last_day": "",
                f"closures-{total}-name": "Office move",
                f"closures-{total}-ORDER": str(total),
                f"closures-{total}-DELETE": "",
                f"closures-{total}-id": "",
            }
        )
        data["closures-TOTAL_FORMS"] = str(total + 1)
        response = client.post(edit_url, data)
    assert response.status_code == 302
    assert office.versions.count() == versions_before + 1
    latest = CalendarVersion.objects.filter(calendar=office).order_by("-number")[0]
    assert latest.spec["closures"] == ["2025-01-14"]
    assert latest.created_by == admin

    item.refresh_from_db()
    assert item.calendar_version == latest
    # Nine hours on Monday; Tuesday closed; Wednesday from 08:00.
    assert item.resolution_due_at == datetime(2025, 1, 15, 15, 0, tzinfo=UTC)
    assert item.internal_resolution_due_at == datetime(2025, 1, 15, 11, 0, tzinfo=UTC)
    event = RequestEvent.objects.filter(item=item).latest("sequence")
    assert (event.name, event.actor, event.data["calendar"]) == (
        "item.calendar_changed",
        admin,
        "Office hours",
    )
    page = client.get(response.url).content.decode()
    assert "1 open item now count on the changed calendar" in page


def test_saving_a_calendar_unchanged_moves_nothing(client, catalog, keyboard, employee):
    catalog["keyboard"] = keyboard
    item = order(employee, catalog, "keyboard").items.get()
    office = BusinessCalendar.objects.get(name="Office hours")
    client.force_login(person_in("Administrator", "boss"))
    edit_url = f"{CALENDARS}edit/{office.pk}/"
    data = form_on_page(client, edit_url)
    assert client.post(edit_url, data).status_code == 302
    assert not RequestEvent.objects.filter(
        item=item, name="item.calendar_changed"
    ).exists()


def test_the_calendar_list_links_to_the_preview(editor_client):
    html = editor_client.get(CALENDARS).content.decode()
    assert "Office hours" in html
    assert f'href="{PREVIEW}"' in html
    office = BusinessCalendar.objects.get(name="Office hours")
    edit = editor_client.get(f"{CALENDARS}edit/{office.pk}/").content.decode()
    assert f'href="{PREVIEW}?calendar={office.pk}"' in edit


# --- The calendar preview ------------------------------------------------------------


def test_preview_across_a_holiday_weekend(editor_client):
    office = BusinessCalendar.objects.get(name="Office hours")
    response = editor_client.get(
        PREVIEW,
        {
            "calendar": office.pk,
            "start_date": "2025-04-17",
            "start_time": "16:00",
            "hours": "4",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Two hours on Maundy Thursday, then Good Friday, the weekend and Easter
    # Monday are closed: two more hours on Tuesday from 08:00.
    assert "Due Tuesday 22 April 2025, 10:00 (Europe/London)" in html
    closed = [
        (str(day["day"]), day["reason"]) for day in response.context["result"]["closed"]
    ]
    assert closed == [
        ("2025-04-18", "Good Friday"),
        ("2025-04-19", "Weekend"),
        ("2025-04-20", "Weekend"),
        ("2025-04-21", "Easter Monday"),
    ]
    assert "Friday 18 April 2025: Good Friday" in html


def test_preview_on_a_24x7_calendar(editor_client):
    always = BusinessCalendar.objects.get(name="Around the clock")
    response = editor_client.get(
        PREVIEW,
        {
            "calendar": always.pk,
            "start_date": "2025-04-17",
            "start_time": "16:00",
            "hours": "4",
        },
    )
    assert "Due Thursday 17 April 2025, 20:00 (Europe/London)" in (
        response.content.decode()
    )
    assert response.context["result"]["closed"] == []


BAD_PREVIEWS = [
    ({"start_date": "2025-04-17", "start_time": "16:00", "hours": "4"}, "calendar"),
    ({"start_date": "17/04/2025x", "start_time": "16:00", "hours": "4"}, "start_date"),
    ({"start_date": "2025-04-17", "start_time": "25:99", "hours": "4"}, "start_time"),
    ({"start_date": "2025-04-17", "start_time": "16:00", "hours": "-1"}, "hours"),
    ({"start_date": "2025-04-17", "start_time": "16:00", "hours": "lots"}, "hours"),
    ({"start_date": "2025-04-17", "start_time": "16:00", "hours": "99999"}, "hours"),
]


@pytest.mark.parametrize(("params", "field"), BAD_PREVIEWS)
def test_preview_with_bad_input_shows_field_errors(editor_client, params, field):
    office = BusinessCalendar.objects.get(name="Office hours")
    if field != "calendar":
        params = {**params, "calendar": office.pk}
    response = editor_client.get(PREVIEW, params)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert f'href="#id_{field}"' in response.content.decode()
    assert "result" not in response.context


def test_preview_is_for_people_who_maintain_calendars(client):
    client.force_login(person_in("Fulfiller", "fixer"))
    response = client.get(PREVIEW)
    assert (response.status_code, response.url) == (302, "/admin/")


# --- Internal targets and service levels ---------------------------------------------


def group_form(group, targets):
    return nested_form_data(
        {
            "name": group.name,
            "email": "",
            "internal_targets": inline_formset(
                [
                    {
                        "service_level": str(level.pk),
                        "response_target_hours": response,
                        "resolution_target_hours": resolution,
                    }
                    for level, response, resolution in targets
                ]
            ),
        }
    )


def test_an_internal_target_looser_than_the_customers_is_refused(
    editor_client, standard_level
):
    team = FulfilmentGroup.objects.create(name="Hardware")
    response = editor_client.post(
        f"/admin/snippets/catalog/fulfilmentgroup/edit/{team.pk}/",
        group_form(team, [(standard_level, "5", "10")]),
    )
    assert response.status_code == 200
    row = response.context["form"].formsets["internal_targets"].forms[0]
    assert list(row.errors) == ["response_target_hours"]
    (message,) = row.errors["response_target_hours"]
    assert message == (
        "The internal target must be stricter (shorter) than the customer target. "
        "Standard promises a response within 4 hours."
    )
    assert message in response.content.decode()
    assert not InternalTarget.objects.exists()


def test_a_stricter_internal_target_is_saved(editor_client, standard_level):
    team = FulfilmentGroup.objects.create(name="Hardware")
    response = editor_client.post(
        f"/admin/snippets/catalog/fulfilmentgroup/edit/{team.pk}/",
        group_form(team, [(standard_level, "1.5", "10")]),
    )
    assert response.status_code == 302
    target = InternalTarget.objects.get()
    assert (target.response_target_hours, target.resolution_target_hours) == (
        Decimal("1.50"),
        Decimal("10.00"),
    )


def test_the_database_check_never_becomes_a_server_error(
    editor_client, standard_level, monkeypatch
):
    """If the form's check were missed (two editors at once), the trigger's
    refusal is a message on the form, and nothing is saved."""
    monkeypatch.setattr(InternalTarget, "clean", lambda self: None)
    team = FulfilmentGroup.objects.create(name="Hardware")
    response = editor_client.post(
        f"/admin/snippets/catalog/fulfilmentgroup/edit/{team.pk}/",
        group_form(team, [(standard_level, "5", "20")]),
    )
    assert response.status_code == 200
    assert errors_on_page(response) == [
        "Nothing was saved: an internal target would no longer be stricter than "
        "its customer target (someone may have changed a service level "
        "meanwhile). Check the targets and save again."
    ]
    assert not InternalTarget.objects.exists()


def level_form(level, **changes):
    data = {
        "name": level.name,
        "description": level.description,
        "calendar": str(level.calendar_id),
        "response_target_hours": str(level.response_target_hours),
        "resolution_target_hours": str(level.resolution_target_hours),
        "internal_response_target_hours": str(level.internal_response_target_hours),
        "internal_resolution_target_hours": str(level.internal_resolution_target_hours),
        "at_risk_percent": str(level.at_risk_percent),
        "availability_target": str(level.availability_target),
    }
    data.update(changes)
    return data


def test_service_level_internal_targets_must_be_stricter(editor_client, standard_level):
    response = editor_client.post(
        f"/admin/snippets/catalog/servicelevel/edit/{standard_level.pk}/",
        level_form(standard_level, internal_resolution_target_hours="16"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "internal_resolution_target_hours": [
            "The internal target must be stricter (shorter) than the customer target."
        ]
    }
    standard_level.refresh_from_db()
    assert standard_level.internal_resolution_target_hours == Decimal("12")


def test_tightening_a_customer_target_below_a_teams_is_refused(
    editor_client, standard_level
):
    team = FulfilmentGroup.objects.create(name="Hardware")
    InternalTarget.objects.create(
        fulfilment_group=team,
        service_level=standard_level,
        response_target_hours=Decimal("3"),
        resolution_target_hours=Decimal("10"),
    )
    response = editor_client.post(
        f"/admin/snippets/catalog/servicelevel/edit/{standard_level.pk}/",
        level_form(
            standard_level,
            resolution_target_hours="9",
            internal_resolution_target_hours="8",
        ),
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "resolution_target_hours": [
            "These teams' internal targets would no longer be stricter: Hardware. "
            "Tighten theirs first."
        ]
    }
    assert ServiceLevel.objects.get(pk=standard_level.pk).resolution_target_hours == (
        Decimal("16")
    )


# --- Hold reasons, cost centres, settings --------------------------------------------


def test_hold_reasons_are_listed_and_editable(editor_client):
    html = editor_client.get("/admin/snippets/catalog/holdreason/").content.decode()
    for name in [
        "Waiting for the requester",
        "Waiting for a supplier",
        "Scheduled with the requester",
        "Waiting for another IT team",
    ]:
        assert name in html
    response = editor_client.post(
        "/admin/snippets/catalog/holdreason/add/",
        {
            "name": "Waiting for a change window",
            "customer_text": "until the agreed maintenance window",
            "pauses_customer_clock": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302


def test_cost_centre_owner_and_threshold_are_editable(client):
    from tests.factories import CostCentreFactory

    centre = CostCentreFactory(code="CC-9000", name="Research")
    owner = UserFactory(username="owner")
    client.force_login(person_in("People administrator", "hr"))
    response = client.post(
        f"/admin/snippets/catalog/costcentre/edit/{centre.pk}/",
        {
            "code": "CC-9000",
            "name": "Research",
            "active": "on",
            "owner": str(owner.pk),
            "approval_threshold": "2500",
        },
    )
    assert response.status_code == 302
    centre.refresh_from_db()
    assert (centre.owner, centre.approval_threshold) == (owner, Decimal("2500"))


def test_service_desk_settings_are_under_settings(client):
    client.force_login(person_in("Administrator", "boss"))
    menu = client.get("/admin/").content.decode()
    assert "Service desk settings" in menu
    response = client.get("/admin/settings/catalog/servicedesksettings/", follow=True)
    assert response.status_code == 200
    assert "close delivered items after (days)" in response.content.decode().lower()


# --- People: who may edit whose profile --------------------------------------------

PEOPLE_RULES = [
    # (role of the editor, whose profile, may edit?)
    ("People administrator", "their own", False),
    ("People administrator", "someone else's", True),
    ("Administrator", "their own", False),
    ("Administrator", "someone else's", True),
    ("superuser", "their own", False),
    ("superuser", "someone else's", True),
    ("Catalog editor", "someone else's", False),
    ("Fulfiller", "someone else's", False),
]


@pytest.mark.parametrize(("role", "whose", "allowed"), PEOPLE_RULES)
def test_who_may_edit_a_profile(client, sales, role, whose, allowed):
    if role == "superuser":
        editor = UserFactory(username="root", is_superuser=True, is_staff=True)
    else:
        editor = person_in(role, "editor")
    other = UserFactory(username="someone", profile={"department": sales})
    target = editor if whose == "their own" else other
    profile = UserProfile.objects.get(user=target)
    client.force_login(editor)
    url = f"/admin/snippets/catalog/userprofile/edit/{profile.pk}/"
    response = client.get(url)
    assert (response.status_code == 200) is allowed
    response = client.post(
        url,
        {"user": str(target.pk), "department": "", "job_title": "Changed"},
    )
    profile.refresh_from_db()
    assert (profile.job_title == "Changed") is allowed
    if not allowed:
        assert response.status_code in (302, 403)


def test_a_profile_keeps_its_person(client, sales):
    client.force_login(person_in("People administrator", "hr"))
    someone = UserFactory(username="someone", profile={"department": sales})
    intruder = UserFactory(username="intruder")
    profile = UserProfile.objects.get(user=someone)
    response = client.post(
        f"/admin/snippets/catalog/userprofile/edit/{profile.pk}/",
        {"user": str(intruder.pk), "department": "", "job_title": "Buyer"},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.user, profile.job_title) == (someone, "Buyer")


def test_the_people_list_offers_no_edit_link_to_ones_own_profile(client, sales):
    hr = person_in("People administrator", "hr")
    someone = UserFactory(username="someone", profile={"department": sales})
    client.force_login(hr)
    html = client.get("/admin/snippets/catalog/userprofile/").content.decode()
    mine = UserProfile.objects.get(user=hr)
    theirs = UserProfile.objects.get(user=someone)
    assert f"/admin/snippets/catalog/userprofile/edit/{theirs.pk}/" in html
    assert f"/admin/snippets/catalog/userprofile/edit/{mine.pk}/" not in html
