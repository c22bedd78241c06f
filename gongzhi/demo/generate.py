"""Deterministic demo and benchmark data: `generate(scale=..., seed=...)`.

The same scale and seed give the same units, names, ID and phone numbers, boundaries, households, standard
addresses, houses, tenancies, shops and units, and usernames (only the ciphertexts differ: encryption uses a
fresh nonce). Scales: `township` (八里镇, the demo), `county`, `city` (兰州, for benchmarks) and `tiny` (tests).

Everything is written in one transaction, so a failed run leaves the database as it was. Residents are
streamed a village at a time, so memory does not grow with the scale.
"""

from __future__ import annotations

import datetime
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from tqdm import tqdm

from gongzhi.accounts import stations
from gongzhi.accounts.models import UNMASK_PII_GROUP, Membership, PartTimeKind, Role, User
from gongzhi.core.errors import Conflict, DomainError
from gongzhi.core.validators import id_check_digit
from gongzhi.demo.generation import points as points_plan
from gongzhi.demo.generation.people import (
    ORIGIN_CODES,
    REFERENCE_DATE,
    IdAllocator,
    NameMaker,
    Person,
    PhoneAllocator,
    birth_for_age,
    household_members,
)
from gongzhi.demo.generation.places import (
    SEED_HOUSEHOLDS,
    SEED_KEY_PERSONS,
    SEED_RENTED,
    SEED_UNITS,
    Spot,
    household_spots,
    plan_unit,
    unit_spot,
)
from gongzhi.demo.generation.plan import SCALES, Plan, UnitPlan, apportion, build_plan
from gongzhi.demo.points import make_points
from gongzhi.demo.publications_affairs import load as load_affairs
from gongzhi.demo.publications_alerts import load as load_notices
from gongzhi.demo.publications_boards import load as load_boards
from gongzhi.demo.publications_library import load as load_library
from gongzhi.org.models import Level, OrgUnit, UnitKind, bump_grid_index_version
from gongzhi.registry.models import (
    Address,
    Establishment,
    House,
    Household,
    KeyPerson,
    KeyPersonCategory,
    ResidenceType,
    Resident,
    RiskLevel,
    Tenancy,
    VisitFrequency,
)

DEMO_PASSWORD = "Gongzhi#2026"
DEFAULT_SEED = 2026
# The kinds' demo items, in this order (each `load(townships, seed=…) -> int`).
PUBLICATION_LOADERS = [load_notices, load_boards, load_affairs, load_library]
BATCH = 2000
MERCHANTS_PER_TOWNSHIP = 9  # 积分兑换联盟商家 in the seed document
PART_TIME = ((PartTimeKind.POLICE, "mj"), (PartTimeKind.JUDGE, "fg"), (PartTimeKind.LAWYER, "ls"))
# Posts whose holders join UNMASK_PII_GROUP (may see full ID and phone numbers); grid workers do not.
UNMASK_PII_ROLES = frozenset({Role.DISPATCHER, Role.VILLAGE_ADMIN})


@dataclass(frozen=True)
class DemoResident:
    username: str
    name: str
    gender: str
    birth: datetime.date
    phone: str
    sequence: str  # the ID number's 3-digit sequence; its last digit is odd for men


WAITING_SIGNUPS = 3  # unverified sign-ups in the first village, for its 身份核验 queue

# Fixed people (not generated), heads of the first household of the first two villages.
DEMO_RESIDENTS = (
    DemoResident("jumin_demo1", "王秀兰", "F", datetime.date(1968, 4, 12), "19912340001", "382"),
    DemoResident("jumin_demo2", "马建国", "M", datetime.date(1975, 9, 3), "19912340002", "517"),
)


def demo_resident_id(resident: DemoResident, county_code: str) -> str:
    body = f"{county_code}{resident.birth:%Y%m%d}{resident.sequence}"
    return body + id_check_digit(body)


@dataclass
class Account:
    username: str
    posts: list[tuple[str, str, str]]  # unit code, role, part-time kind
    superuser: bool = False


