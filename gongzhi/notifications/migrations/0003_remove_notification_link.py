from django.db import migrations


class Migration(migrations.Migration):
    """After 0002 has turned the links into targets (in its own transaction)."""

    dependencies = [
        ("notifications", "0002_notification_targets"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="notification",
            name="link",
        ),
    ]
