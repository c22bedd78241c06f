"""Loads the preset category tree and its time limits (gongzhi/cases/data/categories.json)."""

from django.db import migrations


def load(apps, schema_editor):
    from gongzhi.cases.presets import load as load_presets

    load_presets(apps.get_model("cases", "Category"), apps.get_model("cases", "TimeLimit"))


def unload(apps, schema_editor):
    apps.get_model("cases", "TimeLimit").objects.all().delete()
    Category = apps.get_model("cases", "Category")
    while Category.objects.exists():  # leaves first: parents are protected
        Category.objects.filter(children__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
