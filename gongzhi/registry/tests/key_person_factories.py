"""Helpers for the key-person tests (registry, analytics, worker and command portals): residents with valid ID
numbers and phones, the preset lists (a browser test's flush empties what the migration filled), and key persons
listed through the service."""

import datetime
import itertools

from gongzhi.core.validators import id_check_digit
from gongzhi.registry.models import Household, KeyPerson, KeyPersonCategory, Resident, VisitFrequency
from gongzhi.registry.services import key_persons

_serial = itertools.count(101)
CATEGORIES = [("community-correction", "社区矫正"), ("released", "刑满释放"), ("mental-illness", "严重精神障碍"),
              ("drug", "吸毒"), ("petition", "信访重点")]
INTERVALS = {"high": 7, "medium": 15, "low": 30}


def id_number(birth: str = "19800101") -> str:
    first = f"621102{birth}{next(_serial) % 1000:03d}"
    return first + id_check_digit(first)


def presets() -> dict[str, KeyPersonCategory]:
    for level, days in INTERVALS.items():
        VisitFrequency.objects.get_or_create(risk_level=level, defaults={"interval_days": days})
    return {code: KeyPersonCategory.objects.get_or_create(code=code, defaults={"name": name, "order": i})[0]
            for i, (code, name) in enumerate(CATEGORIES)}


def person(grid, name: str = "张建军", *, number: str | None = None, phone: str = "13912345678", **extra) -> Resident:
    home = Household.objects.create(village=grid.parent, grid=grid, number=number or f"H{next(_serial)}",
                                    address=f"{grid.name}{next(_serial)}号")
    return Resident.objects.create(household=home, name=name, id_number=extra.pop("id_number", None) or id_number(),
                                   phone=phone, gender="M", birth_date=datetime.date(1980, 1, 1),
                                   relation=Resident.Relation.HEAD, **extra)


def listed(actor, resident: Resident, *, categories=("community-correction",), risk_level: str = "high",
           care_plan: str = "每周见面谈话，了解就业情况。", **kwargs) -> KeyPerson:
    cats = presets()
    return key_persons.list_key_person(actor=actor, resident=resident, categories=[cats[c] for c in categories],
                                       risk_level=risk_level, care_plan=care_plan, **kwargs)
