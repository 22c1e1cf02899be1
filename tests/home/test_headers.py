"""Security headers: the strict Content-Security-Policy on the portal's pages, the
admin's own policy, Referrer-Policy and Permissions-Policy; and the templates
that the strict policy relies on (no inline script or style anywhere)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_portal_pages_get_the_strict_policy(client):
    response = client.get(reverse("login"))
    assert directives(response["Content-Security-Policy"]) == directives(STRICT)
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_a_logged_in_page_gets_the_strict_policy(employee_client, catalog):
    response = employee_client.get("/services/")
    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == directives(STRICT)


def test_the_admin_gets_its_own_policy_with_inline_scripts_and_styles(client):
    response = client.get(reverse("wagtailadmin_login"))
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == "'self' 'unsafe-inline'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'self'"


def test_referrer_and_permissions_policies(client):
    response = client.get(reverse("login"))
    assert response["Referrer-Policy"] == "same-origin"
    features = dict(
        item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


INLINE = [
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)", re.I),
        "<script> without src",
    ),
    (re.compile(r"<style", re.I), "<style>"),
    (re.compile(r"\sstyle\s*=", re.I), 'style=""'),
    (re.compile(r"\son[a-z]+\s*=", re.I), 'on…="" handler'),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_carries_inline_script_or_style():
    """Mail isn't served, so its templates may do as they like."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        if "email" in path.relative_to(TEMPLATES).parts:
            continue
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []
