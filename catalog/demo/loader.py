"""Builds the demo portal: reference data, the page tree, and the demo people.

Idempotent: everything is looked up by a natural key first, so running it again
changes nothing, and it never resets a password it did not create.
"""

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import Page, Site, Workflow, WorkflowPage, WorkflowTask

from catalog.demo import content
from catalog.models import (
    BusinessCalendar,
    CatalogIndexPage,
    CategoryPage,
    CostCentre,
    Department,
    FulfilmentGroup,
    InternalTarget,
    Location,
    ServiceDeskSettings,
    ServiceLevel,
    ServiceOwnerApprovalTask,
    ServicePage,
    UserProfile,
)
from home.models import HomePage

# Created with their permissions by migration 0009; the demo only adds people.
ROLE_GROUPS = [
    "Employee",
    "Approver",
    "Fulfiller",
    "Catalog editor",
    "Executive",
    "People administrator",
    "Administrator",
]
WORKFLOW_NAME = "Service owner approval"
# Services owned by the demo service owner (the rest have no owner, so a
# superuser approves their changes).
OWNED_BY_DEMO_OWNER = {"Workplace hardware", "Mobile"}
_NAMESPACE = uuid.UUID("6f1c1b7e-4a8e-4d8e-9d8e-2b7c9c1f0a11")


def _stable_id(*parts) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(map(str, parts))))


def question_blocks(service_title: str, questions) -> list[dict]:
    blocks = []
    for index, (block_type, label, options) in enumerate(questions):
        value = {"label": label, "help_text": "", "required": True, **options}
        blocks.append(
            {
                "type": block_type,
                "value": value,
                "id": _stable_id(service_title, index, label),
            }
        )
    return blocks


def ensure_home_page() -> HomePage:
    """The site's root: our HomePage, replacing Wagtail's welcome page."""
    home = HomePage.objects.first()
    if home is not None:
        return home
    root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
    for welcome in (
        root.get_children().exclude(content_type__model="homepage").filter(slug="home")
    ):
        # Wagtail's placeholder from its initial migration.
        Site.objects.filter(root_page=welcome).delete()
        welcome.delete()
    home = root.add_child(
        instance=HomePage(
            title="IT Services",
            slug="home",
            intro="<p>Order equipment, software and access, and follow your "
            "requests, all in one place.</p>",
        )
    )
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name="IT Services",
        )
    else:
        site.root_page = home
        site.site_name = "IT Services"
        site.save()
    return home


def _reference_data():
    departments = {}
    for name, code, cc_name in content.DEPARTMENTS:
        cc, _ = CostCentre.objects.get_or_create(code=code, defaults={"name": cc_name})
        departments[name], _ = Department.objects.get_or_create(
            name=name, defaults={"cost_centre": cc}
        )
    locations = {}
    for name, city, country in content.LOCATIONS:
        locations[name], _ = Location.objects.get_or_create(
            name=name, defaults={"city": city, "country": country}
        )
    levels = {}
    for name, desc, calendar, resp, res, iresp, ires, avail in content.SERVICE_LEVELS:
        levels[name], _ = ServiceLevel.objects.get_or_create(
            name=name,
            defaults=dict(
                description=desc,
                calendar=BusinessCalendar.objects.get(name=calendar),
                response_target_hours=resp,
                resolution_target_hours=res,
                internal_response_target_hours=iresp,
                internal_resolution_target_hours=ires,
                availability_target=avail,
            ),
        )
    groups = {}
    for name, email in content.FULFILMENT_GROUPS:
        groups[name], _ = FulfilmentGroup.objects.get_or_create(
            name=name, defaults={"email": email}
        )
    for team, level, response, resolution in content.INTERNAL_TARGETS:
        InternalTarget.objects.get_or_create(
            fulfilment_group=groups[team],
            service_level=levels[level],
            defaults={
                "response_target_hours": response,
                "resolution_target_hours": resolution,
            },
        )
    settings = ServiceDeskSettings.load()
    if settings.approval_calendar_id is None:
        settings.approval_calendar = BusinessCalendar.objects.get(name="Office hours")
        settings.save()
    return departments, locations, levels, groups


def _role_groups() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS}


def _moderation(index: CatalogIndexPage) -> None:
    """Catalog changes are approved by the service's owner before publishing."""
    workflow, created = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    if created:
        task, _ = ServiceOwnerApprovalTask.objects.get_or_create(
            name="Service owner approves"
        )
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    WorkflowPage.objects.get_or_create(page=index, defaults={"workflow": workflow})


