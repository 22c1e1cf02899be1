"""The one error pattern every portal form follows: a summary at the top linking
each problem to its field, "Error: " before the title, a message per field that
says what to do, tied to the field with aria-describedby, and aria-invalid."""

import re

import pytest

from catalog.models import ItemStatus, RequestItem
from catalog.services.basket import basket_line_add
from tests.conftest import LAPTOP_ANSWERS, order

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    assert response.status_code == 400
    return response.content.decode()


def control(html: str, element_id: str) -> str:
    """The opening tag of the element with ``element_id``."""
    found = re.search(rf'<[a-z]+ [^>]*id="{re.escape(element_id)}"[^>]*>', html)
    assert found, f"no element with id {element_id}"
    return found.group()


def summary_links(html: str) -> list[tuple[str, str]]:
    summary = re.search(r'<div class="error-summary".*?</ul>', html, re.S).group()
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)


def field_error(element_id: str, message: str) -> str:
    return (
        f'<p class="field__error" id="{element_id}_error">'
        f'<span class="visually-hidden">Error:</span> {message}</p>'
    )


def test_service_form_lists_each_unanswered_question(employee_client, catalog):
    laptop = catalog["laptop"]
    html = html_of(employee_client.post(f"/basket/add/{laptop.pk}/", {"quantity": "9"}))
    assert "<title>Error: New laptop · IT Services</title>" in html
    assert summary_links(html) == [
        ("id_quantity", "You can order at most 3 at once."),
        ("id_q_model", "Choose which model"),
        ("id_q_move-files_0", "Choose Yes or No for “Move your files?”"),
    ]
    # Every link lands on an element that exists.
    for anchor, _ in summary_links(html):
        control(html, anchor)
    select = control(html, "id_q_model")
    assert 'aria-invalid="true"' in select
    assert 'aria-describedby="id_q_model_error"' in select
    assert field_error("id_q_model", "Choose which model") in html
    # A yes/no question is a group: the fieldset points at its error.
    assert (
        '<fieldset class="choice-group" aria-describedby="id_q_move-files_error">'
        in html
    )
    assert 'id="id_q_move-files_error"' in html
    quantity = control(html, "id_quantity")
    assert 'aria-describedby="id_quantity_helptext id_quantity_error"' in quantity
    assert 'aria-invalid="true"' in quantity
    assert 'id="id_quantity_helptext"' in html
    assert field_error("id_quantity", "You can order at most 3 at once.") in html
    assert "This field is required." not in html


def test_service_page_without_errors_has_no_summary_nor_prefix(
    employee_client, catalog
):
    html = employee_client.get(catalog["laptop"].url).content.decode()
    assert "<title>New laptop · IT Services</title>" in html
    assert 'class="error-summary"' not in html
    assert "aria-invalid" not in html


def test_every_hint_a_field_points_at_is_printed(employee_client, employee, catalog):
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    html = employee_client.get("/checkout/").content.decode()
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    assert "id_business_reason_helptext" in " ".join(described)
    for ids in described:
        for element_id in ids.split():
            assert f'id="{element_id}"' in html, element_id
    assert "<title>Check out · IT Services</title>" in html


def test_basket_line_edit_has_the_summary(employee_client, employee, catalog):
    line = basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    html = html_of(
        employee_client.post(
            f"/basket/lines/{line.pk}/edit/", {"q_model": "", "quantity": "1"}
        )
    )
    assert "<title>Error: Change your answers · IT Services</title>" in html
    assert summary_links(html) == [
        ("id_q_model", "Choose which model"),
        ("id_q_move-files_0", "Choose Yes or No for “Move your files?”"),
    ]
    assert "Nothing was changed: check your answers" in html


def test_login_says_what_to_enter(client, employee):
    # Django's login view answers a wrong login with 200.
    html = client.post("/accounts/login/", {"username": "", "password": ""})
    html = html.content.decode()
    assert "<title>Error: Log in · IT Services</title>" in html
    assert summary_links(html) == [
        ("id_username", "Enter your username"),
        ("id_password", "Enter your password"),
    ]
    username = control(html, "id_username")
    assert "autofocus" not in username
    assert 'aria-describedby="id_username_error"' in username


def test_login_form_has_focus_only_when_empty(client):
    html = client.get("/accounts/login/").content.decode()
    assert "autofocus" in control(html, "id_username")
    assert 'class="error-summary"' not in html


def test_wrong_password_is_in_the_summary(client, employee):
    response = client.post("/accounts/login/", {"username": "emp", "password": "x"})
    html = response.content.decode()
    assert "<title>Error: Log in · IT Services</title>" in html
    summary = re.search(r'<div class="error-summary".*?</ul>', html, re.S).group()
    assert "<li>That username and password don&#x27;t match." in summary


def test_empty_comment_says_what_to_do(employee_client, employee, catalog):
    request = order(employee, catalog, "password")
    html = html_of(
        employee_client.post(f"/requests/{request.pk}/comment/", {"text": ""})
    )
    assert html.startswith("<!DOCTYPE html>")
    assert re.search(r"<title>Error: [^<]*</title>", html)
    assert summary_links(html) == [("id_text", "Enter your comment")]


def test_removal_reason_too_long_is_shown_on_the_removal_page(
    employee_client, employee, catalog
):
    item = order(employee, catalog, "laptop").items.get()
    RequestItem.objects.filter(pk=item.pk).update(status=ItemStatus.FULFILLED)
    html = html_of(
        employee_client.post(f"/my-services/{item.pk}/remove/", {"reason": "x" * 4001})
    )
    message = "Keep the reason under 4000 characters (you wrote 4001)."
    assert "<title>Error: Remove New laptop · IT Services</title>" in html
    assert summary_links(html) == [("id_reason", message)]
    assert field_error("id_reason", message) in html
    # What was typed comes back, to be shortened rather than typed again.
    assert "x" * 4001 + "</textarea>" in html
    assert not RequestItem.objects.filter(removes_item=item).exists()


def test_my_services_rows_link_to_their_own_removal_page(
    employee_client, employee, catalog
):
    first = order(employee, catalog, "laptop").items.get()
    second = order(employee, catalog, "laptop").items.get()
    RequestItem.objects.filter(pk__in=[first.pk, second.pk]).update(
        status=ItemStatus.FULFILLED
    )
    html = employee_client.get("/my-services/").content.decode()
    assert f'href="/my-services/{first.pk}/remove/"' in html
    assert f'href="/my-services/{second.pk}/remove/"' in html
    # No form in the list: each removal is asked on its own page.
    assert "<form" not in html.split('<main id="main"', 1)[1]
    assert "<title>My services · IT Services</title>" in html
