"""Demo history: months of service requests, their items and their log, in bulk.

Reports need something real to show, and benchmarks need volume, so this writes
requests the way checkout and fulfilment would have written them over the past
months: items copy the service as checkout does, every status move is one the
``ALLOWED_TRANSITIONS`` table allows, and every request's log is a proper hash chain
(``event_build``), in time order, numbered from 1.

Timings follow the service level. A level's hours are *its* clock: "business" levels
count working days 8:00–18:00 (Europe/London by default), "24x7" counts every hour.
Most items are delivered within the resolution target on that clock; some are late
(more often where the catalog promises a delivery time longer than the target, in
December and August, and early in the period), some are rejected or cancelled, and
everything planned after "now" has not happened yet, so recent items are still open.

Nothing here goes through the services layer: that would mean one transaction and
several queries per event. It writes with ``bulk_create`` in batches instead, and
sends no notifications.
"""

import bisect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import reset_queries, transaction
from django.utils import timezone
from wagtail.models import Page

from catalog.models import (
    ALLOWED_TRANSITIONS,
    Department,
    FulfilmentGroup,
    ItemStatus,
    Location,
    RequestEvent,
    RequestItem,
    ServicePage,
    ServiceRequest,
    UserProfile,
)
from catalog.selectors.catalog import visible_services
from catalog.services.request_log import GENESIS, event_build

S = ItemStatus
HOUR = 3600.0
DAY = 86400.0

# Working windows per ServiceLevel.support_hours: (first hour, last hour) on
# weekdays, or None for around the clock.
WINDOWS = {"business": (8, 18), "extended": (7, 22), "24x7": None}
# How many items a request has: 1 to 4, about 1.67 on average.
ITEM_COUNT_WEIGHTS = (55, 28, 12, 5)
QUANTITY_ONE_SHARE = 0.85
ON_BEHALF_SHARE = 0.08
COMMENT_SHARE = 0.12
# Services that can no longer be ordered were orderable until about this long ago.
SUSPENDED_FOR_DAYS = 60
AUTO_CLOSE_DAYS = 5

DEPARTMENT_WEIGHTS = {
    "Executive Office": 4,
    "Finance": 18,
    "Human Resources": 12,
    "Sales": 45,
    "Marketing": 22,
    "Engineering": 50,
    "Operations": 27,
    "IT": 22,
}
LOCATION_WEIGHTS = {
    "London HQ": 40,
    "Manchester": 20,
    "Berlin": 15,
    "Amsterdam": 12,
    "Remote": 13,
}
# Fulfilment teams differ in how often they miss targets.
TEAM_LATENESS = {
    "Workplace hardware": 1.4,
    "Mobile": 1.2,
    "Identity and access": 0.7,
    "Collaboration": 0.9,
    "Software and licences": 1.0,
}
MONTH_LATENESS = {12: 1.6, 8: 1.4, 1: 1.3}
MONTH_VOLUME = {
    1: 1.15,
    2: 1.0,
    3: 1.05,
    4: 0.95,
    5: 1.0,
    6: 0.95,
    7: 0.85,
    8: 0.7,
    9: 1.2,
    10: 1.05,
    11: 1.0,
    12: 0.75,
}
HOUR_VOLUME = [
    0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.15,
    0.6, 1.0, 1.0, 0.9, 0.55, 0.8, 0.95, 0.85,
    0.7, 0.4, 0.15, 0.08, 0.04, 0.04, 0.03, 0.02,
]  # fmt: skip
WEEKDAY_VOLUME = (1.0, 1.05, 1.0, 0.95, 0.8, 0.06, 0.04)
HOLIDAYS = {(1, 1), (12, 25), (12, 26)}
# How often each demo service is ordered, relative to 1; others count as 1.
POPULARITY = {
    "Reset a forgotten password": 9,
    "Install software": 7,
    "Unlock my account": 6,
    "Access to a shared folder": 6,
    "VPN access": 4,
    "Set up sign-in on a new phone": 4,
    "Add a printer to my computer": 3,
    "Keyboard, mouse and docking station": 3,
    "Headset for calls": 3,
    "Second monitor": 2.5,
    "New laptop": 2.5,
    "Mobile phone": 2,
    "More mailbox space": 2,
    "Adobe Acrobat Pro": 2,
    "New starter bundle": 2,
    "Replace a broken laptop": 1.5,
    "Someone is leaving": 1.5,
    "Meeting-room video kit": 0.2,
    "Room booking display": 0.2,
}
# Month factors for seasonal services (applied on top of popularity).
SEASONAL = {
    "Mobile data abroad": {6: 2.5, 7: 3.0, 8: 2.5, 12: 1.5},
    "New starter bundle": {1: 2.0, 9: 2.5, 10: 1.5},
    "Someone is leaving": {6: 1.5, 7: 1.5, 12: 1.5},
}

