from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    "view_document",
    "view_revision",
    "view_post",
    "change_post",
    "view_postevent",
    "view_spamcheck",
    "view_flag",
    "change_flag",
    "view_moderationsettings",
    "change_moderationsettings",
]


def create_moderators_group(apps, schema_editor):
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
            content_type__app_label="annotate", codename__in=MODERATOR_PERMISSIONS
        )
    )


def name_the_site(apps, schema_editor):
    # Account emails say "Hello from <site name>".
    Site = apps.get_model("sites", "Site")
    Site.objects.filter(pk=1, name="example.com").update(name="annotate")


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0002_moderation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [
        migrations.RunPython(create_moderators_group, migrations.RunPython.noop),
        migrations.RunPython(name_the_site, migrations.RunPython.noop),
    ]
