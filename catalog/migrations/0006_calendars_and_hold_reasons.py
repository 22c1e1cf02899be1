"""Business calendars for the service levels that used to name their support hours,
and the hold reasons every service desk needs from day one."""

from datetime import time

from django.conf import settings
from django.db import migrations

# support_hours value -> (calendar name, always open, opening hours Mon-Fri)
CALENDARS = {
    "business": ("Office hours", False, (time(8), time(18))),
    "extended": ("Extended hours", False, (time(7), time(22))),
    "24x7": ("Around the clock", True, None),
}
TEXTS = {
    "Office hours": "Monday to Friday, 8:00 to 18:00 ({place} time), except public "
    "holidays",
    "Extended hours": "Monday to Friday, 7:00 to 22:00 ({place} time), except public "
    "holidays",
    "Around the clock": "Around the clock, every day",
}
HOLD_REASONS = [
    # name, what the requester reads, pauses customer, pauses internal, must act
    ("Waiting for the requester", "while we wait for you", True, True, True),
    (
        "Waiting for a supplier",
        "while we wait for a delivery from our supplier",
        True,
        False,
        False,
    ),
    (
        "Scheduled with the requester",
        "until the date we agreed with you",
        True,
        True,
        False,
    ),
    ("Waiting for another IT team", "while another IT team does its part", False, False, False),
]


def forwards(apps, schema_editor):
    BusinessCalendar = apps.get_model("catalog", "BusinessCalendar")
    BusinessHours = apps.get_model("catalog", "BusinessHours")
    ServiceLevel = apps.get_model("catalog", "ServiceLevel")
    RequestItem = apps.get_model("catalog", "RequestItem")
    HoldReason = apps.get_model("catalog", "HoldReason")
    calendars = {}
    for key, (name, always, hours) in CALENDARS.items():
        calendar, created = BusinessCalendar.objects.get_or_create(
            name=name,
            defaults={
                "time_zone": settings.TIME_ZONE,
                "always_open": always,
                "holiday_country": "" if always else "GB",
                "holiday_subdivision": "" if always else "ENG",
                "opening_hours_text": TEXTS[name].format(
                    place=settings.TIME_ZONE.rsplit("/", 1)[-1].replace("_", " ")
                ),
            },
        )
        if created and hours:
            BusinessHours.objects.bulk_create(
                BusinessHours(
                    calendar=calendar,
                    sort_order=day,
                    weekday=day,
                    opens=hours[0],
                    closes=hours[1],
                )
                for day in range(5)
            )
        calendars[key] = calendar
    for level in ServiceLevel.objects.all():
        level.calendar = calendars.get(level.support_hours, calendars["business"])
        # Internal targets must now be strictly shorter than the customer ones.
        if level.internal_response_target_hours >= level.response_target_hours:
            level.internal_response_target_hours = level.response_target_hours / 2
        if level.internal_resolution_target_hours >= level.resolution_target_hours:
            level.internal_resolution_target_hours = (
                level.resolution_target_hours * 4 / 5
            )
        level.save()
    for key, calendar in calendars.items():
        RequestItem.objects.filter(support_hours=key).update(
            calendar_name=calendar.name
        )
    for name, text, customer, internal, must_act in HOLD_REASONS:
        HoldReason.objects.get_or_create(
            name=name,
            defaults={
                "customer_text": text,
                "pauses_customer_clock": customer,
                "pauses_internal_clock": internal,
                "requester_must_act": must_act,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_service_levels_and_approvals")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
