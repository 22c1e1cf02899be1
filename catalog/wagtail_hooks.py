"""Admin wiring: reference data in one "Catalog setup" menu, the fulfilment
queue, and the "view the catalog as" tool."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.urls import path, reverse
from django.utils.functional import cached_property
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import HelpPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import (
    CreateView,
    EditView,
    IndexView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from catalog import permissions
from catalog.forms_admin import BusinessCalendarForm, UserProfileForm
from catalog.models import (
    BusinessCalendar,
    CostCentre,
    Department,
    FulfilmentGroup,
    HoldReason,
    Location,
    RequestEvent,
    RequestItem,
    SearchMiss,
    ServiceLevel,
    ServiceRequest,
    UserProfile,
)
from catalog.selectors.people import display_name
from catalog.views.admin import (
    CappedIndexView,
    CatalogAsUserView,
    RequestInspectView,
    categories_in_explorer,
)

# --- Saving targets: the database trigger is the last line, never a 500 ------------

STRICTER_REFUSED = (
    "Nothing was saved: an internal target would no longer be stricter than its "
    "customer target (someone may have changed a service level meanwhile). "
    "Check the targets and save again."
)


class TargetsSafeSaveMixin:
    """Internal targets are checked by the models' ``clean`` (message next to the
    field); a trigger in the database refuses what slips past it, e.g. a service
    level tightened by someone else at the same moment. That refusal becomes a
    message on the form, with nothing saved, instead of a server error."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except IntegrityError:
            form.add_error(None, STRICTER_REFUSED)
            self.produced_error_message = STRICTER_REFUSED
            return self.form_invalid(form)


class TargetsCreateView(TargetsSafeSaveMixin, CreateView):
    pass


class TargetsEditView(TargetsSafeSaveMixin, EditView):
    pass


class ServiceLevelViewSet(SnippetViewSet):
    model = ServiceLevel
    icon = "time"
    menu_label = "Service levels"
    add_view_class = TargetsCreateView
    edit_view_class = TargetsEditView
    list_display = [
        "name",
        "calendar",
        "response_target_hours",
        "resolution_target_hours",
        "internal_resolution_target_hours",
        "availability_target",
    ]
    list_filter = ["calendar"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return ServiceLevel.objects.select_related("calendar")


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

    def get_queryset(self, request):
        return Department.objects.select_related("cost_centre", "head")


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
    add_view_class = TargetsCreateView
    edit_view_class = TargetsEditView


# --- Business calendars and hold reasons ------------------------------------------


class CalendarIndexView(IndexView):
    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                "Preview due times", url=reverse("calendar_preview"), icon_name="time"
            ),
        ]


class BusinessCalendarViewSet(SnippetViewSet):
    """Calendars are checked as a whole before saving (``BusinessCalendarForm``);
    after a save, open items move to the new version (``after_*_snippet`` hooks
    below)."""

    model = BusinessCalendar
    icon = "date"
    menu_label = "Business calendars"
    list_display = ["name", "time_zone", "always_open", "holiday_country"]
    list_filter = ["always_open"]
    search_fields = ["name"]
    index_view_class = CalendarIndexView
    edit_handler = ObjectList(
        [
            HelpPanel(template="catalog/admin/calendar_preview_link.html"),
            *BusinessCalendar.panels,
        ],
        base_form_class=BusinessCalendarForm,
    )


class HoldReasonViewSet(SnippetViewSet):
    model = HoldReason
    icon = "pick"
    menu_label = "Hold reasons"
    list_display = [
        "name",
        "customer_text",
        "pauses_customer_clock",
        "pauses_internal_clock",
        "requester_must_act",
        "active",
    ]
    list_filter = ["active", "requester_must_act"]
    search_fields = ["name"]


@hooks.register("after_create_snippet")
@hooks.register("after_edit_snippet")
def move_open_items_to_the_saved_calendar(request, instance):
    if not isinstance(instance, BusinessCalendar):
        return None
    from catalog.services.service_levels import calendar_changed

    moved = calendar_changed(calendar_id=instance.pk, actor=request.user)
    if moved:
        messages.info(
            request,
            f"{moved} open item{'s' if moved != 1 else ''} now count on the changed "
            "calendar; their due times were recalculated.",
        )
    return None


# --- People -----------------------------------------------------------------------


