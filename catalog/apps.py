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
