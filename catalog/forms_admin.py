"""Forms of the admin's own pages: the item work page's actions, the calendar
preview, and the business calendar's edit form.

The action forms only shape the input. The rules (a note required here, a reason
that must be active there) belong to the services, whose ``InvalidInput`` errors
the views put next to these forms' fields, so each rule is written once.
"""

import zoneinfo
from decimal import Decimal

from django import forms
from wagtail.admin.forms import WagtailAdminModelForm

from catalog.business_time import CalendarSpec
from catalog.forms import PlainTextMixin
from catalog.models import BusinessCalendar

NOTE_ROWS = {"rows": 3}
MAX_NOTE = 4000


class ItemActionForm(PlainTextMixin, forms.Form):
    """Every action carries the status the person saw, so a move made from a
    page that is out of date is refused instead of undoing someone's work."""

    expected_status = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={"required": "Reload the page and try again."},
    )


class AssignForm(ItemActionForm):
    assignee = forms.ChoiceField(
        label="Assign to",
        required=False,
        choices=[],
        error_messages={"invalid_choice": "Choose someone from the team's list."},
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", "Nobody (unassign)"),
            *[
                (str(person.pk), person.get_full_name() or person.get_username())
                for person in members
            ],
        ]


class StartForm(ItemActionForm):
    pass


class HoldForm(ItemActionForm):
    reason = forms.TypedChoiceField(
        label="Why is it on hold?",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[],
        error_messages={"invalid_choice": "Choose one of the reasons in the list."},
    )
    note = forms.CharField(
        label="Note for the requester",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs=NOTE_ROWS),
        help_text="Required when we need something from them: say what.",
    )

    def __init__(self, *args, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [
            ("", "Choose a reason"),
            *[(reason.pk, reason.name) for reason in reasons],
        ]


class ResumeForm(ItemActionForm):
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs=NOTE_ROWS),
    )


class ResolveForm(ItemActionForm):
    note = forms.CharField(
        label="What was done",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs=NOTE_ROWS),
        help_text="The requester reads this with the delivery.",
    )


class CancelForm(ItemActionForm):
    note = forms.CharField(
        label="Why is it cancelled?",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs=NOTE_ROWS),
        help_text="The requester reads this.",
    )


class WorkNoteForm(PlainTextMixin, forms.Form):
    text = forms.CharField(
        label="Work note (internal)",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs=NOTE_ROWS),
        help_text="For the team only: never shown to the requester.",
    )


class CommentForm(PlainTextMixin, forms.Form):
    text = forms.CharField(
        label="Comment to the requester",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs=NOTE_ROWS),
        help_text="The requester sees this on their request and gets an e-mail.",
    )


ACTION_FORMS = {
    "assign": AssignForm,
    "start": StartForm,
    "hold": HoldForm,
    "resume": ResumeForm,
    "resolve": ResolveForm,
    "cancel": CancelForm,
    "work-note": WorkNoteForm,
    "comment": CommentForm,
}


# --- Calendars ----------------------------------------------------------------------


class CalendarPreviewForm(PlainTextMixin, forms.Form):
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.order_by("name"),
        empty_label="Choose a calendar",
        error_messages={
            "required": "Choose the calendar to count on.",
            "invalid_choice": "Choose one of the calendars in the list.",
        },
    )
    start_date = forms.DateField(
        label="Start date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Enter the day the clock starts.",
            "invalid": "Enter a date such as 2025-01-10.",
        },
    )
    start_time = forms.TimeField(
        label="Start time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Local time in the calendar's time zone.",
        error_messages={
            "required": "Enter the time the clock starts.",
            "invalid": "Enter a time such as 16:30.",
        },
    )
    hours = forms.DecimalField(
        label="Working hours",
        min_value=Decimal("0.01"),
        max_value=Decimal("2000"),
        max_digits=6,
        decimal_places=2,
        help_text="The target, e.g. 16 for two working days of 8 hours.",
        error_messages={
            "required": "Enter a number of hours, e.g. 16.",
            "invalid": "Enter a number of hours, e.g. 16 or 2.5.",
            "min_value": "Enter more than 0 hours.",
            "max_value": "Enter at most 2,000 hours.",
            "max_digits": "Enter at most 2,000 hours, with up to two decimals.",
            "max_decimal_places": "Use at most two decimals, e.g. 2.25.",
        },
    )


class _Row:
    """A submitted opening-hours or closure row, for ``spec_from``."""

    def __init__(self, **values):
        self.__dict__.update(values)


def _kept_rows(formset, required, optional=()):
    """The rows that will be saved: valid, filled in, not marked for deletion."""
    rows = []
    if formset is None:
        return rows
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if data.get("DELETE") or any(data.get(name) is None for name in required):
            continue
        rows.append(_Row(**{name: data.get(name) for name in (*required, *optional)}))
    return rows


class BusinessCalendarForm(WagtailAdminModelForm):
    """Checks the calendar as a whole, as its rows will be saved: split shifts
    that overlap, or a week with no opening hours at all (which would make every
    due time on it unreachable), are refused with the reason, and nothing is
    saved. Row-level checks (closing after opening) stay on the row models."""

    def clean(self):
        cleaned = super().clean()
        zone = cleaned.get("time_zone")
        if not zone or zone not in zoneinfo.available_timezones():
            return cleaned  # the model's clean says what to enter
        hours_formset = self.formsets.get("hours")
        closures_formset = self.formsets.get("closures")
        for formset in (hours_formset, closures_formset):
            if formset is not None:
                formset.is_valid()
        draft = BusinessCalendar(
            time_zone=zone,
            always_open=bool(cleaned.get("always_open")),
            holiday_country=cleaned.get("holiday_country") or "",
            holiday_subdivision=cleaned.get("holiday_subdivision") or "",
        )
        hours = _kept_rows(hours_formset, ("weekday", "opens", "closes"))
        closures = _kept_rows(closures_formset, ("first_day",), ("last_day",))
        spec = draft.spec_from(hours, closures)
        region = CalendarSpec(
            time_zone=zone,
            always_open=True,
            holiday_country=spec.holiday_country,
            holiday_subdivision=spec.holiday_subdivision,
        ).problems()
        for problem in region:
            self.add_error("holiday_country", problem)
        for problem in spec.problems():
            if problem in region:
                continue
            if problem == "The calendar has no opening hours.":
                problem = (
                    "The calendar has no opening hours: add at least one row "
                    "under Opening hours, or tick “around the clock (24x7)”."
                )
            self.add_error(None, problem)
        return cleaned


class UserProfileForm(WagtailAdminModelForm):
    """A profile belongs to its person for good: on edit, who it is stays fixed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "user" in self.fields:
            self.fields["user"].disabled = True
            self.fields["user"].help_text = "A profile always stays with its person."
