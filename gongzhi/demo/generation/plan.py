"""The shape of a generated data set — units, codes, names, boundaries and head counts — decided before
anything is written, from the scale and the seed alone."""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gongzhi.demo.generation.geometry import Rect, tile
from gongzhi.org.models import DepartmentType, Level

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@functools.cache
def load_data(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class CountySpec:
    name: str
    code: str
    slug: str
    townships: int
    area_weight: float  # roughly the real area, so the map looks like a city
    people_weight: float
    street_share: float  # share of townships that are urban 街道 (with 社区 instead of 村)


@dataclass(frozen=True)
class ScaleSpec:
    name: str
    city: tuple[str, str, str]  # name, code, slug
    counties: tuple[CountySpec, ...]
    villages: int
    grids: int
    households: int
    residents: int
    floating: int
    rect: Rect  # the top modelled unit: the township, county or city
    top_level: str
    min_grids_per_village: int = 1


_DINGXI = ("定西市", "621100", "dingxi")
_ANDING = "安定区", "621102", "anding"
# 八里镇 as in the seed document: 10 villages, 63 grids (自然社), 4,035 households, 19,325 people, 1,542
# floating. Its village names are invented (fixed, so the demo logins never change with the seed).
BALI = ("八里镇", "621102101", "bali")
BALI_VILLAGES = (
    ("王家湾村", "wangjiawan"), ("大坪村", "daping"), ("杨家岔村", "yangjiacha"), ("柳沟村", "liugou"),
    ("石峪村", "shiyu"), ("马家堡村", "majiabu"), ("东川村", "dongchuan"), ("青岘村", "qingxian"),
    ("李家庄村", "lijiazhuang"), ("红土坡村", "hongtupo"),
)
_STREET_ENDINGS = "路街村门站区"
_BALI_RECT = Rect(104.55, 35.53, 104.67, 35.63)

SCALES: dict[str, ScaleSpec] = {
    # For tests only: the smallest tree with every level, department and post.
    "tiny": ScaleSpec("tiny", _DINGXI, (CountySpec(*_ANDING, 1, 1, 1, 0),), villages=3, grids=7,
                      households=60, residents=250, floating=20, rect=Rect(104.55, 35.53, 104.59, 35.56),
                      top_level=Level.TOWNSHIP, min_grids_per_village=2),
    "township": ScaleSpec("township", _DINGXI, (CountySpec(*_ANDING, 1, 1, 1, 0),), villages=10, grids=63,
                          households=4035, residents=19325, floating=1542, rect=_BALI_RECT,
                          top_level=Level.TOWNSHIP, min_grids_per_village=3),
    "county": ScaleSpec("county", _DINGXI, (CountySpec(*_ANDING, 12, 1, 1, 0.15),), villages=250, grids=1700,
                        households=78_000, residents=250_000, floating=15_000,
                        rect=Rect(104.25, 35.30, 104.95, 35.85), top_level=Level.COUNTY,
                        min_grids_per_village=2),
    # 兰州 as in seed 004: 8,703 grids. 兰州新区 has no GB/T 2260 code of its own; 620171 is the code the
    # statistical division list uses for it.
    "city": ScaleSpec(
        "city", ("兰州市", "620100", "lanzhou"),
        (
            CountySpec("城关区", "620102", "chengguan", 25, 220, 30, 1.0),
            CountySpec("七里河区", "620103", "qilihe", 13, 397, 14, 0.6),
            CountySpec("西固区", "620104", "xigu", 11, 385, 9, 0.6),
            CountySpec("安宁区", "620105", "anning", 8, 86, 8, 1.0),
            CountySpec("红古区", "620111", "honggu", 7, 553, 3.5, 0.5),
            CountySpec("永登县", "620121", "yongdeng", 16, 6090, 9, 0),
            CountySpec("皋兰县", "620122", "gaolan", 7, 2556, 3, 0),
            CountySpec("榆中县", "620123", "yuzhong", 20, 3301, 11, 0),
            CountySpec("兰州新区", "620171", "lanzhouxinqu", 7, 1744, 12.5, 0.3),
        ),
        villages=1180, grids=8703, households=384_615, residents=1_000_000, floating=150_000,
        rect=Rect(102.95, 35.55, 104.55, 37.05), top_level=Level.CITY,
    ),
}

# (type, name suffix, code suffix, username prefix); the court is the county court's branch (人民法庭).
DEPARTMENTS = (
    (DepartmentType.COMMAND_CENTRE, "{town}综治中心", "ZZZX", "zhongxin"),
    (DepartmentType.JUSTICE, "{town}司法所", "SFS", "sifa"),
    (DepartmentType.POLICE, "{short}派出所", "PCS", "paichusuo"),
    (DepartmentType.COURT, "{short}人民法庭", "FT", "fating"),
    (DepartmentType.CIVIL_AFFAIRS, "{town}民政所", "MZS", "minzheng"),
    (DepartmentType.URBAN_CONSTRUCTION, "{town}城建办", "CJB", "chengjian"),
)


@dataclass
class UnitPlan:
    name: str
    code: str
    slug: str  # pinyin, for readable demo usernames
    level: str
    rect: Rect | None = None
    parent: UnitPlan | None = field(default=None, repr=False)
    children: list[UnitPlan] = field(default_factory=list, repr=False)
    departments: list[tuple[str, str, str, str]] = field(default_factory=list)  # type, name, code, slug
    urban: bool = False  # 街道/社区: flats instead of farmsteads
    surnames: tuple[str, ...] = ()  # a village's dominant family names
    households: int = 0
    residents: int = 0
    floating: int = 0

    def add(self, child: UnitPlan) -> UnitPlan:
        child.parent = self
        self.children.append(child)
        return child

    def walk(self) -> Iterator[UnitPlan]:
        yield self
        for child in self.children:
            yield from child.walk()

    def of_level(self, level: str) -> list[UnitPlan]:
        return [u for u in self.walk() if u.level == level]

    @property
    def county(self) -> UnitPlan:
        unit = self
        while unit.level != Level.COUNTY:
            assert unit.parent is not None
            unit = unit.parent
        return unit


@dataclass
class Plan:
    spec: ScaleSpec
    seed: int
    city: UnitPlan

    def units(self, level: str) -> list[UnitPlan]:
        return self.city.of_level(level)


def apportion(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Integers summing to `total`, each at least `minimum`, otherwise proportional to the weights
    (largest remainder; ties go to the earlier item, so the result is deterministic)."""
    n = len(weights)
    if total < minimum * n:
        raise ValueError(f"cannot give {n} items at least {minimum} each out of {total}")
    rest = total - minimum * n
    wsum = sum(weights)
    exact = [rest * w / wsum for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(n), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: rest - sum(out)]:
        out[i] += 1
    return [x + minimum for x in out]


def _unique_names(rng: random.Random, count: int, make, taken: set[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    while len(out) < count:
        name, slug = make(rng)
        if slug not in taken:
            taken.add(slug)
            out.append((name, slug))
    return out


def _village_name(rng: random.Random) -> tuple[str, str]:
    places = load_data("places.json")
    if rng.random() < 0.4:
        surname, pinyin, _ = rng.choice(load_data("names.json")["surnames"][:30])
        head = (surname + "家", pinyin + "jia")
    else:
        head = tuple(rng.choice(places["village_prefixes"]))
    tail = rng.choice(places["village_suffixes"])
    return head[0] + tail[0] + "村", head[1] + tail[1]


def _community_name(rng: random.Random) -> tuple[str, str]:
    word, slug = rng.choice(load_data("places.json")["community_words"])
    return word + "社区", slug


def _dominant_surnames(rng: random.Random, village_name: str) -> tuple[str, ...]:
    """Rural villages are often a few big families; a 王家湾 is full of 王s."""
    surnames = [s for s, _, _ in load_data("names.json")["surnames"]]
    picked = rng.sample(surnames[:25], 2)
    if "家" in village_name and village_name[0] in surnames:
        picked.insert(0, village_name[0])
    return tuple(picked)


def _add_departments(town: UnitPlan) -> None:
    short = town.name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
    for dtype, pattern, suffix, prefix in DEPARTMENTS:
        name = pattern.format(town=town.name, short=short)
        town.departments.append((dtype, name, f"{town.code}-{suffix}", f"{prefix}_{town.slug}"))


def build_plan(scale: str, seed: int) -> Plan:
    spec = SCALES[scale]
    rng = random.Random(f"plan:{scale}:{seed}")
    city = UnitPlan(*spec.city, Level.CITY)
    words = list(load_data("places.json")["township_words"])
    rng.shuffle(words)
    # A "…路" or "…街" can only be a 街道, never a 镇 or 乡.
    street_words = [w for w in words if w[0][-1] in _STREET_ENDINGS]
    other_words = [w for w in words if w[0][-1] not in _STREET_ENDINGS]

    counties = [city.add(UnitPlan(c.name, c.code, c.slug, Level.COUNTY)) for c in spec.counties]
    for county, cspec in zip(counties, spec.counties, strict=True):
        n_streets = round(cspec.townships * cspec.street_share)
        next_code = {"街道": 1, "镇": 101, "乡": 201}
        for i in range(cspec.townships):
            if i == 0 and county.code == _ANDING[1]:
                county.add(UnitPlan(*BALI, Level.TOWNSHIP))
                next_code["镇"] += 1
                continue
            suffix = "街道" if i < n_streets else ("镇" if rng.random() < 0.75 else "乡")
            word, slug = (street_words if suffix == "街道" and street_words else other_words).pop()
            code = f"{county.code}{next_code[suffix]:03d}"
            next_code[suffix] += 1
            county.add(UnitPlan(word + suffix, code, slug, Level.TOWNSHIP, urban=suffix == "街道"))

    towns = city.of_level(Level.TOWNSHIP)
    for town in towns:
        _add_departments(town)

    # Villages per township, grids per village: uneven, like real ones.
    bali_only = scale in {"tiny", "township"}
    if bali_only:
        per_town = [spec.villages]
    else:
        others = spec.villages - len(BALI_VILLAGES) if towns[0].code == BALI[1] else spec.villages
        weights = [rng.uniform(0.5, 1.5) for _ in towns]
        per_town = apportion(others, weights[1:] if towns[0].code == BALI[1] else weights, minimum=3)
        if towns[0].code == BALI[1]:
            per_town.insert(0, len(BALI_VILLAGES))
    for town, count in zip(towns, per_town, strict=True):
        if town.code == BALI[1]:
            names = list(BALI_VILLAGES[:count])
        else:
            taken: set[str] = set()
            n_communities = count if town.urban else (rng.randint(1, 2) if town.name.endswith("镇") else 0)
            names = _unique_names(rng, min(n_communities, count), _community_name, taken)
            names += _unique_names(rng, count - len(names), _village_name, taken)
        n_comm = n_vill = 0
        for name, slug in names:
            urban = name.endswith("社区")
            if urban:
                n_comm += 1
                code = f"{town.code}{n_comm:03d}"
            else:
                n_vill += 1
                code = f"{town.code}{200 + n_vill:03d}"
            town.add(UnitPlan(name, code, slug, Level.VILLAGE, urban=urban,
                              surnames=() if urban else _dominant_surnames(rng, name)))

    villages = city.of_level(Level.VILLAGE)
    grid_counts = apportion(spec.grids, [rng.uniform(0.5, 1.6) for _ in villages], spec.min_grids_per_village)
    for village, count in zip(villages, grid_counts, strict=True):
        for i in range(1, count + 1):
            village.add(UnitPlan(f"{village.name}第{i}网格", f"{village.code}{i:03d}", f"{village.slug}_{i}",
                                 Level.GRID, urban=village.urban))

    _place_people(spec, rng, city)
    _draw_boundaries(spec, rng, city)
    return Plan(spec=spec, seed=seed, city=city)


def _place_people(spec: ScaleSpec, rng: random.Random, city: UnitPlan) -> None:
    """Households, residents and floating people per grid, with exact totals."""
    county_weight = {c.code: c.people_weight for c in spec.counties}
    grids = city.of_level(Level.GRID)
    # Urban grids are denser; a county's weight spreads over its grids.
    per_county = {code: sum(1 for g in grids if g.county.code == code) for code in county_weight}
    weights = [rng.uniform(0.6, 1.4) * (1.6 if g.urban else 1.0) * county_weight[g.county.code]
               / per_county[g.county.code] for g in grids]
    households = apportion(spec.households, weights, minimum=1)
    residents = apportion(spec.residents, households)
    floating_w = [r * rng.uniform(0.3, 1.7) * (2.0 if g.urban else 1.0) for g, r in
                  zip(grids, residents, strict=True)]
    floating = apportion(spec.floating, floating_w)
    for g, h, r, f in zip(grids, households, residents, floating, strict=True):
        g.households, g.residents, g.floating = h, r, min(f, r)


def _draw_boundaries(spec: ScaleSpec, rng: random.Random, city: UnitPlan) -> None:
    by_level = {Level.CITY: [city]}
    top = city.of_level(spec.top_level)[0]
    top.rect = spec.rect
    for parent_level, child_level in ((Level.CITY, Level.COUNTY), (Level.COUNTY, Level.TOWNSHIP),
                                      (Level.TOWNSHIP, Level.VILLAGE), (Level.VILLAGE, Level.GRID)):
        parents = by_level.get(parent_level) or city.of_level(parent_level)
        for parent in parents:
            if parent.rect is None:
                continue
            if child_level == Level.COUNTY:
                cweights = {c.code: c.area_weight for c in spec.counties}
                weights = [cweights[c.code] for c in parent.children]
            elif child_level == Level.VILLAGE:
                # Rural villages spread wide, communities are small.
                weights = [len(v.children) * rng.uniform(0.7, 1.3) * (0.25 if v.urban else 1.0)
                           for v in parent.children]
            else:
                weights = [rng.uniform(0.6, 1.4) for _ in parent.children]
            for child, rect in zip(parent.children, tile(parent.rect, weights), strict=True):
                child.rect = rect
