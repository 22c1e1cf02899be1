"""URL wiring: auth pages, the portal's own views, the Wagtail admin, then pages."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls
from wagtail.urls import serve_pattern

from home.forms import PortalAuthenticationForm
from home.serve import serve
from home.views import LogoutView

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=PortalAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("", include("catalog.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)


def _portal_serve(patterns):
    """Wagtail's URLs in Wagtail's order, with its page view replaced by the
    portal's (routing remembered per catalog version, home/serve.py)."""
    return [
        re_path(serve_pattern, serve, name="wagtail_serve")
        if getattr(pattern, "name", None) == "wagtail_serve"
        else pattern
        for pattern in patterns
    ]


urlpatterns += [path("", include(_portal_serve(wagtail_urls.urlpatterns)))]