FIRST_NAMES = (
    "Aisha", "Alex", "Amara", "Anna", "Ben", "Carla", "Chen", "Chloe", "Daniel",
    "David", "Elif", "Emily", "Erik", "Fatima", "Felix", "Grace", "Hannah", "Hugo",
    "Isabel", "Jack", "James", "Jana", "Jonas", "Julia", "Karim", "Kate", "Lars",
    "Laura", "Leon", "Lina", "Lucas", "Maya", "Mia", "Mohammed", "Nadia", "Noah",
    "Olivia", "Omar", "Paul", "Priya", "Rachel", "Rosa", "Ruben", "Sam", "Sara",
    "Sofia", "Tom", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Ahmed", "Bakker", "Becker", "Brown", "Clarke", "Costa", "Dekker", "Evans",
    "Fischer", "Garcia", "Green", "Hall", "Hoffmann", "Hughes", "Jansen", "Khan",
    "Klein", "Kowalski", "Lee", "Martin", "Meijer", "Meyer", "Moore", "Mulder",
    "Murphy", "Nguyen", "Novak", "Okafor", "Patel", "Peters", "Richter", "Roberts",
    "Rossi", "Schmidt", "Schulz", "Silva", "Smith", "Taylor", "Visser", "Wagner",
    "Walker", "Weber", "White", "Williams", "Wilson", "Wright", "Young",
)  # fmt: skip
JOB_TITLES = {
    "Executive Office": ["Executive assistant", "Chief of staff", "Strategy lead"],
    "Finance": ["Accountant", "Financial analyst", "Payroll specialist", "Controller"],
    "Human Resources": ["HR advisor", "Recruiter", "People partner"],
    "Sales": ["Account executive", "Sales manager", "Business developer"],
    "Marketing": ["Marketing manager", "Content designer", "Brand specialist"],
    "Engineering": ["Software engineer", "QA engineer", "Engineering manager"],
    "Operations": ["Operations analyst", "Facilities coordinator", "Buyer"],
    "IT": ["Systems engineer", "Network engineer", "IT support analyst"],
}
MANAGER_TITLE = "Team lead"
ROLE_GROUPS = ("Employees", "Managers", "Fulfillers")
FULFILLER_TEAMS = (
    ("Workplace hardware",),
    ("Workplace hardware", "Mobile"),
    ("Identity and access",),
    ("Identity and access", "Collaboration"),
    ("Collaboration", "Software and licences"),
    ("Software and licences",),
    ("Mobile", "Workplace hardware"),
    ("Identity and access", "Software and licences"),
)

REASONS = {
    "computers": [
        "My laptop is over four years old and very slow.",
        "Needed for the new role I started this month.",
        "The current one keeps crashing during customer calls.",
        "Working with large spreadsheets and video every day.",
    ],
    "phones": [
        "I travel to customers most weeks.",
        "On call for the support rota from next month.",
        "Lost my phone on the train this morning.",
        "Customer visits abroad next month.",
    ],
    "accounts": [
        "I can't sign in since I came back from leave.",
        "Locked out after changing my password.",
        "New phone, the authenticator app didn't move across.",
        "External consultant joining the project for three months.",
    ],
    "access": [
        "Joined the team and need the team's files.",
        "Taking over the monthly reporting from a colleague.",
        "Working from home three days a week.",
        "Need to approve invoices while my manager is away.",
    ],
    "email": [
        "The team needs one inbox for customer questions.",
        "My mailbox is full and I can't receive attachments.",
        "Starting a new project group.",
    ],
    "software": [
        "Needed for the quarterly report.",
        "A customer sends us documents in this format.",
        "Required for the new campaign.",
        "Planning the office move project.",
    ],
    "meetings": [
        "The new meeting room on the third floor has no video.",
        "Printing contracts for signature.",
        "Rooms are double-booked all the time.",
    ],
    "people": [
        "A new colleague joins the team next month.",
        "A colleague leaves at the end of the month.",
        "Our team is moving to the second floor.",
        "Working from home permanently from next month.",
    ],
}
GENERAL_REASONS = [
    "Needed for my day-to-day work.",
    "Agreed with my manager in our last one-to-one.",
    "Part of the team's plan for this quarter.",
]
COMMENTS_BY_REQUESTER = [
    "Is there any news on this?",
    "Could this be delivered to the Manchester office instead?",
    "Thanks! I'll be out of the office on Friday.",
    "Please call me when it's ready.",
    "Any chance this could be done before the end of the week?",
]
COMMENTS_BY_FULFILLER = [
    "We've ordered it from the supplier; expect it in a few days.",
    "Could you confirm your desk number?",
    "This is ready for you at the service desk.",
    "We'll install it remotely tonight; please leave your computer on.",
]
HOLD_NOTES = [
    "Waiting for the supplier.",
    "Waiting for the requester's reply.",
    "Out of stock; back in stock next week.",
    "Waiting for the licence key.",
]
REJECT_NOTES = [
    "Not in this year's budget.",
    "Please use the team's shared one instead.",
    "Let's discuss this at our next one-to-one.",
    "Needs a business case first.",
]
CANCEL_NOTES = [
    "Ordered by mistake.",
    "No longer needed.",
    "Found a spare one in the office.",
    "",
]
CANCELLED_BY_IT = "The requester told us it is no longer needed."
REOPEN_NOTE = "Reopened: the requester reported it isn't working as expected."
CLOSE_REJECTED = "Closed after the request was not approved."
CLOSE_DELIVERED = f"Closed automatically {AUTO_CLOSE_DAYS} days after delivery."

COUNTRIES = ["France", "Spain", "United States", "Japan", "Canada", "Italy", "Poland"]
COMPANIES = ["Northwind Consulting", "Acme Audit", "Brightside Design", "Kite Labs"]
PROGRAMS = ["Visio", "Power BI Desktop", "Notepad++", "Zoom", "Python", "Tableau"]
ROOMS = ["Thames", "Elbe", "Amstel", "Irwell", "Board room", "Room 3.12"]
TEAM_NAMES = ["Spring campaign", "Office move", "Budget 2026", "Customer portal"]
INCIDENTS = [
    "Dropped it on the way to a meeting; the screen is cracked.",
    "Coffee on the keyboard.",
    "It won't switch on any more.",
    "The battery swells and the case doesn't close.",
]


@dataclass(frozen=True)
class HistorySummary:
    requests: int
    items: int
    events: int
    people_created: int
    seconds: float


