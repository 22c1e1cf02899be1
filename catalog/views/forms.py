"""Forms for the portal's own views (request forms live in catalog.forms).

The services validate what they are given and say what is wrong in the person's
words; these forms only parse the request and carry those messages back to their
fields. Where a service already checks a value (a rating's range, a decline's
reason), the form leaves it to the service, so each rule is written once.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model

from catalog.exceptions import InvalidInput
from catalog.forms import InlineTextarea, PlainTextMixin
from catalog.ids import MAX_ID_DIGITS
from catalog.models import CostCentre
from catalog.selectors.people import display_name
from catalog.services.checkout import MAX_REASON_LENGTH, REASON_REQUIRED
from catalog.services.text import NUL_MESSAGE

CHOOSE_FROM_LIST = "Choose a person from the list."
MAX_SEARCH_LENGTH = 200
STALE_CHECKOUT = (
    "This page was out of date or incomplete, so nothing was submitted and your "
    "basket is as you left it. Check the details below and submit again, or go "
    "back to your basket."
)


def person_search(request, text: str) -> str:
    """The words typed to find a person, trimmed; none (and a message saying
    what to do) when they hold a character no name can have."""
    text = (text or "").strip()[:MAX_SEARCH_LENGTH]
    if "\x00" in text:
        messages.error(request, f"We couldn't search for that name. {NUL_MESSAGE}")
        return ""
    return text


def _person_label(person, *, viewer=None) -> str:
    name = display_name(person)
    if viewer is not None and person.pk == viewer.pk:
        return f"Myself ({name})"
    profile = getattr(person, "profile", None)
    details = []
    if profile is not None and profile.job_title:
        details.append(profile.job_title)
    if profile is not None and profile.department_id:
        details.append(profile.department.name)
    return f"{name} · {', '.join(details)}" if details else name


class PersonChoiceField(forms.ModelChoiceField):
    """Any active person is a valid value (the service decides whom this person
    may choose, and says why not); only ``people`` are offered as radio buttons,
    so the page never lists the whole company."""

    widget = forms.RadioSelect

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": CHOOSE_FROM_LIST},
        )
        super().__init__(
            queryset=get_user_model().objects.filter(is_active=True),
            empty_label=None,
            **kwargs,
        )

    def offer(self, people, *, viewer=None) -> None:
        self.widget.choices = [
            (person.pk, _person_label(person, viewer=viewer)) for person in people
        ]


class CheckoutForm(PlainTextMixin, forms.Form):
    basket = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=10**MAX_ID_DIGITS - 1
    )
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)
    requested_for = PersonChoiceField(
        label="Who is it for?",
        required=False,
        help_text="Ordering for a new starter or a colleague? Find them above.",
    )
    # The search that found the people offered, kept so they stay on screen
    # when the form comes back with an error.
    for_q = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)
    cost_centre = forms.ModelChoiceField(
        queryset=CostCentre.objects.filter(active=True).order_by("code"),
        required=False,
        label="Cost centre to charge",
        empty_label="Their department's cost centre",
        error_messages={"invalid_choice": "Choose a cost centre from the list."},
    )
    business_reason = forms.CharField(
        label="Why is this needed?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_REASON_LENGTH,
        help_text="A sentence is enough, e.g. “Joining the sales team on 1 May”.",
        error_messages={
            "required": REASON_REQUIRED,
            "max_length": (
                f"Keep it under {MAX_REASON_LENGTH} characters (you wrote "
                "%(show_value)d)."
            ),
        },
    )

    def __init__(self, *args, people, viewer, may_choose: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["requested_for"]
        if may_choose:
            field.offer(people, viewer=viewer)
        else:
            # Only ever for themselves: nothing to choose.
            field.widget = forms.HiddenInput()

    def name_default_cost_centre(self, cost_centre, *, for_themselves: bool) -> None:
        """Say which cost centre "the default" is: the recipient's department's,
        by code and name (or that there is none, so one must be chosen)."""
        if cost_centre is None:
            label = "Choose a cost centre"
        else:
            whose = "Your" if for_themselves else "Their"
            label = (
                f"{whose} department's cost centre: {cost_centre.code} "
                f"{cost_centre.name}"
            )
        self.fields["cost_centre"].empty_label = label

    def hidden_errors_as_stale(self) -> bool:
        """Errors in the hidden fields (a page kept open too long, or altered)
        mean nothing a person can correct in a field: replace them with one
        message saying what happened. True if there were any."""
        stale = [
            name
            for name in list(self.errors)
            if name in self.fields and self[name].is_hidden
        ]
        for name in stale:
            del self.errors[name]
        if stale:
            self.add_error(None, STALE_CHECKOUT)
        return bool(stale)


class DecisionForm(PlainTextMixin, forms.Form):
    """Approve or decline one item, or a whole request. The reason is required
    to decline; the approval service says so."""

    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("decline", "Decline")],
        error_messages={
            "required": "Choose Approve or Decline.",
            "invalid_choice": "Choose Approve or Decline.",
        },
    )
    note = forms.CharField(
        label="Reason (needed to decline)",
        required=False,
        widget=InlineTextarea(attrs={"rows": 2}),
    )

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == "approve"


class SubstituteForm(PlainTextMixin, forms.Form):
    substitute = PersonChoiceField(
        label="Who decides for you while you're away?",
        error_messages={
            "required": "Choose who decides for you while you're away.",
            "invalid_choice": CHOOSE_FROM_LIST,
        },
    )
    starts_on = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the first day they decide for you.",
            "invalid": "Enter the first day as a date, e.g. 2027-08-01.",
        },
    )
    ends_on = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the last day they decide for you.",
            "invalid": "Enter the last day as a date, e.g. 2027-08-14.",
        },
    )
    # The search that found the people offered (see CheckoutForm.for_q).
    q = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["substitute"].offer(people)


RATING_CHOICES = [
    ("1", "1 – Poor"),
    ("2", "2 – Fair"),
    ("3", "3 – Good"),
    ("4", "4 – Very good"),
    ("5", "5 – Excellent"),
]


class RatingForm(PlainTextMixin, forms.Form):
    # A plain text value: the rating service checks the range and says how.
    rating = forms.CharField(
        label="How did we do?",
        required=False,
        widget=forms.RadioSelect(choices=RATING_CHOICES),
    )
    comment = forms.CharField(
        label="Anything you'd like to tell us?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


MAX_NOTE_LENGTH = 4000


class NoteForm(PlainTextMixin, forms.Form):
    text = forms.CharField(
        label="Add a comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_NOTE_LENGTH,
        error_messages={
            "required": "Enter your comment",
            "max_length": (
                f"Keep your comment under {MAX_NOTE_LENGTH} characters (you wrote "
                "%(show_value)d)."
            ),
        },
    )


class RemovalForm(PlainTextMixin, forms.Form):
    reason = forms.CharField(
        label="Why don't you need it any more?",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=MAX_NOTE_LENGTH,
        error_messages={
            "max_length": (
                f"Keep the reason under {MAX_NOTE_LENGTH} characters (you wrote "
                "%(show_value)d)."
            ),
        },
    )


def add_service_errors(form, exc: InvalidInput) -> None:
    """A service's refusal of the input, message by message, at the form's field
    of that name (or above the form when it has no such field)."""
    for field, errors in exc.errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
