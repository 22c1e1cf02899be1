"""The release in every cache key: a new release never reads an old one's HTML."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.cache import caches
from django.test import override_settings

from config.release import release_version

BASE_DIR = Path(__file__).resolve().parents[2]


def _tree(root: Path, template: str) -> Path:
    (root / "catalog").mkdir(parents=True)
    (root / "catalog" / "views.py").write_text("VIEW = 1\n")
    (root / "templates").mkdir()
    (root / "templates" / "page.html").write_text(template)
    return root


def test_the_release_is_the_environment_s_when_it_names_one(tmp_path):
    tree = _tree(tmp_path, "<p>Hello</p>")
    assert release_version(tree, {"RELEASE": "2026.11.2"}) == "2026.11.2"


def test_without_a_name_a_changed_template_is_a_new_release(tmp_path):
    first = release_version(_tree(tmp_path / "a", "<p>Hello</p>"), {})
    same = release_version(_tree(tmp_path / "b", "<p>Hello</p>"), {})
    changed = release_version(_tree(tmp_path / "c", "<p>Hello!</p>"), {})
    assert first == same
    assert changed != first


def test_settings_put_the_release_in_the_cache_key_prefix():
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "print(settings.CACHES['default']['KEY_PREFIX'])\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("REDIS_URL", None)

    def prefix(release: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=BASE_DIR,
            env={**env, "RELEASE": release},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.strip()

    assert prefix("2026.11.1") == "portal-2026.11.1"
    assert prefix("2026.11.2") == "portal-2026.11.2"


def test_a_new_release_does_not_read_the_old_release_s_entries():
    def release(name: str):
        # The same store (one local-memory location), as two releases share Redis.
        return override_settings(
            CACHES={
                "default": {
                    "BACKEND": "home.cache.LocMemCache",
                    "LOCATION": "shared-between-releases",
                    "KEY_PREFIX": f"portal-{name}",
                }
            }
        )

    with release("old"):
        caches["default"].set("catalog:listing:abc", "<p>old HTML</p>")
        assert caches["default"].get("catalog:listing:abc") == "<p>old HTML</p>"
    with release("new"):
        assert caches["default"].get("catalog:listing:abc") is None
    with release("old"):
        caches["default"].clear()