@dataclass(frozen=True)
class _Question:
    key: str
    label: str
    type: str
    required: bool
    spec: dict


@dataclass
class _Service:
    """What checkout copies from a service, plus what the timings need."""

    pk: int
    title: str
    category_name: str
    category_slug: str
    one_off_price: Decimal
    monthly_price: Decimal
    requires_approval: bool
    max_quantity: int
    orderable: bool
    service_level_name: str
    support_hours: str
    response_target_hours: Decimal | None
    resolution_target_hours: Decimal | None
    internal_resolution_target_hours: Decimal | None
    window: tuple[int, int] | None
    fulfilment_group_id: int | None
    fulfilment_group_name: str
    questions: list[_Question]
    weight: float
    base_lateness: float
    target: float  # resolution target on the level's clock, in hours
    response: float
    usual: float  # the catalog's delivery promise on the same clock, in hours


@dataclass
class _Person:
    user: object
    department_id: int
    cost_centre_id: int
    cost_centre_code: str
    manager: object | None
    orders_for_others: bool
    weight: float
    services: tuple[int, ...] = ()
    cumulative: tuple[float, ...] = ()


@dataclass
class _Step:
    at: int
    to_state: str
    actor: object | None
    note: str = ""


@dataclass
class _PlannedItem:
    item: RequestItem
    initial: str
    steps: list[_Step]


@dataclass
class _PlannedRequest:
    request: ServiceRequest
    cost_centre_code: str
    items: list[_PlannedItem]
    comments: list[_Step] = field(default_factory=list)


class _Calendar:
    """Local wall-clock arithmetic on epoch seconds, for working hours.

    Offsets are cached per hour, so a daylight-saving change is honoured without a
    time-zone lookup per call; ordering is always by the epoch value itself.
    """

    def __init__(self, tz):
        self.tz = tz
        self._offsets: dict[int, float] = {}

    def offset(self, ts: float) -> float:
        hour = int(ts // HOUR)
        offset = self._offsets.get(hour)
        if offset is None:
            moment = datetime.fromtimestamp(hour * HOUR, self.tz)
            offset = moment.utcoffset().total_seconds()
            self._offsets[hour] = offset
        return offset

    def local_date(self, ts: float) -> date:
        return date.fromordinal(719163 + int((ts + self.offset(ts)) // DAY))

    def advance(self, ts: float, hours: float, window) -> float:
        """The moment ``hours`` of open time after ``ts``, on ``window``'s clock."""
        if window is None:
            return ts + hours * HOUR
        start, end = window[0] * HOUR, window[1] * HOUR
        remaining = hours * HOUR
        t = ts
        while True:
            day, second = divmod(t + self.offset(t), DAY)
            if (int(day) + 3) % 7 >= 5 or second >= end:  # weekend or after hours
                t += DAY - second + start
            elif second < start:
                t += start - second
            elif remaining <= end - second:
                return t + remaining
            else:
                remaining -= end - second
                t += end - second


def history_generate(
    *,
    requests: int | None = None,
    items: int | None = None,
    months: int = 13,
    seed: int | None = None,
    batch_size: int = 2000,
    people: int = 200,
    progress: Callable[[int, int, int], None] | None = None,
) -> HistorySummary:
    """Add ``requests`` requests, or as many as make exactly ``items`` items.

    Needs the demo catalog (``catalog.demo.loader.load_demo``). Running it again adds
    more history; the demo people it creates are reused. ``progress`` is called
    after each batch with (requests done, requests planned, items done).
    """
    if (requests is None) == (items is None):
        raise ValueError("Give either requests or items.")
    if (requests or items or 0) < 1 or months < 1 or batch_size < 1:
        raise ValueError("requests, items, months and batch_size must be positive.")
    started = timezone.now()
    rng = random.Random(seed)
    calendar = _Calendar(timezone.get_default_timezone())
    people_created = demo_people_ensure(count=people, rng=rng)
    services = _load_services()
    if not services:
        raise ValueError("There are no services: load the demo catalog first.")
    persons = _load_people(services)
    teams = _load_teams()
    counts = _item_counts(rng, requests=requests, items=items)
    now = started.timestamp()
    start = now - months * 30.4375 * DAY
    times = _submission_times(rng, calendar, start=start, end=now, n=len(counts))
    builder = _Builder(
        rng=rng,
        calendar=calendar,
        services=services,
        persons=persons,
        teams=teams,
        start=start,
        now=now,
    )
    done_requests = done_items = done_events = 0
    for first in range(0, len(counts), batch_size):
        batch = [
            builder.plan_request(at=times[i], size=counts[i])
            for i in range(first, min(first + batch_size, len(counts)))
        ]
        with transaction.atomic():
            done_events += _write(batch)
        done_requests += len(batch)
        done_items += sum(len(planned.items) for planned in batch)
        reset_queries()  # with DEBUG on, Django would keep every INSERT in memory
        if progress is not None:
            progress(done_requests, len(counts), done_items)
    return HistorySummary(
        requests=done_requests,
        items=done_items,
        events=done_events,
        people_created=people_created,
        seconds=(timezone.now() - started).total_seconds(),
    )


# --- The demo people -------------------------------------------------------------


def demo_people_ensure(*, count: int, rng: random.Random) -> int:
    """Make sure ``count`` demo employees and a few fulfillers exist.

    They get an unusable password: nobody signs in as them. Returns how many
    people were created.
    """
    User = get_user_model()
    departments = list(Department.objects.order_by("pk"))
    locations = list(Location.objects.order_by("pk"))
    if not departments or not locations:
        return 0
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_GROUPS)}
    wanted = [f"demo.person{n:03d}" for n in range(1, count + 1)]
    wanted += [f"demo.fulfiller{n:02d}" for n in range(1, len(FULFILLER_TEAMS) + 1)]
    existing = set(
        User.objects.filter(username__in=wanted).values_list("username", flat=True)
    )
    missing = [name for name in wanted if name not in existing]
    if not missing:
        return 0
    unusable = make_password(None)
    executive = User.objects.filter(username="executive").first()
    it = next((d for d in departments if d.name == "IT"), departments[0])
    office = [loc for loc in locations if loc.name in ("Manchester", "London HQ")]
    dept_weights = [DEPARTMENT_WEIGHTS.get(d.name, 10) for d in departments]
    loc_weights = [LOCATION_WEIGHTS.get(loc.name, 10) for loc in locations]
    users, specs = [], []
    for username in missing:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        users.append(
            User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                password=unusable,
            )
        )
        if username.startswith("demo.fulfiller"):
            index = int(username.removeprefix("demo.fulfiller")) - 1
            teams = FULFILLER_TEAMS[index % len(FULFILLER_TEAMS)]
            specs.append(("fulfiller", it, rng.choice(office or locations), teams))
        else:
            department = rng.choices(departments, dept_weights)[0]
            location = rng.choices(locations, loc_weights)[0]
            specs.append(("employee", department, location, ()))
    User.objects.bulk_create(users)
    # One in eight employees leads a team in their department.
    leads: dict[int, list] = {}
    for user, (kind, department, _, _) in zip(users, specs, strict=True):
        if kind == "employee" and (department.pk not in leads or rng.random() < 1 / 8):
            leads.setdefault(department.pk, []).append(user)
    is_lead = {u.pk for team_leads in leads.values() for u in team_leads}
    profiles, memberships, team_members = [], [], []
    Membership = User.groups.through
    TeamMember = FulfilmentGroup.members.through
    team_ids = dict(FulfilmentGroup.objects.values_list("name", "pk"))
    for user, (kind, department, location, teams) in zip(users, specs, strict=True):
        if kind == "fulfiller":
            title, roles = "Service desk analyst", ["Fulfillers"]
            manager = rng.choice(leads.get(department.pk) or [executive])
            team_members += [
                TeamMember(fulfilmentgroup_id=team_ids[name], user_id=user.pk)
                for name in teams
                if name in team_ids
            ]
        elif user.pk in is_lead:
            title, manager, roles = MANAGER_TITLE, executive, ["Managers"]
        else:
            title = rng.choice(JOB_TITLES.get(department.name, ["Specialist"]))
            manager, roles = rng.choice(leads[department.pk]), []
        profiles.append(
            UserProfile(
                user=user,
                department=department,
                location=location,
                manager=manager,
                job_title=title,
            )
        )
        memberships += [
            Membership(user_id=user.pk, group_id=groups[name].pk)
            for name in ["Employees", *roles]
            if name in groups
        ]
    UserProfile.objects.bulk_create(profiles)
    Membership.objects.bulk_create(memberships, ignore_conflicts=True)
    TeamMember.objects.bulk_create(team_members, ignore_conflicts=True)
    return len(users)


# --- What can be ordered, and by whom ---------------------------------------------


def _hours(value) -> float | None:
    return float(value) if value is not None else None


def _load_services() -> dict[int, _Service]:
    pages = list(
        ServicePage.objects.live()
        .select_related("service_level", "fulfilment_group")
        .order_by("path")
    )
    parent_paths = {page.path[: -ServicePage.steplen] for page in pages}
    parents = {
        path: (title, slug)
        for path, title, slug in Page.objects.filter(path__in=parent_paths).values_list(
            "path", "title", "slug"
        )
    }
    services = {}
    for page in pages:
        level, group = page.service_level, page.fulfilment_group
        category_name, category_slug = parents.get(
            page.path[: -ServicePage.steplen], ("", "")
        )
        hours = level.support_hours if level else "business"
        window = WINDOWS.get(hours, WINDOWS["business"])
        day_length = (window[1] - window[0]) if window else 24
        # "0 days" means the same working day: a couple of hours.
        usual = page.delivery_days * day_length if page.delivery_days else 2.0
        target = _hours(level.resolution_target_hours) if level else usual * 1.2
        services[page.pk] = _Service(
            pk=page.pk,
            title=page.title,
            category_name=category_name,
            category_slug=category_slug,
            one_off_price=page.one_off_price,
            monthly_price=page.monthly_price,
            requires_approval=page.requires_approval,
            max_quantity=max(page.max_quantity, 1),
            orderable=page.orderable,
            **RequestItem.service_level_snapshot(level),
            window=window,
            fulfilment_group_id=group.pk if group else None,
            fulfilment_group_name=group.name if group else "",
            questions=_questions(page),
            weight=POPULARITY.get(page.title, 1.0)
            * (3.0 if page.title in SEASONAL else 1.0),
            base_lateness=0.3 if usual > target else 0.08,
            target=target,
            response=_hours(level.response_target_hours) if level else 4.0,
            usual=usual,
        )
    return services


def _questions(page: ServicePage) -> list[_Question]:
    questions = []
    for child in page.request_form:
        spec = dict(child.value)
        if "choices" in spec:
            spec["choices"] = [str(choice) for choice in spec["choices"]]
        questions.append(
            _Question(
                key=child.id,
                label=spec["label"],
                type=child.block_type,
                required=bool(spec.get("required")),
                spec=spec,
            )
        )
    return questions


