"""Benchmark fixture, run by ``bench/rps.py`` inside the benchmark's environment.

Not a test and not for a real database: it runs against the throwaway database
that ``rps.py`` has just migrated and filled with ``load_demo --force``.

It
1. publishes the "bare Wagtail page": a ``home.ContentPage`` with an empty body,
   child of the HomePage (``/bench-bare/``), rendered through the same
   ``base.html`` shell, middleware and context processors as every other page;
2. logs the demo ``employee`` in and returns the session key;
3. renders every benchmarked URL once in-process (Django test client, the same
   settings) and counts its SQL queries, as context for the numbers.

Prints one JSON object on the last line of stdout.
"""

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from home.models import ContentPage, HomePage  # noqa: E402

BARE_SLUG = "bench-bare"
BARE_TITLE = "Bench bare page"


def ensure_bare_page() -> ContentPage:
    page = ContentPage.objects.filter(slug=BARE_SLUG).first()
    if page is None:
        home = HomePage.objects.get()
        page = home.add_child(instance=ContentPage(title=BARE_TITLE, slug=BARE_SLUG))
        page.save_revision().publish()
    return page


def main() -> None:
    paths = sys.argv[1:]
    ensure_bare_page()
    user = get_user_model().objects.get(username="employee")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    session_key = client.cookies["sessionid"].value

    queries = {}
    for path in paths:
        client.get(path)  # warm caches (popularity, templates) as in a live worker
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        queries[path] = {
            "status": response.status_code,
            "queries": len(ctx.captured_queries),
            "bytes": len(response.content),
        }
    print(json.dumps({"sessionid": session_key, "queries": queries}))


if __name__ == "__main__":
    main()
