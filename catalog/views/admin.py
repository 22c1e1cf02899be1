"""Admin-side views that Wagtail's generic views don't cover."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.models import IndexView, InspectView

from catalog.pagination import CappedCount
from catalog.selectors.entitlements import catalog_as_seen_by
from catalog.selectors.people import display_name
from catalog.selectors.requests import request_record
from catalog.views.queue import describe


def categories_in_explorer(request):
    """The catalog's categories live in the page tree: open it there."""
    from django.http import Http404
    from django.shortcuts import redirect

    from catalog.models import CatalogIndexPage

    index = CatalogIndexPage.objects.first()
    if index is None:
        raise Http404("There is no catalog yet.")
    return redirect("wagtailadmin_explore", index.pk)


class ViewAsForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        label="Person",
        help_text="See the catalog exactly as this person sees it.",
    )


class CatalogAsUserView(WagtailAdminTemplateMixin, TemplateView):
    """Pick a person; see which services they get and why each other one is hidden."""

    template_name = "catalog/admin/catalog_as_user.html"
    page_title = "View the catalog as…"
    header_icon = "view"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("catalog.view_catalog_as_user"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("catalog_as_user"), "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = ViewAsForm(self.request.GET or None)
        context["form"] = form
        if form.is_valid():
            person = form.cleaned_data["user"]
            rows = catalog_as_seen_by(user=person)
            context["person"] = person
            context["visible"] = [r for r in rows if r.visible]
            context["hidden"] = [r for r in rows if not r.visible]
        return context


class RequestInspectView(InspectView):
    """One request in the admin, as the system of record holds it: its people by
    name, its items and its whole log (IT's internal events included)."""

    template_name = "catalog/admin/request_inspect.html"

    def get_number_display_value(self):
        return self.object.number

    def get_requested_by_display_value(self):
        return display_name(self.object.requested_by)

    def get_requested_for_display_value(self):
        return display_name(self.object.requested_for)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        items, events = request_record(self.object)
        context["items"] = items
        context["events"] = [
            {"event": event, "text": describe(event), "internal": internal}
            for event, internal in events
        ]
        return context


class CappedPaginator(CappedCount, WagtailPaginator):
    """Wagtail's paginator, counting at most ``cap`` rows. The request log holds
    millions of events and counting them all cost the list a third of a second
    (bench/README.md, "Every page at a million items"); past the cap the list
    says "More than 10,000" and its filters narrow it."""

    @cached_property
    def items_count_label(self) -> str:
        if self.capped:
            return f"More than {self.cap:,} {self.verbose_name_plural}"
        return super().items_count_label


class CappedIndexView(IndexView):
    """A Wagtail listing of a table that grows without end (requests, their log)."""

    paginator_class = CappedPaginator
