"""Percentiles of the time to deliver, found by band and read from that band only:
the same answer as sorting every delivery, checked against values worked out by
hand and against a plain sort of random times."""

import random
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum

from catalog.models import DailyRollup, ItemFact
from catalog.models.reporting import TIME_BAND_FIELDS, TIME_BAND_STARTS, time_band
from catalog.selectors.reporting.percentiles import (
    ALL,
    band_counts,
    delivery_time_percentiles,
    percentile,
)
from catalog.services.reporting import reporting_rebuild
from tests.catalog.selectors.test_reporting_dashboard import make_item
from tests.factories import CostCentreFactory, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], Fraction(1, 2), None),
        ([7], Fraction(9, 10), 7.0),
        ([10, 20, 30], Fraction(1, 2), 20.0),
        ([10, 20, 30, 40], Fraction(1, 2), 25.0),
        # Position 4 × 0.9 = 3.6: 40 + 0.6 × 10.
        ([10, 20, 30, 40, 50], Fraction(9, 10), 46.0),
        # Position 9 × 0.9 = 8.1: 90 + 0.1 × 910.
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 1000], Fraction(9, 10), 181.0),
    ],
)
def test_percentile_interpolates_like_percentile_cont(values, fraction, expected):
    assert percentile(values, fraction) == expected


@pytest.mark.parametrize(
    ("seconds", "band"),
    [
        # Band 0 is under a minute; band k + 1 starts at 60 × 1.3^k seconds.
        (0, 0),
        (59, 0),
        (60, 1),
        (77, 1),  # 60 × 1.3 = 78
        (78, 2),
        # 60 × 1.3^15 = 3,071.2 and 60 × 1.3^16 = 3,992.4997 (13^16 is
        # 665,416,609,183,179,841), which rounds down.
        (3600, 16),
        (3991, 16),
        (3992, 17),
        # 60 × 1.3^18 = 6,747.3 and 1.3^19 = 8,771.5; 60 × 1.3^28 = 93,018.
        (7200, 19),
        (100_000, 29),
        # The last band starts near 2,900 hours and has no end.
        (20_000_000, 47),
    ],
)
def test_the_band_of_a_time(seconds, band):
    assert time_band(seconds) == band


def test_there_are_forty_eight_bands_each_later_than_the_one_before():
    assert len(TIME_BAND_STARTS) == 48
    assert TIME_BAND_STARTS[:4] == (0, 60, 78, 101)
    assert all(
        a < b for a, b in zip(TIME_BAND_STARTS[:-1], TIME_BAND_STARTS[1:], strict=True)
    )


def deliver(times: dict[str, list[int]]) -> None:
    """One delivered item per time, of the service named, on 10 January 2026."""
    centre = CostCentreFactory()
    department = DepartmentFactory(cost_centre=centre)
    person = UserFactory(profile={"department": department})
    created = datetime(2026, 1, 5, 9, tzinfo=LONDON)
    delivered = datetime(2026, 1, 10, 16, tzinfo=LONDON)
    for name, seconds in times.items():
        for value in seconds:
            make_item(
                department=department,
                cost_centre=centre,
                person=person,
                service=(name, "Things", Decimal("10"), Decimal("0")),
                created=created,
                delivered=delivered,
                seconds=value,
            )
    reporting_rebuild()


def counted() -> dict:
    """Each service's deliveries by band as the daily rollup counts them, and
    everyone's."""
    counts = {ALL: [0] * len(TIME_BAND_FIELDS)}
    for row in DailyRollup.objects.values("service_name").annotate(
        **{name: Sum(name) for name in TIME_BAND_FIELDS}
    ):
        bands = counts[row["service_name"]] = band_counts(row)
        counts[ALL] = [a + b for a, b in zip(counts[ALL], bands, strict=True)]
    return counts


def test_percentiles_across_bands_and_ties(django_assert_num_queries):
    # A: 30 s, 1 min, 1 h twice, 2 h (bands 0, 1, 16, 16, 19).
    # B: 59 s and 100,000 s (bands 0 and 29).
    deliver({"A": [3600, 30, 7200, 60, 3600], "B": [100_000, 59]})
    counts = counted()
    with django_assert_num_queries(1):
        times = delivery_time_percentiles(ItemFact.objects.all(), counts)
    assert times == {
        # Five: the median is the third, 3,600; the 90th at position 3.6 is
        # 3,600 + 0.6 × (7,200 − 3,600) = 5,760.
        "A": (3600.0, 5760.0),
        # Two, in bands 0 and 29: the median at 0.5 is 59 + 0.5 × 99,941 =
        # 50,029.5; the 90th at 0.9 is 59 + 0.9 × 99,941 = 90,005.9.
        "B": (50029.5, 90005.9),
        # All seven: 30, 59, 60, 3,600, 3,600, 7,200, 100,000. The median is the
        # fourth, 3,600; the 90th at 5.4 is 7,200 + 0.4 × 92,800 = 44,320.
        ALL: (3600.0, 44320.0),
    }


def test_ranks_near_a_bands_end_are_read_from_that_end(django_assert_num_queries):
    # Five times in band 5 (171 to 222 s). The 90th lies between the fourth
    # and fifth (offsets 3 and 4 of 5), nearer the band's end: those two are
    # read backwards from it. 210 + 0.6 × (220 − 210) = 216; the median is 200.
    deliver({"C": [220, 180, 210, 190, 200]})
    counts = counted()
    assert counts["C"][5] == 5
    with django_assert_num_queries(1) as read:
        times = delivery_time_percentiles(ItemFact.objects.all(), counts)
    assert times == {"C": (200.0, 216.0), ALL: (200.0, 216.0)}
    assert "DESC" in read.captured_queries[0]["sql"]


def test_a_service_with_no_time_to_deliver_has_no_percentiles():
    deliver({"A": [3600]})
    counts = counted()
    assert delivery_time_percentiles(ItemFact.objects.all(), counts) == {
        "A": (3600.0, 3600.0),
        ALL: (3600.0, 3600.0),
    }
    assert delivery_time_percentiles(ItemFact.objects.all(), {"B": [0] * 48}) == {}


def test_counts_that_disagree_with_the_facts_still_give_the_true_figures():
    deliver({"A": [3600, 30, 7200, 60, 3600]})
    # As if the rollup said all five were under a minute: the ranks it points
    # to are not in that band, so A's times are sorted instead.
    wrong = {"A": [5] + [0] * 47}
    assert delivery_time_percentiles(ItemFact.objects.all(), wrong) == {
        "A": (3600.0, 5760.0)
    }


def test_random_times_give_what_sorting_gives():
    chooser = random.Random(20261126)
    times = {
        name: [
            # Mostly hours, some minutes, a few weeks; many on band edges.
            chooser.choice(
                [
                    chooser.randint(0, 600),
                    chooser.randint(600, 200_000),
                    chooser.choice(TIME_BAND_STARTS[:30]),
                    chooser.randint(200_000, 3_000_000),
                ]
            )
            for _ in range(size)
        ]
        for name, size in (("A", 61), ("B", 2), ("C", 140), ("D", 1))
    }
    deliver(times)
    expected = {
        name: (
            percentile(sorted(v), Fraction(1, 2)),
            percentile(sorted(v), Fraction(9, 10)),
        )
        for name, v in times.items()
    }
    everything = sorted(t for v in times.values() for t in v)
    expected[ALL] = (
        percentile(everything, Fraction(1, 2)),
        percentile(everything, Fraction(9, 10)),
    )
    assert delivery_time_percentiles(ItemFact.objects.all(), counted()) == expected
