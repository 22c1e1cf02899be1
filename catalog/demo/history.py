"""Demo history: months of service requests, their approvals, work and log, in bulk.

Reports need something real to show, and benchmarks need volume, so this writes
requests exactly as the live services would have written them, had people done
those things at those times:

- items copy the service as checkout does: its targets, the fulfilment group's
  internal targets and the current version of the service level's calendar;
- the approval policy (``plan_item_steps``) decides each item's steps; approvers
  are asked, reminded and escalated to their own manager when the scheduled check
  would have done it, and decide (a rejection always says why);
- fulfillers assign, start, comment, put items on hold for a real hold reason and
  deliver with a resolution note; the requester rates a delivered item, or it
  closes itself when the rating window ends;
- the scheduled check's own events (an item at risk, a target breached) are
  written at its five-minute run after the moment passed, if the item was still
  open then;
- every item's service-level figures come from ``catalog.clock`` on the item's
  log, so ``manage.py rebuild_service_levels`` finds nothing to change.

Each item's life is a ``Story`` (what happens, and after how many hours), played
out against the calendars up to "now": what a story plans after now has not
happened yet, so recent items are still open. Most stories are random (lateness
depends on the service, its team and the season); the named demo users get a
fixed set of recent ones (``catalog.demo.curated``), played out the same way.

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

from catalog.business_time import BusinessClock
from catalog.clock import ItemFigures, Targets, item_figures
from catalog.models import (
    ALLOWED_TRANSITIONS,
    QUEUE_STATES,
    ApprovalStep,
    CostCentre,
    Department,
    FulfilmentGroup,
    HoldReason,
    ItemStatus,
    Location,
    RequestEvent,
    RequestItem,
    ServiceDeskSettings,
    ServicePage,
    ServiceRequest,
    UserProfile,
)
from catalog.models.requests import NOT_STARTED
from catalog.selectors.entitlements import visible_services
from catalog.selectors.people import display_name
from catalog.services.approvals import (
    cost_centre_reasons,
    first_eligible,
    plan_item_steps,
    step_event_data,
)
from catalog.services.checkout import item_created_data
from catalog.services.fulfilment import (
    assignment_event_data,
    auto_close_note,
    hold_event_data,
)
from catalog.services.reporting import reporting_rebuild
from catalog.services.request_log import (
    GENESIS,
    event_build,
    heads_bulk_set,
    request_snapshot,
)
from catalog.services.service_levels import calendar_current_version, clock_for_spec
from catalog.services.sweep import MARKS

ST = ApprovalStep.Status
HOUR = 3600.0
DAY = 86400.0
WAIT = math.inf  # a decision that has not been taken (yet)

# The scheduled check runs every five minutes, on the clock's five-minute marks.
CHECK_EVERY = timedelta(minutes=5)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CHECK_US = CHECK_EVERY // _MICROSECOND
# Order of events logged at the same moment: what people did, then the check's
# steps in the order it takes them (items' due times, reminders, escalations,
# closing delivered items).
PEOPLE, CHECK_ITEMS, CHECK_REMINDERS, CHECK_ESCALATIONS, CHECK_CLOSING = range(5)

# With fewer requests than this, the named users' recent history is left out (it
# would crowd out everything else).
CURATED_MINIMUM_REQUESTS = 100
CURATED_MINIMUM_ITEMS = 150
# The demo people the named users are: rarely picked at random, so that their own
# history stays readable.
NAMED_WEIGHT = 0.3
NAMED_FULFILLER_WEIGHT = 0.15
RATED_SHARE = 0.45
# Usually on time, but people don't like what they get.
PUNCTUAL_BUT_UNLOVED = {"Mobile phone"}
# How many items a request has: 1 to 4, about 1.67 on average.
ITEM_COUNT_WEIGHTS = (55, 28, 12, 5)
QUANTITY_ONE_SHARE = 0.85
ON_BEHALF_SHARE = 0.08
COMMENT_SHARE = 0.12
# Services that can no longer be ordered were orderable until about this long ago.
SUSPENDED_FOR_DAYS = 60

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
    # Free-text requests, which no figure in the reports can group.
    "Something else": 0,
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
ROLE_GROUPS = ("Employee", "Approver", "Fulfiller")
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
PICKUP_COMMENTS = [
    "Thanks, we've got this and will start on it shortly.",
    "We've picked this up; we'll be in touch if we need anything.",
]
WORK_NOTES = [
    "Checked stock: one left in the store room.",
    "Asked the supplier for a delivery date.",
    "Licence requested from the vendor portal.",
    "Tested on a spare machine first; works.",
    "Group membership change is queued for tonight's sync.",
]
# What fulfillers write when they put an item on hold, by hold reason (the
# requester reads it; a reason that needs the requester to act always has one).
HOLD_NOTES = {
    "Waiting for the requester": [
        "Please confirm your desk number.",
        "Which office should we deliver it to?",
        "Please bring your old laptop to the service desk so we can copy your files.",
        "Please tell us the full path of the folder you need.",
    ],
    "Waiting for a supplier": [
        "Out of stock at the supplier; back in stock next week.",
        "Ordered from the supplier; delivery expected within three working days.",
        "Waiting for the licence key from the supplier.",
    ],
    "Scheduled with the requester": [
        "We'll set it up on the day we agreed with you.",
        "Booked for your first day in the new office.",
    ],
    "Waiting for another IT team": [
        "The network team has to open a port first.",
        "The identity team is creating the account.",
    ],
}
OTHER_HOLD_NOTE = "On hold for now; we'll update you here."
# How likely each hold reason is, by service category (others: the default row).
HOLD_WEIGHTS = {
    "computers": {"Waiting for a supplier": 5, "Waiting for the requester": 3,
                  "Scheduled with the requester": 1, "Waiting for another IT team": 1},
    "phones": {"Waiting for a supplier": 5, "Waiting for the requester": 3,
               "Waiting for another IT team": 1},
    "people": {"Scheduled with the requester": 4, "Waiting for a supplier": 2,
               "Waiting for the requester": 2, "Waiting for another IT team": 1},
    None: {"Waiting for the requester": 4, "Waiting for another IT team": 3,
           "Waiting for a supplier": 1, "Scheduled with the requester": 1},
}  # fmt: skip
REPLIES = [
    "My desk is 3.14 on the third floor.",
    "The Manchester office, please.",
    "I'll bring it down this afternoon.",
    "It's \\\\files\\sales\\reports\\monthly.",
]
RESOLUTION_NOTES = {
    "computers": [
        "Delivered to your desk.",
        "Set up and delivered to your desk; your files are copied across.",
        "Ready for you to collect at the service desk.",
    ],
    "phones": [
        "Delivered to your desk, set up with your work account.",
        "Ready for you to collect at the service desk.",
    ],
    "accounts": [
        "Done: you can sign in again.",
        "Set up: the details are in your e-mail.",
    ],
    "access": [
        "Access granted: sign out and back in to use it.",
        "Done: it works from your next sign-in.",
    ],
    "email": [
        "Done: it shows in Outlook within the hour.",
        "Set up as requested.",
    ],
    "software": [
        "Installed remotely; restart your computer to finish.",
        "Licence assigned: sign in to the app to start using it.",
    ],
    "meetings": ["Installed and tested in the room.", "Done as requested."],
    "people": ["Done as requested.", "Everything is ready for the agreed day."],
}
GENERAL_RESOLUTION = "Done as requested."
REDELIVERED_NOTE = "Fixed and checked with you: it works now."
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
RATED_NOTE = "Closed after the requester rated it."
RATING_COMMENTS = {
    1: ["Far too slow, and nobody told me why.", "Still not working properly."],
    2: ["Took much longer than promised.", "Had to chase this twice."],
    3: ["Fine in the end.", "OK, but it took a while.", ""],
    4: ["Good, thanks.", "Works well.", ""],
    5: ["Quick and friendly, thank you!", "Perfect, thanks a lot.", ""],
}
UNLOVED_COMMENTS = [
    "Arrived on time, but without a case or a charger.",
    "On time, but it wasn't set up: I had to do it all myself.",
    "The phone came quickly; moving my number across took days.",
]
# Chances of each rating (1 to 5) when the item was on time, late, or is one of
# the punctual but unloved services.
RATING_WEIGHTS = {
    "on_time": (2, 4, 14, 38, 42),
    "late": (14, 26, 32, 20, 8),
    "unloved": (18, 36, 30, 12, 4),
}

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
    # The moment the history runs up to: nothing in it happened later.
    now: datetime | None = None


@dataclass(frozen=True)
class Hold:
    """An item put on hold: ``at`` hours after its clock started (on its own
    calendar), for a hold reason (by name), with the note the requester reads, for
    ``hours`` (None: still on hold); ``reply`` is what the requester answered
    meanwhile, if anything."""

    at: float
    reason: str
    note: str
    hours: float | None
    reply: str = ""


@dataclass(frozen=True)
class Story:
    """What happens to one item, decided before it is played out.

    Approval times are working hours on the approval calendar after a step was
    opened (``WAIT``: not decided yet), one per step (the last repeats). Work times
    are hours on the item's own calendar after its clock started (after the last
    approval, or the submission), counted from there, holds included. Times after
    delivery are plain hours. Whatever falls after "now" hasn't happened.
    """

    # Approval (for items whose policy needs it): the decisions, and how long
    # whoever the step was escalated to takes.
    outcome: str = "approve"  # or "reject"
    reject_step: int = 1
    decide_after: tuple[float, ...] = (3.0,)
    after_escalation: float = 2.0
    decision_note: str = ""
    close_rejected_after: float | None = None
    # The requester withdraws it while "waiting" for approval, or while "queued"
    # (before work starts), at this share of the time until it would have moved on.
    cancel: str = ""
    cancel_share: float = 0.5
    cancel_note: str = ""
    # The work, by ``worker`` (a username; empty: someone from the team).
    worker: str = ""
    assign_after: float | None = None  # a colleague assigns it before work starts
    comment: tuple[float, str] | None = None  # a comment for the requester
    pickup: float | None = 1.0  # None: nobody has started it
    notes: tuple[tuple[float, str], ...] = ()  # internal work notes
    holds: tuple[Hold, ...] = ()
    it_cancel: float | None = None
    deliver: float | None = None
    resolution: str = GENERAL_RESOLUTION
    reopen: tuple[float, float] | None = None  # hours after delivery, hours to fix
    # The requester's rating, hours after delivery (None: never rated); the score
    # and comment follow from how it went unless given.
    rate_after: float | None = None
    rating: int | None = None
    rating_comment: str | None = None


@dataclass(frozen=True)
class _Question:
    key: str
    label: str
    type: str
    required: bool
    spec: dict


@dataclass
class _Service:
    """What checkout copies from a service, plus what the stories need."""

    pk: int
    title: str
    category_name: str
    category_slug: str
    one_off_price: Decimal
    monthly_price: Decimal
    requires_approval: bool
    max_quantity: int
    orderable: bool
    snapshot: dict  # RequestItem.service_level_snapshot
    clock: BusinessClock | None
    fulfilment_group_id: int | None
    fulfilment_group_name: str
    questions: list[_Question]
    weight: float
    base_lateness: float
    target: float  # customer resolution target, hours on its calendar
    response: float  # customer response target, hours on its calendar
    internal_response: float  # the team's response target
    usual: float  # the catalog's delivery promise on the same calendar, in hours


@dataclass
class _Person:
    user: object
    department_id: int
    cost_centre_id: int
    cost_centre_code: str
    orders_for_others: bool
    weight: float
    services: tuple[int, ...] = ()
    cumulative: tuple[float, ...] = ()


class _Entry:
    """One event of a planned log. It has what ``item_figures`` reads of a
    ``RequestEvent``; ``item_id`` is the item's line number until it is saved."""

    __slots__ = (
        "created_at",
        "phase",
        "order",
        "item_id",
        "name",
        "actor",
        "actor_id",
        "from_state",
        "to_state",
        "note",
        "data",
    )

    def __init__(self, created_at, phase, order, item_id, name, actor, **fields):
        self.created_at = created_at
        self.phase = phase
        self.order = order
        self.item_id = item_id
        self.name = name
        self.actor = actor
        self.actor_id = actor.pk if actor is not None else None
        self.from_state = fields.get("from_state", "")
        self.to_state = fields.get("to_state", "")
        self.note = fields.get("note", "")
        self.data = fields.get("data") or {}

    def key(self):
        return self.created_at, self.phase, self.order