def staff_accounts(plan: Plan) -> Iterator[Account]:
    """Every staff post of the tree, with predictable pinyin usernames (see `demo_logins`)."""
    city = plan.city
    yield Account("admin", [(city.code, Role.SYSTEM_ADMIN, "")], superuser=True)
    yield Account(f"diaodu_{city.slug}", [(city.code, Role.DISPATCHER, "")])
    for county in city.children:
        yield Account(f"diaodu_{county.slug}", [(county.code, Role.DISPATCHER, "")])
        yield Account(f"ducha_{county.slug}", [(county.code, Role.SUPERVISOR, "")])
        for town in county.children:
            yield Account(f"zwgz_{town.slug}", [(town.code, Role.GENERAL_GRID_LEADER, "")])
            for i in (1, 2):
                yield Account(f"diaodu_{town.slug}_{i}", [(town.code, Role.DISPATCHER, "")])
            for _type, _name, code, slug in town.departments:
                yield Account(slug, [(code, Role.DEPT_HANDLER, "")])
            for i in range(1, MERCHANTS_PER_TOWNSHIP + 1):
                yield Account(f"shanghu_{town.slug}_{i}", [(town.code, Role.MERCHANT, "")])
            for village in town.children:
                v = f"{town.slug}_{village.slug}"
                yield Account(f"cunguan_{v}", [(village.code, Role.VILLAGE_ADMIN, "")])
                yield Account(f"gzz_{v}", [(village.code, Role.VILLAGE_STATION, "")])
                yield Account(f"zwgz_{v}", [(village.code, Role.GENERAL_GRID_LEADER, "")])
                # The "3" of "1+1+3": one officer, judge and lawyer serve all grids of a village.
                for kind, prefix in PART_TIME:
                    yield Account(f"{prefix}_{v}",
                                  [(g.code, Role.GRID_PART_TIME, kind) for g in village.children])
                for grid in village.children:
                    yield Account(f"wgz_{town.slug}_{grid.slug}", [(grid.code, Role.GRID_LEADER, "")])
                    yield Account(f"wgy_{town.slug}_{grid.slug}", [(grid.code, Role.GRID_WORKER, "")])


def demo_logins(scale: str = "township", seed: int = DEFAULT_SEED) -> list[dict]:
    """One login per kind of user of a generated data set: role, username, password, unit, what they see.

    Residents have no password: they sign in with `id_number` and an SMS code sent to `phone`.
    """
    plan = build_plan(scale, seed)
    city = plan.city
    county = city.children[0]
    town = county.children[0]
    village = town.children[0]
    grid = village.children[0]
    v = f"{town.slug}_{village.slug}"
    dept_type, dept_name, _code, dept_slug = town.departments[1]  # 司法所: mediation is the common case

    def row(role, username, unit, sees, **extra):
        return {"role": role, "username": username, "password": DEMO_PASSWORD, "unit": unit, "sees": sees,
                "id_number": "", "phone": "", "name": "", **extra}

    logins = [
        row(_("系统管理员"), "admin", city.name, _("全部数据与系统配置")),
        row(_("市级调度员"), f"diaodu_{city.slug}", city.name, _("全市所有区县、乡镇、村和网格")),
        row(_("县级调度员"), f"diaodu_{county.slug}", county.name, _("本县(区)所有乡镇、村和网格")),
        row(_("督查员"), f"ducha_{county.slug}", county.name, _("本县(区)所有乡镇、村、网格和部门")),
        row(_("乡镇调度员"), f"diaodu_{town.slug}_1", town.name, _("本乡镇所有村、网格和部门")),
        row(_("乡镇总网格长"), f"zwgz_{town.slug}", town.name, _("本乡镇所有村和网格")),
        row(_("部门承办人"), dept_slug, dept_name, _("本部门")),
        row(_("村级管理员"), f"cunguan_{v}", village.name, _("本村所有网格和住户；积分申请审核，本村爱心超市核销")),
        row(_("村工作站"), f"gzz_{v}", village.name, _("本村一般事项的受理、办理、派单和上报")),
        row(_("村总网格长"), f"zwgz_{v}", village.name, _("本村所有网格")),
        row(_("网格长"), f"wgz_{town.slug}_{grid.slug}", grid.name, _("本网格")),
        row(_("专职网格员"), f"wgy_{town.slug}_{grid.slug}", grid.name, _("本网格的住户和居民")),
        row(_("兼职网格员(片区民警)"), f"mj_{v}", village.name, _("本村各网格")),
        row(_("商户(积分兑换联盟)"), f"shanghu_{town.slug}_1",
            points_plan.ALLIANCE[0].name.format(town=points_plan.town_short(town.name)),
            _("商铺核销：扫居民的兑换二维码或输入兑换码确认领取；只看本店的兑换")),
    ]
    for resident, home in zip(DEMO_RESIDENTS, town.children, strict=False):
        logins.append(row(
            _("居民(户主)"), resident.username, home.name, _("本人的户籍核验状态、所在网格和网格员；本户积分和兑换"),
            password="", id_number=demo_resident_id(resident, county.code), phone=resident.phone,
            name=resident.name,
        ))
    return logins