def _cost_centre_owners(users) -> None:
    for centre in CostCentre.objects.filter(owner__isnull=True):
        username, threshold = content.COST_CENTRE_OWNERS.get(
            centre.code, content.DEFAULT_COST_CENTRE_OWNER
        )
        centre.owner = users[username]
        centre.approval_threshold = threshold
        centre.save(update_fields=["owner", "approval_threshold"])


def _pages(home, departments, locations, levels, fulfilment, role_groups, owner):
    index = CatalogIndexPage.objects.first()
    if index is None:
        index = home.add_child(
            instance=CatalogIndexPage(
                title="All services",
                slug="services",
                intro="<p>Everything IT can do for you. Prices are charged to your "
                "department's cost centre.</p>",
            )
        )
    categories = {}
    for slug, title, icon, summary in content.CATEGORIES:
        category = CategoryPage.objects.filter(slug=slug).first()
        if category is None:
            category = index.add_child(
                instance=CategoryPage(
                    title=title, slug=slug, icon=icon, summary=summary
                )
            )
        categories[slug] = category
    for spec in content.SERVICES:
        if ServicePage.objects.filter(title=spec["title"]).exists():
            continue
        suspended = spec.get("suspended", "")
        page = ServicePage(
            title=spec["title"],
            summary=spec["summary"],
            also_known_as=spec.get("aka", ""),
            featured=spec.get("featured", False),
            one_off_price=spec.get("price", 0),
            monthly_price=spec.get("monthly", 0),
            delivery_days=spec.get("days", 2),
            requires_approval=spec.get("approval", False),
            online_system=spec.get("online", False),
            max_quantity=spec.get("quantity", 1),
            orderable=not suspended,
            not_orderable_reason=suspended,
            who_is_it_for=spec.get("who", ""),
            what_you_provide=spec.get("provide", ""),
            service_level=levels[spec["level"]],
            fulfilment_group=fulfilment[spec["group"]],
            service_owner=owner if spec["group"] in OWNED_BY_DEMO_OWNER else None,
            description=[
                {
                    "type": "steps",
                    "value": {
                        "heading": "What happens next",
                        "steps": [
                            "You order it here and tell us what you need.",
                            "Your manager approves it."
                            if spec.get("approval")
                            else "No approval is needed.",
                            f"Our {spec['group'].lower()} team gets to work.",
                            "We let you know by e-mail when it's ready.",
                        ],
                    },
                },
            ],
            request_form=question_blocks(spec["title"], spec.get("questions", [])),
        )
        categories[spec["category"]].add_child(instance=page)
        restrict = spec.get("restrict", {})
        page.restricted_to_departments.set(
            [departments[n] for n in restrict.get("departments", [])]
        )
        page.restricted_to_locations.set(
            [locations[n] for n in restrict.get("locations", [])]
        )
        page.restricted_to_groups.set(
            [role_groups[n] for n in restrict.get("groups", [])]
        )
        page.save_revision().publish()
    return index


def _users(departments, locations, role_groups, fulfilment):
    User = get_user_model()
    created = {}
    for username, first, last, dept, loc, title, groups, flags in content.USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                **flags,
            )
            user.set_password(content.DEMO_PASSWORD)
            user.save()
        user.groups.add(*(role_groups[g] for g in groups))
        created[username] = user
        UserProfile.objects.get_or_create(
            user=user,
            defaults=dict(
                department=departments[dept], location=locations[loc], job_title=title
            ),
        )
    UserProfile.objects.filter(
        user__username__in=["employee"], manager__isnull=True
    ).update(manager=created["manager"])
    UserProfile.objects.filter(user__username="manager", manager__isnull=True).update(
        manager=created["executive"]
    )
    for group in fulfilment.values():
        group.members.add(created["fulfiller"])
    # The COO sees every department's figures; heads of department their own.
    created["executive"].user_permissions.add(
        Permission.objects.get(codename="view_all_departments")
    )
    Department.objects.filter(name="Sales", head__isnull=True).update(
        head=created["manager"]
    )
    return created


@transaction.atomic
def load_demo() -> dict:
    """Create whatever of the demo portal is missing. Returns a summary."""
    departments, locations, levels, fulfilment = _reference_data()
    role_groups = _role_groups()
    home = ensure_home_page()
    users = _users(departments, locations, role_groups, fulfilment)
    index = _pages(
        home, departments, locations, levels, fulfilment, role_groups, users["owner"]
    )
    _cost_centre_owners(users)
    _moderation(index)
    return {
        "services": ServicePage.objects.count(),
        "categories": CategoryPage.objects.count(),
        "users": sorted(users),
    }