@dataclass
class _ItemPlan:
    line: int
    item: RequestItem
    service: _Service
    steps: list  # ApprovalStep, unsaved
    targets: Targets
    initial: str
    state: str
    story: Story = field(default_factory=Story)
    worker: object | None = None
    # (moment, status) after each move, for "what was it doing at the time".
    moves: list = field(default_factory=list)
    stop: datetime | None = None  # delivered or cancelled (the clock stopped)
    figures: ItemFigures | None = None


@dataclass
class _RequestPlan:
    service_request: ServiceRequest
    cost_centre_code: str
    items: list[_ItemPlan]
    requester_ids: set[int]
    entries: list[_Entry] = field(default_factory=list)

    def log(self, at, name, actor=None, *, item=None, phase=PEOPLE, **fields):
        self.entries.append(
            _Entry(
                at,
                phase,
                len(self.entries),
                item.line if item is not None else None,
                name,
                actor,
                **fields,
            )
        )

    def ordered(self) -> list[_Entry]:
        """The log as it will be numbered: in time order; at the same moment, in
        the order things were done."""
        self.entries.sort(key=_Entry.key)
        return self.entries

    def own(self, item: _ItemPlan) -> list[_Entry]:
        """The item's events and the request's, as the figures are computed."""
        return [
            e for e in self.ordered() if e.item_id is None or e.item_id == item.line
        ]


