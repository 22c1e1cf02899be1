"""E-mail goes through django-tasks: queued in the database in production, sent by
the worker; the request is safe whatever happens to the mail."""

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from catalog.models import ServiceRequest
from tests.conftest import order

# The worker closes connections it finds inside a transaction, as a real worker
# should; so this test runs outside the usual test transaction.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def database_queue(settings):
    # django-tasks resets its backends when the setting changes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_checkout_queues_the_email_for_the_worker(
    database_queue, employee, catalog, mailoutbox
):
    request = order(employee, catalog, "password", reason="Locked out.")
    assert mailoutbox == []
    queued = DBTaskResult.objects.filter(
        task_path__endswith="send_request_notification"
    )
    assert queued.count() == 1
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    (mail,) = mailoutbox
    assert request.number in mail.subject
    assert ServiceRequest.objects.filter(pk=request.pk).exists()
