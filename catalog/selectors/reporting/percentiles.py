"""Median and 90th percentile of the times to deliver, exact, without sorting
every delivery of the period.

A year of a large company is close to a million deliveries; sorting them for
each page view was most of the dashboard's time. The rollups count each key's
deliveries by band of time (``TIME_BAND_STARTS``), so the figures already read
tell, for each group (a service, or all of them), how many deliveries fall in
each band. A percentile is a rank in the group's sorted times (PostgreSQL's
``percentile_cont``: position (n - 1) × fraction, interpolated between the two
nearest values); the counts say which band holds that rank and where in the
band it is. One query then reads, for every group and rank, only that band's
deliveries in order, up to the rank: an index on (service, time) and one on time
serve it without a sort.

The answer is the same as sorting everything: the rollups are kept with the facts
in one transaction, and rebuilt with them. Should a band ever hold fewer
deliveries than its count (a rank beyond the band's end), that group's times are
read and sorted instead.
"""

from collections import defaultdict
from fractions import Fraction

from django.db import connections
from django.db.models.expressions import RawSQL

from catalog.models.reporting import TIME_BAND_FIELDS, TIME_BAND_STARTS

MEDIAN, NINETIETH = Fraction(1, 2), Fraction(9, 10)
FRACTIONS = (MEDIAN, NINETIETH)
ALL = None  # the group of every service


def percentile(ordered: list, fraction: Fraction) -> float | None:
    """The ``fraction`` percentile of values in ascending order, interpolated
    between the two nearest values as PostgreSQL's ``percentile_cont`` does:
    position (n - 1) × fraction, counted from 0."""
    if not ordered:
        return None
    lower, upper, weight = _ranks(len(ordered), fraction)
    return float(ordered[lower] + (ordered[upper] - ordered[lower]) * weight)


def band_counts(row: dict) -> list[int]:
    """A rollup row's (or sum's) deliveries by band of time."""
    return [row[name] or 0 for name in TIME_BAND_FIELDS]


def _ranks(count: int, fraction: Fraction) -> tuple[int, int, Fraction]:
    """The two ranks a percentile is interpolated between, and the weight of
    the upper one."""
    position = (count - 1) * fraction
    lower = position.numerator // position.denominator
    return lower, min(lower + 1, count - 1), position - lower


def _locate(bands: list[int], rank: int) -> tuple[int, int]:
    """(band, offset within the band) of the ``rank``-th time, counted from 0."""
    before = 0
    for band, count in enumerate(bands):
        if rank < before + count:
            return band, rank - before
        before += count
    raise ValueError(f"rank {rank} beyond {before} deliveries")


def _band_end(band: int) -> int:
    """Where ``band`` ends (exclusive); the last band ends past any time a
    PositiveIntegerField holds."""
    if band + 1 < len(TIME_BAND_STARTS):
        return TIME_BAND_STARTS[band + 1]
    return 2**31


def _in_order(facts, low, high, service, backwards: bool):
    """The times of ``facts`` from ``low`` (inclusive) to ``high``, of one
    service (or, with ``service`` None, of all), in order: the one read both
    forms below slice, with values or with the columns of a VALUES row."""
    times = facts.filter(resolution_seconds__gte=low, resolution_seconds__lt=high)
    if service is not None:
        times = times.filter(service_name=service)
    return times.order_by(
        "-resolution_seconds" if backwards else "resolution_seconds"
    ).values_list("resolution_seconds")


def _union_sql(facts, slices: list) -> tuple[str, list]:
    """One ordered, sliced read per slice, a UNION ALL of them (SQLite, which
    plans each in microseconds)."""
    parts, params = [], []
    for part, (group, band, skip, take, backwards) in enumerate(slices):
        times = _in_order(
            facts, TIME_BAND_STARTS[band], _band_end(band), group, backwards
        )
        sql, more = times[skip : skip + take].query.sql_with_params()
        parts.append(f"SELECT {part} AS part, band.* FROM ({sql}) AS band")
        params += more
    return " UNION ALL ".join(parts), params


