"""The portal's roles exist from the first `migrate`, not only in the demo data.

Each role is a Django group with model permissions. Who may do what with them is
answered in one place, ``catalog.permissions``. Groups with the older demo names are
renamed, so their members and page restrictions are kept.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

RENAMED = {
    "Employees": "Employee",
    "Managers": "Approver",
    "Executives": "Executive",
    "Fulfillers": "Fulfiller",
    "Editors": "Catalog editor",
}
ADMIN = ("wagtailadmin", "access_admin")
REQUEST_VIEWS = [
    ("catalog", "view_servicerequest"),
    ("catalog", "view_requestitem"),
    ("catalog", "view_requestevent"),
]


def _crud(model, actions=("add", "change", "delete", "view")):
    return [("catalog", f"{action}_{model}") for action in actions]


ROLES = {
    "Employee": [],
    "Approver": [("catalog", "order_on_behalf")],
    "Fulfiller": [ADMIN, ("catalog", "work_requests"), *REQUEST_VIEWS],
    "Catalog editor": [
        ADMIN,
        ("catalog", "view_catalog_as_user"),
        *_crud("servicelevel"),
        *_crud("businesscalendar"),
        *_crud("holdreason"),
        *_crud("fulfilmentgroup"),
        *_crud("location"),
        *_crud("searchmiss"),
        ("catalog", "view_department"),
        ("catalog", "view_costcentre"),
        ("wagtailsearchpromotions", "add_searchpromotion"),
        ("wagtailsearchpromotions", "change_searchpromotion"),
        ("wagtailsearchpromotions", "delete_searchpromotion"),
        ("wagtailimages", "add_image"),
        ("wagtailimages", "change_image"),
        ("wagtailimages", "choose_image"),
    ],
    "Executive": [],
    "People administrator": [
        ADMIN,
        *_crud("userprofile", ("add", "change", "view")),
        *_crud("department", ("add", "change", "view")),
        *_crud("costcentre", ("add", "change", "view")),
        ("catalog", "view_location"),
        ("auth", "add_user"),
        ("auth", "change_user"),
        ("auth", "view_user"),
    ],
    "Administrator": [
        ADMIN,
        ("catalog", "*"),
        ("wagtailsearchpromotions", "*"),
        ("wagtailimages", "*"),
        ("wagtaildocs", "*"),
        ("auth", "add_user"),
        ("auth", "change_user"),
        ("auth", "view_user"),
        ("auth", "add_group"),
        ("auth", "change_group"),
        ("auth", "view_group"),
        ("wagtailcore", "add_workflow"),
        ("wagtailcore", "change_workflow"),
        ("wagtailcore", "add_task"),
        ("wagtailcore", "change_task"),
        ("wagtailcore", "add_site"),
        ("wagtailcore", "change_site"),
    ],
}
# Page permissions, on the root of the page tree.
PAGE_PERMISSIONS = {
    # Editors draft and submit; the moderation workflow publishes.
    "Catalog editor": ["add_page", "change_page", "lock_page", "unlock_page"],
    "Administrator": [
        "add_page",
        "change_page",
        "publish_page",
        "bulk_delete_page",
        "lock_page",
        "unlock_page",
    ],
}


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for old, new in RENAMED.items():
        if not Group.objects.filter(name=new).exists():
            Group.objects.filter(name=old).update(name=new)
    for role, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for app_label, codename in wanted:
            found = Permission.objects.filter(content_type__app_label=app_label)
            if codename != "*":
                found = found.filter(codename=codename)
            permissions += list(found)
        group.permissions.add(*permissions)
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    root = Page.objects.filter(depth=1).order_by("path").first()
    if root is None:
        return
    for role, codenames in PAGE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        for codename in codenames:
            permission = Permission.objects.filter(
                content_type__app_label="wagtailcore", codename=codename
            ).first()
            if permission is not None:
                GroupPagePermission.objects.get_or_create(
                    group=group, page=root, permission=permission
                )
    # Editors used to publish directly; now the moderation workflow publishes.
    GroupPagePermission.objects.filter(
        group__name="Catalog editor", permission__codename="publish_page"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_internal_targets_stricter_check"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailsearchpromotions", "0008_query_verbose_name"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
