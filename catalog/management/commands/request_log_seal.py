"""After REQUEST_LOG_KEY was set: append a keyed event to every request log that
ends with a plain one (docs/security.md, "Introducing a key")."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from catalog.services.request_log import request_log_seal


class Command(BaseCommand):
    help = "Seal every request log with REQUEST_LOG_KEY (run once, after setting it)."

    def handle(self, *args, **options):
        try:
            sealed = request_log_seal()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"{sealed} request log(s) sealed."))
