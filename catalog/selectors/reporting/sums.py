"""A period's rollup sums, read from as few rows as the period allows.

The daily and monthly rollups hold the same sums (``RollupSums``). A period's
whole months are read from the monthly rows (one a key and month) and only the
days of the months it covers in part from the daily ones, in one query (UNION
ALL of the two, grouped alike); a group found in both is added up here. A year
ending today is then eleven monthly rows a key and a month of daily ones, where
it was 365 daily rows a key.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Q, QuerySet, Value

from catalog.models import DailyRollup, MonthlyRollup
from catalog.selectors.reporting.period import Period, month_end


@dataclass
class PeriodRows:
    """The rollup rows that add up to a period: ``months`` (monthly rows of the
    period's whole months) and ``days`` (daily rows of its other days)."""

    months: QuerySet
    days: QuerySet

    def sums(self, by: tuple[str, ...] = (), *, day: bool = False, **sums) -> list:
        """Rows of ``sums`` (aggregates over rollup fields) grouped ``by``, and
        with ``day``, by day too (a month's sums fall on its first day)."""
        if day:
            months = self.months.values(*by, day=F("month"))
            days = self.days.values(*by, "day")
        elif by:
            months, days = self.months.values(*by), self.days.values(*by)
        else:  # one row each: grouped by nothing
            months = self.months.values(whole=Value(1))
            days = self.days.values(whole=Value(1))
        keys = [*by, "day"] if day else list(by)
        added: dict[tuple, dict] = {}
        rows = months.annotate(**sums).union(days.annotate(**sums), all=True)
        for row in rows:
            key = tuple(row[name] for name in keys)
            if key not in added:
                added[key] = row
                continue
            total = added[key]
            for name in sums:
                if row[name] is not None:
                    total[name] = row[name] + (total[name] or 0)
        return list(added.values())

    def total(self, **sums) -> dict:
        """``sums`` over the whole period (None where there is nothing)."""
        rows = self.sums(**sums)
        return {name: rows[0][name] for name in sums} if rows else dict.fromkeys(sums)


def period_rows(period: Period, scoped, *, today: date | None = None) -> PeriodRows:
    """The rollup rows of ``period``; ``scoped(queryset)`` narrows a rollup's
    rows to the viewer's scope and filters. Given ``today``, a month the period
    covers from its first day to today reads its monthly rows too: nothing is
    dated after today, so they are the month so far (this month, in a period
    that runs to today, is then one row a key instead of one a key and day)."""
    whole, parts = [], Q()
    for month in period.months:
        start, end = period.month_part(month)
        to_date = today is not None and end >= today
        if start == month and (end == month_end(month) or to_date):
            whole.append(month)
        else:
            parts |= Q(day__gte=start, day__lte=end)
    months = scoped(MonthlyRollup.objects.filter(month__in=whole).order_by())
    days = DailyRollup.objects.filter(parts) if parts else DailyRollup.objects.none()
    if not whole:
        months = months.none()
    return PeriodRows(months=months, days=scoped(days.order_by()))