def __getattr__(name: str):
    # DEMO_LOGINS is built on first use: it needs the plan, which has no place in import time.
    if name == "DEMO_LOGINS":
        return demo_logins()
    raise AttributeError(name)


@dataclass
class Summary:
    scale: str
    seed: int
    units: int = 0
    grids: int = 0
    households: int = 0
    residents: int = 0
    floating: int = 0
    users: int = 0
    memberships: int = 0
    addresses: int = 0
    houses: int = 0
    rented_houses: int = 0
    tenancies: int = 0
    establishments: int = 0
    key_persons: int = 0
    # The points economy (demo.points): catalogue items, shops, applications (approved), redemptions (picked up).
    point_items: int = 0
    point_shops: int = 0
    point_users: int = 0
    claims: int = 0
    claims_approved: int = 0
    redemptions: int = 0
    redemptions_captured: int = 0
    # 公开事务 (demo.publications_*): notices, boards, disclosures, meetings, libraries, volunteers, suggestions.
    publications: int = 0
    seconds: float = 0.0


def generate(*, scale: str, seed: int = DEFAULT_SEED, progress: bool = True) -> Summary:
    """Fill an empty database with the generated data set; refuses (Conflict) if org units exist."""
    if scale not in SCALES:
        raise DomainError(_("未知的数据规模：%(scale)s。") % {"scale": scale}, field="scale")
    started = time.perf_counter()
    if OrgUnit.objects.exists():
        raise Conflict(_("数据库中已有组织单元。演示数据只能生成到空数据库中，请换用新的数据库。"),
                       code="not_empty")
    plan = build_plan(scale, seed)
    accounts = list(staff_accounts(plan))
    usernames = {a.username for a in accounts} | {r.username for r in DEMO_RESIDENTS}
    clash = sorted(usernames & set(User.objects.values_list("username", flat=True)))
    if clash:
        raise Conflict(_("用户名已存在：%(names)s。演示数据只能生成到空数据库中。")
                       % {"names": "、".join(clash[:5])}, code="not_empty")

    writer = _Writer(plan, progress)
    with transaction.atomic():
        writer.units()
        writer.people()
        writer.staff(accounts)
        writer.establishments()
        writer.key_persons()
        writer.points()
        writer.publications()
    writer.summary.seconds = time.perf_counter() - started
    return writer.summary


def generate_units(*, scale: str, seed: int = DEFAULT_SEED) -> Summary:
    """The org tree of a scale alone (units and boundaries, no people or staff), into an empty database: for
    benchmarks of what reads the tree (bench/map.py), where a city's million residents would take minutes."""
    if scale not in SCALES:
        raise DomainError(_("未知的数据规模：%(scale)s。") % {"scale": scale}, field="scale")
    started = time.perf_counter()
    if OrgUnit.objects.exists():
        raise Conflict(_("数据库中已有组织单元。演示数据只能生成到空数据库中，请换用新的数据库。"),
                       code="not_empty")
    writer = _Writer(build_plan(scale, seed), progress=False)
    with transaction.atomic():
        writer.units()
    writer.summary.seconds = time.perf_counter() - started
    return writer.summary


