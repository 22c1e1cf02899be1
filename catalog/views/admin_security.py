"""The admin's "Locked logins": who django-axes is refusing right now after too
many wrong passwords, and a button to let them in again. Superusers and people
administrators only (``permissions.can_unlock_logins``)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from catalog import permissions
from catalog.exceptions import NotAllowed
from catalog.selectors.logins import locked_logins
from catalog.services.logins import login_lock_release


class UnlockForm(forms.Form):
    username = forms.CharField(max_length=255)
    ip_address = forms.GenericIPAddressField(required=False)


class LockedLoginsView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "catalog/admin/locked_logins.html"
    page_title = "Locked logins"
    header_icon = "lock"

    def dispatch(self, request, *args, **kwargs):
        if not permissions.can_unlock_logins(request.user):
            # A plain 403, not the admin's usual bounce to its dashboard: this
            # page's existence is not a secret, but nobody should mistake the
            # refusal for a glitch and keep trying.
            return permission_denied(
                request, NotAllowed("Only people administrators unlock logins.")
            )
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        from django.conf import settings

        context = super().get_context_data(**kwargs)
        context["locked"] = locked_logins()
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        return context

    def post(self, request, *args, **kwargs):
        form = UnlockForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That login could not be found; nothing changed.")
            return redirect(reverse("locked_logins"))
        username = form.cleaned_data["username"]
        login_lock_release(
            actor=request.user,
            username=username,
            ip_address=form.cleaned_data["ip_address"] or None,
        )
        messages.success(
            request, f"“{username}” can log in again from that address now."
        )
        return redirect(reverse("locked_logins"))


locked_logins_admin = LockedLoginsView.as_view()


class LockedLoginsMenuItem(MenuItem):
    def is_shown(self, request):
        return permissions.can_unlock_logins(request.user)
