"""Production differs only by environment: with DEBUG off the safe HTTPS values
are the defaults, `check --deploy` has nothing to say, and HTTPS, e-mail and
login throttling settings come from the environment. Each case starts a fresh
Python, since settings are read once at start."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "it.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://it.example.com",
}
NAMES = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_REFERRER_POLICY",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "EMAIL_SEND_ATTEMPTS",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME",
]
PRINT_SETTINGS = f"""
import json
from django.conf import settings
print(json.dumps({{n: getattr(settings, n, None) for n in {NAMES!r}}}, default=str))
"""


def environment(**values) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # The browser journeys allow sync ORM calls for the whole session; no
        # production environment sets that.
        if key not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", *NAMES}
        and not key.startswith(("SECURE_", "EMAIL_", "LOGIN_"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(values)
    return env


def _printed(script: str, **values):
    """What ``script`` prints as JSON, run in a fresh Python with ``values`` in
    its environment."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment(**values),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def settings_with(**values) -> dict:
    return _printed(PRINT_SETTINGS, **values)


def random_key() -> str:
    return secrets.token_urlsafe(50)


def test_check_deploy_passes_with_a_production_environment():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=environment(**PRODUCTION, SECRET_KEY=random_key()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_with_debug_off_the_safe_values_are_the_defaults():
    values = settings_with(**PRODUCTION, SECRET_KEY=random_key())
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    # Trusting a proxy header is never a default.
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_a_laptop_needs_no_https():
    values = settings_with()
    assert values["DEBUG"] is True
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_https_settings_come_from_the_environment():
    values = settings_with(
        **PRODUCTION,
        SECRET_KEY=random_key(),
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="no",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO",
        SECURE_COOKIES="0",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False


def test_email_and_login_throttling_come_from_the_environment():
    values = settings_with(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="portal",
        EMAIL_HOST_PASSWORD="s3cret",
        EMAIL_USE_TLS="1",
        EMAIL_TIMEOUT="10",
        EMAIL_SEND_ATTEMPTS="3",
        LOGIN_FAILURE_LIMIT="10",
        LOGIN_LOCKOUT_MINUTES="60",
    )
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"]) == ("smtp.example.com", 587)
    assert (values["EMAIL_HOST_USER"], values["EMAIL_HOST_PASSWORD"]) == (
        "portal",
        "s3cret",
    )
    assert (values["EMAIL_USE_TLS"], values["EMAIL_USE_SSL"]) == (True, False)
    assert values["EMAIL_TIMEOUT"] == 10
    assert values["EMAIL_SEND_ATTEMPTS"] == 3
    assert values["AXES_FAILURE_LIMIT"] == 10
    assert values["AXES_COOLOFF_TIME"] == "1:00:00"


@pytest.mark.parametrize(
    ("variable", "default"),
    [("LOGIN_FAILURE_LIMIT", 5), ("EMAIL_SEND_ATTEMPTS", 5), ("EMAIL_TIMEOUT", 30)],
)
def test_defaults(variable, default):
    name = {"LOGIN_FAILURE_LIMIT": "AXES_FAILURE_LIMIT"}.get(variable, variable)
    assert settings_with()[name] == default


def database_options(**values) -> dict:
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )
    return _printed(script, **values)


@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        # PostgreSQL binds parameters on the server, so a query run five times
        # on a connection becomes a prepared statement.
        ({}, {"server_side_binding": True, "prepare_threshold": 5}),
        (
            {"DATABASE_PREPARED_STATEMENTS": "1"},
            {"server_side_binding": True, "prepare_threshold": 5},
        ),
        # Off, for a connection pooler that can't keep them.
        ({"DATABASE_PREPARED_STATEMENTS": "0"}, {}),
    ],
)
def test_postgresql_prepares_statements_unless_told_not_to(switch, expected):
    url = "postgres://portal@db.example.com:5432/portal"
    assert database_options(DATABASE_URL=url, **switch) == expected


def test_sqlite_keeps_its_own_options():
    assert database_options() == {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