def _load_people(services: dict[int, _Service]) -> list[_Person]:
    """Everyone with a department, with the services they are entitled to.

    Entitlement depends only on department, location and groups, so
    ``visible_services`` is asked once per combination of those.
    """
    User = get_user_model()
    profiles = list(
        UserProfile.objects.filter(
            department__isnull=False, user__is_active=True
        ).select_related("user", "department__cost_centre", "manager")
    )
    group_ids: dict[int, set[int]] = {}
    for user_id, group_id in User.groups.through.objects.filter(
        user_id__in=[p.user_id for p in profiles]
    ).values_list("user_id", "group_id"):
        group_ids.setdefault(user_id, set()).add(group_id)
    on_behalf_groups = set(
        Group.objects.filter(permissions__codename="order_on_behalf").values_list(
            "pk", flat=True
        )
    )
    visible_by_audience: dict[tuple, tuple[int, ...]] = {}
    persons = []
    for profile in sorted(profiles, key=lambda p: p.user_id):
        groups = frozenset(group_ids.get(profile.user_id, ()))
        audience = (profile.department_id, profile.location_id, groups)
        if audience not in visible_by_audience:
            visible_by_audience[audience] = tuple(
                pk
                for pk in visible_services(user=profile.user)
                .order_by("path")
                .values_list("pk", flat=True)
                if pk in services
            )
        visible = visible_by_audience[audience]
        if not visible:
            continue
        username = profile.user.get_username()
        weight = 3.0 if username in ("employee", "manager") else 1.0
        persons.append(
            _Person(
                user=profile.user,
                department_id=profile.department_id,
                cost_centre_id=profile.department.cost_centre_id,
                cost_centre_code=profile.department.cost_centre.code,
                manager=profile.manager,
                orders_for_others=profile.user.is_superuser
                or bool(groups & on_behalf_groups),
                weight=weight,
                services=visible,
                cumulative=_cumulative(services[pk].weight for pk in visible),
            )
        )
    return persons


def _cumulative(weights) -> tuple[float, ...]:
    total, result = 0.0, []
    for weight in weights:
        total += weight
        result.append(total)
    return tuple(result)


def _load_teams() -> dict[int | None, list]:
    """Fulfillers by fulfilment group; ``None`` holds everyone who works requests."""
    User = get_user_model()
    everyone = list(
        User.objects.filter(is_active=True, groups__name="Fulfillers")
        .distinct()
        .order_by("pk")
    )
    teams: dict[int | None, list] = {None: everyone}
    by_pk = {user.pk: user for user in everyone}
    for group_id, user_id in FulfilmentGroup.members.through.objects.values_list(
        "fulfilmentgroup_id", "user_id"
    ).order_by("user_id"):
        if user_id in by_pk:
            teams.setdefault(group_id, []).append(by_pk[user_id])
    return teams


# --- When requests arrive ----------------------------------------------------------


def _item_counts(rng, *, requests: int | None, items: int | None) -> list[int]:
    sizes = range(1, len(ITEM_COUNT_WEIGHTS) + 1)
    if requests is not None:
        return rng.choices(sizes, ITEM_COUNT_WEIGHTS, k=requests)
    counts, total = [], 0
    while total < items:
        size = min(rng.choices(sizes, ITEM_COUNT_WEIGHTS)[0], items - total)
        counts.append(size)
        total += size
    return counts


