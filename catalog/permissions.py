"""Who may do what, in one place. Roles are Django groups with model permissions
(created by migration 0009); these functions answer yes or no, and ``require``
turns a no into a refusal.

Some answers also depend on relationships rather than roles: a manager orders for
the people who report to them, an approver decides the steps assigned to them (or
to someone who named them as substitute), a fulfiller works the items of their own
teams, and the person a request is for rates what they received.
"""

from datetime import date

from catalog.exceptions import NotAllowed

ORDER_ON_BEHALF = "catalog.order_on_behalf"
ORDER_FOR_ANYONE = "catalog.order_for_anyone"
WORK_REQUESTS = "catalog.work_requests"
APPROVE_ANY = "catalog.approve_any_request"
CHANGE_PEOPLE = "catalog.change_userprofile"
VIEW_REPORTS = "catalog.view_reports"
VIEW_ALL_DEPARTMENTS = "catalog.view_all_departments"
CLOSE_BILLS = "catalog.close_bills"


def _is_party(user, service_request) -> bool:
    return user.pk in (
        service_request.requested_by_id,
        service_request.requested_for_id,
    )


# --- Ordering -------------------------------------------------------------------------


def can_order_on_behalf(user) -> bool:
    """May choose somebody else as "who is it for" at all."""
    return user.has_perm(ORDER_ON_BEHALF) or user.has_perm(ORDER_FOR_ANYONE)


def can_order_for_anyone(user) -> bool:
    return user.has_perm(ORDER_FOR_ANYONE)


def can_order_for(user, person) -> bool:
    """Yourself always; anyone with ``order_for_anyone``; with ``order_on_behalf``,
    the people who report to you, directly or further down."""
    if person.pk == user.pk:
        return True
    if not person.is_active:
        return False
    if can_order_for_anyone(user):
        return True
    from catalog.selectors.people import managers_above

    return user.has_perm(ORDER_ON_BEHALF) and user.pk in managers_above(person.pk)


# --- Seeing requests ------------------------------------------------------------------


def can_work_requests(user) -> bool:
    """Fulfillers (and admins) handle items in the queue."""
    return user.has_perm(WORK_REQUESTS)


def works_on_group(user, group_id: int | None) -> bool:
    """Fulfillers work their own teams' items; items of no team, and any item for
    a superuser, are open to every fulfiller."""
    if not can_work_requests(user):
        return False
    if user.is_superuser or group_id is None:
        return True
    return group_id in fulfilment_group_ids(user)


def workable_items_q(user):
    """``works_on_group`` as a query condition on request items (``None`` means
    nothing at all), so lists apply the same rule as single items."""
    from django.db.models import Q

    if not can_work_requests(user):
        return None
    if user.is_superuser:
        return Q()
    return Q(fulfilment_group__in=fulfilment_group_ids(user)) | Q(
        fulfilment_group__isnull=True
    )


def fulfilment_groups(user) -> list:
    """The teams ``user`` works on, by name; read once per request."""
    cached = getattr(user, "_fulfilment_groups", None)
    if cached is None:
        cached = list(user.fulfilment_groups.order_by("name"))
        user._fulfilment_groups = cached
    return cached


def fulfilment_groups_known(user, groups) -> None:
    """``user``'s teams, read by a query that also read something else (the
    queue's, with the teams' members): no second query for them."""
    user._fulfilment_groups = sorted(groups, key=lambda group: group.name)


def fulfilment_group_ids(user) -> set[int]:
    return {group.pk for group in fulfilment_groups(user)}


def can_view_request(user, service_request) -> bool:
    """The people on the request, fulfillers, and whoever is or was asked to
    approve it (or decided in someone's name)."""
    if _is_party(user, service_request) or can_work_requests(user):
        return True
    return is_approver_of_request(user, service_request)


def is_approver_of_request(user, service_request) -> bool:
    from django.db.models import Q

    from catalog.models import ApprovalStep

    today = date.today()
    return ApprovalStep.objects.filter(
        Q(approver=user)
        | Q(decided_by=user)
        | Q(escalated_from=user)
        | Q(
            approver__delegations__substitute=user,
            approver__delegations__starts_on__lte=today,
            approver__delegations__ends_on__gte=today,
        ),
        request=service_request,
    ).exists()


