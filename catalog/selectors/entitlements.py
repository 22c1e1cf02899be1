"""What a person may see in the catalog: the one entitlement rule.

``visible_services`` is the rule every list, search and page view goes through. A
service may be restricted to departments, locations and groups; in each dimension
that has entries the person must match one of them, and a dimension without
entries lets everyone through. The same rule decides who may receive a service
ordered for them and explains the admin's "view the catalog as".
"""

from dataclasses import dataclass, field
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection

from catalog.models import ServicePage, UserProfile

# Fields a list of services never shows (large, or for IT only).
LISTING_DEFERRED = ("description", "request_form", "internal_notes")


@dataclass(frozen=True)
class Audience:
    """The facts about a person that entitlements look at."""

    department_id: int | None
    location_id: int | None
    group_ids: frozenset[int]

    @classmethod
    def of(cls, user) -> "Audience":
        """The person's audience, read once per request (kept on the user)."""
        if not getattr(user, "is_authenticated", False):
            return cls(None, None, frozenset())
        audience = getattr(user, "_catalog_audience", None)
        if audience is None:
            audience, _ = _audience_and_restrictions(user)
        return audience


@dataclass
class Restrictions:
    """Who a service is limited to; an empty set in a dimension means everyone."""

    departments: set[int] = field(default_factory=set)
    locations: set[int] = field(default_factory=set)
    groups: set[int] = field(default_factory=set)

    def failures(self, audience: Audience, *, include_groups: bool = True) -> list:
        """The rule, in one place: each restricted dimension the person fails."""
        failed = []
        if self.departments and audience.department_id not in self.departments:
            failed.append("departments")
        if self.locations and audience.location_id not in self.locations:
            failed.append("locations")
        if include_groups and self.groups and not self.groups & audience.group_ids:
            failed.append("groups")
        return failed

    def admits(self, audience: Audience, *, include_groups: bool = True) -> bool:
        return not self.failures(audience, include_groups=include_groups)


# Plain SQL because it runs on every catalog page and compiling the equivalent ORM
# query (correlated EXISTS per dimension) cost more than running it; see
# bench/README.md, "How the pages got there". Names come from the models.
#
# Each row is (kind, first, second). The kinds are the ``Restrictions`` field a
# restriction row belongs to, plus the person's own facts:
_PROFILE = "profile"  # ("profile", department id, location id)
_MEMBERSHIP = "membership"  # ("membership", group id, NULL)
_RESTRICTION_FIELDS = {
    "departments": ServicePage._meta.get_field("restricted_to_departments"),
    "locations": ServicePage._meta.get_field("restricted_to_locations"),
    "groups": ServicePage._meta.get_field("restricted_to_groups"),
}


def _name(name: str) -> str:
    return connection.ops.quote_name(name)


def _restrictions_sql(*, services: int = 0, kind_first: bool = False) -> str:
    """Rows of (service id, kind, value) from the three restriction tables (of
    every service, or of as many as ``services`` says, each a parameter in
    every table), or (kind, service id, value) to append to the audience's
    rows."""
    selects = []
    for kind, relation in _RESTRICTION_FIELDS.items():
        service = _name(relation.m2m_column_name())
        value = _name(relation.m2m_reverse_name())
        columns = f"'{kind}', {service}" if kind_first else f"{service}, '{kind}'"
        where = ""
        if services:
            where = f" WHERE {service} IN ({', '.join(['%s'] * services)})"
        selects.append(
            f"SELECT {columns}, {value} FROM {_name(relation.m2m_db_table())}{where}"
        )
    return " UNION ALL ".join(selects)


def _audience_sql() -> str:
    """The person's profile row and one row per group they belong to."""
    profile = UserProfile._meta
    groups = get_user_model()._meta.get_field("groups")
    return (
        f"SELECT '{_PROFILE}', {_name(profile.get_field('department').column)}, "
        f"{_name(profile.get_field('location').column)} "
        f"FROM {_name(profile.db_table)} "
        f"WHERE {_name(profile.get_field('user').column)} = %s "
        f"UNION ALL SELECT '{_MEMBERSHIP}', {_name(groups.m2m_reverse_name())}, NULL "
        f"FROM {_name(groups.m2m_db_table())} "
        f"WHERE {_name(groups.m2m_column_name())} = %s"
    )


_ALL_RESTRICTIONS_SQL = _restrictions_sql()
_AUDIENCE_SQL = _audience_sql()
_RESTRICTION_TABLES = len(_RESTRICTION_FIELDS)


@cache
def _restrictions_of_sql(services: int) -> str:
    return _restrictions_sql(services=services)


@cache
def _audience_and_services_sql(services: int) -> str:
    """The audience's rows, then the restrictions of ``services`` services."""
    return " UNION ALL ".join(
        [_AUDIENCE_SQL, _restrictions_sql(services=services, kind_first=True)]
    )


