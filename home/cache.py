"""The site's cache backends, and previews that render without them.

A preview (the editor's live preview, "view draft", a revision, a page in
moderation) renders unpublished content with the live templates and code. Any
cache write on the way (a ``{% cache %}`` fragment, a listing, a route) would
serve that content to everyone until it expires; any cache read would show the
editor the live page instead of their draft. Checking ``request.is_preview`` at
each call site would be a rule in many places, easy to forget in the next
template, so the backends themselves go blind while ``cache_bypassed()`` is
active: every read misses and every write is dropped, for every call site at
once. Page models enter it for each preview (``UncachedPreviewMixin``).
"""

import contextlib
import contextvars

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

_bypassed = contextvars.ContextVar("cache_bypassed", default=False)


@contextlib.contextmanager
def cache_bypassed():
    """Within this block (this thread or task only), the cache neither answers
    nor stores anything."""
    token = _bypassed.set(True)
    try:
        yield
    finally:
        _bypassed.reset(token)


class BypassableCacheMixin:
    """Reads miss and writes are dropped inside ``cache_bypassed()``. Deleting
    still works: it can only make the cache fresher."""

    def get(self, key, default=None, version=None):
        if _bypassed.get():
            return default
        return super().get(key, default, version)

    def get_many(self, keys, version=None):
        if _bypassed.get():
            return {}
        return super().get_many(keys, version)

    def has_key(self, key, version=None):
        if _bypassed.get():
            return False
        return super().has_key(key, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if _bypassed.get():
            return None
        return super().set(key, value, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if _bypassed.get():
            return False
        return super().add(key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        if _bypassed.get():
            return []
        return super().set_many(data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        if _bypassed.get():
            return False
        return super().touch(key, timeout, version)

    def incr(self, key, delta=1, version=None):
        if _bypassed.get():
            # What Django's backends do for a key they don't have.
            raise ValueError(f"Key '{key}' not found")
        return super().incr(key, delta, version)


class LocMemCache(BypassableCacheMixin, DjangoLocMemCache):
    pass


class RedisCache(BypassableCacheMixin, DjangoRedisCache):
    pass


class UncachedPreviewMixin:
    """For page models: every preview renders with the cache bypassed. Wagtail
    sends all previews (live preview, drafts, revisions, moderation) through
    ``make_preview_request``, which also renders the response."""

    def make_preview_request(self, *args, **kwargs):
        with cache_bypassed():
            return super().make_preview_request(*args, **kwargs)
