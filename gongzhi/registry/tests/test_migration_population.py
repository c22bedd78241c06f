"""Registry 0002–0004 carry the population register over to 一标三实: a floating resident becomes 流动人口, every
resident takes their household's grid, and the lists a county edits start with the usual entries."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from gongzhi.accounts.tests.helpers import valid_id


@pytest.mark.django_db(transaction=True)
def test_floating_residents_and_their_grids_carry_over_and_the_lists_are_seeded(tree):
    executor = MigrationExecutor(connection)
    before = [("registry", "0001_initial")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    household_model, resident_model = old.get_model("registry", "Household"), old.get_model("registry", "Resident")
    homes = {key: household_model.objects.create(village_id=tree[village].pk, grid_id=tree[key].pk, number=key,
                                                 address=f"{key}号")
             for key, village in (("grid", "village"), ("grid3", "village2"))}
    ids = {}
    for n, (name, key, floating) in enumerate((("本地人", "grid", False), ("外来人", "grid", True),
                                               ("别村人", "grid3", True)), start=1):
        ids[name] = resident_model.objects.create(
            household=homes[key], name=name, id_number=valid_id(seq=f"{n:03d}"), gender="M" if n % 2 else "F",
            birth_date=datetime.date(1980, 1, 1), relation="head", is_floating=floating).pk

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from gongzhi.registry.models import KeyPersonCategory, ResidenceType, Resident, SpecialGroup, VisitFrequency

    got = {r.name: (r.residence_type, r.grid_id, r.status) for r in Resident.objects.filter(pk__in=ids.values())}
    assert got == {
        "本地人": (ResidenceType.REGISTERED, tree["grid"].pk, Resident.Status.ACTIVE),
        "外来人": (ResidenceType.FLOATING, tree["grid"].pk, Resident.Status.ACTIVE),
        "别村人": (ResidenceType.FLOATING, tree["grid3"].pk, Resident.Status.ACTIVE),
    }
    assert {"低保", "特困", "残疾", "留守老人", "留守儿童", "独居老人", "退役军人"} <= set(
        SpecialGroup.objects.values_list("name", flat=True))
    assert {"社区矫正", "刑满释放", "严重精神障碍", "吸毒", "信访重点"} <= set(
        KeyPersonCategory.objects.values_list("name", flat=True))
    assert dict(VisitFrequency.objects.values_list("risk_level", "interval_days")) == {"high": 7, "medium": 15,
                                                                                       "low": 30}
