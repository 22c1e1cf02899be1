"""Executives see their department's IT costs and service levels; administrators
see every department's and close the monthly bills."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Executive": ["view_reports"],
    "Administrator": ["view_reports", "view_all_departments", "close_bills"],
}


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("catalog")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="catalog", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0011_reporting")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
