"""Queueing e-mails about requests. Mail goes out from a background task after the
transaction commits, so a failure to send can never lose or roll back a request."""

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


def _enqueue(kind: str, **ids) -> None:
    from catalog.tasks import send_request_notification

    try:
        send_request_notification.enqueue(kind, **ids)
    except Exception:  # a broken queue must not break the person's request
        logger.exception("Could not queue the %s notification %s", kind, ids)


def notify_after_commit(kind: str, **ids) -> None:
    """Queue a notification once the surrounding transaction has committed."""
    transaction.on_commit(partial(_enqueue, kind, **ids))
