"""Notifications point at objects (target type + id) instead of storing a portal's URL.

Existing links are converted: a case page in any portal ("/cases/12/", "/worker/cases/12/",
"/command/cases/12/") becomes the case; the sweep's "/command/" digest link becomes the list of cases
coming due; anything else opens nothing (the message stays readable in the inbox).
"""

import re

from django.db import migrations, models

_CASE = re.compile(r"^/(?:worker/|command/)?cases/(\d+)/$")


def links_to_targets(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for pk, link in Notification.objects.exclude(link="").values_list("pk", "link").iterator():
        match = _CASE.match(link)
        if match:
            Notification.objects.filter(pk=pk).update(target_type="case", target_id=int(match.group(1)))
        elif link == "/command/":
            Notification.objects.filter(pk=pk).update(target_type="cases.due")


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="target_id",
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name="对象编号"),
        ),
        migrations.AddField(
            model_name="notification",
            name="target_type",
            field=models.CharField(blank=True, default="", max_length=40, verbose_name="对象类型"),
        ),
        migrations.RunPython(links_to_targets, migrations.RunPython.noop),
    ]
