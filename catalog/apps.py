from django.apps import AppConfig


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"
    verbose_name = "Service catalog"

    def ready(self):
        from django.urls import register_converter

        from catalog.ids import IdConverter

        # Before any URLconf is read: catalog/urls.py and the admin's URLs use it.
        register_converter(IdConverter, "id")

        from django.db.models.signals import post_migrate

        from catalog.triggers import restore_sqlite_version_triggers

        post_migrate.connect(restore_sqlite_version_triggers, sender=self)
