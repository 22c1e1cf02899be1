"""E-mail goes through django-tasks: queued in the database in production, sent by
the worker; the request is safe whatever happens to the mail."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from catalog.models import ServiceRequest
from catalog.tasks import retry_delay
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


# --- A mail server that is down: retried with growing waits, then given up ------

NOTIFICATIONS = "catalog.tasks.send_request_notification"


def run_worker():
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


def notifications():
    return DBTaskResult.objects.filter(task_path=NOTIFICATIONS).order_by("enqueued_at")


def test_the_waits_grow_then_stay_at_an_hour():
    assert [retry_delay(attempt) for attempt in range(1, 7)] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=25),
        timedelta(hours=1),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


def test_a_failed_send_is_retried_with_growing_waits_then_recorded_as_failed(
    database_queue, employee, catalog, settings, caplog
):
    settings.EMAIL_BACKEND = "tests.broken_mail.Backend"
    settings.EMAIL_SEND_ATTEMPTS = 4
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        order(employee, catalog, "password", reason="Locked out.")
        run_worker()  # attempt 1 fails
        waits = []
        for attempt in (2, 3, 4):
            (queued,) = notifications().filter(status=TaskResultStatus.READY)
            assert queued.args_kwargs["kwargs"]["attempt"] == attempt
            waits.append(queued.run_after - timezone.now())
            run_worker()  # too early: nothing runs
            assert notifications().filter(status=TaskResultStatus.READY).exists()
            clock.move_to(queued.run_after)
            run_worker()
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=25)]
    # Four attempts, nothing left to run; the last one is the record of the loss.
    assert notifications().count() == 4
    assert not notifications().filter(status=TaskResultStatus.READY).exists()
    (failed,) = notifications().filter(status=TaskResultStatus.FAILED)
    assert failed.exception_class_path == "catalog.tasks.NotificationNotSent"
    assert failed.args_kwargs["kwargs"]["attempt"] == 4
    (gave_up,) = [
        r
        for r in caplog.records
        if r.name == "catalog.tasks" and r.levelno == logging.ERROR
    ]
    assert "Gave up sending the request.submitted e-mail" in gave_up.getMessage()
    assert "after 4 attempt(s)" in gave_up.getMessage()
    warned = [
        r
        for r in caplog.records
        if r.name == "catalog.tasks" and r.levelno == logging.WARNING
    ]
    assert len(warned) == 3


def test_a_mail_server_back_in_time_gets_the_mail_once(
    database_queue, employee, catalog, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.broken_mail.Backend"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        request = order(employee, catalog, "password", reason="Locked out.")
        run_worker()
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clock.move_to(start + timedelta(minutes=2))
        run_worker()
    (mail,) = mailoutbox
    assert request.number in mail.subject
    assert not notifications().filter(status=TaskResultStatus.FAILED).exists()
    assert not notifications().filter(status=TaskResultStatus.READY).exists()


def test_without_a_worker_a_failed_send_is_logged_and_the_request_kept(
    employee, catalog, settings, caplog
):
    # The inline backend of development and tests can't wait: one attempt.
    settings.EMAIL_BACKEND = "tests.broken_mail.Backend"
    request = order(employee, catalog, "password", reason="Locked out.")
    assert ServiceRequest.objects.filter(pk=request.pk).exists()
    (gave_up,) = [
        r
        for r in caplog.records
        if r.name == "catalog.tasks" and r.levelno == logging.ERROR
    ]
    assert "after 1 attempt(s)" in gave_up.getMessage()