# --- Moving items ---------------------------------------------------------------------


def can_cancel_item(user, item) -> bool:
    """The requester, or the person it is for, may cancel until work starts."""
    return item.can_be_cancelled and _is_party(user, item.request)


# Moves only the approval service makes (after the last or a refused step), and
# moves nobody makes by hand at all.
APPROVAL_MOVES = frozenset({"approved", "rejected"})
NEVER_BY_HAND = frozenset({"submitted", "awaiting_approval"})


def can_transition(user, item, to_state: str) -> bool:
    """May ``user`` move ``item`` to ``to_state`` by hand? (Whether the move
    exists at all is ``ALLOWED_TRANSITIONS``'s business.)"""
    from catalog.models import ItemStatus

    if to_state in APPROVAL_MOVES or to_state in NEVER_BY_HAND:
        return False
    if to_state == ItemStatus.CANCELLED and can_cancel_item(user, item):
        return True
    return works_on_group(user, item.fulfilment_group_id)


def can_assign(user, item, assignee) -> bool:
    """Fulfillers assign their teams' items, to themselves or a teammate."""
    if not works_on_group(user, item.fulfilment_group_id):
        return False
    if assignee is None:
        return True
    return assignee.is_active and works_on_group(assignee, item.fulfilment_group_id)


def can_rate_item(user, item) -> bool:
    return _is_party(user, item.request)


# --- Approving ------------------------------------------------------------------------


def substitutes_for(user, on: date) -> set[int]:
    """Whose approvals ``user`` decides on ``on``, as their named substitute."""
    from catalog.models import ApprovalDelegation

    return set(
        ApprovalDelegation.objects.filter(
            substitute=user, starts_on__lte=on, ends_on__gte=on
        ).values_list("approver_id", flat=True)
    )


def decidable_steps_q(user, *, on: date):
    """``approval_refusal`` as a query condition on approval steps, for lists: the
    steps assigned to ``user`` or to someone they stand in for on ``on``, or to
    nobody when they may decide any; never on a request they ordered or that is
    for them."""
    from django.db.models import Q

    from catalog.models import ApprovalDelegation

    standing_in_for = ApprovalDelegation.objects.filter(
        substitute=user, starts_on__lte=on, ends_on__gte=on
    ).values("approver_id")
    mine = Q(approver=user) | Q(approver_id__in=standing_in_for)
    if user.has_perm(APPROVE_ANY):
        mine |= Q(approver__isnull=True)
    return mine & ~Q(request__requested_by=user) & ~Q(request__requested_for=user)


def approval_refusal(user, step, *, on: date) -> str:
    """Why ``user`` may not decide ``step`` today, or "" if they may. Nobody
    decides a request they ordered or that is for them."""
    if _is_party(user, step.request):
        return "You can't approve a request you ordered or that is for you."
    if step.approver_id is None:
        if user.has_perm(APPROVE_ANY):
            return ""
        return "You're not the approver for this."
    if step.approver_id == user.pk or step.approver_id in substitutes_for(user, on):
        return ""
    return "You're not (or no longer) the approver for this."


# --- Executive figures ----------------------------------------------------------------


def can_view_reports(user) -> bool:
    """Executives see their department's costs and service levels; which
    departments exactly is ``catalog.selectors.reporting.scope``'s business."""
    return user.has_perm(VIEW_REPORTS) or user.has_perm(VIEW_ALL_DEPARTMENTS)


def can_view_all_departments(user) -> bool:
    return user.has_perm(VIEW_ALL_DEPARTMENTS)


def can_close_bills(user) -> bool:
    return user.has_perm(CLOSE_BILLS)


# --- People ---------------------------------------------------------------------------


def can_edit_profile(user, profile) -> bool:
    """Department, location and manager decide what people see, order and who
    approves for them: people administrators change them, never their own."""
    return user.has_perm(CHANGE_PEOPLE) and profile.user_id != user.pk


def can_unlock_logins(user) -> bool:
    """Who may see and release locked logins: superusers and whoever administers
    people (the Administrator role holds that too, through every catalog right)."""
    return user.is_active and (user.is_superuser or user.has_perm(CHANGE_PEOPLE))


def require(allowed: bool, message: str = "You can't do that.") -> None:
    if not allowed:
        raise NotAllowed(message)
