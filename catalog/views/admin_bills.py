"""Closing a month's IT bills from the Wagtail admin (holders of
``catalog.close_bills``): the same service as ``manage.py close_bills``."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from catalog import permissions
from catalog.exceptions import InvalidInput
from catalog.forms import PlainTextMixin
from catalog.models import BillClosing, CostCentre
from catalog.selectors.reporting.bill import bill_default_month, bill_month
from catalog.services.billing import bills_close_month
from catalog.views.queue import error_summary

RECENT_CLOSINGS = 20


class BillCloseForm(PlainTextMixin, forms.Form):
    month = forms.CharField(
        label="Month",
        help_text="The month to close, as year and month (e.g. 2026-10). Only "
        "months that have ended can be closed.",
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "maxlength": 7}),
    )
    cost_centre = forms.ModelChoiceField(
        queryset=CostCentre.objects.order_by("code"),
        required=False,
        empty_label="All cost centres with charges",
        label="Cost centre",
        help_text="Leave as is to close every cost centre with charges that month "
        "(or closed the month before, so its adjustments carry on).",
    )

    def clean_month(self):
        choice = bill_month(self.cleaned_data["month"])
        if choice.error:
            raise forms.ValidationError(choice.error)
        if choice.note:
            raise forms.ValidationError(
                "That month hasn't ended yet: only months that have ended can be "
                "closed."
            )
        return choice.month


class BillCloseView(WagtailAdminTemplateMixin, TemplateView):
    """Pick a month (and optionally a cost centre) and close its bills. A
    closed bill is frozen: later changes become adjustments on the next bill."""

    template_name = "catalog/executive/bill_close_admin.html"
    page_title = "Close IT bills"
    header_icon = "lock"

    def dispatch(self, request, *args, **kwargs):
        if not permissions.can_close_bills(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        if form is None:
            params = self.request.GET
            form = BillCloseForm(
                initial={
                    "month": params.get("month") or f"{bill_default_month():%Y-%m}",
                    "cost_centre": params.get("cost_centre")
                    if (params.get("cost_centre") or "").isdigit()
                    and len(params.get("cost_centre")) < 19
                    else None,
                }
            )
        context["form"] = form
        context["errors"] = error_summary(form)
        context["closings"] = BillClosing.objects.select_related(
            "cost_centre", "closed_by"
        ).order_by("-sequence")[:RECENT_CLOSINGS]
        return context

    def post(self, request, *args, **kwargs):
        form = BillCloseForm(request.POST)
        if form.is_valid():
            month = form.cleaned_data["month"]
            centre = form.cleaned_data["cost_centre"]
            try:
                results = bills_close_month(
                    month=month,
                    actor=request.user,
                    cost_centres=[centre] if centre else None,
                )
            except InvalidInput as exc:
                for message in exc.errors.get("month", []):
                    form.add_error("month", message)
            else:
                return self._done(request, month, results)
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def _done(self, request, month, results):
        if not results:
            messages.info(request, f"No cost centre had charges in {month:%B %Y}.")
        for result in results:
            if result.closing is not None:
                messages.success(
                    request,
                    f"Closed {month:%B %Y} for {result.cost_centre.code}: total "
                    f"{result.closing.total:,.2f}.",
                )
            else:
                messages.warning(
                    request, f"{result.cost_centre.code}: {result.message}"
                )
        return redirect(reverse("close_bills"))


bill_close_admin = BillCloseView.as_view()
