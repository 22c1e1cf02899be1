"""The cache: previews render without it, and the Redis backend works."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.test import override_settings
from django.urls import reverse
from wagtail.test.utils.form_data import (
    inline_formset,
    nested_form_data,
    rich_text,
    streamfield,
)

from home.cache import UncachedPreviewMixin, cache_bypassed
from tests.factories import UserFactory, service_page

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/0"
BASE_DIR = Path(__file__).resolve().parents[2]


def listing_of(content: bytes) -> str:
    html = content.decode()
    return html[html.index('<div class="listing">') : html.index("</main>")]


def stored_keys() -> int:
    return len(cache._cache)  # the local-memory backend's store


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", is_superuser=True)


@pytest.fixture
def vpn(catalog):
    """A published service with a description and one question."""
    return service_page(
        catalog["access"],
        "VPN access",
        summary="Work from home securely.",
        description=[
            {"type": "paragraph", "value": "<p>Published words about the VPN.</p>"}
        ],
        request_form=[
            {
                "type": "yes_no",
                "value": {
                    "label": "Published question?",
                    "help_text": "",
                    "required": True,
                },
            }
        ],
    )


def edited_form(service, *, words: str, question: str) -> dict:
    """The service's edit form as the editor submits it, with a new description
    and question (block ids as the editor's browser sends them)."""
    data = nested_form_data(
        {
            "title": service.title,
            "slug": service.slug,
            "summary": service.summary,
            "description": streamfield([("paragraph", rich_text(f"<p>{words}</p>"))]),
            "who_is_it_for": "",
            "what_you_provide": "",
            "also_known_as": "",
            "one_off_price": "0",
            "monthly_price": "0",
            "delivery_days": "2",
            "max_quantity": "1",
            "orderable": "on",
            "not_orderable_reason": "",
            "request_form": streamfield(
                [("yes_no", {"label": question, "help_text": "", "required": "on"})]
            ),
            "internal_notes": "",
            "seo_title": "",
            "search_description": "",
            "comments": inline_formset([]),
        }
    )
    data["description-0-id"] = "5b0c4c8e-0000-4000-8000-000000000001"
    data["request_form-0-id"] = "5b0c4c8e-0000-4000-8000-000000000002"
    return data


def preview(client, service, **changes) -> str:
    """Preview the edited service the way the admin's preview panel does."""
    url = reverse("wagtailadmin_pages:preview_on_edit", args=(service.pk,))
    response = client.post(url, edited_form(service, **changes))
    assert response.json()["is_valid"] is True
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_preview_never_reaches_employees(client, editor, vpn, employee):
    client.force_login(editor)
    html = preview(client, vpn, words="Unpublished words.", question="Draft question?")
    assert "Unpublished words." in html and "Draft question?" in html

    client.force_login(employee)
    html = client.get("/services/access/vpn-access/").content.decode()
    assert "Published words about the VPN." in html
    assert "Published question?" in html
    assert "Unpublished words." not in html and "Draft question?" not in html


def test_a_preview_shows_the_draft_even_when_the_live_page_is_cached(
    client, editor, vpn, employee
):
    client.force_login(employee)
    live = client.get("/services/access/vpn-access/").content.decode()
    assert "Published words" in live
    client.force_login(editor)
    html = preview(client, vpn, words="Unpublished words.", question="Draft question?")
    assert "Unpublished words." in html and "Published words" not in html
    assert "Draft question?" in html and "Published question?" not in html


@pytest.mark.parametrize("page", ["index", "computers", "laptop"])
def test_a_preview_stores_nothing_in_the_cache(
    client, editor, catalog_index, catalog, page
):
    target = catalog_index if page == "index" else catalog[page]
    client.force_login(editor)
    before = stored_keys()
    response = client.get(reverse("wagtailadmin_pages:view_draft", args=(target.pk,)))
    assert response.status_code == 200
    assert stored_keys() == before


def test_every_page_model_previews_without_the_cache():
    from wagtail.models import get_page_models

    ours = [
        model
        for model in get_page_models()
        if model._meta.app_label in {"home", "catalog"}
    ]
    assert len(ours) == 5
    assert all(issubclass(model, UncachedPreviewMixin) for model in ours)


def test_a_bypassed_cache_neither_answers_nor_stores():
    cache.set("greeting", "hello")
    with cache_bypassed():
        assert cache.get("greeting") is None
        assert cache.get_many(["greeting"]) == {}
        assert not cache.has_key("greeting")
        cache.set("draft", "unpublished")
        cache.set_many({"draft": "unpublished"})
        assert cache.add("draft", "unpublished") is False
        assert cache.get_or_set("computed", lambda: 42) == 42
    assert cache.get("greeting") == "hello"
    assert cache.get("draft") is None and cache.get("computed") is None


def test_the_cache_is_not_bypassed_outside_a_preview(employee_client, catalog):
    before = stored_keys()
    employee_client.get("/services/")
    assert stored_keys() > before


# --- Redis ----------------------------------------------------------------------


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return client


def test_redis_url_configures_a_working_cache():
    """Start-up with REDIS_URL, in a fresh process as production starts."""
    _redis_or_skip()
    release = f"test-{uuid.uuid4().hex}"
    script = (
        "import django; django.setup()\n"
        "from django.core.cache import cache\n"
        "from django.conf import settings\n"
        "print(settings.CACHES['default']['BACKEND'])\n"
        "cache.set('greeting', 'hello', 30)\n"
        "print(cache.get('greeting'))\n"
        "cache.delete('greeting')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": REDIS_URL,
        "RELEASE": release,
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["home.cache.RedisCache", "hello"]


def test_pages_are_cached_in_redis(employee_client, catalog):
    redis_client = _redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex}"
    redis_cache = {
        "default": {
            "BACKEND": "home.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        with override_settings(CACHES=redis_cache):
            first = employee_client.get("/services/")
            assert first.status_code == 200
            stored = redis_client.keys(f"{prefix}:*")
            assert any(b"catalog:listing:" in key for key in stored)
            second = employee_client.get("/services/")
            assert listing_of(second.content) == listing_of(first.content)
            assert "New laptop" in listing_of(second.content)
            caches["default"].set("greeting", "hello")
            assert caches["default"].get("greeting") == "hello"
    finally:
        for key in redis_client.keys(f"{prefix}:*"):
            redis_client.delete(key)
    assert settings.CACHES["default"]["BACKEND"] == "home.cache.LocMemCache"
