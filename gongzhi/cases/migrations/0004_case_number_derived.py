"""A case's number is derived from its date and id (Case.number), and its reporter is no longer also
stored as a follower."""

from django.db import migrations
from django.db.models import F


def drop_reporter_follower_rows(apps, schema_editor):
    Follower = apps.get_model("cases", "Follower")
    Follower.objects.filter(via__isnull=True, user_id=F("case__reporter_id")).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0003_attachments_ratings_visits_disputes"),
    ]

    operations = [
        migrations.RemoveField(model_name="case", name="number"),
        migrations.RunPython(drop_reporter_follower_rows, migrations.RunPython.noop),
    ]
