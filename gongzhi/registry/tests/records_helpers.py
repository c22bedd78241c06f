"""Shared set-up of the 一标三实 tests: the cast on the `tree` fixture and a few records."""

import datetime
import itertools

from gongzhi.accounts.models import Role
from gongzhi.accounts.tests.helpers import valid_id
from gongzhi.registry.models import Household, Resident, SpecialGroup

_serial = itertools.count(100)


def new_id(birth: str = "19850315", *, male: bool = True) -> str:
    """A valid ID number, different on every call (odd sequence for a man, even for a woman)."""
    n = next(_serial)
    seq = n * 2 + (1 if male else 0)
    return valid_id(birth=birth, seq=f"{seq % 1000:03d}") if seq < 1000 else valid_id(
        region="621103", birth=birth, seq=f"{seq % 1000:03d}")


def add_person(grid, name, *, household=None, relation="", phone="", id_number=None, **extra) -> Resident:
    number = id_number or new_id()
    return Resident.objects.create(
        grid=grid, household=household, name=name, id_number=number, phone=phone,
        gender="M" if int(number[16]) % 2 else "F",
        birth_date=datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14])), relation=relation,
        **extra)


def add_household(grid, number, address="", **extra) -> Household:
    return Household.objects.create(village=grid.parent, grid=grid, number=number,
                                    address=address or f"{grid.name}{number}号", **extra)


def make_cast(tree, make_staff) -> dict:
    """Grid workers of grid (A) and grid2 (B), the village administrator, a township dispatcher (sees, may not
    edit) and a grid worker of the other township."""
    return {
        "worker": make_staff("wgy_a", tree["grid"], Role.GRID_WORKER),
        "worker_b": make_staff("wgy_b", tree["grid2"], Role.GRID_WORKER),
        "village_admin": make_staff("cunguan", tree["village"], Role.VILLAGE_ADMIN),
        "dispatcher": make_staff("diaodu", tree["town"], Role.DISPATCHER),
        "stranger": make_staff("wgy_other", tree["other_grid"], Role.GRID_WORKER),
    }


def group(code: str, name: str = "") -> SpecialGroup:
    """A special group of the seeded list (seeded again if a transactional test emptied the table)."""
    names = {"dibao": "低保", "veteran": "退役军人", "disabled": "残疾"}
    return SpecialGroup.objects.get_or_create(code=code, defaults={"name": name or names.get(code, code)})[0]
