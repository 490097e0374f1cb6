from django.contrib.auth.management import create_permissions
from django.db import migrations

INSTRUCTOR_PERMISSIONS = [
    "view_classroom",
    "add_classroom",
    "change_classroom",
    "view_reading",
    "add_reading",
    "change_reading",
    "delete_reading",
    "view_membership",
    "change_membership",
    "delete_membership",
]


def grant(apps, schema_editor):
    """Moderators who teach manage their own classes' readings and members."""
    # Permissions are normally created after all migrations; make sure ours exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="annotate", codename__in=INSTRUCTOR_PERMISSIONS
        )
    )


class Migration(migrations.Migration):
    dependencies = [("annotate", "0004_classes")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
