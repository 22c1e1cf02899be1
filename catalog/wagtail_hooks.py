"""Admin wiring: reference data in one "Catalog setup" menu, and the
"view the catalog as" tool."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from catalog.models import (
    CostCentre,
    Department,
    FulfilmentGroup,
    Location,
    SearchMiss,
    ServiceLevel,
    UserProfile,
)
from catalog.views.admin import CatalogAsUserView


class ServiceLevelViewSet(SnippetViewSet):
    model = ServiceLevel
    icon = "time"
    menu_label = "Service levels"
    list_display = [
        "name",
        "support_hours",
        "response_target_hours",
        "resolution_target_hours",
        "internal_resolution_target_hours",
        "availability_target",
    ]
    list_filter = ["support_hours"]
    search_fields = ["name"]


class DepartmentFilterSet(WagtailFilterSet):
    class Meta:
        model = Department
        fields = ["cost_centre"]


class DepartmentViewSet(SnippetViewSet):
    model = Department
    icon = "group"
    menu_label = "Departments"
    list_display = ["name", "cost_centre", "head"]
    filterset_class = DepartmentFilterSet
    search_fields = ["name"]


class CostCentreViewSet(SnippetViewSet):
    model = CostCentre
    icon = "tag"
    menu_label = "Cost centres"
    list_display = ["code", "name", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


class LocationViewSet(SnippetViewSet):
    model = Location
    icon = "site"
    menu_label = "Locations"
    list_display = ["name", "city", "country"]
    list_filter = ["country"]
    search_fields = ["name", "city"]


class FulfilmentGroupViewSet(SnippetViewSet):
    model = FulfilmentGroup
    icon = "cogs"
    menu_label = "Fulfilment groups"
    list_display = ["name", "email"]
    search_fields = ["name"]


class UserProfileFilterSet(WagtailFilterSet):
    class Meta:
        model = UserProfile
        fields = ["department", "location"]


class UserProfileViewSet(SnippetViewSet):
    model = UserProfile
    icon = "user"
    menu_label = "People"
    list_display = ["user", "job_title", "department", "location", "manager"]
    filterset_class = UserProfileFilterSet
    search_fields = ["job_title"]


class SearchMissViewSet(SnippetViewSet):
    """Searches that found nothing: add the words as "also known as" terms on the
    right service, or promote a service for them under Search terms."""

    model = SearchMiss
    icon = "search"
    menu_label = "Searches with no results"
    list_display = ["query_string", "count", "first_seen", "last_seen"]
    search_fields = ["query_string"]
    ordering = ["-count"]


class CatalogSetupGroup(SnippetViewSetGroup):
    menu_label = "Catalog setup"
    menu_icon = "list-ul"
    menu_order = 200
    items = (
        ServiceLevelViewSet,
        DepartmentViewSet,
        CostCentreViewSet,
        LocationViewSet,
        FulfilmentGroupViewSet,
        UserProfileViewSet,
        SearchMissViewSet,
    )


register_snippet(CatalogSetupGroup)


@hooks.register("register_admin_urls")
def register_catalog_admin_urls():
    return [
        path("catalog/view-as/", CatalogAsUserView.as_view(), name="catalog_as_user"),
    ]


class PermissionMenuItem(MenuItem):
    def __init__(self, *args, permission: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_shown(self, request):
        return request.user.has_perm(self.permission)


@hooks.register("register_admin_menu_item")
def register_view_as_menu_item():
    return PermissionMenuItem(
        "View catalog as…",
        reverse("catalog_as_user"),
        icon_name="view",
        order=210,
        permission="catalog.view_catalog_as_user",
    )
