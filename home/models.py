"""The site shell: the home page (the catalog's shop window) and plain pages."""

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.functional import SimpleLazyObject
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from home.cache import UncachedPreviewMixin
from home.serve import RememberedRestrictionsMixin


class HomePage(RememberedRestrictionsMixin, UncachedPreviewMixin, Page):
    """The front door: a greeting, search, categories, featured and popular services."""

    greeting = models.CharField(
        max_length=120, default="What do you need from IT today?"
    )
    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [
        FieldPanel("greeting"),
        FieldPanel("intro"),
    ]
    subpage_types = ["catalog.CatalogIndexPage", "home.ContentPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        from catalog.selectors.caching import HOME_CACHE_SECONDS, home_cache_key
        from catalog.selectors.listing import catalog_home

        context = super().get_context(request, *args, **kwargs)
        # The shop window is rendered from the cache when the same audience saw
        # the same catalog version (the template's {% cache %}); only when it is
        # rendered are its services read.
        context["shop_window_key"] = home_cache_key(user=request.user)
        context["shop_window_seconds"] = HOME_CACHE_SECONDS
        context["shop_window"] = SimpleLazyObject(
            lambda: catalog_home(user=request.user)
        )
        return context


class ContentPage(RememberedRestrictionsMixin, UncachedPreviewMixin, Page):
    """Plain pages such as "How ordering works" or "Contact the service desk"."""

    body = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = ["home.HomePage", "home.ContentPage"]
    subpage_types = ["home.ContentPage"]


class PortalSession(AbstractBaseSession):
    """Django's database session, with the key of the person it logs in, so the
    person is read with the session in one query (home/sessions.py). Removing a
    person removes their sessions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        verbose_name = "session"

    @classmethod
    def get_session_store_class(cls):
        from home.sessions import SessionStore

        return SessionStore
