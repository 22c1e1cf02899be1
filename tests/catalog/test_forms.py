"""The request-form validator: every question type, valid and invalid; and the
textarea and drop-down drawn in Python."""

import datetime

import pytest
import time_machine
from django import forms
from wagtail.blocks import StreamValue

from catalog.blocks import RequestFormBlock
from catalog.forms import (
    InlineSelect,
    InlineTextarea,
    initial_from_answers,
    validate_answers,
)


def questions(*specs):
    """Build (key, bound block) pairs as a ServicePage exposes them."""
    raw = [
        {
            "type": block_type,
            "value": {"help_text": "", "required": True, **value},
            "id": key,
        }
        for key, block_type, value in specs
    ]
    stream = StreamValue(RequestFormBlock(), raw, is_lazy=True)
    return [(child.id, child) for child in stream]


def answers_by_key(result):
    return {a.key: a for a in result.answers}


def test_short_text_is_trimmed_and_bounded():
    qs = questions(("name", "short_text", {"label": "Name", "max_length": 10}))
    ok = validate_answers(questions=qs, data={"q_name": "  Ada  "})
    assert ok.ok and answers_by_key(ok)["name"].value == "Ada"
    too_long = validate_answers(questions=qs, data={"q_name": "x" * 11})
    assert too_long.errors["name"] == [
        "Keep your answer to 10 characters or fewer (you wrote 11)"
    ]


def test_required_question_must_be_answered():
    qs = questions(("name", "short_text", {"label": "Name", "max_length": 10}))
    result = validate_answers(questions=qs, data={})
    assert not result.ok
    assert result.errors == {"name": ["Enter name"]}
    assert result.answers == []


def test_optional_question_may_be_left_blank():
    qs = questions(
        ("notes", "long_text", {"label": "Notes", "required": False, "max_length": 50})
    )
    result = validate_answers(questions=qs, data={"q_notes": ""})
    assert result.ok
    assert answers_by_key(result)["notes"].value is None
    assert answers_by_key(result)["notes"].display == "—"


def test_long_text_limit():
    qs = questions(("why", "long_text", {"label": "Why", "max_length": 20}))
    assert validate_answers(questions=qs, data={"q_why": "a" * 20}).ok
    assert not validate_answers(questions=qs, data={"q_why": "a" * 21}).ok


def test_single_choice_accepts_only_listed_options():
    qs = questions(
        ("model", "single_choice", {"label": "Model", "choices": ["Small", "Large"]})
    )
    assert (
        answers_by_key(validate_answers(questions=qs, data={"q_model": "Large"}))[
            "model"
        ].value
        == "Large"
    )
    bad = validate_answers(questions=qs, data={"q_model": "Huge"})
    assert bad.errors["model"] == ["Choose model"]


def test_multiple_choice_returns_a_list_and_rejects_unknown_options():
    qs = questions(
        (
            "extras",
            "multiple_choice",
            {"label": "Extras", "choices": ["Bag", "Mouse", "Dock"]},
        )
    )
    from django.utils.datastructures import MultiValueDict

    data = MultiValueDict({"q_extras": ["Bag", "Dock"]})
    result = validate_answers(questions=qs, data=data)
    assert answers_by_key(result)["extras"].value == ["Bag", "Dock"]
    assert answers_by_key(result)["extras"].display == "Bag, Dock"
    bad = validate_answers(questions=qs, data=MultiValueDict({"q_extras": ["Boat"]}))
    assert "extras" in bad.errors


def test_whole_number_with_bounds():
    qs = questions(
        ("gb", "number", {"label": "Gigabytes", "min_value": 5, "max_value": 100})
    )
    assert (
        answers_by_key(validate_answers(questions=qs, data={"q_gb": "50"}))["gb"].value
        == 50
    )
    assert validate_answers(questions=qs, data={"q_gb": "4"}).errors["gb"] == [
        "Enter gigabytes: 5 or more"
    ]
    assert validate_answers(questions=qs, data={"q_gb": "101"}).errors["gb"] == [
        "Enter gigabytes: 100 or fewer"
    ]
    assert (
        "whole number"
        in validate_answers(questions=qs, data={"q_gb": "7.5"}).errors["gb"][0]
    )
    assert not validate_answers(questions=qs, data={"q_gb": "lots"}).ok