class _Writer:
    def __init__(self, plan: Plan, progress: bool):
        self.plan = plan
        self.progress = progress
        self.seed = plan.seed
        self.summary = Summary(scale=plan.spec.name, seed=plan.seed)
        self.pk: dict[str, int] = {}  # unit code → id
        self.names = NameMaker()
        county_code = plan.city.children[0].code
        self.demo_ids = {r.username: demo_resident_id(r, county_code) for r in DEMO_RESIDENTS}
        self.ids = IdAllocator(reserved=set(self.demo_ids.values()))
        self.phones = PhoneAllocator(random.Random(f"phones:{plan.seed}"))
        self.password = make_password(DEMO_PASSWORD)  # hashed once, shared by every demo account

    def _bar(self, total: int, desc: str) -> tqdm:
        return tqdm(total=total, desc=desc, unit="", file=sys.stderr, disable=not self.progress,
                    dynamic_ncols=True)

    # --- units ---------------------------------------------------------------------------------------
    def units(self) -> None:
        city = self.plan.city
        all_units = list(city.walk())
        total = len(all_units) + sum(len(u.departments) for u in all_units)
        with self._bar(total, gettext("组织单元")) as bar:
            paths: dict[str, str] = {}
            for level in (Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GRID):
                units = [u for u in all_units if u.level == level]
                areas = []
                for unit in units:
                    parent = unit.parent
                    paths[unit.code] = (paths[parent.code] if parent else "") + unit.code + "/"
                    areas.append(self._area(unit, paths[unit.code], self.pk[parent.code] if parent else None))
                self._insert(areas, bar)
                self._insert([
                    OrgUnit(name=name, code=code, level=unit.level, kind=UnitKind.DEPARTMENT,
                            department_type=dtype, parent_id=self.pk[unit.code],
                            path=f"{paths[unit.code]}{code}/", depth=paths[unit.code].count("/"))
                    for unit in units for dtype, name, code, _slug in unit.departments
                ], bar)
        # bulk_create skips OrgUnit.save(), which would have told other processes the grids changed.
        bump_grid_index_version()
        self.summary.units = total
        self.summary.grids = len(self.plan.units(Level.GRID))

    def _insert(self, rows: list[OrgUnit], bar: tqdm) -> None:
        # bulk_create skips OrgUnit.save(), which is why path and depth are set by the caller.
        for row in OrgUnit.objects.bulk_create(rows, batch_size=500):
            self.pk[row.code] = row.pk
        bar.update(len(rows))

    @staticmethod
    def _area(unit: UnitPlan, path: str, parent_id: int | None) -> OrgUnit:
        lng = lat = None
        if unit.rect is not None:
            lng, lat = unit.rect.centre
        return OrgUnit(name=unit.name, code=unit.code, level=unit.level, kind=UnitKind.AREA,
                       parent_id=parent_id, path=path, depth=path.count("/") - 1,
                       boundary=unit.rect.geojson() if unit.rect else None,
                       centroid_lng=lng, centroid_lat=lat)

    # --- households and residents ----------------------------------------------------------------------
    def people(self) -> None:
        villages = self.plan.units(Level.VILLAGE)
        town = self.plan.units(Level.TOWNSHIP)[0]
        demo_by_village = {v.code: r for v, r in zip(town.children, DEMO_RESIDENTS, strict=False)}
        grids = self.plan.units(Level.GRID)
        # 出租房屋: as many rooms per household as the seed township has, spread over the grids by floating people.
        target = round(SEED_RENTED * self.plan.spec.households / SEED_HOUSEHOLDS)
        weights = [g.floating for g in grids]
        self.rooms = dict(zip((g.code for g in grids), apportion(target, weights) if any(weights) else
                              [0] * len(grids), strict=True))
        total = sum(g.residents for v in villages for g in v.children)
        with self._bar(total, gettext("户和居民")) as bar:
            for village in villages:
                done = self._village(village, demo_by_village.get(village.code))
                bar.update(done)

    def _village(self, village: UnitPlan, demo: DemoResident | None) -> int:
        rng = random.Random(f"people:{self.seed}:{village.code}")
        places = random.Random(f"places:{self.seed}:{village.code}")  # apart, so people stay as they were
        county = village.county.code
        origins = [c for c in ORIGIN_CODES if c != county]
        town = village.parent
        assert town is not None
        seat = not village.urban and town.children[0] is village
        households: list[Household] = []
        families: list[tuple[list[Person], bool]] = []
        homes: list[list[Spot]] = []
        for gi, grid in enumerate(village.children, 1):
            assert grid.rect is not None
            sizes = _household_sizes(rng, grid.households, grid.residents)
            floating = _pick_floating(rng, sizes, grid.floating)
            if demo is not None and gi == 1 and floating:
                floating[0] = False  # the demo head of household is a local
            spots = household_spots(village_name=village.name, town_name=town.name, grid_index=gi,
                                    urban=village.urban, seat=seat and gi == 1, floating=floating, sizes=sizes,
                                    rooms=self.rooms.get(grid.code, 0))
            for n, (size, is_floating) in enumerate(zip(sizes, floating, strict=True), 1):
                head = None
                if demo is not None and gi == 1 and n == 1:
                    head = Person(demo.name, demo.gender, demo.birth, "head", self.demo_ids[demo.username],
                                  demo.phone)
                members = household_members(rng, self.names, size, floating=is_floating,
                                            dominant=village.surnames, head=head)
                area = rng.choice(origins) if is_floating else county
                for person in members:
                    if not person.id_number:
                        person.id_number = self.ids.issue(area, person.birth, person.gender)
                    if not person.phone and _has_phone(rng, person):
                        person.phone = self.phones.issue()
                lng, lat = grid.rect.random_point(rng)
                households.append(Household(
                    village_id=self.pk[village.code], grid_id=self.pk[grid.code],
                    number=f"{grid.code}{n:04d}", address=f"{town.name}{village.name}{spots[n - 1][0].label}",
                    lng=lng, lat=lat,
                ))
                families.append((members, is_floating))
                homes.append(spots[n - 1])
        addresses = [[Address(village_id=self.pk[village.code], grid_id=h.grid_id, road=spot.road,
                              number=spot.number, building=spot.building, unit_no=spot.unit_no, room=spot.room,
                              label=spot.label, lat=h.lat, lng=h.lng) for spot in spots]
                     for h, spots in zip(households, homes, strict=True)]
        Address.objects.bulk_create([a for places_of in addresses for a in places_of], batch_size=BATCH)
        for household, places_of in zip(households, addresses, strict=True):
            household.standard_address_id = places_of[0].pk
        Household.objects.bulk_create(households, batch_size=500)

        user_ids = self._demo_user(demo, grid_id=self.pk[village.children[0].code]) if demo else {}
        residents = [
            Resident(household_id=household.pk, grid_id=household.grid_id, name=p.name, id_number=p.id_number,
                     phone=p.phone, gender=p.gender, birth_date=p.birth, relation=p.relation,
                     residence_type=ResidenceType.FLOATING if is_floating else ResidenceType.REGISTERED,
                     user_id=user_ids.get(p.id_number))
            for household, (members, is_floating) in zip(households, families, strict=True)
            for p in members
        ]
        Resident.objects.bulk_create(residents, batch_size=BATCH)
        self._houses(places, households, families, addresses, residents)
        if demo is DEMO_RESIDENTS[0]:
            self._waiting_signups(rng, residents)
        self.summary.households += len(households)
        self.summary.residents += len(residents)
        self.summary.floating += sum(r.is_floating for r in residents)
        self.summary.addresses += sum(len(a) for a in addresses)
        return len(residents)

    def _houses(self, rng: random.Random, households: list[Household],
                families: list[tuple[list[Person], bool]], addresses: list[list[Address]],
                residents: list[Resident]) -> None:
        """A house at every household's address: 自住 for locals (the head owns it), and for a floating household
        the room(s) it rents from a local head of the same grid, its members the tenants."""
        landlords: dict[int, list[Person]] = {}
        for household, (members, is_floating) in zip(households, families, strict=True):
            if not is_floating:
                landlords.setdefault(household.grid_id, []).append(members[0])
        houses: list[House] = []
        tenants: list[tuple[int, int, int]] = []  # (house index, resident index, days ago)
        position = 0
        for household, (members, is_floating), places_of in zip(households, families, addresses, strict=True):
            if not is_floating:
                houses.append(House(address_id=places_of[0].pk, grid_id=household.grid_id, use=House.Use.OWN,
                                    area=Decimal(rng.randrange(600, 2400)) / 10, owner_name=members[0].name))
            else:
                owners = landlords.get(household.grid_id) or [members[0]]
                owner = rng.choice(owners)
                days = rng.randint(20, 1500)
                first = (len(members) + 1) // 2 if len(places_of) > 1 else len(members)
                for k, place in enumerate(places_of):
                    houses.append(House(address_id=place.pk, grid_id=household.grid_id, use=House.Use.RENTED,
                                        area=Decimal(rng.randrange(150, 900)) / 10, owner_name=owner.name,
                                        owner_id_number=owner.id_number, owner_phone=owner.phone))
                    share = range(first) if k == 0 else range(first, len(members))
                    tenants += [(len(houses) - 1, position + i, days) for i in share]
            position += len(members)
        House.objects.bulk_create(houses, batch_size=BATCH)
        Tenancy.objects.bulk_create([
            Tenancy(house_id=houses[h].pk, resident_id=residents[r].pk,
                    started_on=REFERENCE_DATE - datetime.timedelta(days=days))
            for h, r, days in tenants], batch_size=BATCH)
        rented = sum(h.use == House.Use.RENTED for h in houses)
        self.summary.houses += len(houses)
        self.summary.rented_houses += rented
        self.summary.tenancies += len(tenants)

    def _demo_user(self, demo: DemoResident, *, grid_id: int) -> dict[str, int]:
        """A resident account for the demo head of household, as a verified sign-up has it: signs in by ID
        number and SMS code, and holds a resident post in the household's grid (where the report form's map
        opens, and whose grid workers the home page names)."""
        id_number = self.demo_ids[demo.username]
        user = User(username=demo.username, kind=User.Kind.RESIDENT, real_name=demo.name, id_number=id_number,
                    phone=demo.phone, confirmed_at=timezone.now())
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, unit_id=grid_id, role=Role.RESIDENT)
        self.summary.users += 1
        self.summary.memberships += 1
        return {id_number: user.pk}

    def _waiting_signups(self, rng: random.Random, residents: list[Resident]) -> None:
        """A few adults of the first village who signed up on a phone the register does not hold for them, so
        the village administrator's 身份核验 queue has people in it; the last typed a different name."""
        adults = [r for r in residents if r.user_id is None and r.birth_date.year <= 2000 and r.phone]
        for n, record in enumerate(rng.sample(adults, min(WAITING_SIGNUPS, len(adults))), 1):
            user = User(username=f"r-demo-waiting-{n}", kind=User.Kind.RESIDENT, id_number=record.id_number,
                        real_name=record.name if n < WAITING_SIGNUPS else _misspelt(record.name),
                        phone=self.phones.issue(), confirmed_at=timezone.now())
            user.set_unusable_password()
            user.save()
            self.summary.users += 1

    # --- staff ---------------------------------------------------------------------------------------
    def staff(self, accounts: list[Account]) -> None:
        rng = random.Random(f"staff:{self.seed}")
        unmask_group = Group.objects.get(name=UNMASK_PII_GROUP)
        with self._bar(len(accounts), gettext("工作人员")) as bar:
            for start in range(0, len(accounts), BATCH):
                batch = accounts[start:start + BATCH]
                users = []
                for account in batch:
                    gender = "M" if rng.random() < 0.6 else "F"
                    birth = birth_for_age(rng, rng.randint(24, 58))
                    name = self.names.surname(rng) + self.names.given(rng, gender, birth.year)
                    users.append(User(
                        username=account.username, password=self.password, real_name=name,
                        kind=User.Kind.STAFF, phone=self.phones.issue(), is_staff=account.superuser,
                        is_superuser=account.superuser,
                    ))
                User.objects.bulk_create(users, batch_size=500)
                posts = [
                    Membership(user_id=user.pk, unit_id=self.pk[code], role=role, part_time_kind=kind)
                    for user, account in zip(users, batch, strict=True)
                    for code, role, kind in account.posts
                ]
                Membership.objects.bulk_create(posts, batch_size=BATCH)
                stations.bump()  # bulk_create sends no signal
                User.groups.through.objects.bulk_create([
                    User.groups.through(user_id=user.pk, group_id=unmask_group.pk)
                    for user, account in zip(users, batch, strict=True)
                    if any(role in UNMASK_PII_ROLES for _code, role, _kind in account.posts)
                ], batch_size=BATCH)
                self.summary.users += len(users)
                self.summary.memberships += len(posts)
                bar.update(len(batch))

    # --- shops and units (实有单位) ---------------------------------------------------------------------
    def establishments(self) -> None:
        """As many shops and units per household as the seed township has (1,336 for its 4,035 households),
        spread over the grids by households, each at its own address on the village road with a 商铺 there.
        Written after the staff, so adding them changed no one's phone number."""
        grids = self.plan.units(Level.GRID)
        target = round(SEED_UNITS * self.plan.spec.households / SEED_HOUSEHOLDS)
        counts = dict(zip((g.code for g in grids), apportion(target, [g.households for g in grids]), strict=True))
        villages = self.plan.units(Level.VILLAGE)
        serial = 0
        with self._bar(target, gettext("单位")) as bar:
            for village in villages:
                rng = random.Random(f"units:{self.seed}:{village.code}")
                town = village.parent
                assert town is not None
                places: list[Address] = []
                units: list[Establishment] = []
                for gi, grid in enumerate(village.children, 1):
                    assert grid.rect is not None
                    for index in range(counts[grid.code]):
                        serial += 1
                        gender = "M" if rng.random() < 0.65 else "F"
                        birth = birth_for_age(rng, rng.randint(25, 65))
                        surname = self.names.surname(rng, village.surnames)
                        boss = surname + self.names.given(rng, gender, birth.year)
                        plan = plan_unit(rng, village_name=village.name, county_code=village.county.code,
                                         surname=surname, serial=serial)
                        spot = unit_spot(village_name=village.name, grid_index=gi, urban=village.urban,
                                         households=grid.households, index=index)
                        lng, lat = grid.rect.random_point(rng)
                        places.append(Address(village_id=self.pk[village.code], grid_id=self.pk[grid.code],
                                              road=spot.road, number=spot.number, label=spot.label, lat=lat,
                                              lng=lng))
                        phone = self.phones.issue()
                        contact, contact_phone = (boss, phone) if plan.own_contact else (
                            self.names.surname(rng) + self.names.given(rng, "M", 1985), self.phones.issue())
                        roll = rng.random()
                        status = (Establishment.Status.OPEN if roll < 0.95 else Establishment.Status.CLOSED
                                  if roll < 0.99 else Establishment.Status.DEREGISTERED)
                        units.append(Establishment(
                            grid_id=self.pk[grid.code], name=plan.name, kind=plan.kind, licence_number=plan.licence,
                            industry=plan.industry, address_text=f"{town.name}{village.name}{spot.label}",
                            legal_person=boss, legal_person_phone=phone, staff_count=plan.staff,
                            safety_contact=contact, safety_contact_phone=contact_phone, status=status,
                            lat=lat, lng=lng))
                Address.objects.bulk_create(places, batch_size=BATCH)
                for unit, place in zip(units, places, strict=True):
                    unit.address_id = place.pk
                Establishment.objects.bulk_create(units, batch_size=BATCH)
                House.objects.bulk_create([
                    House(address_id=place.pk, grid_id=place.grid_id,
                          use=House.Use.SHOP if unit.kind == Establishment.Kind.SHOP else House.Use.OTHER,
                          owner_name=unit.legal_person) for unit, place in zip(units, places, strict=True)],
                    batch_size=BATCH)
                self.summary.addresses += len(places)
                self.summary.houses += len(places)
                self.summary.establishments += len(units)
                bar.update(len(units))


    # --- key persons (重点人员) ----------------------------------------------------------------------------
    def key_persons(self) -> None:
        """As many key persons per household as the seed township lists (137 for 4,035 households), adults of the
        register spread over the grids by households, each with a category, a risk level (mostly low), the grid's
        grid worker as the responsible person, and a last visit somewhere in their interval, so that about one
        in ten is overdue today and the warnings and the home page's block have something to show. Needs the
        lists the migration seeds (categories, visit frequencies); without them nobody is listed."""
        categories = list(KeyPersonCategory.objects.filter(is_active=True).order_by("order", "pk"))
        intervals = dict(VisitFrequency.objects.values_list("risk_level", "interval_days"))
        if not categories or len(intervals) < len(RiskLevel):
            return
        grids = self.plan.units(Level.GRID)
        target = round(SEED_KEY_PERSONS * self.plan.spec.households / SEED_HOUSEHOLDS)
        counts = dict(zip((g.code for g in grids), apportion(target, [g.households for g in grids]), strict=True))
        workers = dict(Membership.objects.filter(role=Role.GRID_WORKER, unit__level=Level.GRID)
                       .values_list("unit_id", "user_id"))
        today = timezone.localdate()
        adult_born_before = datetime.date(today.year - 18, today.month, min(today.day, 28))
        rows: list[KeyPerson] = []
        for grid in grids:
            wanted = counts[grid.code]
            if not wanted:
                continue
            rng = random.Random(f"key-persons:{self.seed}:{grid.code}")
            grid_id = self.pk[grid.code]
            people = list(Resident.objects.filter(grid_id=grid_id, birth_date__lt=adult_born_before,
                                                  user__isnull=True).order_by("pk").values_list("pk", flat=True))
            for resident_id in rng.sample(people, min(wanted, len(people))):
                level = rng.choices(list(RiskLevel), weights=(1, 3, 6))[0]
                interval = intervals[level]
                started = today - datetime.timedelta(days=rng.randint(interval + 30, 720))
                # Visited within the last interval and a bit: those past it are overdue.
                last = today - datetime.timedelta(days=rng.randint(0, round(interval * 1.1)))
                at = timezone.make_aware(datetime.datetime.combine(last, datetime.time(10, 0)))
                rows.append(KeyPerson(resident_id=resident_id, grid_id=grid_id, risk_level=level,
                                      responsible_id=workers.get(grid_id), started_on=started, last_visit_at=at,
                                      next_visit_due=last + datetime.timedelta(days=interval),
                                      care_plan=gettext("定期走访，了解思想动态和生活情况，帮助解决实际困难。")))
        KeyPerson.objects.bulk_create(rows, batch_size=BATCH)
        rng = random.Random(f"key-person-categories:{self.seed}")
        KeyPerson.categories.through.objects.bulk_create([
            KeyPerson.categories.through(keyperson_id=person.pk, keypersoncategory_id=rng.choice(categories).pk)
            for person in rows], batch_size=BATCH)
        self.summary.key_persons = len(rows)


    # --- the points economy (积分制) -------------------------------------------------------------------
    def points(self) -> None:
        """Each township's catalogue, shops and some months of history, through the points services
        (demo.points). Last: its participants' accounts are new users, so nobody's phone number moved."""
        townships = self.plan.units(Level.TOWNSHIP)
        units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=[self.pk[t.code] for t in townships])}
        with self._bar(0, gettext("积分")) as bar:
            made = make_points([(units[self.pk[t.code]], t.slug) for t in townships], seed=self.seed, bar=bar)
        self.summary.point_items = made.items
        self.summary.point_shops = made.shops
        self.summary.point_users = made.participants
        self.summary.claims = made.claims
        self.summary.claims_approved = made.approved
        self.summary.redemptions = made.redemptions
        self.summary.redemptions_captured = made.captured
        self.summary.users += made.accounts
        self.summary.memberships += made.accounts


    # --- 公开事务 (publications) -------------------------------------------------------------------------
    def publications(self) -> None:
        """Each kind's items for every township and its villages, through the publications services (one
        `load(townships, seed=…)` per kind's demo module). After points: volunteer hours award points."""
        townships = list(OrgUnit.objects.filter(pk__in=[self.pk[t.code] for t in self.plan.units(Level.TOWNSHIP)])
                         .order_by("code"))
        with self._bar(len(PUBLICATION_LOADERS), gettext("公开事务")) as bar:
            for load in PUBLICATION_LOADERS:
                self.summary.publications += load(townships, seed=self.seed)
                bar.update()


