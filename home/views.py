"""The site shell's own views: logging out."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.template.response import TemplateResponse

LOGGED_OUT = "You have logged out."


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only, so a link or a prefetch can't log anyone
    out) that says it worked, and that answers a GET, e.g. the address typed
    in, with a page holding the button rather than an empty 405."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        return TemplateResponse(request, "registration/logout.html")

    def post(self, request, *args, **kwargs):
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            # After Django has replaced the session, so the message survives.
            messages.success(request, LOGGED_OUT)
        return response
