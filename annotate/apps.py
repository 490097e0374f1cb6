from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AnnotateConfig(AppConfig):
    name = "annotate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)


class AnnotateAdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site: see annotate/adminsite.py."""

    default = False
    default_site = "annotate.adminsite.AnnotateAdminSite"
