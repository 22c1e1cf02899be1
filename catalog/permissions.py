"""Who may do what, in one place. Roles are Django groups with model permissions;
these functions answer yes or no, and ``require`` turns a no into a refusal."""

from catalog.exceptions import NotAllowed

ORDER_ON_BEHALF = "catalog.order_on_behalf"
WORK_REQUESTS = "catalog.work_requests"


def can_order_on_behalf(user) -> bool:
    return user.has_perm(ORDER_ON_BEHALF)


def can_work_requests(user) -> bool:
    """Fulfillers (and admins) handle items in the queue."""
    return user.has_perm(WORK_REQUESTS)


def can_view_request(user, service_request) -> bool:
    return user.pk in (
        service_request.requested_by_id,
        service_request.requested_for_id,
    ) or can_work_requests(user)


def can_cancel_item(user, item) -> bool:
    """The requester, or the person it is for, may cancel until work starts."""
    request = item.request
    return item.can_be_cancelled and user.pk in (
        request.requested_by_id,
        request.requested_for_id,
    )


def can_transition(user, item, to_state: str) -> bool:
    from catalog.models import ItemStatus

    if to_state == ItemStatus.CANCELLED and can_cancel_item(user, item):
        return True
    return can_work_requests(user)


def require(allowed: bool, message: str = "You can't do that.") -> None:
    if not allowed:
        raise NotAllowed(message)
