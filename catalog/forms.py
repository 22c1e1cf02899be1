"""Request forms: each service's questions (edited by IT in the admin as a
StreamField) become a Django form here, which both renders the questions and turns
submitted data into clean, typed answers or per-field errors."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from catalog.services.text import NUL_MESSAGE

FIELD_PREFIX = "q_"
YES_NO_CHOICES = [("yes", "Yes"), ("no", "No")]
QUESTION_TYPES = {
    "short_text",
    "long_text",
    "single_choice",
    "multiple_choice",
    "number",
    "date",
    "yes_no",
}


@dataclass(frozen=True)
class Answer:
    """One answered question, self-contained so it survives later form edits."""

    key: str
    label: str
    type: str
    value: Any

    @property
    def display(self) -> str:
        if self.value is None or self.value == "" or self.value == []:
            return "—"
        if self.type == "yes_no":
            return "Yes" if self.value else "No"
        if self.type == "multiple_choice":
            return ", ".join(self.value)
        if self.type == "date":
            return self.value.strftime("%-d %B %Y")
        return str(self.value)

    def to_json(self) -> dict:
        value = self.value.isoformat() if isinstance(self.value, date) else self.value
        return {
            "key": self.key,
            "label": self.label,
            "type": self.type,
            "value": value,
            "display": self.display,
        }


def _not_in_past(value):
    if value and value < timezone.localdate():
        raise forms.ValidationError("Choose today or a later date.")


def label_in_sentence(label: str) -> str:
    """A question's label as part of a sentence: "Which model?" → "which model".
    A label that starts with an abbreviation ("VPN access") keeps its capitals."""
    text = label.strip().rstrip("?:.").strip()
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _error_messages(block_type: str, label: str) -> dict[str, str]:
    """What to do, in the words of the question, for each way an answer can be
    wrong (Django's own messages say what is wrong, not what to do)."""
    what = label_in_sentence(label)
    choose = f"Choose {what}"
    if block_type == "yes_no":
        choose = f"Choose Yes or No for “{label}”"
    messages = {
        "short_text": {"required": f"Enter {what}"},
        "long_text": {"required": f"Enter {what}"},
        "single_choice": {"required": choose, "invalid_choice": choose},
        "multiple_choice": {"required": choose, "invalid_choice": choose},
        "yes_no": {"required": choose, "invalid_choice": choose},
        "number": {
            "required": f"Enter {what}",
            "invalid": f"Enter {what} as a whole number",
            "min_value": f"Enter {what}: %(limit_value)s or more",
            "max_value": f"Enter {what}: %(limit_value)s or fewer",
        },
        "date": {
            "required": f"Enter a date for “{label}”",
            "invalid": f"Enter a date for “{label}”, e.g. 2027-08-01",
        },
    }[block_type]
    messages["max_length"] = (
        "Keep your answer to %(limit_value)d characters or fewer (you wrote "
        "%(show_value)d)"
    )
    return messages


def _field_for(block_type: str, spec) -> forms.Field:
    if block_type not in QUESTION_TYPES:
        raise ValueError(f"Unknown question type {block_type!r}")
    common = {
        "label": spec["label"],
        "help_text": spec.get("help_text") or "",
        "required": bool(spec.get("required")),
        "error_messages": _error_messages(block_type, spec["label"]),
    }
    if block_type == "short_text":
        return forms.CharField(max_length=spec.get("max_length") or 200, **common)
    if block_type == "long_text":
        return forms.CharField(
            max_length=spec.get("max_length") or 2000,
            widget=forms.Textarea(attrs={"rows": 4}),
            **common,
        )
    if block_type == "single_choice":
        choices = [(c, c) for c in spec.get("choices") or []]
        return forms.ChoiceField(
            choices=[("", "Choose one…"), *choices] if choices else [], **common
        )
    if block_type == "multiple_choice":
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in spec.get("choices") or []],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if block_type == "number":
        return forms.IntegerField(
            min_value=spec.get("min_value"),
            max_value=spec.get("max_value"),
            **common,
        )
    if block_type == "date":
        validators = [_not_in_past] if spec.get("not_in_past") else []
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}),
            validators=validators,
            **common,
        )
    return forms.ChoiceField(choices=YES_NO_CHOICES, widget=forms.RadioSelect, **common)


