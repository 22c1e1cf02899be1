"""Which departments' figures a person may see: the one place every executive
page, drill-down, export and catalog panel asks."""

from dataclasses import dataclass

from django.db.models import Q

from catalog import permissions
from catalog.exceptions import NotAllowed, NotFoundForUser
from catalog.models import Department, UserProfile


@dataclass(frozen=True)
class Scope:
    """``department_ids`` is None for the whole company."""

    department_ids: frozenset[int] | None
    label: str

    @property
    def whole_company(self) -> bool:
        return self.department_ids is None

    def q(self, field: str = "department") -> Q:
        """A condition on ``<field>_id`` that keeps rows inside the scope."""
        if self.department_ids is None:
            return Q()
        return Q(**{f"{field}_id__in": self.department_ids})

    def allows(self, department_id: int | None) -> bool:
        return self.department_ids is None or department_id in self.department_ids


def reporting_scope(*, user, department_id=None) -> Scope:
    """The viewer's scope, narrowed to ``department_id`` when given.

    No reporting permission: refused (403). A department the viewer may not see,
    or one that doesn't exist: 404, so other departments' existence isn't
    revealed by their ids.
    """
    if not permissions.can_view_reports(user):
        raise NotAllowed("Only executives see IT costs and service levels.")
    if department_id not in (None, ""):
        try:
            department_id = int(department_id)
        except (TypeError, ValueError):
            raise NotFoundForUser("No such department.") from None
    else:
        department_id = None
    if permissions.can_view_all_departments(user):
        if department_id is None:
            return Scope(department_ids=None, label="Whole company")
        department = Department.objects.filter(pk=department_id).first()
        if department is None:
            raise NotFoundForUser("No such department.")
        return Scope(department_ids=frozenset({department.pk}), label=department.name)
    own = (
        UserProfile.objects.select_related("department")
        .filter(user=user, department__isnull=False)
        .first()
    )
    if own is None:
        raise NotAllowed("You have no department, so there are no figures to show.")
    if department_id is not None and department_id != own.department_id:
        raise NotFoundForUser("No such department.")
    return Scope(
        department_ids=frozenset({own.department_id}), label=own.department.name
    )