class _Calendar:
    """Local dates and hours of epoch seconds, for when requests arrive.

    Offsets are cached per hour, so a daylight-saving change is honoured without a
    time-zone lookup per call.
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


# --- Moments ----------------------------------------------------------------------


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _check_after(moment: datetime) -> datetime:
    """The scheduled check's first run strictly after ``moment`` (it looks for
    due times *before* its own time)."""
    return _EPOCH + _MICROSECOND * ((_us(moment) // _CHECK_US + 1) * _CHECK_US)


def _check_from(moment: datetime) -> datetime:
    """Its first run at or after ``moment`` (reminders and closing are due *at*
    their time)."""
    return _EPOCH + _MICROSECOND * (-(-_us(moment) // _CHECK_US) * _CHECK_US)


def _tidy(moment: datetime) -> datetime:
    """A moment for something a person did: whole seconds, and never exactly at a
    run of the scheduled check, so which came first is never in doubt."""
    moment = moment.replace(microsecond=0)
    if _us(moment) % _CHECK_US == 0:
        moment += timedelta(seconds=1)
    return moment


def _after(clock: BusinessClock | None, start: datetime, hours: float) -> datetime:
    if clock is None:
        return start + timedelta(hours=hours)
    return clock.add(start, hours * HOUR)


def _before(clock: BusinessClock | None, end: datetime, hours: float) -> datetime:
    """The moment ``hours`` of open time before ``end``."""
    if clock is None:
        return end - timedelta(hours=hours)
    remaining = hours * HOUR
    upper = end
    for _ in range(60):
        lower = upper - timedelta(days=14)
        for opens, closes in reversed(list(clock.open_intervals(lower, upper))):
            length = (closes - opens).total_seconds()
            if remaining <= length:
                return closes - timedelta(seconds=remaining)
            remaining -= length
        upper = lower
    raise ValueError("The calendar is hardly ever open.")


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
    more history; the demo people it creates are reused. With enough requests, the
    named demo users' recent history (``catalog.demo.curated``) is part of it.
    ``progress`` is called after each batch with (requests done, requests planned,
    items done).
    """
    from catalog.demo.curated import SCENES

    if (requests is None) == (items is None):
        raise ValueError("Give either requests or items.")
    if (requests or items or 0) < 1 or months < 1 or batch_size < 1:
        raise ValueError("requests, items, months and batch_size must be positive.")
    started = timezone.now()
    rng = random.Random(seed)
    calendar = _Calendar(timezone.get_default_timezone())
    people_created = demo_people_ensure(count=people, rng=rng)
    builder = _Builder(
        rng=rng,
        calendar=calendar,
        start=started.timestamp() - months * 30.4375 * DAY,
        now=started,
    )
    if not builder.services:
        raise ValueError("There are no services: load the demo catalog first.")

    scenes = []
    if (requests or 0) >= CURATED_MINIMUM_REQUESTS or (
        items or 0
    ) >= CURATED_MINIMUM_ITEMS:
        scenes = builder.cast(SCENES)
    if requests is not None:
        counts = _item_counts(rng, requests=max(requests - len(scenes), 0), items=None)
    else:
        curated_items = sum(len(cast[0].services) for cast in scenes)
        counts = _item_counts(rng, requests=None, items=max(items - curated_items, 0))
    times = _submission_times(
        rng,
        calendar,
        start=builder.start,
        end=started.timestamp(),
        n=len(counts),
    )
    # Requests are numbered in the order they arrived, the named users' too.
    arrivals = [(ts, index, None) for index, ts in enumerate(times)]
    arrivals += [
        (cast[-1].timestamp(), len(times) + index, cast)
        for index, cast in enumerate(scenes)
    ]
    arrivals.sort(key=lambda arrival: arrival[:2])

    done_requests = done_items = done_events = 0
    for first in range(0, len(arrivals), batch_size):
        batch = []
        for ts, index, cast in arrivals[first : first + batch_size]:
            if cast is None:
                batch.append(builder.plan_random(ts=int(ts), size=counts[index]))
            else:
                batch.append(builder.plan_scene(*cast))
        with transaction.atomic():
            done_events += _write(batch)
        done_requests += len(batch)
        done_items += sum(len(planned.items) for planned in batch)
        reset_queries()  # with DEBUG on, Django would keep every INSERT in memory
        if progress is not None:
            progress(done_requests, len(arrivals), done_items)
    # The executive figures are rollups of the items: build them again, all at
    # once (cheaper in bulk than item by item as the live services do).
    reporting_rebuild()
    return HistorySummary(
        requests=done_requests,
        items=done_items,
        events=done_events,
        people_created=people_created,
        seconds=(timezone.now() - started).total_seconds(),
        now=started,
    )


# --- The demo people -------------------------------------------------------------


def demo_people_ensure(*, count: int, rng: random.Random) -> int:
    """Make sure ``count`` demo employees and a few fulfillers exist.

    They get an unusable password: nobody signs in as them. Team leads report to
    the head of their department where the demo has one (Sales: ``manager``),
    else to the COO. Returns how many people were created.
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
    heads = {d.pk: d.head for d in Department.objects.select_related("head") if d.head}
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
            title, roles = "Service desk analyst", ["Fulfiller"]
            manager = rng.choice(leads.get(department.pk) or [executive])
            team_members += [
                TeamMember(fulfilmentgroup_id=team_ids[name], user_id=user.pk)
                for name in teams
                if name in team_ids
            ]
        elif user.pk in is_lead:
            title, roles = MANAGER_TITLE, ["Approver"]
            manager = heads.get(department.pk) or executive
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
            for name in ["Employee", *roles]
            if name in groups
        ]
    UserProfile.objects.bulk_create(profiles)
    Membership.objects.bulk_create(memberships, ignore_conflicts=True)
    TeamMember.objects.bulk_create(team_members, ignore_conflicts=True)
    return len(users)


# --- What can be ordered, by whom, and who works on it ------------------------------


def _hours(value) -> float | None:
    return float(value) if value is not None else None


def _day_length(clock: BusinessClock | None) -> float:
    """Open hours on a working day (a Monday) of the calendar."""
    if clock is None or clock.spec.always_open:
        return 24.0
    minutes = sum(c - o for day, o, c in clock.spec.hours if day == 0)
    return minutes / 60 or 10.0


def _load_services(clocks: dict) -> dict[int, _Service]:
    """The live services as checkout would copy them today; ``clocks`` gets the
    clock of each calendar version they use."""
    pages = list(
        ServicePage.objects.live()
        .select_related("service_level__calendar", "fulfilment_group")
        .prefetch_related("fulfilment_group__internal_targets")
        .order_by("path")
    )
    versions = {
        calendar_id: calendar_current_version(calendar_id)
        for calendar_id in {
            page.service_level.calendar_id for page in pages if page.service_level
        }
    }
    for version in versions.values():
        clocks[version.pk] = clock_for_spec(version.spec)
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
        version = versions.get(level.calendar_id) if level else None
        clock = clocks[version.pk] if version else None
        category_name, category_slug = parents.get(
            page.path[: -ServicePage.steplen], ("", "")
        )
        # "0 days" means the same working day: a couple of hours.
        usual = page.delivery_days * _day_length(clock) if page.delivery_days else 2.0
        snapshot = RequestItem.service_level_snapshot(level, group, version)
        target = _hours(snapshot["resolution_target_hours"]) or usual * 1.2
        lateness = 0.35 if usual > target else 0.12
        response = _hours(snapshot["response_target_hours"]) or 4.0
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
            snapshot=snapshot,
            clock=clock,
            fulfilment_group_id=group.pk if group else None,
            fulfilment_group_name=group.name if group else "",
            questions=_questions(page),
            weight=POPULARITY.get(page.title, 1.0)
            * (3.0 if page.title in SEASONAL else 1.0),
            base_lateness=0.03 if page.title in PUNCTUAL_BUT_UNLOVED else lateness,
            target=target,
            response=response,
            internal_response=_hours(snapshot["internal_response_target_hours"])
            or response / 2,
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


def _named(user) -> bool:
    """One of the demo's named people (employee, manager …), not a generated one."""
    return not user.get_username().startswith("demo.")


