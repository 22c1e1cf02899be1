"""Permissions in one query: the same answers as Django's own backend, for each
way a person can hold a permission (a table written out by hand)."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    reports = Permission.objects.get(codename="view_reports")
    approve = Permission.objects.get(codename="approve_any_request")
    group = GroupFactory(name="Finance readers")
    group.permissions.add(reports)
    own = UserFactory(username="own")
    own.user_permissions.add(approve)
    member = UserFactory(username="member")
    member.groups.add(group)
    both = UserFactory(username="both")
    both.user_permissions.add(approve)
    both.groups.add(group)
    inactive = UserFactory(username="inactive", is_active=False)
    inactive.user_permissions.add(approve)
    boss = UserFactory(username="boss", is_superuser=True)
    return {p.username: p for p in (own, member, both, inactive, boss, UserFactory())}


@pytest.mark.parametrize(
    ("username", "reports", "approve_any"),
    [
        ("own", False, True),
        ("member", True, False),
        ("both", True, True),
        ("inactive", False, False),
        ("boss", True, True),
    ],
)
def test_who_holds_what(people, username, reports, approve_any):
    person = people[username]
    assert person.has_perm("catalog.view_reports") is reports
    assert person.has_perm("catalog.approve_any_request") is approve_any


def test_one_query_then_none(people, django_assert_num_queries):
    person = people["both"]
    with django_assert_num_queries(1):
        perms = person.get_all_permissions()
    assert {"catalog.view_reports", "catalog.approve_any_request"} <= perms
    with django_assert_num_queries(0):
        assert person.has_perm("catalog.view_reports")


def test_the_person_behind_a_session(people, django_assert_num_queries):
    from home.auth import PortalModelBackend

    backend = PortalModelBackend()
    with django_assert_num_queries(1):
        found = backend.get_user(people["both"].pk)
    assert (found.pk, found.username) == (people["both"].pk, "both")
    # Django's rule: nobody inactive, and nobody who is no longer there.
    assert backend.get_user(people["inactive"].pk) is None
    assert backend.get_user(987654321) is None
