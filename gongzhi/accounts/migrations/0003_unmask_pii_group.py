"""The group through which administrators grant `accounts.unmask_pii` (see UNMASK_PII_GROUP).

The permission itself is normally created after migrating; it is created here (as Django would) so the
group can hold it on a fresh database.
"""

from django.db import migrations

GROUP = "查看完整个人信息"


def create_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    permission, _ = Permission.objects.get_or_create(content_type=content_type, codename="unmask_pii",
                                                     defaults={"name": "查看完整身份证号和手机号"})
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_dev_sms_totp_hardening"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
