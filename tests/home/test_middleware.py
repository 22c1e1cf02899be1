"""The login wall: everything but the admin (its own login) and static assets."""

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import re_path
from django.views.static import serve
from wagtail.documents.models import Document

from config.urls import urlpatterns as portal_urlpatterns

pytestmark = pytest.mark.django_db


def serve_media(request, path):
    return serve(request, path, document_root=settings.MEDIA_ROOT)


# The portal's URLs plus /media/ as development serves it (DEBUG only there).
urlpatterns = [re_path(r"^media/(?P<path>.*)$", serve_media), *portal_urlpatterns]


@pytest.fixture
def policy(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return Document.objects.create(
        title="Acceptable use policy",
        file=ContentFile(b"Internal only.", name="acceptable-use.txt"),
    )


def test_an_anonymous_visitor_cannot_download_a_document(client, policy):
    response = client.get(policy.url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/documents/")


def test_an_employee_downloads_a_document(employee_client, policy):
    response = employee_client.get(policy.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"Internal only."


def test_an_anonymous_visitor_cannot_fetch_a_document_s_file_from_media(
    client, policy, settings
):
    settings.ROOT_URLCONF = __name__
    path = f"/media/{policy.file.name}"
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_an_employee_fetches_media_in_development(employee_client, policy, settings):
    settings.ROOT_URLCONF = __name__
    response = employee_client.get(f"/media/{policy.file.name}")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/", "/services/", "/requests/", "/documents/"])
def test_portal_pages_send_anonymous_visitors_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_admin_and_the_login_page_stay_open(client):
    assert client.get("/accounts/login/").status_code == 200
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
