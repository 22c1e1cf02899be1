"""The whole portal sits behind a login, except the Wagtail admin (which has its
own login page and permission checks) and static assets.

Documents (``/documents/``) and media stay behind it: documents are for
employees, and in development ``/media/`` would also serve the documents' files
directly from ``media/documents/``. In production a reverse proxy serves service
images from ``/media/`` without asking Django (docs/operations.md).
"""

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware

EXEMPT_PREFIXES = ("/admin/",)


class PortalLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        path = request.path_info
        if path.startswith(EXEMPT_PREFIXES) or path.startswith(settings.STATIC_URL):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