class PeoplePermissionPolicy(ModelPermissionPolicy):
    """People administrators change profiles, never their own (see
    ``permissions.can_edit_profile``)."""

    def user_has_permission_for_instance(self, user, action, instance):
        if action == "change":
            return permissions.can_edit_profile(user, instance)
        return super().user_has_permission_for_instance(user, action, instance)

    def instances_user_has_permission_for(self, user, action):
        instances = super().instances_user_has_permission_for(user, action)
        if action == "change":
            instances = instances.exclude(user=user)
        return instances


register_permission_policy(UserProfile, PeoplePermissionPolicy(UserProfile))


class ProfileIndexView(IndexView):
    def get_edit_url(self, instance):
        if self.user_has_permission_for_instance("change", instance):
            return super().get_edit_url(instance)
        return None


class ProfileEditView(EditView):
    def get_object(self, queryset=None):
        profile = super().get_object(queryset)
        if not self.user_has_permission_for_instance("change", profile):
            raise PermissionDenied
        return profile


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
    index_view_class = ProfileIndexView
    edit_view_class = ProfileEditView
    edit_handler = ObjectList(UserProfile.panels, base_form_class=UserProfileForm)

    def get_queryset(self, request):
        # Every column but the job title is a relation: read them with the rows.
        return UserProfile.objects.select_related(
            "user", "department", "location", "manager"
        )


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
    submenu_hook = "register_catalog_setup_menu_item"
    items = (
        ServiceLevelViewSet,
        BusinessCalendarViewSet,
        HoldReasonViewSet,
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
    from catalog.views import queue

    return [
        path("catalog/view-as/", CatalogAsUserView.as_view(), name="catalog_as_user"),
        path("catalog/categories/", categories_in_explorer, name="catalog_categories"),
        path(
            "catalog/calendars/preview/",
            queue.calendar_preview,
            name="calendar_preview",
        ),
        # The queue moved to the portal's own pages; old links still arrive.
        path("queue/", queue.admin_queue_moved, name="queue_moved"),
        path(
            "queue/items/<id:item_id>/",
            queue.admin_queue_moved,
            name="queue_item_moved",
        ),
    ]


# --- People with requests are deactivated, never deleted --------------------------

KEPT_RECORDS = (
    "{names} can't be deleted: their requests, approvals and other records are "
    "kept as the record of what was ordered and delivered. To stop someone "
    "signing in, deactivate their account instead: edit it, untick “Active” "
    "and save."
)


@hooks.register("before_delete_user")
def refuse_deleting_people_with_records(request, user):
    """The database would refuse (those records PROTECT the person): say why
    and what to do instead, before the confirmation page is even shown."""
    from django.shortcuts import redirect

    from catalog.selectors.people import display_name, kept_records_of

    if kept_records_of(user):
        messages.error(request, KEPT_RECORDS.format(names=display_name(user)))
        return redirect("wagtailusers_users:edit", user.pk)
    return None


@hooks.register("before_bulk_action")
def refuse_bulk_deleting_people_with_records(request, action_type, objects, action):
    from django.contrib.auth import get_user_model
    from django.shortcuts import redirect
    from django.utils.text import get_text_list

    from catalog.selectors.people import display_name, kept_records_of

    if action_type != "delete" or action.model is not get_user_model():
        return None
    kept = [person for person in objects if kept_records_of(person)]
    if not kept:
        return None
    names = get_text_list([display_name(person) for person in kept], "and")
    messages.error(request, f"Nobody was deleted. {KEPT_RECORDS.format(names=names)}")
    return redirect("wagtailusers_users:index")


@hooks.register("register_catalog_setup_menu_item")
def register_categories_menu_item():
    # Categories are pages (drafts, revisions, publishing), edited in the explorer.
    return MenuItem(
        "Service categories",
        reverse("catalog_categories"),
        icon_name="folder-open-1",
        order=0,
    )


class PermissionMenuItem(MenuItem):
    def __init__(self, *args, permission: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_shown(self, request):
        return request.user.has_perm(self.permission)


@hooks.register("register_catalog_setup_menu_item")
def register_view_as_menu_item():
    return PermissionMenuItem(
        "View catalog as…",
        reverse("catalog_as_user"),
        icon_name="view",
        order=210,
        permission="catalog.view_catalog_as_user",
    )


@hooks.register("register_admin_menu_item")
def register_queue_menu_item():
    return PermissionMenuItem(
        "Fulfilment queue",
        reverse("catalog:queue"),
        icon_name="tasks",
        order=180,
        permission=permissions.WORK_REQUESTS,
    )


@hooks.register("register_admin_urls")
def register_bill_closing_urls():
    from catalog.views.admin_bills import bill_close_admin

    return [path("bills/close/", bill_close_admin, name="close_bills")]


@hooks.register("register_admin_menu_item")
def register_bill_closing_menu_item():
    return PermissionMenuItem(
        "Close IT bills",
        reverse("close_bills"),
        icon_name="lock",
        order=185,
        permission=permissions.CLOSE_BILLS,
    )


# --- The request log: visible in the admin, never editable there -------------


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """View (and inspect) only: the system of record is changed through the
    portal's services, which log every change, never through admin forms."""

    WRITE_ACTIONS = frozenset({"add", "change", "delete"})

    def user_has_permission(self, user, action):
        if action in self.WRITE_ACTIONS:
            return False
        return super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission(
            [a for a in actions if a not in self.WRITE_ACTIONS]
        )


for _model in (ServiceRequest, RequestItem, RequestEvent):
    register_permission_policy(_model, ReadOnlyPermissionPolicy(_model))


def _name_of(person: str):
    """A list column's value: the person's name, not their username."""
    return lambda service_request: display_name(getattr(service_request, person))


class ServiceRequestViewSet(ModelViewSet):
    model = ServiceRequest
    name = "service_requests"
    url_prefix = "requests"
    icon = "form"
    menu_label = "Requests"
    index_view_class = CappedIndexView
    list_display = [
        "__str__",
        Column("requested_for", label="For", accessor=_name_of("requested_for")),
        Column("requested_by", label="Ordered by", accessor=_name_of("requested_by")),
        "cost_centre",
        "submitted_at",
    ]
    list_filter = ["cost_centre", "department"]
    inspect_view_enabled = True
    inspect_view_class = RequestInspectView
    inspect_view_fields = [
        "number",
        "submitted_at",
        "requested_by",
        "requested_for",
        "cost_centre",
        "department",
        "business_reason",
    ]
    # Forms are never reachable (the policy refuses writes) but must be declared.
    form_fields = ["business_reason"]

    def get_index_view_kwargs(self, **kwargs):
        # The people and cost centre of every row come with the rows.
        return super().get_index_view_kwargs(
            queryset=ServiceRequest.objects.select_related(
                "requested_for", "requested_by", "cost_centre"
            ),
            **kwargs,
        )


class RequestEventFilterSet(WagtailFilterSet):
    class Meta:
        model = RequestEvent
        fields = ["name"]


class RequestEventViewSet(ModelViewSet):
    model = RequestEvent
    name = "request_log"
    url_prefix = "request-log"
    icon = "history"
    menu_label = "Request log"
    index_view_class = CappedIndexView
    list_display = [
        "request",
        "sequence",
        "name",
        "actor_name",
        "created_at",
        "from_state",
        "to_state",
    ]
    filterset_class = RequestEventFilterSet
    inspect_view_enabled = True
    form_fields = ["note"]
    inspect_view_fields = [
        "request",
        "item",
        "sequence",
        "name",
        "actor_name",
        "created_at",
        "from_state",
        "to_state",
        "note",
        "data",
        "previous_hash",
        "hash",
    ]

    def get_index_view_kwargs(self, **kwargs):
        # Each row shows its request's number, read with the row.
        return super().get_index_view_kwargs(
            queryset=RequestEvent.objects.select_related("request"), **kwargs
        )


class RequestsGroup(ViewSetGroup):
    menu_label = "Requests"
    menu_icon = "form"
    menu_order = 190
    items = (ServiceRequestViewSet, RequestEventViewSet)


@hooks.register("register_admin_viewset")
def register_requests_viewsets():
    return RequestsGroup()


# --- Locked logins (django-axes): see and release them -------------------------


@hooks.register("register_admin_urls")
def register_locked_logins_urls():
    from catalog.views.admin_security import locked_logins_admin

    return [path("security/locked-logins/", locked_logins_admin, name="locked_logins")]


@hooks.register("register_settings_menu_item")
def register_locked_logins_menu_item():
    from catalog.views.admin_security import LockedLoginsMenuItem

    return LockedLoginsMenuItem(
        "Locked logins", reverse("locked_logins"), icon_name="lock", order=610
    )