def _misspelt(name: str) -> str:
    return name[:-1] + ("华" if name[-1] != "华" else "英")


def _household_sizes(rng: random.Random, households: int, residents: int) -> list[int]:
    """`households` sizes summing to `residents`: some people live alone, the rest vary around the mean
    (capped weights keep the largest families near twice the average, not five times)."""
    weights = [0.0 if rng.random() < 0.12 else min(rng.gammavariate(4.0, 1.0), 8.0)
               for _ in range(households)]
    if not any(weights):
        weights = [1.0] * households
    return [1 + extra for extra in apportion(residents - households, weights)]


def _pick_floating(rng: random.Random, sizes: list[int], quota: int) -> list[bool]:
    """Whole households are floating (renters, migrant workers); as many as fit the grid's quota."""
    flags = [False] * len(sizes)
    for i in rng.sample(range(len(sizes)), len(sizes)):
        if quota <= 0:
            break
        if sizes[i] <= quota:
            flags[i] = True
            quota -= sizes[i]
    return flags


def _has_phone(rng: random.Random, person: Person) -> bool:
    if person.relation == "head":
        return True
    age = REFERENCE_DATE.year - person.birth.year
    return age >= 16 and rng.random() < 0.93


def _address(town: str, village: UnitPlan, grid_index: int, n: int) -> str:
    # Data, not interface text: an address reads the same whatever language the viewer uses.
    if village.urban:
        building = (grid_index - 1) * 8 + (n - 1) // 24 + 1
        entrance = (n - 1) % 24 // 12 + 1
        room = ((n - 1) % 12 // 2 + 1) * 100 + (n - 1) % 2 + 1
        return f"{town}{village.name}{building}号楼{entrance}单元{room}室"
    return f"{town}{village.name}{grid_index}社{n}号"
