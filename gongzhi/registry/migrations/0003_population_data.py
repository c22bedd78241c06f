"""Residents take their household's grid and the floating flag becomes the population type; the lists a county may
edit start with the usual entries. A migration of its own: on PostgreSQL a table whose rows were just updated
cannot be altered in the same transaction (its foreign keys' triggers are still pending), so the columns are
tightened in the next one."""

from django.db import migrations


SPECIAL_GROUPS = [("dibao", "低保"), ("tekun", "特困"), ("disabled", "残疾"), ("left-behind-elderly", "留守老人"),
                  ("left-behind-child", "留守儿童"), ("living-alone", "独居老人"), ("veteran", "退役军人")]
KEY_PERSON_CATEGORIES = [("community-correction", "社区矫正"), ("released", "刑满释放"),
                         ("mental-illness", "严重精神障碍"), ("drug", "吸毒"), ("petition", "信访重点"),
                         ("youth", "重点青少年")]
VISIT_INTERVALS = [("high", 7), ("medium", 15), ("low", 30)]


def forwards(apps, schema_editor):
    """Residents take their household's grid; the floating flag becomes the population type; the lists a
    county may edit start with the usual entries."""
    Resident = apps.get_model("registry", "Resident")
    Household = apps.get_model("registry", "Household")
    for grid_id in Household.objects.values_list("grid_id", flat=True).distinct():
        Resident.objects.filter(household__grid_id=grid_id).update(grid_id=grid_id)
    Resident.objects.filter(is_floating=True).update(residence_type="floating")
    for model, rows in (("SpecialGroup", SPECIAL_GROUPS), ("KeyPersonCategory", KEY_PERSON_CATEGORIES)):
        for order, (code, name) in enumerate(rows):
            apps.get_model("registry", model).objects.get_or_create(code=code, defaults={"name": name,
                                                                                           "order": order})
    for level, days in VISIT_INTERVALS:
        apps.get_model("registry", "VisitFrequency").objects.get_or_create(risk_level=level,
                                                                            defaults={"interval_days": days})


def backwards(apps, schema_editor):
    apps.get_model("registry", "Resident").objects.exclude(residence_type="registered").update(is_floating=True)


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0002_registry_and_fieldwork"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