def _lateral_sql(facts, slices: list) -> tuple[str, list]:
    """The same reads on PostgreSQL, planned once however many slices there are
    (a UNION ALL of eighty took 15 ms to plan): the slices are a VALUES list,
    and one ordered read of the facts is joined to each row LATERAL, for a
    service's slices and for everyone's, each forwards and backwards."""
    statements, params = [], []
    for by_service in (True, False):
        for backwards in (False, True):
            rows = [
                (part, group, TIME_BAND_STARTS[band], _band_end(band), skip, take)
                for part, (group, band, skip, take, back) in enumerate(slices)
                if (group is not ALL) == by_service and back == backwards
            ]
            if rows:
                sql, more = _lateral_read(facts, rows, by_service, backwards)
                statements.append(sql)
                params += more
    return " UNION ALL ".join(statements), params


def _lateral_read(facts, rows: list, by_service: bool, backwards: bool):
    read, more = _in_order(
        facts,
        RawSQL("wanted.low", ()),
        RawSQL("wanted.high", ()),
        RawSQL("wanted.service", ()) if by_service else ALL,
        backwards,
    ).query.sql_with_params()
    values = ", ".join(
        ["(%s::int, %s::text, %s::int, %s::bigint, %s::int, %s::int)"] * len(rows)
    )
    sql = (
        f"SELECT wanted.part, band.* FROM (VALUES {values}) "
        "AS wanted(part, service, low, high, skip, take) "
        f"CROSS JOIN LATERAL ({read} LIMIT wanted.take OFFSET wanted.skip) AS band"
    )
    return sql, [value for row in rows for value in row] + list(more)


def _read_ranks(facts, wanted: dict, counts: dict) -> dict:
    """{(group, band): {offset: seconds}} for the offsets ``wanted`` of each
    group's band, in one query: for each band, its times in order from the
    first offset wanted to the last, read from whichever end of the band is
    nearer (an index reads a band as fast backwards)."""
    slices, spans = [], []
    for (group, band), offsets in wanted.items():
        first, last = min(offsets), max(offsets)
        from_end = counts[group][band] - 1 - last
        backwards = from_end < first
        take = last - first + 1
        slices.append((group, band, from_end if backwards else first, take, backwards))
        spans.append((first, last, backwards))
    connection = connections[facts.db]
    compose = _lateral_sql if connection.vendor == "postgresql" else _union_sql
    sql, params = compose(facts, slices)
    found: dict = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for part, seconds in cursor.fetchall():
            found[part].append(seconds)
    result = {}
    for part, ((group, band), offsets) in enumerate(wanted.items()):
        first, last, backwards = spans[part]
        times = sorted(found[part])
        # Read backwards, the times found end at ``last``.
        start = last + 1 - len(times) if backwards else first
        result[(group, band)] = {
            offset: times[offset - start]
            for offset in offsets
            if 0 <= offset - start < len(times)
        }
    return result


def _sorted(facts, group) -> list:
    times = facts if group is ALL else facts.filter(service_name=group)
    return sorted(times.values_list("resolution_seconds", flat=True))


def delivery_time_percentiles(facts, counts: dict) -> dict:
    """{group: (median, 90th percentile)} in seconds, for each group of
    ``counts`` ({service name, or ``ALL``: deliveries by band, as the rollups
    count them}) over ``facts``: the deliveries those counts count (scope,
    filters and period already applied). A group with no deliveries is left
    out."""
    facts = facts.filter(resolution_seconds__isnull=False).order_by()
    needs: dict = {}  # group -> [(lower at, upper at, weight) per fraction]
    wanted: dict = defaultdict(set)  # (group, band) -> offsets
    for group, bands in counts.items():
        total = sum(bands)
        if not total:
            continue
        needs[group] = []
        for fraction in FRACTIONS:
            lower, upper, weight = _ranks(total, fraction)
            at = [_locate(bands, rank) for rank in (lower, upper)]
            for band, offset in at:
                wanted[(group, band)].add(offset)
            needs[group].append((*at, weight))
    read = _read_ranks(facts, wanted, counts) if wanted else {}
    result = {}
    for group, picks in needs.items():
        values = []
        for (lower_band, lower_offset), (upper_band, upper_offset), weight in picks:
            lower = read[(group, lower_band)].get(lower_offset)
            upper = read[(group, upper_band)].get(upper_offset)
            if lower is None or upper is None:
                break
            values.append(float(lower + (upper - lower) * weight))
        else:
            result[group] = tuple(values)
            continue
        # The counts and the facts disagree: sort this group's times.
        ordered = _sorted(facts, group)
        result[group] = tuple(percentile(ordered, f) for f in FRACTIONS)
    return result
