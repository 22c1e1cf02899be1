"""Forms for the portal's own views (request forms live in catalog.forms)."""

from django import forms

from catalog.models import CostCentre
from catalog.services.checkout import MAX_REASON_LENGTH


class CheckoutForm(forms.Form):
    basket = forms.IntegerField(widget=forms.HiddenInput)
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)
    requested_for = forms.ModelChoiceField(
        queryset=None,
        label="Who is it for?",
        empty_label=None,
        help_text="Ordering for a new starter or a colleague? Choose them here.",
    )
    cost_centre = forms.ModelChoiceField(
        queryset=CostCentre.objects.filter(active=True).order_by("code"),
        required=False,
        label="Cost centre to charge",
        empty_label="Their department's cost centre",
    )
    business_reason = forms.CharField(
        label="Why is this needed?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_REASON_LENGTH,
        help_text="A sentence is enough, e.g. “Joining the sales team on 1 May”.",
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requested_for"].queryset = people
        self.fields["requested_for"].label_from_instance = lambda u: (
            u.get_full_name() or u.get_username()
        )
        if people.count() == 1:
            self.fields["requested_for"].widget = forms.HiddenInput()


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Add a comment", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class RemovalForm(forms.Form):
    reason = forms.CharField(
        label="Why don't you need it any more?", required=False, max_length=4000
    )