def _load_people(services: dict[int, _Service]) -> list[_Person]:
    """Everyone with a department, with the services they are entitled to.

    Entitlement depends only on department, location and groups, so
    ``visible_services`` is asked once per combination of those.
    """
    User = get_user_model()
    profiles = list(
        UserProfile.objects.filter(
            department__isnull=False, user__is_active=True
        ).select_related("user", "department__cost_centre")
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
        persons.append(
            _Person(
                user=profile.user,
                department_id=profile.department_id,
                cost_centre_id=profile.department.cost_centre_id,
                cost_centre_code=profile.department.cost_centre.code,
                orders_for_others=profile.user.is_superuser
                or bool(groups & on_behalf_groups),
                weight=NAMED_WEIGHT if _named(profile.user) else 1.0,
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


def _load_teams() -> dict[int | None, tuple[list, tuple[float, ...]]]:
    """Fulfillers by fulfilment group, with how often each is the one who works
    an item; ``None`` holds everyone who works requests."""
    User = get_user_model()
    everyone = list(
        User.objects.filter(is_active=True, groups__name="Fulfiller")
        .distinct()
        .order_by("pk")
    )
    members: dict[int | None, list] = {None: everyone}
    by_pk = {user.pk: user for user in everyone}
    for group_id, user_id in FulfilmentGroup.members.through.objects.values_list(
        "fulfilmentgroup_id", "user_id"
    ).order_by("user_id"):
        if user_id in by_pk:
            members.setdefault(group_id, []).append(by_pk[user_id])
    return {
        group_id: (
            team,
            _cumulative(NAMED_FULFILLER_WEIGHT if _named(u) else 1.0 for u in team),
        )
        for group_id, team in members.items()
        if team
    }


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
    if n == 0:
        return []
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
        # A request submitted in the last few minutes would be caught up by now
        # before its first event; keep a minute clear.
        times.append(int(min(max(moment, start), end - 60)))
    times.sort()
    return times


# --- Planning requests ---------------------------------------------------------------


class _Builder:
    """Plans requests one at a time: who orders what, what happens to it, and what
    that leaves in the log and on the items."""

    def __init__(self, *, rng, calendar, start: float, now: datetime):
        self.rng = rng
        self.calendar = calendar
        self.start = start
        self.now = now
        self.currency = settings.CATALOG_CURRENCY
        # Calendar version id -> its clock, for the figures.
        self.clocks: dict[int, BusinessClock] = {}
        self.services = _load_services(self.clocks)
        self.persons = _load_people(self.services)
        self.person_cumulative = _cumulative(p.weight for p in self.persons)
        self.persons_by_user = {p.user.pk: p for p in self.persons}
        self.teams = _load_teams()
        self._shared: dict[tuple[int, int], tuple] = {}
        # The organisation, as the approval policy reads it.
        User = get_user_model()
        self.users = {user.pk: user for user in User.objects.all()}
        self.by_username = {user.get_username(): user for user in self.users.values()}
        self.manager_of = dict(UserProfile.objects.values_list("user_id", "manager_id"))
        self.heads = dict(Department.objects.values_list("pk", "head_id"))
        self.cost_centres = CostCentre.objects.in_bulk()
        # Steps nobody could be found for are decided by a superuser, who holds
        # ``approve_any_request``.
        superusers = sorted(
            (u for u in self.users.values() if u.is_superuser and u.is_active),
            key=lambda u: (u.get_username() != "admin", u.pk),
        )
        self.any_approver = superusers[0] if superusers else None
        desk = ServiceDeskSettings.load()
        self.approval_clock = (
            clock_for_spec(calendar_current_version(desk.approval_calendar_id).spec)
            if desk.approval_calendar_id
            else None
        )
        self.remind_hours = desk.approval_reminder_hours
        self.escalate_hours = desk.approval_escalation_hours
        self.rating_days = desk.rating_window_days
        self.hold_reasons = {
            reason.name: reason for reason in HoldReason.objects.filter(active=True)
        }

    # Who, and what

    def _person(self) -> _Person:
        return self.rng.choices(self.persons, cum_weights=self.person_cumulative)[0]

    def _orderer(self, person: _Person) -> _Person:
        """Usually the person; sometimes their manager, on their behalf."""
        manager_id = self.manager_of.get(person.user.pk)
        if manager_id is None or self.rng.random() >= ON_BEHALF_SHARE:
            return person
        boss = self.persons_by_user.get(manager_id)
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

    def _pick_services(self, person, orderer, size: int, ts: int) -> list[_Service]:
        ids, cumulative = self._catalog_for(person, orderer)
        if not ids:
            ids, cumulative = person.services, person.cumulative
        month = self.calendar.local_date(ts).month
        recent = ts > self.now.timestamp() - SUSPENDED_FOR_DAYS * DAY
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

    def _worker(self, group_id, exclude: set[int]):
        """Someone from the team (rarely the named fulfiller), never a person the
        request is by or for; None if there is nobody."""
        team, cumulative = self.teams.get(group_id) or self.teams.get(None, ([], ()))
        for _ in range(4) if team else ():
            user = self.rng.choices(team, cum_weights=cumulative)[0]
            if user.pk not in exclude:
                return user
        return None

    # The request

    def plan_random(self, *, ts: int, size: int) -> _RequestPlan:
        rng = self.rng
        person = self._person()
        orderer = self._orderer(person)
        chosen = self._pick_services(person, orderer, size, ts)
        lines = []
        for service in chosen:
            quantity = 1
            if service.max_quantity > 1 and rng.random() > QUANTITY_ONE_SHARE:
                quantity = rng.randint(2, service.max_quantity)
            lines.append((service, quantity, self._answers(rng, service, ts)))
        reason = rng.choice(REASONS.get(chosen[0].category_slug, GENERAL_REASONS))
        at = _tidy(datetime.fromtimestamp(ts, UTC))
        plan = self._open(at, person, orderer, lines, reason)
        # An approver decides a request in one sitting, usually within hours.
        decide_after = tuple(self._decision_hours() for _ in range(3))
        after_escalation = rng.uniform(0.5, 6)
        outcome = self._outcome()
        for planned in plan.items:
            planned.story = self._story(
                planned,
                ts=ts,
                decide_after=decide_after,
                after_escalation=after_escalation,
                outcome=outcome if rng.random() > 0.2 else self._outcome(),
            )
            planned.worker = self._worker(
                planned.service.fulfilment_group_id, plan.requester_ids
            )
        self._play(plan, comments=True)
        return plan

    def cast(self, scenes) -> list[tuple]:
        """The scenes that can be played with the people and services there are,
        as (scene, person, orderer, submitted at)."""
        cast = []
        for index, scene in enumerate(scenes):
            services = [self._service_titled(title) for title in scene.services]
            if None in services or len(services) != len(scene.stories):
                continue
            person = self._cast_role(scene.who, services, index)
            orderer = self._cast_role(scene.by, services, index) if scene.by else person
            if person is None or orderer is None:
                continue
            at = _tidy(_before(services[0].clock, self.now, scene.ago))
            cast.append((scene, person, orderer, at))
        return cast

    def _service_titled(self, title: str) -> _Service | None:
        return next((s for s in self.services.values() if s.title == title), None)

    def _cast_role(self, role: str, services, index: int) -> _Person | None:
        """A named user, or one of the roles a scene can ask for: "@report"
        (reports to ``manager``), "@report-of-report" (reports to that person),
        "@someone" (a generated person, a different one per scene)."""
        manager = self.by_username.get("manager")
        if not role.startswith("@"):
            user = self.by_username.get(role)
            person = self.persons_by_user.get(user.pk) if user else None
        elif role == "@someone":
            found = [p for p in self.persons if not _named(p.user)]
            found = [p for p in found if all(s.pk in p.services for s in services)]
            person = found[(index * 7) % len(found)] if found else None
        else:
            boss = manager
            if role == "@report-of-report":
                above = self._cast_role("@report", (), index)
                boss = above.user if above else None
            found = [
                p
                for p in self.persons
                if boss is not None
                and self.manager_of.get(p.user.pk) == boss.pk
                and p.user.get_username() != "employee"
                and all(s.pk in p.services for s in services)
            ]
            person = found[0] if found else None
        if person is None or not all(s.pk in person.services for s in services):
            return None
        return person

    def plan_scene(self, scene, person, orderer, at) -> _RequestPlan:
        # Their own random numbers: the scenes read the same whatever the seed.
        rng = random.Random(scene.reason)
        lines = [
            (service, 1, self._answers(rng, service, int(at.timestamp())))
            for service in map(self._service_titled, scene.services)
        ]
        plan = self._open(at, person, orderer, lines, scene.reason)
        for planned, story in zip(plan.items, scene.stories, strict=True):
            planned.story = story
            team, _ = self.teams.get(planned.service.fulfilment_group_id, ([], ()))
            named = [u for u in team if u.get_username() == story.worker]
            planned.worker = (
                named[0]
                if named
                else self._worker(
                    planned.service.fulfilment_group_id, plan.requester_ids
                )
            )
        self._play(plan, comments=False)
        return plan

    def _open(self, at, person, orderer, lines, reason) -> _RequestPlan:
        """The request as ``request_open`` creates it: items, their approval steps
        (the first one asked), and the first events."""
        service_request = ServiceRequest(
            requested_by=orderer.user,
            requested_for=person.user,
            cost_centre_id=person.cost_centre_id,
            department_id=person.department_id,
            business_reason=reason,
            currency=self.currency,
            submitted_at=at,
        )
        items = [
            RequestItem(
                line_number=line,
                service_id=service.pk,
                service_name=service.title,
                category_name=service.category_name,
                quantity=quantity,
                one_off_price=service.one_off_price,
                monthly_price=service.monthly_price,
                currency=self.currency,
                requires_approval=service.requires_approval,
                answers=answers,
                **service.snapshot,
                fulfilment_group_id=service.fulfilment_group_id,
                fulfilment_group_name=service.fulfilment_group_name,
                created_at=at,
                status_changed_at=at,
            )
            for line, (service, quantity, answers) in enumerate(lines, start=1)
        ]
        one_off = sum((i.one_off_price * i.quantity for i in items), Decimal("0"))
        monthly = sum((i.monthly_price * i.quantity for i in items), Decimal("0"))
        cost_centre = self.cost_centres[person.cost_centre_id]
        owner_reasons = cost_centre_reasons(
            cost_centre=cost_centre,
            recipient_cost_centre_id=person.cost_centre_id,
            recipient_name=display_name(person.user),
            one_off_total=one_off,
            monthly_total=monthly,
            currency=self.currency,
        )
        plan = _RequestPlan(
            service_request=service_request,
            cost_centre_code=person.cost_centre_code,
            items=[],
            requester_ids={person.user.pk, orderer.user.pk},
        )
        for item, (service, _, _) in zip(items, lines, strict=True):
            steps = [
                ApprovalStep(
                    position=position,
                    kind=step.kind,
                    reason=step.reason[:255],
                    approver=self.users.get(step.approver_id),
                    status=ST.QUEUED,
                )
                for position, step in enumerate(
                    plan_item_steps(
                        needs_manager=item.requires_approval,
                        priced=bool(item.one_off_price or item.monthly_price),
                        owner_reasons=owner_reasons,
                        recipient_id=person.user.pk,
                        requester_id=orderer.user.pk,
                        department_head_id=self.heads.get(person.department_id),
                        owner_id=cost_centre.owner_id,
                        manager_of=self.manager_of.get,
                    ),
                    start=1,
                )
            ]
            initial = ItemStatus.AWAITING_APPROVAL if steps else ItemStatus.SUBMITTED
            item.status = initial
            plan.items.append(
                _ItemPlan(
                    line=item.line_number,
                    item=item,
                    service=service,
                    steps=steps,
                    targets=Targets.of(item),
                    initial=initial,
                    state=initial,
                )
            )
        plan.log(
            at,
            "request.submitted",
            orderer.user,
            note=reason,
            data={
                "items": len(items),
                "currency": self.currency,
                "requested_for": person.user.get_username(),
                "cost_centre": person.cost_centre_code,
                "one_off_total": str(one_off),
                "monthly_total": str(monthly),
                "on_behalf": person.user.pk != orderer.user.pk,
                "snapshot": request_snapshot(service_request, items),
            },
        )
        for planned in plan.items:
            item = planned.item
            plan.log(
                at,
                "item.created",
                orderer.user,
                item=planned,
                to_state=planned.initial,
                data=item_created_data(item),
            )
        for planned in plan.items:
            if planned.steps:
                self._ask(plan, planned, planned.steps[0], at=at, actor=orderer.user)
        return plan

    # Random stories

    def _decision_hours(self) -> float:
        """Working hours an approver takes: mostly a few, sometimes days."""
        if self.rng.random() < 0.08:
            return self.rng.uniform(18, 60)
        return min(self.rng.lognormvariate(math.log(3), 0.9), 15.0)

    def _outcome(self) -> str:
        roll = self.rng.random()
        return "cancel" if roll < 0.04 else "reject" if roll < 0.12 else "approve"

    def _lateness(self, service: _Service, ts: int) -> float:
        month = self.calendar.local_date(ts).month
        progress = (ts - self.start) / (self.now.timestamp() - self.start)
        return min(
            0.9,
            service.base_lateness
            * MONTH_LATENESS.get(month, 1.0)
            * TEAM_LATENESS.get(service.fulfilment_group_name, 1.0)
            * (1.25 - 0.5 * progress),
        )

    def _story(
        self, planned: _ItemPlan, *, ts, decide_after, after_escalation, outcome
    ) -> Story:
        rng, service = self.rng, planned.service
        common = {"decide_after": decide_after, "after_escalation": after_escalation}
        if planned.steps and outcome == "cancel":
            return Story(
                cancel="waiting",
                cancel_share=rng.uniform(0.1, 0.9),
                cancel_note=rng.choice(CANCEL_NOTES),
                **common,
            )
        if planned.steps and outcome == "reject":
            tidied_after = rng.uniform(20, 50)
            return Story(
                outcome="reject",
                reject_step=rng.randint(1, len(planned.steps)),
                decision_note=rng.choice(REJECT_NOTES),
                close_rejected_after=tidied_after if rng.random() < 0.25 else None,
                **common,
            )
        target = service.target
        late = rng.random() < self._lateness(service, ts)
        if late:
            a_bit, very = rng.uniform(1.05, 1.8), rng.uniform(1.8, 4)
            done = target * (a_bit if rng.random() < 0.9 else very)
        else:
            mode = min(max(service.usual / target, 0.2), 0.9)
            done = target * rng.triangular(0.1, 0.98, mode)
        done = max(done, 0.25)
        roll = rng.random()
        if roll < 0.06:  # nobody looked at it in time
            pickup = service.response * rng.uniform(1.05, 2.5)
            done = max(done, pickup * 1.5)
        elif roll < 0.2:  # in time for the customer, not for the team's target
            pickup = rng.uniform(service.internal_response, service.response)
            done = max(done, pickup * 1.5)
        else:
            pickup = service.internal_response * rng.uniform(0.05, 1.0)
            pickup = min(pickup, done * 0.4)
        if rng.random() < (0.02 if planned.steps else 0.03):
            return Story(
                cancel="queued",
                cancel_share=rng.uniform(0.1, 0.9),
                cancel_note=rng.choice(CANCEL_NOTES),
                pickup=pickup,
                **common,
            )
        holds = ()
        deliver = done
        reason = None
        if rng.random() < (0.35 if late else 0.07):  # waiting for parts, or for them
            reason = self._hold_reason(service)
        if reason is not None:
            hold_from = pickup + (done - pickup) * rng.uniform(0.2, 0.6)
            if late:
                days, weeks = rng.uniform(3, 30), rng.uniform(150, 900)
                length = days if rng.random() < 0.95 else weeks
                deliver = done + length
            else:
                length = (done - hold_from) * rng.uniform(0.2, 0.6)
            holds = (
                Hold(
                    at=hold_from,
                    reason=reason.name,
                    note=rng.choice(HOLD_NOTES.get(reason.name, [OTHER_HOLD_NOTE])),
                    hours=length,
                    reply=rng.choice(REPLIES) if reason.requester_must_act else "",
                ),
            )
        notes = ()
        if rng.random() < 0.15:
            notes = (
                (
                    pickup + (deliver - pickup) * rng.uniform(0.05, 0.95),
                    rng.choice(WORK_NOTES),
                ),
            )
        comment = None
        if rng.random() < 0.06:
            comment = (pickup * rng.uniform(0.2, 0.9), rng.choice(PICKUP_COMMENTS))
        it_cancel = None
        if rng.random() < 0.02:  # the requester told IT they don't need it after all
            it_cancel = pickup + (deliver - pickup) * rng.uniform(0.3, 0.9)
            deliver = None
        resolutions = RESOLUTION_NOTES.get(service.category_slug, [GENERAL_RESOLUTION])
        assign_after = pickup * rng.uniform(0.1, 0.8)
        reopen = (rng.uniform(2, 72), rng.uniform(1, 8))
        rate_after = rng.uniform(0.3, self.rating_days * 24 * 0.9)
        return Story(
            assign_after=assign_after if rng.random() < 0.25 else None,
            comment=comment,
            pickup=pickup,
            notes=notes,
            holds=holds,
            it_cancel=it_cancel,
            deliver=deliver,
            resolution=rng.choice(resolutions),
            reopen=reopen if rng.random() < 0.03 else None,
            rate_after=rate_after if rng.random() < RATED_SHARE else None,
            **common,
        )

    def _hold_reason(self, service: _Service) -> HoldReason | None:
        weights = HOLD_WEIGHTS.get(service.category_slug) or HOLD_WEIGHTS[None]
        reasons = [self.hold_reasons[n] for n in weights if n in self.hold_reasons]
        if not reasons:
            reasons = sorted(self.hold_reasons.values(), key=lambda r: r.pk)
            return self.rng.choice(reasons) if reasons else None
        return self.rng.choices(reasons, [weights[r.name] for r in reasons])[0]

    def _score(self, planned: _ItemPlan) -> tuple[int, str]:
        rng = self.rng
        if planned.service.title in PUNCTUAL_BUT_UNLOVED:
            score = rng.choices(range(1, 6), RATING_WEIGHTS["unloved"])[0]
            return score, rng.choice(UNLOVED_COMMENTS) if score <= 3 else ""
        late = planned.figures and planned.figures.resolution_breached_at
        score = rng.choices(range(1, 6), RATING_WEIGHTS["late" if late else "on_time"])
        return score[0], rng.choice(RATING_COMMENTS[score[0]])

    # Playing the stories out

    def _play(self, plan: _RequestPlan, *, comments: bool) -> None:
        """Everything that happened to the request up to now, then its figures.

        The figures of an item are fixed by what people did; the scheduled check
        then logs the moments that passed while the item was still open, which
        records them (a breach of an open item shows only once something later
        is logged), so the figures are computed again where it logged any.
        """
        for planned in plan.items:
            start = plan.service_request.submitted_at
            if planned.steps:
                start = self._approvals(plan, planned)
            if start is not None:
                self._work(plan, planned, start)
        if comments:
            self._comments(plan)
        for planned in plan.items:
            planned.figures = self._figures(plan, planned)
        for planned in plan.items:
            self._after_delivery(plan, planned)
        again = {planned.line for planned in plan.items if self._check(plan, planned)}
        for planned in plan.items:
            if planned.line in again:
                planned.figures = self._figures(plan, planned)
            for name, value in planned.figures.as_dict().items():
                setattr(planned.item, name, value)
        plan.ordered()

    def _figures(self, plan: _RequestPlan, planned: _ItemPlan) -> ItemFigures:
        return item_figures(
            events=plan.own(planned),
            item_id=planned.line,
            requester_ids=plan.requester_ids,
            targets=planned.targets,
            default_version_id=planned.item.calendar_version_id,
            clock_for=self.clocks.get,
        )

    def _move(self, plan, planned, at, to_state, actor, *, phase=PEOPLE, **fields):
        """``item_move``: one step along the table of allowed moves, logged."""
        from_state = planned.state
        if to_state not in ALLOWED_TRANSITIONS[from_state]:
            raise AssertionError(f"planned a move from {from_state} to {to_state}")
        item = planned.item
        item.status = to_state
        item.status_changed_at = at
        if to_state == ItemStatus.FULFILLED:
            item.fulfilled_at = planned.stop = at
        elif to_state == ItemStatus.IN_PROGRESS and from_state == ItemStatus.FULFILLED:
            item.fulfilled_at = planned.stop = None
        elif to_state == ItemStatus.CANCELLED:
            planned.stop = at
        if to_state != ItemStatus.ON_HOLD:
            item.hold_reason = None
        planned.state = to_state
        planned.moves.append((at, to_state))
        plan.log(
            at,
            "item.status_changed",
            actor,
            item=planned,
            phase=phase,
            from_state=from_state,
            to_state=to_state,
            **fields,
        )

    # Approvals

    def _approval_after(self, start: datetime, hours: float) -> datetime:
        """As ``reminder_times``: working hours on the approval calendar."""
        return _after(self.approval_clock, start, hours)

    def _ask(self, plan, planned, step, *, at, actor) -> None:
        """``_open_step``: the step's approver is asked."""
        step.status = ST.PENDING
        step.opened_at = at
        step.remind_at = self._approval_after(at, self.remind_hours)
        step.escalate_at = self._approval_after(at, self.escalate_hours)
        plan.log(
            at,
            "approval.requested",
            actor,
            item=planned,
            data=step_event_data(step, approver=step.approver),
        )

    def _approvals(self, plan: _RequestPlan, planned: _ItemPlan) -> datetime | None:
        """The item's steps decided in turn; returns when the last one approved it
        (its clock starts then), or None if it was not (yet) approved."""
        story, service_request = planned.story, plan.service_request
        opened = service_request.submitted_at
        for index, step in enumerate(planned.steps):
            hours = story.decide_after[min(index, len(story.decide_after) - 1)]
            decide = None
            if hours != WAIT and self._decider(plan, step) is not None:
                decide = max(_tidy(self._approval_after(opened, hours)), opened)
            cancel = None
            if story.cancel == "waiting":
                planned_end = decide or opened + timedelta(days=3)
                cancel = _tidy(opened + (planned_end - opened) * story.cancel_share)
            decide = self._chase(plan, planned, step, decide, cancel)
            if cancel is not None and (decide is None or cancel < decide):
                if cancel < self.now:
                    self._cancel(plan, planned, cancel, service_request.requested_by)
                return None
            if decide is None or decide >= self.now:
                return None
            decider = self._decider(plan, step)
            reject = story.outcome == "reject" and step.position == min(
                story.reject_step, len(planned.steps)
            )
            note = (story.decision_note or REJECT_NOTES[0]) if reject else ""
            step.status = ST.REJECTED if reject else ST.APPROVED
            step.decided_at = decide
            step.decided_by = decider
            step.note = note
            plan.log(
                decide,
                "approval.rejected" if reject else "approval.approved",
                decider,
                item=planned,
                note=note,
                data=step_event_data(
                    step,
                    approver=step.approver,
                    on_behalf_of=None,
                    on_behalf_of_name="",
                ),
            )
            if reject:
                for later in planned.steps[index + 1 :]:
                    later.status = ST.WITHDRAWN
                self._move(
                    plan, planned, decide, ItemStatus.REJECTED, decider, note=note
                )
                self._close_rejected(plan, planned, decide)
                return None
            if index + 1 < len(planned.steps):
                self._ask(
                    plan, planned, planned.steps[index + 1], at=decide, actor=decider
                )
                opened = decide
                continue
            self._move(plan, planned, decide, ItemStatus.APPROVED, decider)
            return decide
        return None

    def _decider(self, plan, step):
        """Who decides the step: its approver, or, if nobody could be found, a
        superuser (who may decide anything but their own requests)."""
        if step.approver is not None:
            return step.approver
        anyone = self.any_approver
        return anyone if anyone and anyone.pk not in plan.requester_ids else None

    def _chase(self, plan, planned, step, decide, cancel) -> datetime | None:
        """What the scheduled check did while the step waited: remind the
        approver, then hand the step to their manager. Returns when it is decided
        (sooner, once escalated)."""

        def waited_until():
            return min(m for m in (decide, cancel, self.now) if m is not None)

        self._remind(plan, planned, step, waited_until())
        escalate = _check_from(step.escalate_at)
        if escalate >= waited_until():
            return decide
        previous = step.approver
        new_id = (
            first_eligible(
                self.manager_of.get(previous.pk),
                excluded=plan.requester_ids,
                manager_of=self.manager_of.get,
            )
            if previous
            else None
        )
        step.escalated_at = escalate
        if new_id is None or new_id not in self.users:
            plan.log(
                escalate,
                "approval.escalation_failed",
                item=planned,
                phase=CHECK_ESCALATIONS,
                data=step_event_data(step, approver=previous),
            )
            return decide
        new = self.users[new_id]
        step.escalated_from = previous
        step.approver = new
        step.remind_at = self._approval_after(escalate, self.remind_hours)
        step.reminded_at = None
        plan.log(
            escalate,
            "approval.escalated",
            item=planned,
            phase=CHECK_ESCALATIONS,
            data=step_event_data(
                step,
                approver=new,
                escalated_from=previous.pk,
                escalated_from_name=display_name(previous),
            ),
        )
        if planned.story.after_escalation != WAIT:
            sooner = _tidy(
                self._approval_after(escalate, planned.story.after_escalation)
            )
            decide = min(decide, sooner) if decide else sooner
        self._remind(plan, planned, step, waited_until())
        return decide

    def _remind(self, plan, planned, step, until: datetime) -> None:
        remind = _check_from(step.remind_at)
        if step.reminded_at is None and remind < until:
            step.reminded_at = remind
            plan.log(
                remind,
                "approval.reminded",
                item=planned,
                phase=CHECK_REMINDERS,
                data=step_event_data(step, approver=step.approver),
            )

    def _cancel(self, plan, planned, at, actor) -> None:
        """The requester no longer needs it: cancelled, open steps withdrawn."""
        self._move(
            plan,
            planned,
            at,
            ItemStatus.CANCELLED,
            actor,
            note=planned.story.cancel_note,
        )
        for step in planned.steps:
            if step.status == ST.PENDING:
                plan.log(
                    at,
                    "approval.withdrawn",
                    actor,
                    item=planned,
                    data={"step": step.position, "kind": step.kind},
                )
            if step.status in (ST.PENDING, ST.QUEUED):
                step.status = ST.WITHDRAWN

    def _close_rejected(self, plan, planned, rejected) -> None:
        """Some teams tidy turned-down items away by hand."""
        after = planned.story.close_rejected_after
        if after is None:
            return
        closed = _tidy(rejected + timedelta(hours=after))
        closer = planned.worker or self._worker(
            planned.service.fulfilment_group_id, plan.requester_ids
        )
        if closed < self.now and closer is not None:
            self._move(
                plan, planned, closed, ItemStatus.CLOSED, closer, note=CLOSE_REJECTED
            )

    # The work

    def _work(self, plan: _RequestPlan, planned: _ItemPlan, start: datetime) -> None:
        """From the clock's start to delivery, as the story says: what the team
        did (on the item's calendar), and what the requester did meanwhile."""
        story, clock = planned.story, planned.service.clock
        worker, item = planned.worker, planned.item

        def at(hours: float) -> datetime:
            return max(_tidy(_after(clock, start, hours)), start)

        actions = []
        if story.assign_after is not None and worker is not None:
            actions.append((at(story.assign_after), "assign", None))
        if story.comment is not None and worker is not None:
            actions.append((at(story.comment[0]), "comment", story.comment[1]))
        if story.cancel == "queued":
            before = at(story.pickup) if story.pickup is not None else None
            before = before or start + timedelta(days=1)
            cancel = _tidy(start + (before - start) * story.cancel_share)
            actions.append((max(cancel, start), "withdraw", None))
        elif story.pickup is not None and worker is not None:
            actions.append((at(story.pickup), "start", None))
            for hours, text in story.notes:
                actions.append((at(hours), "note", text))
            for hold in story.holds:
                if hold.reason not in self.hold_reasons:
                    continue
                actions.append((at(hold.at), "hold", hold))
                if hold.reply:
                    answered = hold.at + (hold.hours * 0.6 if hold.hours else 0.5)
                    actions.append((at(answered), "reply", hold.reply))
                if hold.hours is not None:
                    actions.append((at(hold.at + hold.hours), "resume", None))
            if story.it_cancel is not None:
                actions.append((at(story.it_cancel), "it_cancel", None))
            elif story.deliver is not None:
                actions.append((at(story.deliver), "deliver", None))
        actions.sort(key=lambda action: action[0])  # stable: the story's order
        for moment, kind, payload in actions:
            if moment >= self.now:
                break
            if kind == "assign":
                colleague = self._worker(
                    planned.service.fulfilment_group_id, plan.requester_ids
                )
                self._assign(plan, planned, moment, worker, colleague or worker)
            elif kind == "comment":
                plan.log(moment, "item.commented", worker, item=planned, note=payload)
            elif kind == "withdraw":
                if planned.state in NOT_STARTED:
                    self._cancel(
                        plan, planned, moment, plan.service_request.requested_by
                    )
                return
            elif kind == "start":
                # ``item_start``: an unassigned item goes to whoever starts it.
                if item.assigned_to_id is None:
                    self._assign(plan, planned, moment, worker, worker)
                self._move(
                    plan, planned, moment, ItemStatus.IN_PROGRESS, item.assigned_to
                )
            elif kind == "note":
                plan.log(moment, "item.work_note", worker, item=planned, note=payload)
            elif kind == "hold":
                reason = self.hold_reasons[payload.reason]
                self._move(
                    plan,
                    planned,
                    moment,
                    ItemStatus.ON_HOLD,
                    item.assigned_to,
                    note=payload.note,
                    data=hold_event_data(reason),
                )
                item.hold_reason = reason
            elif kind == "reply":
                plan.log(
                    moment,
                    "request.commented",
                    plan.service_request.requested_for,
                    note=payload,
                )
            elif kind == "resume":
                self._move(
                    plan, planned, moment, ItemStatus.IN_PROGRESS, item.assigned_to
                )
            elif kind == "it_cancel":
                self._move(
                    plan,
                    planned,
                    moment,
                    ItemStatus.CANCELLED,
                    item.assigned_to,
                    note=CANCELLED_BY_IT,
                )
                return
            elif kind == "deliver":
                self._move(
                    plan,
                    planned,
                    moment,
                    ItemStatus.FULFILLED,
                    item.assigned_to,
                    note=story.resolution,
                )
                self._reopen(plan, planned, moment)
                return

    def _assign(self, plan, planned, at, assignee, actor) -> None:
        """``_assign``: logged with who had it before."""
        previous = planned.item.assigned_to_id
        planned.item.assigned_to = assignee
        plan.log(
            at,
            "item.assigned",
            actor,
            item=planned,
            data=assignment_event_data(assignee, previous),
        )

    def _reopen(self, plan, planned, delivered) -> None:
        """Sometimes it wasn't right after all: reopened, fixed, delivered again."""
        if planned.story.reopen is None:
            return
        after, fix = planned.story.reopen
        reopened = _tidy(delivered + timedelta(hours=after))
        if reopened >= self.now:
            return
        worker = planned.item.assigned_to
        self._move(
            plan, planned, reopened, ItemStatus.IN_PROGRESS, worker, note=REOPEN_NOTE
        )
        again = max(_tidy(_after(planned.service.clock, reopened, fix)), reopened)
        if again < self.now:
            self._move(
                plan,
                planned,
                again,
                ItemStatus.FULFILLED,
                worker,
                note=REDELIVERED_NOTE,
            )

    def _comments(self, plan: _RequestPlan) -> None:
        """Now and then, a word on the request from the requester or the team."""
        rng = self.rng
        if rng.random() >= COMMENT_SHARE:
            return
        first = plan.service_request.submitted_at
        last = max(max(e.created_at for e in plan.entries), first + timedelta(hours=1))
        staff = [p.item.assigned_to for p in plan.items if p.item.assigned_to]
        for _ in range(rng.choice((1, 1, 2))):
            moment = _tidy(first + (last - first) * rng.random())
            if moment >= self.now:
                continue
            if staff and rng.random() < 0.5:
                actor, note = rng.choice(staff), rng.choice(COMMENTS_BY_FULFILLER)
            else:
                actor, note = (
                    plan.service_request.requested_by,
                    rng.choice(COMMENTS_BY_REQUESTER),
                )
            plan.log(moment, "request.commented", actor, note=note)

    def _after_delivery(self, plan: _RequestPlan, planned: _ItemPlan) -> None:
        """Rated by the person it was for, or closed by the scheduled check when
        the rating window ends."""
        if planned.state != ItemStatus.FULFILLED:
            return
        story, item = planned.story, planned.item
        delivered = item.fulfilled_at
        closes = _check_from(delivered + timedelta(days=self.rating_days))
        if story.rate_after is not None:
            rated = _tidy(delivered + timedelta(hours=story.rate_after))
            if rated < closes and rated < self.now:
                score, comment = story.rating, story.rating_comment
                if score is None or comment is None:
                    drawn, said = self._score(planned)
                    score = drawn if score is None else score
                    comment = said if comment is None else comment
                rater = plan.service_request.requested_for
                item.rating, item.rating_comment, item.rated_at = score, comment, rated
                plan.log(
                    rated,
                    "item.rated",
                    rater,
                    item=planned,
                    note=comment,
                    data={"rating": score},
                )
                self._move(
                    plan, planned, rated, ItemStatus.CLOSED, rater, note=RATED_NOTE
                )
                return
        if closes < self.now:
            self._move(
                plan,
                planned,
                closes,
                ItemStatus.CLOSED,
                None,
                phase=CHECK_CLOSING,
                note=auto_close_note(self.rating_days),
            )

    # The scheduled check's marks, and keeping the figures re-derivable

    def _state_at(self, planned: _ItemPlan, moment: datetime) -> str:
        state = planned.initial
        for at, to_state in planned.moves:
            if at > moment:
                break
            state = to_state
        return state

    def _check(self, plan: _RequestPlan, planned: _ItemPlan) -> bool:
        """Log what the scheduled check logged about this item: at each of its
        runs, every due time and at-risk moment that had passed unrecorded while
        the item was in the queue (``item_time_check``). Returns whether it
        logged anything."""
        figures = planned.figures
        if figures is None or figures.clock_started_at is None:
            return False
        times = [e.created_at for e in plan.own(planned)]
        found = []
        for rank, (when, _, clock, what) in enumerate(MARKS):
            moment = getattr(figures, when)
            if moment is None:
                continue
            if what == "response" and (
                figures.first_response_at is not None
                and figures.first_response_at <= moment
            ):
                continue
            run = _check_after(moment)
            if run >= self.now or self._state_at(planned, run) not in QUEUE_STATES:
                continue
            # Anything logged in between already recorded it (the figures are
            # refreshed with every event), so the check had nothing to add.
            later = bisect.bisect_right(times, moment)
            if later < len(times) and times[later] < run:
                continue
            found.append((run, rank, clock, what, moment))
        for run, _, clock, what, moment in sorted(found):
            if what == "risk":
                name, data = "item.at_risk", {"clock": clock, "at": moment}
            else:
                name = "item.breached"
                data = {"clock": clock, "target": what, "due": moment}
            plan.log(run, name, item=planned, phase=CHECK_ITEMS, data=data)
        return bool(found)

    # Answers in the stored format (catalog.forms.Answer.to_json)

    def _answers(self, rng, service: _Service, ts: int) -> list[dict]:
        if not service.questions:
            return []
        day = self.calendar.local_date(ts)
        answers, dates = [], {}
        for question in service.questions:
            if not question.required and rng.random() < 0.4:
                value = [] if question.type == "multiple_choice" else None
            else:
                value = _answer(rng, question, day, dates)
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


def _answer(rng, question: _Question, day: date, dates: dict):
    label, spec = question.label, question.spec
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


# --- Writing ------------------------------------------------------------------------


def _write(batch: list[_RequestPlan]) -> int:
    ServiceRequest.objects.bulk_create([plan.service_request for plan in batch])
    items = []
    for plan in batch:
        for planned in plan.items:
            planned.item.request = plan.service_request
            items.append(planned.item)
    RequestItem.objects.bulk_create(items)
    steps, events = [], []
    for plan in batch:
        item_ids = {planned.line: planned.item.pk for planned in plan.items}
        for planned in plan.items:
            for step in planned.steps:
                step.request_id = plan.service_request.pk
                step.item_id = planned.item.pk
                steps.append(step)
        events += _events(plan, item_ids)
    ApprovalStep.objects.bulk_create(steps)
    RequestEvent.objects.bulk_create(events, batch_size=5000)
    heads_bulk_set([plan.service_request for plan in batch], events)
    return len(events)


def _events(plan: _RequestPlan, item_ids: dict[int, int]) -> list[RequestEvent]:
    """The request's log, numbered from 1 and hash-chained."""
    events, previous = [], GENESIS
    for sequence, entry in enumerate(plan.ordered(), start=1):
        event = event_build(
            request_id=plan.service_request.pk,
            sequence=sequence,
            previous_hash=previous,
            name=entry.name,
            actor=entry.actor,
            item_id=item_ids[entry.item_id] if entry.item_id is not None else None,
            from_state=entry.from_state,
            to_state=entry.to_state,
            note=entry.note,
            data=entry.data,
            at=entry.created_at,
        )
        events.append(event)
        previous = event.hash
    return events
