"""Loads the preset category tree and its time limits (gongzhi/cases/data/categories.json)."""

from django.db import migrations


def load(apps, schema_editor):
    from gongzhi.cases.presets import walk

    Category = apps.get_model("cases", "Category")
    TimeLimit = apps.get_model("cases", "TimeLimit")
    by_code = {}
    for sort, (node, parent, kind) in enumerate(walk()):
        category = Category.objects.create(
            code=node["code"], name=node["name"], kind=kind, is_public=node["public"],
            handler_type=node["handler"], marriage_family=node.get("marriage_family", False), sort=sort,
            parent=by_code[parent["code"]] if parent else None,
        )
        by_code[node["code"]] = category
        for level, limit in node.get("limits", {}).items():
            TimeLimit.objects.create(category=category, level=level, respond_hours=limit["respond_hours"],
                                     handle_working_days=limit["handle_working_days"])


def unload(apps, schema_editor):
    apps.get_model("cases", "TimeLimit").objects.all().delete()
    Category = apps.get_model("cases", "Category")
    while Category.objects.exists():  # leaves first: parents are protected
        Category.objects.filter(children__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
