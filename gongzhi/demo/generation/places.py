"""Invented places (一标三实): the standard address of every household, the rooms rented to the floating
population, and the shops and other units of each grid, decided from the seed alone (no database)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from stdnum.cn import uscc

# 八里镇 in the seed document: 4,035 households with 491 rented houses (出租房屋491间) and 1,336 shops and units
# (门店商铺1336家, 厂矿企业2家). Other scales get as many per household.
SEED_HOUSEHOLDS = 4035
SEED_RENTED = 491
SEED_UNITS = 1336
# …and 137 key persons (重点人员137人).
SEED_KEY_PERSONS = 137
# The township seat's resettlement estate: this many flats (4 buildings × 2 entrances × 6 floors × 2 flats … cut
# short) in the first grid of the township's first village.
SEAT_FLATS = 48


@dataclass(frozen=True)
class Spot:
    """The parts of one standard address, as `registry.services.records` would store them."""

    road: str
    number: str = ""
    building: str = ""
    unit_no: str = ""
    room: str = ""

    @property
    def label(self) -> str:
        words = (("number", "号"), ("building", "栋"), ("unit_no", "单元"), ("room", "室"))
        return self.road + "".join(getattr(self, name) + word for name, word in words if getattr(self, name))


def _flat(road: str, k: int) -> Spot:
    """The k-th flat (from 0) of an estate: 24 flats per building, 2 entrances, 2 flats per floor."""
    building, rest = divmod(k, 24)
    entrance, rest = divmod(rest, 12)
    floor, door = divmod(rest, 2)
    return Spot(road=road, building=str(building + 1), unit_no=str(entrance + 1),
                room=str((floor + 1) * 100 + door + 1))


def estate_name(village_name: str) -> str:
    return village_name.removesuffix("社区").removesuffix("村") + "小区"


def household_spots(*, village_name: str, town_name: str, grid_index: int, urban: bool, seat: bool,
                    floating: list[bool], sizes: list[int], rooms: int) -> list[list[Spot]]:
    """Per household of a grid, the addresses it lives at: its own home, or for a floating household the rented
    room(s) it lives in (a second room for the largest floating households, until the grid has `rooms`).

    Farmsteads are numbered along their 社 (自然村), flats by building, entrance and room; the township seat's
    first grid has a resettlement estate whose flats go to its first local households."""
    spots: list[list[Spot]] = []
    estate = estate_name(village_name)
    seat_estate = town_name.removesuffix("镇").removesuffix("乡").removesuffix("街道") + "新村"
    flats = 0
    floating_count = sum(floating)
    extra = max(0, rooms - floating_count)
    second_room = set(sorted((i for i, f in enumerate(floating) if f and sizes[i] >= 2),
                             key=lambda i: (-sizes[i], i))[:extra])
    for n, is_floating in enumerate(floating, 1):
        if urban:  # each grid of a community is a phase (期) of its estate
            home = _flat(estate if grid_index == 1 else f"{estate}{grid_index}期", n - 1)
        elif seat and not is_floating and flats < SEAT_FLATS:
            home = _flat(seat_estate, flats)
            flats += 1
        else:
            home = Spot(road=f"{grid_index}社", number=str(n))
        if is_floating and (n - 1) in second_room:
            if home.room:
                spots.append([home, Spot(road=home.road, building=home.building, unit_no=home.unit_no,
                                         room=home.room + "-2")])
            else:
                spots.append([Spot(road=home.road, number=home.number, room="1"),
                              Spot(road=home.road, number=home.number, room="2")])
        else:
            spots.append([home])
    return spots


# Shops and units: (kind, share, name endings). Most are 个体工商户 along the village road.
UNIT_KINDS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("shop", 0.9, ("小卖部", "便利店", "超市", "百货店", "理发店", "面馆", "牛肉面馆", "饭馆", "早餐店", "农资店",
                   "五金店", "建材店", "药店", "诊所", "汽修店", "修理铺", "服装店", "烟酒店", "快递点", "手机店",
                   "粮油店", "饮品店", "干洗店", "养殖场", "蔬菜店")),
    ("enterprise", 0.04, ("建材有限公司", "农业发展有限公司", "砖厂", "物流有限公司", "食品加工厂", "马铃薯淀粉厂")),
    ("public", 0.03, ("村卫生室", "幼儿园", "小学", "村委会", "文化广场管理站")),
    ("organisation", 0.03, ("种植专业合作社", "养殖专业合作社", "老年协会", "红白理事会")),
)
UNIT_WORDS = ("兴旺", "顺发", "惠民", "鑫源", "福来", "家家乐", "万家", "金穗", "丰收", "和顺", "永盛", "吉祥", "宏达",
              "康源", "利民", "聚福", "润泽", "华联")


@dataclass(frozen=True)
class UnitPlan:
    name: str
    kind: str
    licence: str
    industry: str
    staff: int
    own_contact: bool  # the legal person is also the safety contact


def plan_unit(rng: random.Random, *, village_name: str, county_code: str, surname: str, serial: int) -> UnitPlan:
    """A unit of a village; `serial` (unique in the data set) makes its licence number unique."""
    roll = rng.random()
    kind, _share, endings = UNIT_KINDS[-1]
    for candidate in UNIT_KINDS:
        if roll < candidate[1]:
            kind, _share, endings = candidate
            break
        roll -= candidate[1]
    ending = rng.choice(endings)
    if kind == "public":
        name = village_name + ending
    elif rng.random() < 0.4:
        name = f"{surname}记{ending}"
    else:
        name = rng.choice(UNIT_WORDS) + ending
    licence = ""
    if kind != "public" and rng.random() < 0.85:
        prefix = {"shop": "92", "enterprise": "91", "organisation": "93"}[kind]
        body = f"{prefix}{county_code}{serial:06d}{rng.randint(0, 999):03d}"
        licence = body + uscc.calc_check_digit(body)
    staff = {"shop": rng.randint(1, 6), "enterprise": rng.randint(15, 180), "public": rng.randint(3, 40),
             "organisation": rng.randint(2, 20)}[kind]
    industry = {"shop": "批发和零售业" if ending.endswith(("店", "部", "市", "点")) else "居民服务业",
                "enterprise": "制造业", "public": "公共管理和社会组织", "organisation": "农业"}[kind]
    return UnitPlan(name=name, kind=kind, licence=licence, industry=industry, staff=staff,
                    own_contact=kind == "shop" or rng.random() < 0.3)


def unit_spot(*, village_name: str, grid_index: int, urban: bool, households: int, index: int) -> Spot:
    """Where the index-th unit (from 0) of a grid is: on the village road after the farmsteads, or along the
    community's shopping street."""
    if urban:
        return Spot(road=estate_name(village_name).removesuffix("小区") + "商业街",
                    number=str((grid_index - 1) * 200 + index + 1))
    return Spot(road=f"{grid_index}社", number=str(households + index + 1))