def _attributes(attrs: dict):
    """A widget's attributes as ``django/forms/widgets/attrs.html`` writes them:
    in the widget's own order (flatatt sorts), True as a bare name, False left out."""
    return mark_safe(
        "".join(
            format_html(" {}", key)
            if given is True
            else format_html(' {}="{}"', key, given)
            for key, given in attrs.items()
            if given is not False
        )
    )


class InlineTextarea(forms.Textarea):
    """A textarea drawn in Python rather than through the widget templates, to
    the same HTML (``django/forms/widgets/textarea.html`` and ``attrs.html``):
    the approvals page draws one per decision, a dozen and more. It takes
    14 microseconds where Django's takes 47: about 0.8 ms of a full page's 30
    at a million items (then twenty requests to a page)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            widget["name"],
            _attributes(widget["attrs"]),
            widget["value"] or "",
        )


class InlineSelect(forms.Select):
    """A drop-down drawn in Python rather than through the widget templates, to
    the same HTML (``select.html``, ``select_option.html`` and ``attrs.html``,
    down to the newline that ends each option). Django's templates include two
    more templates for every option: the executive filters' drop-downs
    (services, cost centres, months...) hold 84 options on the demo, and
    drawing them was about a tenth of the dashboard's time."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts.extend(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    str(option["value"]),
                    _attributes(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group_name:
                parts.append(mark_safe("\n  </optgroup>"))
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attributes(widget["attrs"]),
            mark_safe("".join(parts)),
        )


class PlainTextMixin:
    """For every form people type into: Django's text fields refuse a NUL byte
    (PostgreSQL can't store one); this makes the refusal say what to do, in the
    same words as ``catalog.services.text.clean_text``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages = {
                **field.error_messages,
                "null_characters_not_allowed": NUL_MESSAGE,
            }


class RequestForm(PlainTextMixin, forms.Form):
    """The questions of one service. Pass ``questions`` as the page's
    ``request_questions`` (key, bound block) pairs."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for key, block in self.questions:
            self.fields[FIELD_PREFIX + key] = _field_for(block.block_type, block.value)

    def answers(self) -> list[Answer]:
        """Typed answers, in form order; call after ``is_valid()``."""
        result = []
        for key, block in self.questions:
            value = self.cleaned_data.get(FIELD_PREFIX + key)
            if block.block_type == "yes_no":
                value = {"yes": True, "no": False}.get(value)
            elif block.block_type == "multiple_choice":
                value = list(value or [])
            elif value == "":
                value = None
            result.append(
                Answer(
                    key=key,
                    label=block.value["label"],
                    type=block.block_type,
                    value=value,
                )
            )
        return result


@dataclass(frozen=True)
class ValidationResult:
    answers: list[Answer]
    errors: dict[str, list[str]]
    form: RequestForm  # bound, to show the answers again with their errors

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_answers(*, questions, data) -> ValidationResult:
    """Validate submitted data against a service's questions.

    ``data`` is a mapping of field name (``q_<key>``) to submitted value(s), such as
    ``request.POST``. Errors are keyed by question key.
    """
    form = RequestForm(data, questions=questions)
    if form.is_valid():
        return ValidationResult(answers=form.answers(), errors={}, form=form)
    errors = {
        name.removeprefix(FIELD_PREFIX): list(messages)
        for name, messages in form.errors.items()
    }
    return ValidationResult(answers=[], errors=errors, form=form)


def initial_from_answers(answers: list[dict]) -> dict:
    """Form initial data from stored answers, for editing a basket line."""
    initial = {}
    for answer in answers:
        value = answer["value"]
        if answer["type"] == "yes_no" and value is not None:
            value = "yes" if value else "no"
        initial[FIELD_PREFIX + answer["key"]] = value
    return initial
