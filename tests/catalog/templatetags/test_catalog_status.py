"""Statuses and progress in the requester's words, as a list prints them: tables
written out by hand."""

from datetime import UTC, datetime

import pytest

from catalog.models import HoldReason, ItemStatus, RequestItem
from catalog.templatetags.catalog_status import (
    progress_line,
    status_badge,
    status_label,
)


@pytest.mark.parametrize(
    ("status", "label", "expected"),
    [
        (
            "in_progress",
            None,
            '<span class="status status--info">Being worked on</span>',
        ),
        ("fulfilled", None, '<span class="status status--ok">Delivered</span>'),
        ("rejected", None, '<span class="status status--error">Not approved</span>'),
        ("on_hold", None, '<span class="status status--warning">On hold</span>'),
        ("cancelled", None, '<span class="status status--muted">Cancelled</span>'),
        # An approval step's status, in its own words.
        (
            "pending",
            "Waiting for a decision",
            '<span class="status status--info">Waiting for a decision</span>',
        ),
        ("approved", "Approved", '<span class="status status--info">Approved</span>'),
        # Not a status: printed as it is, escaped.
        ("<b>", None, '<span class="status status--info">&lt;b&gt;</span>'),
    ],
)
def test_status_badge(status, label, expected):
    assert status_badge(status, label) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("submitted", "Submitted"),
        ("awaiting_approval", "Waiting for approval"),
        ("approved", "Approved"),
        ("in_progress", "Being worked on"),
        ("closed", "Closed"),
        ("gone", "gone"),
    ],
)
def test_status_label(status, expected):
    assert status_label(status) == expected


# Europe/London; 1 December 2026 is a Tuesday, 30 June 2026 a Tuesday (BST).
DUE = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
SUMMER_NIGHT = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 1 July, 00:30 BST


@pytest.mark.parametrize(
    ("fields", "hold", "expected"),
    [
        (
            {"status": ItemStatus.SUBMITTED, "resolution_due_at": DUE},
            None,
            "Expected by Tue 1 Dec",
        ),
        (
            {"status": ItemStatus.IN_PROGRESS, "resolution_due_at": SUMMER_NIGHT},
            None,
            "Expected by Wed 1 Jul",
        ),
        ({"status": ItemStatus.IN_PROGRESS, "resolution_due_at": None}, None, ""),
        (
            {"status": ItemStatus.FULFILLED, "fulfilled_at": DUE},
            None,
            "Delivered on Tue 1 Dec: rate it",
        ),
        (
            {"status": ItemStatus.FULFILLED, "fulfilled_at": DUE, "rating": 4},
            None,
            "Delivered on Tue 1 Dec",
        ),
        (
            {"status": ItemStatus.ON_HOLD},
            (True, "for your answer"),
            "Paused: waiting for you",
        ),
        (
            {"status": ItemStatus.ON_HOLD},
            (False, "for a part to arrive"),
            "Paused for a part to arrive",
        ),
        ({"status": ItemStatus.ON_HOLD}, None, "Paused"),
        ({"status": ItemStatus.CLOSED, "fulfilled_at": DUE}, None, ""),
        ({"status": ItemStatus.AWAITING_APPROVAL, "resolution_due_at": DUE}, None, ""),
    ],
)
def test_progress_line(fields, hold, expected, settings):
    settings.TIME_ZONE = "Europe/London"
    item = RequestItem(**fields)
    if hold is not None:
        item.hold_reason = HoldReason(requester_must_act=hold[0], customer_text=hold[1])
    assert progress_line(item) == expected
