"""Benchmark fixture, run by ``bench/rps.py`` inside the benchmark's environment.

Not a test and not for a real database: it runs against the throwaway database
that ``rps.py`` has just migrated and filled with ``load_demo --force``.

It
1. publishes the "bare Wagtail page": a ``home.ContentPage`` with an empty body,
   child of the HomePage (``/bench-bare/``), rendered through the same
   ``base.html`` shell, middleware and context processors as every other page;
2. gives the demo ``employee`` something to look at: two submitted requests
   (through the basket and checkout services, as the pages would) and one
   service waiting in the basket; their items land in the demo ``fulfiller``'s
   queue;
3. logs the demo ``employee`` and ``fulfiller`` in and returns their session keys;
4. renders every benchmarked URL once in-process (Django test client, the same
   settings) as the person who will load it, and counts its SQL queries.

Arguments are ``user:path``; a path may hold ``{request}``, the number (primary
key) of the employee's latest request. Prints one JSON object on the last line
of stdout: sessions, the resolved paths and the query counts.
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

from catalog.models import ServicePage  # noqa: E402
from catalog.selectors.basket import basket_review  # noqa: E402
from catalog.services.basket import basket_line_add  # noqa: E402
from catalog.services.checkout import request_submit  # noqa: E402
from home.models import ContentPage, HomePage  # noqa: E402

BARE_SLUG = "bench-bare"
BARE_TITLE = "Bench bare page"
# Demo services without a request form, so no answers are needed.
ORDERS = [["Headset for calls", "Unlock my account"], ["Adobe Acrobat Pro"]]
IN_BASKET = "Keyboard, mouse and docking station"


def ensure_bare_page() -> ContentPage:
    page = ContentPage.objects.filter(slug=BARE_SLUG).first()
    if page is None:
        home = HomePage.objects.get()
        page = home.add_child(instance=ContentPage(title=BARE_TITLE, slug=BARE_SLUG))
        page.save_revision().publish()
    return page


def add(user, title: str) -> None:
    service = ServicePage.objects.live().get(title=title)
    basket_line_add(user=user, service_id=service.pk, data={"quantity": "1"})


def ensure_requests(user) -> int:
    """Two submitted requests and one line left in the basket; returns the
    latest request's key."""
    service_request = None
    for titles in ORDERS:
        for title in titles:
            add(user, title)
        review = basket_review(user=user)
        service_request = request_submit(
            user=user,
            basket_id=review.basket.pk,
            expected_fingerprint=review.fingerprint,
            business_reason="Needed for work.",
        ).service_request
    add(user, IN_BASKET)
    return service_request.pk


def main() -> None:
    specs = [arg.split(":", 1) for arg in sys.argv[1:]]
    ensure_bare_page()
    User = get_user_model()
    employee = User.objects.get(username="employee")
    request_key = ensure_requests(employee)

    clients, sessions = {}, {}
    for username in sorted({user for user, _ in specs}):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=username))
        clients[username] = client
        sessions[username] = client.cookies["sessionid"].value

    paths, queries = {}, {}
    for user, template in specs:
        path = template.format(request=request_key)
        paths[template] = path
        client = clients[user]
        client.get(path)  # warm caches (popularity, templates) as in a live worker
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        queries[path] = {
            "status": response.status_code,
            "queries": len(ctx.captured_queries),
            "bytes": len(response.content),
        }
    print(json.dumps({"sessions": sessions, "paths": paths, "queries": queries}))


if __name__ == "__main__":
    main()