def _audience_and_restrictions(user, *, service_ids=()):
    """The person's audience and the restrictions of the services
    ``service_ids`` (none restricted are left out), in one round trip: this
    runs on every catalog page."""
    service_ids = list(service_ids)
    if not service_ids:
        sql, params = _AUDIENCE_SQL, [user.pk, user.pk]
    else:
        sql = _audience_and_services_sql(len(service_ids))
        params = [user.pk, user.pk] + service_ids * _RESTRICTION_TABLES
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    department_id = location_id = None
    groups = set()
    restrictions: dict[int, Restrictions] = {}
    for kind, first, second in rows:
        if kind == _PROFILE:
            department_id, location_id = first, second
        elif kind == _MEMBERSHIP:
            groups.add(first)
        else:
            getattr(restrictions.setdefault(first, Restrictions()), kind).add(second)
    audience = Audience(department_id, location_id, frozenset(groups))
    user._catalog_audience = audience
    return audience, restrictions


def service_restrictions(service_ids=None) -> dict[int, Restrictions]:
    """Restrictions of every restricted service (or of those ``service_ids``),
    in one small query."""
    with connection.cursor() as cursor:
        if service_ids is None:
            cursor.execute(_ALL_RESTRICTIONS_SQL)
        else:
            service_ids = list(service_ids)
            cursor.execute(
                _restrictions_of_sql(len(service_ids)),
                service_ids * _RESTRICTION_TABLES,
            )
        rows = cursor.fetchall()
    result: dict[int, Restrictions] = {}
    for page_id, kind, value in rows:
        getattr(result.setdefault(page_id, Restrictions()), kind).add(value)
    return result


def _hidden_ids(audience: Audience, *, include_groups: bool = True) -> list[int]:
    return [
        page_id
        for page_id, restrictions in service_restrictions().items()
        if not restrictions.admits(audience, include_groups=include_groups)
    ]


def _live_except(hidden: list[int]):
    services = ServicePage.objects.live()
    return services.exclude(pk__in=hidden) if hidden else services


def visible_services(*, user):
    """Live services the person is entitled to see."""
    return _live_except(_hidden_ids(Audience.of(user)))


def services_person_may_have(*, person):
    """Live services ``person`` may receive when someone orders for them.

    Department and location restrictions say who may have a service; group
    restrictions say who may order it (only managers order a new starter bundle,
    for a new starter who is in no such group), so they apply to the orderer.
    """
    return _live_except(_hidden_ids(Audience.of(person), include_groups=False))


def service_is_visible(*, user, service: ServicePage) -> bool:
    return service.pk in visible_among(user=user, services=[service])


def visible_among(*, user, services) -> set[int]:
    """The keys of those of ``services`` (pages already loaded) that the person
    may see: live, and the rule admits them. One round trip for the person and
    the services' restrictions together."""
    live = [service.pk for service in services if service.live]
    if not live:
        return set()
    if getattr(user, "is_authenticated", False):
        audience, restrictions = _audience_and_restrictions(user, service_ids=live)
    else:
        audience, restrictions = Audience.of(user), service_restrictions(live)
    return {pk for pk in live if restrictions.get(pk, Restrictions()).admits(audience)}


@dataclass
class Visibility:
    service: ServicePage
    reasons: list[str] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        return not self.reasons


def _profile(user):
    try:
        return user.profile
    except UserProfile.DoesNotExist:
        return None


def catalog_as_seen_by(*, user) -> list[Visibility]:
    """Every service with the reasons it is hidden from ``user`` (none if visible).

    Backs the admin's "view the catalog as" page; explains, where peers only hide.
    """
    audience = Audience.of(user)
    profile = _profile(user)
    restrictions = service_restrictions()
    services = (
        ServicePage.objects.defer(*LISTING_DEFERRED)
        .prefetch_related(
            "restricted_to_departments",
            "restricted_to_locations",
            "restricted_to_groups",
        )
        .order_by("path")
    )
    result = []
    for service in services:
        reasons = [] if service.live else ["Not published."]
        failed = restrictions.get(service.pk, Restrictions()).failures(audience)
        if "departments" in failed:
            theirs = profile.department.name if profile and profile.department else None
            reasons.append(
                "Only for the departments "
                + ", ".join(d.name for d in service.restricted_to_departments.all())
                + (f"; they are in {theirs}." if theirs else "; they have none.")
            )
        if "locations" in failed:
            theirs = profile.location.name if profile and profile.location else None
            reasons.append(
                "Only for people based in "
                + ", ".join(loc.name for loc in service.restricted_to_locations.all())
                + (f"; they are based in {theirs}." if theirs else "; they have none.")
            )
        if "groups" in failed:
            reasons.append(
                "Only for members of "
                + ", ".join(g.name for g in service.restricted_to_groups.all())
                + "."
            )
        result.append(Visibility(service=service, reasons=reasons))
    return result