@time_machine.travel(datetime.date(2026, 11, 25), tick=False)
def test_date_parses_and_refuses_the_past_when_asked():
    qs = questions(("when", "date", {"label": "When", "not_in_past": True}))
    result = validate_answers(questions=qs, data={"q_when": "2026-12-01"})
    assert answers_by_key(result)["when"].value == datetime.date(2026, 12, 1)
    assert answers_by_key(result)["when"].to_json()["value"] == "2026-12-01"
    past = validate_answers(questions=qs, data={"q_when": "2026-11-24"})
    assert past.errors["when"] == ["Choose today or a later date."]
    assert not validate_answers(questions=qs, data={"q_when": "31/31/2026"}).ok


def test_date_in_past_allowed_when_not_restricted():
    qs = questions(("lost", "date", {"label": "Lost on", "not_in_past": False}))
    assert validate_answers(questions=qs, data={"q_lost": "2020-01-01"}).ok


def test_yes_no_gives_a_boolean_and_requires_a_choice():
    qs = questions(("keep", "yes_no", {"label": "Keep your number?"}))
    assert (
        answers_by_key(validate_answers(questions=qs, data={"q_keep": "no"}))[
            "keep"
        ].value
        is False
    )
    yes = answers_by_key(validate_answers(questions=qs, data={"q_keep": "yes"}))["keep"]
    assert yes.value is True and yes.display == "Yes"
    assert not validate_answers(questions=qs, data={}).ok
    assert not validate_answers(questions=qs, data={"q_keep": "maybe"}).ok


def test_answers_keep_labels_and_round_trip_into_initial_data():
    qs = questions(
        ("model", "single_choice", {"label": "Model", "choices": ["Small"]}),
        ("keep", "yes_no", {"label": "Keep?"}),
    )
    result = validate_answers(questions=qs, data={"q_model": "Small", "q_keep": "yes"})
    stored = [a.to_json() for a in result.answers]
    assert stored[0]["label"] == "Model" and stored[0]["display"] == "Small"
    assert initial_from_answers(stored) == {"q_model": "Small", "q_keep": "yes"}


def test_errors_for_several_fields_at_once():
    qs = questions(
        ("a", "short_text", {"label": "A", "max_length": 5}),
        ("b", "number", {"label": "B", "min_value": 1, "max_value": 2}),
    )
    result = validate_answers(questions=qs, data={"b": "3"})
    assert set(result.errors) == {"a", "b"}


@pytest.mark.parametrize(
    "block_type, label, extra, message",
    [
        ("short_text", "Desk number", {}, "Enter desk number"),
        ("long_text", "Why do you need it?", {}, "Enter why do you need it"),
        ("single_choice", "Which model?", {"choices": ["A"]}, "Choose which model"),
        ("multiple_choice", "Extras", {"choices": ["A"]}, "Choose extras"),
        ("number", "For how many days?", {}, "Enter for how many days"),
        ("date", "Start date", {}, "Enter a date for “Start date”"),
        ("yes_no", "Move your files?", {}, "Choose Yes or No for “Move your files?”"),
        ("short_text", "VPN user name", {}, "Enter VPN user name"),
    ],
)
def test_unanswered_required_question_says_what_to_do(
    block_type, label, extra, message
):
    qs = questions(("q", block_type, {"label": label, **extra}))
    assert validate_answers(questions=qs, data={}).errors == {"q": [message]}


