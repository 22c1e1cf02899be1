"""The named demo users' recent history: what the demo must show them on a fresh
start, played out by the same code as the rest of the history
(``catalog.demo.history``).

- ``manager`` has approvals waiting: from ``employee``, from a team lead who
  reports to them, and one escalated to them because the team lead didn't decide;
- ``fulfiller`` has a queue with items at risk (against the team's internal
  target) and items past their due time;
- ``employee`` has an item paused while IT waits for her answer, a delivered item
  to rate, and a few rated and closed ones.

Each scene says who asked for what, how long ago (in hours on the first service's
calendar, so "13.5" means working hours for an office-hours service), and the
story of each item. The times are relative to when the history is generated, so
the situations hold whatever day it is.
"""

from dataclasses import dataclass

from catalog.demo.history import WAIT, Hold, Story


@dataclass(frozen=True)
class Scene:
    # A username, or "@report" (someone reporting to manager), "@report-of-report"
    # (someone reporting to them) or "@someone" (a different demo person each time).
    who: str
    services: tuple[str, ...]
    ago: float
    stories: tuple[Story, ...]
    reason: str
    by: str = ""  # who ordered it for them, if someone else


ASK = Story(decide_after=(WAIT,), after_escalation=WAIT)

SCENES = (
    # Waiting for the manager's approval.
    Scene(
        "employee",
        ("New laptop",),
        ago=3,
        stories=(ASK,),
        reason="My laptop is over four years old and very slow.",
    ),
    Scene(
        "employee",
        ("Admin rights on my computer",),
        ago=19,  # reminded after 16 working hours
        stories=(ASK,),
        reason="I need to install a customer's meeting app for a pitch next week.",
    ),
    Scene(
        "@report",
        ("Mobile phone",),
        ago=6,
        stories=(ASK,),
        reason="On call for the support rota from next month.",
    ),
    Scene(
        "@report-of-report",
        ("Access to a shared folder",),
        ago=44,  # their team lead was reminded, then it went up to the manager
        stories=(ASK,),
        reason="Taking over the monthly reporting from a colleague.",
    ),
    # The fulfiller's queue: at risk against the team's target, not yet late.
    Scene(
        "@someone",
        ("VPN access",),
        ago=13.5,  # internal target 16 hours, at risk from 12
        stories=(Story(worker="fulfiller", pickup=0.5),),
        reason="Working from home three days a week.",
    ),
    Scene(
        "@someone",
        ("Install software",),
        ago=20,  # internal target 24 hours, at risk from 18
        stories=(
            Story(
                worker="fulfiller",
                pickup=1.5,
                notes=((3, "Licence requested from the vendor portal."),),
            ),
        ),
        reason="Needed for the quarterly report.",
    ),
    Scene(
        "@someone",
        ("Unlock my account",),
        ago=2.4,  # around the clock: internal target 3 hours, at risk from 2¼
        stories=(Story(worker="fulfiller", pickup=0.2),),
        reason="Locked out after changing my password.",
    ),
    # The fulfiller's queue: past due.
    Scene(
        "@someone",
        ("Second monitor",),
        ago=58,  # the supplier's delay stops the customer's clock, not the team's
        stories=(
            Story(
                worker="fulfiller",
                pickup=2,
                holds=(
                    Hold(
                        at=10,
                        reason="Waiting for a supplier",
                        note="Out of stock at the supplier; back in stock next week.",
                        hours=30,
                    ),
                ),
            ),
        ),
        reason="Working with large spreadsheets and video every day.",
    ),
    Scene(
        "@someone",
        ("Replace a broken laptop",),
        ago=7,  # around the clock, 4 hours promised
        stories=(Story(worker="fulfiller", pickup=0.3),),
        reason="It won't switch on any more.",
    ),
    Scene(
        "@someone",
        ("Shared mailbox",),
        ago=34,  # nobody has picked it up
        stories=(Story(pickup=None),),
        reason="The team needs one inbox for customer questions.",
    ),
    Scene(
        "@someone",
        ("Email distribution list",),
        ago=2,  # a colleague gave it to the fulfiller; not started yet
        stories=(Story(worker="fulfiller", assign_after=0.5, pickup=None),),
        reason="Starting a new project group.",
    ),
    Scene(
        "@someone",
        ("Second monitor", "Headset for calls"),
        ago=8,  # one item waits for the supplier; the other was delivered
        stories=(
            Story(
                worker="fulfiller",
                pickup=0.5,
                holds=(
                    Hold(
                        at=1,
                        reason="Waiting for a supplier",
                        note="Ordered from the supplier; delivery expected within "
                        "three working days.",
                        hours=None,
                    ),
                ),
            ),
            Story(
                worker="fulfiller",
                pickup=0.5,
                deliver=6,
                resolution="Delivered to your desk.",
            ),
        ),
        reason="Working from home three days a week.",
    ),
    # The employee's own requests.
    Scene(
        "employee",
        ("Keyboard, mouse and docking station",),
        ago=12,
        stories=(
            Story(
                worker="fulfiller",
                pickup=1,
                holds=(
                    Hold(
                        at=5,
                        reason="Waiting for the requester",
                        note="Please confirm your desk number.",
                        hours=None,
                    ),
                ),
            ),
        ),
        reason="Needed for my day-to-day work.",
    ),
    Scene(
        "employee",
        ("Headset for calls",),
        ago=12,
        stories=(
            Story(
                worker="fulfiller",
                pickup=1,
                deliver=9,
                resolution="Delivered to your desk.",
            ),
        ),
        reason="Working from home three days a week.",
    ),
    Scene(
        "employee",
        ("Install software",),
        ago=60,
        stories=(
            Story(
                worker="fulfiller",
                pickup=1,
                deliver=5,
                resolution="Installed remotely; restart your computer to finish.",
                rate_after=20,
                rating=5,
                rating_comment="Quick and friendly, thank you!",
            ),
        ),
        reason="A customer sends us documents in this format.",
    ),
    Scene(
        "employee",
        ("VPN access",),
        ago=130,
        stories=(
            Story(
                pickup=2,
                deliver=8,
                resolution="Access granted: sign out and back in to use it.",
                rate_after=3,
                rating=4,
                rating_comment="Works well, thanks.",
            ),
        ),
        reason="Customer visits abroad next month.",
    ),
    Scene(
        "employee",
        ("New laptop", "Second monitor"),
        ago=240,
        stories=(
            Story(
                decide_after=(2.5,),
                worker="fulfiller",
                pickup=3,
                deliver=62,  # 50 hours promised
                resolution="Set up and delivered to your desk; your files are "
                "copied across.",
                rate_after=26,
                rating=3,
                rating_comment="Took longer than promised, but it's a great machine.",
            ),
            Story(
                worker="fulfiller",
                pickup=2,
                deliver=20,
                resolution="Delivered to your desk.",
                rate_after=30,
                rating=5,
                rating_comment="",
            ),
        ),
        reason="The current one keeps crashing during customer calls.",
    ),
    Scene(
        "employee",
        ("Unlock my account",),
        ago=300,  # around the clock; closed on its own after the rating window
        stories=(
            Story(
                pickup=0.1,
                deliver=0.4,
                resolution="Done: you can sign in again.",
            ),
        ),
        reason="I can't sign in since I came back from leave.",
    ),
    Scene(
        "manager",
        ("Mobile phone",),
        ago=350,
        stories=(
            Story(
                decide_after=(4,),
                pickup=2,
                deliver=30,
                resolution="Delivered to your desk, set up with your work account.",
                rate_after=30,
                rating=2,
                rating_comment="On time, but it wasn't set up: I had to do it all "
                "myself.",
            ),
        ),
        reason="I travel to customers most weeks.",
    ),
)