def _submission_times(rng, calendar, *, start: float, end: float, n: int) -> list:
    """``n`` sorted moments between start and end, busier on working days and hours,
    in a growing, seasonal pattern.

    Stratified sampling: the i-th request falls in the i-th n-quantile of the
    weighted hours, so even a small history covers the whole period.
    """
    slots, cumulative, total = [], [], 0.0
    hour = math.floor(start / HOUR) * HOUR
    span = end - start
    while hour < end:
        local = hour + calendar.offset(hour)
        day = date.fromordinal(719163 + int(local // DAY))
        weight = (
            HOUR_VOLUME[int(local % DAY // HOUR)]
            * WEEKDAY_VOLUME[day.weekday()]
            * MONTH_VOLUME[day.month]
            * (0.05 if (day.month, day.day) in HOLIDAYS else 1.0)
            * (0.75 + 0.5 * (hour - start) / span)
        )
        total += weight
        slots.append(hour)
        cumulative.append(total)
        hour += HOUR
    times = []
    for i in range(n):
        target = (i + rng.random()) / n * total
        slot = min(bisect.bisect_left(cumulative, target), len(slots) - 1)
        moment = slots[slot] + rng.random() * HOUR
        times.append(int(min(max(moment, start), end)))
    times.sort()
    return times


# --- One request, planned ------------------------------------------------------------


class _Builder:
    """Plans requests one at a time: who orders what, and what happens to it."""

    def __init__(self, *, rng, calendar, services, persons, teams, start, now):
        self.rng = rng
        self.calendar = calendar
        self.services = services
        self.persons = persons
        self.person_cumulative = _cumulative(p.weight for p in persons)
        self.teams = teams
        self.start = start
        self.now = now
        self.currency = settings.CATALOG_CURRENCY
        self.persons_by_user = {p.user.pk: p for p in persons}
        self._shared: dict[tuple[int, int], tuple] = {}
        # Who approves for people without a manager: the demo COO, if there is one.
        self.approver = next(
            (p.user for p in persons if p.user.get_username() == "executive"), None
        )

    # Who, and what

    def _person(self) -> _Person:
        return self.rng.choices(self.persons, cum_weights=self.person_cumulative)[0]

    def _orderer(self, person: _Person) -> _Person:
        """Usually the person; sometimes their manager, on their behalf."""
        manager = person.manager
        if manager is None or self.rng.random() >= ON_BEHALF_SHARE:
            return person
        boss = self.persons_by_user.get(manager.pk)
        if boss is None or not boss.orders_for_others:
            return person
        return boss

    def _catalog_for(self, person: _Person, orderer: _Person):
        """What both the person and whoever orders for them may see."""
        if orderer is person:
            return person.services, person.cumulative
        key = (person.user.pk, orderer.user.pk)
        if key not in self._shared:
            allowed = set(orderer.services)
            shared = tuple(pk for pk in person.services if pk in allowed)
            self._shared[key] = (
                shared,
                _cumulative(self.services[pk].weight for pk in shared),
            )
        return self._shared[key]

    def _pick_services(self, person, orderer, size: int, at: int) -> list[_Service]:
        ids, cumulative = self._catalog_for(person, orderer)
        if not ids:
            ids, cumulative = person.services, person.cumulative
        month = self.calendar.local_date(at).month
        recent = at > self.now - SUSPENDED_FOR_DAYS * DAY
        chosen: list[_Service] = []
        for _ in range(size * 12):
            if len(chosen) == size:
                break
            pk = self.rng.choices(ids, cum_weights=cumulative)[0]
            service = self.services[pk]
            if service in chosen or (recent and not service.orderable):
                continue
            season = SEASONAL.get(service.title)
            if season and self.rng.random() * 3.0 > season.get(month, 1.0):
                continue
            chosen.append(service)
        for pk in ids:  # unlucky draws: fill up, so --items comes out exact
            if len(chosen) == size:
                break
            service = self.services[pk]
            if service not in chosen and (service.orderable or not recent):
                chosen.append(service)
        return chosen or [self.services[ids[0]]]

    # The request

    def plan_request(self, *, at: int, size: int) -> _PlannedRequest:
        rng = self.rng
        person = self._person()
        orderer = self._orderer(person)
        chosen = self._pick_services(person, orderer, size, at)
        created = datetime.fromtimestamp(at, UTC)
        category = chosen[0].category_slug
        request = ServiceRequest(
            requested_by=orderer.user,
            requested_for=person.user,
            cost_centre_id=person.cost_centre_id,
            department_id=person.department_id,
            business_reason=rng.choice(REASONS.get(category, GENERAL_REASONS)),
            currency=self.currency,
            submitted_at=created,
        )
        approver = person.manager or orderer.manager or self.approver
        if approver is not None and approver.pk == person.user.pk:
            approver = None  # nobody approves their own request: IT does
        # A manager approves a request in one sitting, usually within hours.
        approval_hours = rng.lognormvariate(math.log(3), 0.9)
        planned = []
        for line, service in enumerate(chosen, start=1):
            quantity = 1
            if service.max_quantity > 1 and rng.random() > QUANTITY_ONE_SHARE:
                quantity = rng.randint(2, service.max_quantity)
            item = RequestItem(
                line_number=line,
                service_id=service.pk,
                service_name=service.title,
                category_name=service.category_name,
                quantity=quantity,
                one_off_price=service.one_off_price,
                monthly_price=service.monthly_price,
                currency=self.currency,
                requires_approval=service.requires_approval,
                answers=self._answers(service, at),
                **{
                    name: getattr(service, name)
                    for name in RequestItem.SERVICE_LEVEL_FIELDS
                },
                fulfilment_group_id=service.fulfilment_group_id,
                fulfilment_group_name=service.fulfilment_group_name,
                created_at=created,
            )
            steps = self._plan_item(
                service,
                at=at,
                requester=orderer.user,
                approver=approver,
                approval_hours=approval_hours,
            )
            steps = [step for step in steps if step.at <= self.now]
            initial = _apply(item, steps, created=created)
            planned.append(_PlannedItem(item=item, initial=initial, steps=steps))
        result = _PlannedRequest(
            request=request, cost_centre_code=person.cost_centre_code, items=planned
        )
        if rng.random() < COMMENT_SHARE:
            result.comments = self._comments(result, at=at, requester=orderer.user)
        return result

    def _comments(self, planned: _PlannedRequest, *, at: int, requester) -> list:
        rng = self.rng
        last = max([at + HOUR] + [s.at for p in planned.items for s in p.steps])
        fulfillers = [p.item.assigned_to for p in planned.items if p.item.assigned_to]
        comments = []
        for _ in range(rng.choice((1, 1, 2))):
            moment = int(at + rng.random() * (last - at))
            if moment > self.now:
                continue
            if fulfillers and rng.random() < 0.5:
                actor, note = rng.choice(fulfillers), rng.choice(COMMENTS_BY_FULFILLER)
            else:
                actor, note = requester, rng.choice(COMMENTS_BY_REQUESTER)
            comments.append(_Step(at=moment, to_state="", actor=actor, note=note))
        return sorted(comments, key=lambda c: c.at)

    # One item's path through the states

    def _lateness(self, service: _Service, at: int) -> float:
        month = self.calendar.local_date(at).month
        progress = (at - self.start) / (self.now - self.start)
        return min(
            0.9,
            service.base_lateness
            * MONTH_LATENESS.get(month, 1.0)
            * TEAM_LATENESS.get(service.fulfilment_group_name, 1.0)
            * (1.25 - 0.5 * progress),
        )

    def _plan_item(
        self, service: _Service, *, at: int, requester, approver, approval_hours
    ):
        """Every move this item will make, in order, including future ones.

        Times on the service level's clock are hours after submission (``spent``),
        turned into moments by the calendar. Moves after "now" are cut off later.
        """
        rng, window = self.rng, service.window

        def moment(hours: float) -> int:
            return int(self.calendar.advance(at, hours, window))

        def wall(start: int, hours: float) -> int:
            return int(start + hours * HOUR)

        target = service.target
        team = self.teams.get(service.fulfilment_group_id) or self.teams.get(None)
        worker = rng.choice(team) if team else None
        steps: list[_Step] = []
        spent = 0.0
        if service.requires_approval:
            approver = approver or worker
            spent = min(approval_hours, target * 0.4)
            roll = rng.random()
            if roll < 0.04:
                cancel_at = wall(at, rng.uniform(0.1, 1) * max(spent, 1))
                return [
                    _Step(cancel_at, S.CANCELLED, requester, rng.choice(CANCEL_NOTES))
                ]
            if roll < 0.12:
                rejected = moment(spent)
                steps.append(
                    _Step(rejected, S.REJECTED, approver, rng.choice(REJECT_NOTES))
                )
                if rng.random() < 0.25:  # some teams tidy rejected items away
                    closed = wall(rejected, rng.uniform(20, 50))
                    steps.append(_Step(closed, S.CLOSED, None, CLOSE_REJECTED))
                return steps
            steps.append(_Step(moment(spent), S.APPROVED, approver))
        elif rng.random() < 0.03:
            cancel_at = wall(at, rng.uniform(0.1, 6))
            return [_Step(cancel_at, S.CANCELLED, requester, rng.choice(CANCEL_NOTES))]

        late = rng.random() < self._lateness(service, at)
        if late:
            stretch = (
                rng.uniform(1.05, 1.8) if rng.random() < 0.9 else rng.uniform(1.8, 4)
            )
            done = target * stretch
        else:
            mode = min(max(service.usual / target, 0.2), 0.9)
            done = target * rng.triangular(0.1, 0.98, mode)
        done = max(done, spent + 0.25)
        pickup = spent + min(
            service.response * rng.uniform(0.05, 1.0), (done - spent) * 0.4
        )
        if steps and rng.random() < 0.02:  # approved, then withdrawn before work
            cancel_at = moment(spent + (pickup - spent) * rng.random())
            steps.append(
                _Step(cancel_at, S.CANCELLED, requester, rng.choice(CANCEL_NOTES))
            )
            return steps
        steps.append(_Step(moment(pickup), S.IN_PROGRESS, worker))

        if rng.random() < (0.35 if late else 0.07):  # waiting for parts, or for them
            hold_from = pickup + (done - pickup) * rng.uniform(0.2, 0.6)
            if late:
                length = (
                    rng.uniform(3, 30) if rng.random() < 0.95 else rng.uniform(150, 900)
                )
                done += length
            else:
                length = (done - hold_from) * rng.uniform(0.2, 0.6)
            steps.append(
                _Step(moment(hold_from), S.ON_HOLD, worker, rng.choice(HOLD_NOTES))
            )
            steps.append(_Step(moment(hold_from + length), S.IN_PROGRESS, worker))
            pickup = hold_from + length  # nothing below may come before this
        if rng.random() < 0.02:
            cancel_at = moment(pickup + (done - pickup) * rng.uniform(0.3, 0.9))
            steps.append(_Step(cancel_at, S.CANCELLED, worker, CANCELLED_BY_IT))
            return steps
        delivered = moment(done)
        steps.append(_Step(delivered, S.FULFILLED, worker))
        if rng.random() < 0.03:
            reopened = wall(delivered, rng.uniform(2, 72))
            delivered = int(self.calendar.advance(reopened, rng.uniform(1, 8), window))
            steps.append(_Step(reopened, S.IN_PROGRESS, worker, REOPEN_NOTE))
            steps.append(_Step(delivered, S.FULFILLED, worker))
        steps.append(
            _Step(
                wall(delivered, AUTO_CLOSE_DAYS * 24), S.CLOSED, None, CLOSE_DELIVERED
            )
        )
        return steps

    # Answers in the stored format (catalog.forms.Answer.to_json)

    def _answers(self, service: _Service, at: int) -> list[dict]:
        if not service.questions:
            return []
        day = self.calendar.local_date(at)
        answers, dates = [], {}
        for question in service.questions:
            if not question.required and self.rng.random() < 0.4:
                value = [] if question.type == "multiple_choice" else None
            else:
                value = self._answer(question, day, dates)
            answers.append(
                {
                    "key": question.key,
                    "label": question.label,
                    "type": question.type,
                    "value": value.isoformat() if isinstance(value, date) else value,
                    "display": _display(question.type, value),
                }
            )
        return answers

    def _answer(self, question: _Question, day: date, dates: dict):
        rng, label, spec = self.rng, question.label, question.spec
        kind = question.type
        if kind == "yes_no":
            return rng.random() < 0.6
        if kind == "single_choice":
            return rng.choice(spec.get("choices") or ["Other"])
        if kind == "multiple_choice":
            choices = spec.get("choices") or ["Other"]
            return rng.sample(choices, rng.randint(1, len(choices)))
        if kind == "number":
            low = spec.get("min_value") or 1
            high = spec.get("max_value") or max(low, 10)
            return rng.randint(low, min(high, low + 20))
        if kind == "date":
            if "lose" in label:
                value = day - timedelta(days=rng.randint(0, 2))
            elif label == "Until" and "From" in dates:
                value = dates["From"] + timedelta(days=rng.randint(3, 14))
            elif "ends" in label:
                value = day + timedelta(days=rng.randint(30, 180))
            else:
                value = day + timedelta(days=rng.randint(3, 30))
            dates[label] = value
            return value
        if kind == "long_text":
            if label == "What happened?":
                return rng.choice(INCIDENTS)
            if label == "Who should have access?":
                return ", ".join(_full_name(rng) for _ in range(rng.randint(2, 4)))
            return rng.choice(GENERAL_REASONS)
        return _short_text(rng, label)


def _short_text(rng, label: str) -> str:
    if label == "Asset tag":
        return f"IT-{rng.randint(1000, 99999):05d}"
    if label == "Desk number":
        return f"{rng.randint(1, 6)}.{rng.randint(1, 60):02d}"
    if label == "Which countries?":
        return ", ".join(rng.sample(COUNTRIES, rng.randint(1, 2)))
    if (
        "name" in label.lower()
        and "team" not in label.lower()
        and "room" not in (label.lower())
    ):
        return _full_name(rng)
    if label == "Their company":
        return rng.choice(COMPANIES)
    if label == "Address you'd like":
        box = rng.choice(["invoices", "support", "events", "orders", "press"])
        return f"{box}@example.com"
    if label == "Team name":
        return rng.choice(TEAM_NAMES)
    if label == "Which folder?":
        return rf"\\files\{rng.choice(['finance', 'sales', 'hr', 'projects'])}\shared"
    if label == "Which program?":
        return rng.choice(PROGRAMS)
    if label in ("Room name", "New desk or room"):
        return rng.choice(ROOMS)
    if label == "Job title":
        return rng.choice([t for titles in JOB_TITLES.values() for t in titles])
    return "As discussed with the service desk."


def _full_name(rng) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _display(kind: str, value) -> str:
    """As ``catalog.forms.Answer.display`` shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if kind == "yes_no":
        return "Yes" if value else "No"
    if kind == "multiple_choice":
        return ", ".join(value)
    if kind == "date":
        return f"{value.day} {value.strftime('%B %Y')}"
    return str(value)


def _apply(item: RequestItem, steps: list[_Step], *, created: datetime) -> str:
    """Walk the item through its (already cut) steps, as ``item_transition`` would,
    except that a closed item keeps the time it was delivered."""
    state = S.AWAITING_APPROVAL if item.requires_approval else S.SUBMITTED
    initial = state
    item.status_changed_at = created
    item.fulfilled_at = None
    item.assigned_to = None
    for step in steps:
        if step.to_state not in ALLOWED_TRANSITIONS[state]:
            raise AssertionError(f"planned a move from {state} to {step.to_state}")
        moment = datetime.fromtimestamp(step.at, UTC)
        if step.to_state == S.FULFILLED:
            item.fulfilled_at = moment
        elif state == S.FULFILLED and step.to_state == S.IN_PROGRESS:
            item.fulfilled_at = None
        if step.to_state == S.IN_PROGRESS and item.assigned_to is None:
            item.assigned_to = step.actor
        state = step.to_state
        item.status_changed_at = moment
    item.status = state
    return initial


# --- Writing ------------------------------------------------------------------------


def _write(batch: list[_PlannedRequest]) -> int:
    ServiceRequest.objects.bulk_create([p.request for p in batch])
    items = []
    for planned in batch:
        for p in planned.items:
            p.item.request_id = planned.request.pk
            items.append(p.item)
    RequestItem.objects.bulk_create(items)
    events = []
    for planned in batch:
        events += _events(planned)
    RequestEvent.objects.bulk_create(events, batch_size=5000)
    return len(events)


def _events(planned: _PlannedRequest) -> list:
    """The request's log in time order: submitted, items created, then every move
    and comment as it happened."""
    request = planned.request
    at = request.submitted_at
    one_off = sum(
        (p.item.one_off_price * p.item.quantity for p in planned.items), Decimal("0")
    )
    monthly = sum(
        (p.item.monthly_price * p.item.quantity for p in planned.items), Decimal("0")
    )
    entries = [
        (
            at,
            dict(
                name="request.submitted",
                actor=request.requested_by,
                note=request.business_reason,
                data={
                    "requested_for": request.requested_for.get_username(),
                    "cost_centre": planned.cost_centre_code,
                    "items": len(planned.items),
                    "one_off_total": str(one_off),
                    "monthly_total": str(monthly),
                    "currency": request.currency,
                    "on_behalf": request.requested_for_id != request.requested_by_id,
                },
            ),
        )
    ]
    for p in planned.items:
        item = p.item
        entries.append(
            (
                at,
                dict(
                    name="item.created",
                    actor=request.requested_by,
                    item_id=item.pk,
                    to_state=p.initial,
                    data={
                        "service": item.service_name,
                        "quantity": item.quantity,
                        "one_off_price": str(item.one_off_price),
                        "monthly_price": str(item.monthly_price),
                        "answers": item.answers,
                        "service_level": item.service_level_name,
                    },
                ),
            )
        )
    moves = []
    for p in planned.items:
        from_state = p.initial
        for step in p.steps:
            moves.append(
                (
                    datetime.fromtimestamp(step.at, UTC),
                    dict(
                        name="item.status_changed",
                        actor=step.actor,
                        item_id=p.item.pk,
                        from_state=from_state,
                        to_state=step.to_state,
                        note=step.note,
                    ),
                )
            )
            from_state = step.to_state
    for comment in planned.comments:
        moves.append(
            (
                datetime.fromtimestamp(comment.at, UTC),
                dict(name="request.commented", actor=comment.actor, note=comment.note),
            )
        )
    moves.sort(key=lambda entry: entry[0])  # stable: an item's own order is kept
    events, previous = [], GENESIS
    for sequence, (moment, fields) in enumerate(entries + moves, start=1):
        event = event_build(
            request_id=request.pk,
            sequence=sequence,
            previous_hash=previous,
            at=moment,
            **fields,
        )
        events.append(event)
        previous = event.hash
    return events
