"""Security headers the site sends on every response: the Content-Security-Policy
(django-csp, with the Wagtail admin's own policy) and a Permissions-Policy that
turns off browser features the portal never uses."""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.urls import reverse


class PortalCSPMiddleware(CSPMiddleware):
    """The strict policy everywhere, except under the Wagtail admin, whose pages
    carry inline scripts and styles: they get ``ADMIN_CONTENT_SECURITY_POLICY``,
    which is the same policy with 'unsafe-inline' added for those two."""

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if (
            not report_only
            and parts.config is None
            and request.path_info.startswith(_admin_prefix())
        ):
            parts.config = settings.ADMIN_CONTENT_SECURITY_POLICY
        return parts


def _admin_prefix() -> str:
    return reverse("wagtailadmin_home")


class PermissionsPolicyMiddleware:
    """``Permissions-Policy: camera=(), microphone=(), …`` from the
    ``PERMISSIONS_POLICY`` setting: feature name to allowed origins (none)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})"
            for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