def test_wrong_number_and_date_say_what_to_do():
    qs = questions(
        ("days", "number", {"label": "Days", "min_value": 1, "max_value": 30}),
        ("start", "date", {"label": "Start date"}),
        ("keep", "yes_no", {"label": "Keep it?"}),
    )
    result = validate_answers(
        questions=qs, data={"q_days": "31", "q_start": "soon", "q_keep": "maybe"}
    )
    assert result.errors == {
        "days": ["Enter days: 30 or fewer"],
        "start": ["Enter a date for “Start date”, e.g. 2027-08-01"],
        "keep": ["Choose Yes or No for “Keep it?”"],
    }
    low = validate_answers(
        questions=qs, data={"q_days": "0", "q_start": "2099-01-01", "q_keep": "yes"}
    )
    assert low.errors == {"days": ["Enter days: 1 or more"]}
    text = validate_answers(
        questions=qs, data={"q_days": "two", "q_start": "2099-01-01", "q_keep": "no"}
    )
    assert text.errors == {"days": ["Enter days as a whole number"]}


@pytest.mark.parametrize(
    ("value", "attrs", "expected"),
    [
        (
            None,
            {"id": "id_note"},
            '<textarea name="note" cols="40" rows="2" id="id_note">\n</textarea>',
        ),
        # What was typed comes back escaped.
        (
            'Too dear <b>"now"</b> & later',
            {"id": "id_note"},
            '<textarea name="note" cols="40" rows="2" id="id_note">\n'
            "Too dear &lt;b&gt;&quot;now&quot;&lt;/b&gt; &amp; later</textarea>",
        ),
        # A field with an error: the attributes in the order Django gives
        # them, a true one by its name alone, a false one left out.
        (
            "",
            {
                "aria-invalid": "true",
                "aria-describedby": "id_note_error",
                "required": True,
                "disabled": False,
                "id": "id_note",
            },
            '<textarea name="note" cols="40" rows="2" aria-invalid="true" '
            'aria-describedby="id_note_error" required id="id_note">\n</textarea>',
        ),
    ],
)
def test_inline_textarea_writes_what_djangos_template_writes(value, attrs, expected):
    widget = InlineTextarea(attrs={"rows": 2})

    assert widget.render("note", value, attrs) == expected
    # ... which is what the widget template gives.
    assert forms.Textarea(attrs={"rows": 2}).render("note", value, attrs) == expected


SIZES = [("", "Any size"), ("Laptops", [("13", "13 inch"), ("15", "15 & more")])]


@pytest.mark.parametrize(
    ("choices", "value", "attrs", "expected"),
    [
        # Nothing chosen: the empty choice is selected, and each option ends in
        # a newline as Django's option template does.
        (
            [("", "Any"), ("a", "Adobe <Acrobat>")],
            None,
            {"id": "id_service"},
            '<select name="service" id="id_service">\n'
            '  <option value="" selected>Any</option>\n\n'
            '  <option value="a">Adobe &lt;Acrobat&gt;</option>\n\n'
            "</select>",
        ),
        # A number's choice matches what was sent as text.
        (
            [(1, "January"), (2, "February")],
            "2",
            {},
            '<select name="service">\n'
            '  <option value="1">January</option>\n\n'
            '  <option value="2" selected>February</option>\n\n'
            "</select>",
        ),
        # A group, and a field with an error: its attributes in Django's
        # order, a true one by its name alone, a false one left out.
        (
            SIZES,
            "15",
            {
                "aria-invalid": "true",
                "aria-describedby": "id_service_error",
                "required": True,
                "disabled": False,
                "id": "id_service",
            },
            '<select name="service" aria-invalid="true" '
            'aria-describedby="id_service_error" required id="id_service">\n'
            '  <option value="">Any size</option>\n\n'
            '  <optgroup label="Laptops">\n'
            '  <option value="13">13 inch</option>\n\n'
            '  <option value="15" selected>15 &amp; more</option>\n\n'
            "  </optgroup>\n"
            "</select>",
        ),
    ],
)
def test_inline_select_writes_what_djangos_templates_write(
    choices, value, attrs, expected
):
    assert InlineSelect(choices=choices).render("service", value, attrs) == expected
    # ... which is what the widget templates give.
    assert forms.Select(choices=choices).render("service", value, attrs) == expected
