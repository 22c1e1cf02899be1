"""Changes to the catalog asked for outside the page editor, made the way the
editor makes them: a new revision of the page, then its approval workflow.

Nothing here writes to the request log: these are catalog changes, and
Wagtail's own page history records the revision, the workflow and who decided.
"""

from dataclasses import dataclass

from django.db import transaction
from wagtail.actions.edit_page import EditPageAction

from catalog.exceptions import CatalogError, InvalidInput, NotAllowed, NotFoundForUser
from catalog.models import ServicePage
from catalog.selectors.reporting.services import (
    LARGEST_ID,
    review_access,
    service_in_review,
)

REASON_MAX_LENGTH = 255


@dataclass(frozen=True)
class SuspensionRequested:
    service: ServicePage
    # True: published at once (no workflow, and the actor may publish);
    # False: waiting in the page's workflow for approval.
    published: bool


def service_suspend_request(
    *, service_id: int, actor, reason: str
) -> SuspensionRequested:
    """Suspend ordering of a service: a new revision of its page with
    ``orderable`` off and ``reason`` shown to customers, sent through the page's
    workflow (its owner approves, then it is published) as ``actor``.

    Who may ask is the service review's rule (``review_access``): executives for
    the services in their review, service owners for their own. Without a
    workflow the change is published only if ``actor`` may publish the page.
    The revision is built from the live page, so a draft waiting in the editor
    is not published along with it.

    Refused with a message: a change already in the workflow, a page locked for
    editing, a service already suspended, no workflow and no right to publish.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            {"reason": ["Say why it can't be ordered: customers will read this."]}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(
            {"reason": [f"Keep the reason to {REASON_MAX_LENGTH} characters."]}
        )
    access = review_access(user=actor)
    if not 0 < service_id <= LARGEST_ID:
        raise NotFoundForUser("No such service.")
    with transaction.atomic():
        page = ServicePage.objects.select_for_update().filter(pk=service_id).first()
        if page is None or not page.live:
            raise NotFoundForUser("No such service.")
        if not service_in_review(access=access, service=page):
            raise NotAllowed("You can only suspend the services in your review.")
        if not page.orderable:
            raise CatalogError(f"Ordering {page.title} is suspended already.")
        state = page.current_workflow_state
        if state is not None:
            if state.status == state.STATUS_IN_PROGRESS:
                raise CatalogError(
                    f"A change to {page.title} is already waiting for approval. "
                    "Ask again once it has been decided."
                )
            raise CatalogError(
                f"A change to {page.title} was sent back for changes. It must be "
                "finished or cancelled in the page editor first."
            )
        lock = page.get_lock()
        if lock is not None and lock.for_user(actor):
            raise CatalogError(f"{page.title} is locked for editing right now.")
        workflow = page.get_workflow()
        if workflow is None and not page.permissions_for_user(actor).can_publish():
            raise CatalogError(
                f"{page.title} has no approval workflow, and you may not publish "
                "it yourself. Ask its owner or a catalog editor to suspend it."
            )
        page.orderable = False
        page.not_orderable_reason = reason
        # Executives can't edit pages in the admin; what they may do is ask, and
        # the workflow (the service's owner) decides, so the editor's own
        # permission check is replaced by the review rule above.
        action = EditPageAction(page, user=actor)
        action.execute(skip_permission_checks=True)
        if workflow is not None:
            workflow.start(page, actor)
            return SuspensionRequested(service=page, published=False)
        action.revision.publish(user=actor)
        return SuspensionRequested(service=page, published=True)
