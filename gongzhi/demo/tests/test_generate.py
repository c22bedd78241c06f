import datetime
import importlib.util
import io
from collections import Counter
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import models
from django.db.models import ProtectedError
from django.utils import timezone
from shapely import STRtree
from shapely.geometry import box, shape
from shapely.ops import unary_union

from gongzhi.accounts.models import Membership, PartTimeKind, Role, User
from gongzhi.accounts.policies import scope_paths
from gongzhi.core.errors import Conflict
from gongzhi.core.models import CacheVersion
from gongzhi.core.validators import birth_date_from_id, gender_from_id, normalize_id_number, normalize_phone
from gongzhi.demo import generate as gen
from gongzhi.demo.generation.geometry import Rect, tile
from gongzhi.demo.generation.people import IdAllocator, PhoneAllocator
from gongzhi.demo.generation.plan import SCALES, apportion, build_plan
from gongzhi.org.models import GRID_INDEX, DepartmentType, Level, OrgUnit, UnitKind
from gongzhi.points.models import Award, Claim, LedgerEntry, Redemption, RuleItem, Shop, ShopItem, Trigger
from gongzhi.points.selectors.integrity import verify_ledger
from gongzhi.registry.models import (
    Address,
    Establishment,
    House,
    Household,
    KeyPerson,
    KeyPersonCategory,
    ResidenceType,
    Resident,
    Tenancy,
    VisitFrequency,
)

SEED = 7


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """The generated points applications store their photos: in a temporary folder, not the real var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tiny(db):
    return gen.generate(scale="tiny", seed=SEED, progress=False)


def snapshot() -> dict:
    """Everything a seed decides, in plaintext (ciphertexts differ run to run by design)."""
    return {
        "units": sorted(OrgUnit.objects.values_list(
            "code", "name", "level", "kind", "department_type", "path", "boundary", "centroid_lat",
            "centroid_lng")),
        "households": sorted(Household.objects.values_list("number", "address", "lat", "lng", "grid__code")),
        "residents": sorted(
            (r.household.number, r.name, r.id_number.reveal(), r.phone.reveal() if r.phone else "", r.gender,
             r.birth_date, r.relation, r.is_floating)
            for r in Resident.objects.select_related("household")),
        "users": sorted((u.username, u.real_name, u.kind, u.phone.reveal() if u.phone else "")
                        for u in User.objects.all()),
        "posts": sorted(Membership.objects.values_list("user__username", "unit__code", "role",
                                                       "part_time_kind")),
        "addresses": sorted(Address.objects.values_list("grid__code", "label", "lat", "lng")),
        "houses": sorted((h.address.label, h.grid.code, h.use, h.area, h.owner_name,
                          h.owner_id_number.reveal() if h.owner_id_number else "")
                         for h in House.objects.select_related("address", "grid")),
        "tenancies": sorted(Tenancy.objects.values_list("house__address__label", "resident__name", "started_on")),
        "establishments": sorted((u.name, u.kind, u.licence_number, u.address_text, u.legal_person,
                         u.legal_person_phone.reveal(), u.status) for u in Establishment.objects.all()),
        "key_persons": sorted(KeyPerson.objects.values_list("resident__name", "grid__code", "risk_level",
                                                            "responsible__username", "next_visit_due",
                                                            "categories__code")),
        "shops": sorted(ShopItem.objects.values_list("shop__name", "shop__kind", "shop__managers__username",
                                                     "name", "price", "stock")),
        "claims": sorted(Claim.objects.values_list("claimant__username", "rule_item__name", "status", "note")),
        "awards": sorted(Award.objects.values_list("account__household__number", "rule_item__name", "origin",
                                                   "points", "booked")),
        "redemptions": sorted(Redemption.objects.values_list("redeemer__username", "shop__name", "item__name",
                                                             "points", "status")),
    }


def wipe() -> None:
    from gongzhi.points import models as points

    # 公开事务: every table of the publications app, each once nothing protected refers to it any more.
    left = list(apps.get_app_config("publications").get_models())
    for _round in range(len(left)):
        for model in list(left):
            try:
                model.objects.all().delete()
            except ProtectedError:
                continue
            left.remove(model)
    points.LedgerEntry.objects.all().delete()
    points.LedgerHead.objects.all().delete()
    points.EvidencePhoto.objects.all().delete()
    points.Redemption.objects.all().delete()
    points.Award.objects.filter(reverses__isnull=False).delete()
    points.Award.objects.all().delete()
    points.Claim.objects.all().delete()
    points.ShopItem.objects.all().delete()
    points.Account.objects.all().delete()
    points.Shop.objects.all().delete()
    points.RuleItem.objects.all().delete()
    points.RuleCategory.objects.all().delete()
    points.StarScale.objects.all().delete()
    for model in (KeyPerson, Tenancy, Establishment, House, Resident):
        model.objects.all().delete()
    Household.objects.all().delete()
    Address.objects.all().delete()
    Membership.objects.all().delete()
    User.objects.all().delete()
    for depth in sorted(set(OrgUnit.objects.values_list("depth", flat=True)), reverse=True):
        OrgUnit.objects.filter(depth=depth).delete()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    gen.generate(scale="tiny", seed=SEED, progress=False)
    first = snapshot()
    wipe()
    gen.generate(scale="tiny", seed=SEED, progress=False)
    assert snapshot() == first
    wipe()
    gen.generate(scale="tiny", seed=SEED + 1, progress=False)
    other = snapshot()
    assert other["residents"] != first["residents"]
    assert other["households"] != first["households"]


def test_plans_are_deterministic_without_a_database():
    a, b = build_plan("city", 3), build_plan("city", 3)
    assert [(u.code, u.name, u.rect, u.residents) for u in a.city.walk()] == \
        [(u.code, u.name, u.rect, u.residents) for u in b.city.walk()]


def assert_tiles(outer, parts, tolerance=1e-12):
    """`parts` cover `outer` exactly: the areas add up to the union's and to the outer's, and no two of
    them share more than an edge."""
    union = unary_union(parts)
    assert sum(p.area for p in parts) == pytest.approx(union.area, abs=tolerance)
    assert union.area == pytest.approx(outer.area, abs=tolerance)
    assert union.symmetric_difference(outer).area == pytest.approx(0, abs=tolerance)
    tree = STRtree(parts)
    for i, part in enumerate(parts):
        for j in tree.query(part):
            if j != i:
                assert part.intersection(parts[j]).area == pytest.approx(0, abs=tolerance), (i, j)


def test_tiling_notices_a_gap_and_an_overlap():
    outer = box(0, 0, 2, 1)
    with pytest.raises(AssertionError):
        assert_tiles(outer, [box(0, 0, 1, 1), box(1.1, 0, 2, 1)])
    with pytest.raises(AssertionError):
        assert_tiles(outer, [box(0, 0, 1.1, 1), box(1, 0, 2, 1)])
    assert_tiles(outer, [box(0, 0, 1, 1), box(1, 0, 2, 1)])


def test_tile_splits_in_proportion_to_the_weights():
    parts = tile(Rect(104.0, 35.0, 104.3, 35.2), [1, 2, 3, 1, 1, 2, 5])
    areas = [shape(p.geojson()).area for p in parts]
    assert [a / sum(areas) for a in areas] == pytest.approx([w / 15 for w in (1, 2, 3, 1, 1, 2, 5)], abs=1e-4)


def test_generated_grids_tile_the_township_and_each_village(tiny):
    town = OrgUnit.objects.get(level=Level.TOWNSHIP, kind=UnitKind.AREA)
    villages = list(OrgUnit.objects.filter(level=Level.VILLAGE))
    grids = list(OrgUnit.objects.filter(level=Level.GRID))
    assert len(grids) == SCALES["tiny"].grids
    outer = shape(town.boundary)
    assert_tiles(outer, [shape(g.boundary) for g in grids])
    assert_tiles(outer, [shape(v.boundary) for v in villages])
    for village in villages:
        inside = [shape(g.boundary) for g in grids if g.path.startswith(village.path)]
        assert_tiles(shape(village.boundary), inside)


@pytest.mark.parametrize("scale", ["township", "county", "city"])
def test_every_scale_tiles_its_top_unit(scale):
    plan = build_plan(scale, 1)
    spec = SCALES[scale]
    grids = plan.units(Level.GRID)
    assert len(grids) == spec.grids
    outer = box(*spec.rect)
    assert_tiles(outer, [box(*g.rect) for g in grids], tolerance=1e-9)
    for village in plan.units(Level.VILLAGE)[:50]:
        assert_tiles(box(*village.rect), [box(*g.rect) for g in village.children], tolerance=1e-9)


@pytest.mark.parametrize("scale", ["county", "city"])
def test_usernames_and_codes_are_unique_at_every_scale(scale):
    plan = build_plan(scale, 11)
    usernames = [a.username for a in gen.staff_accounts(plan)]
    assert len(usernames) == len(set(usernames))
    codes = [u.code for u in plan.city.walk()]
    codes += [d[2] for t in plan.units(Level.TOWNSHIP) for d in t.departments]
    assert len(codes) == len(set(codes))
    for town in plan.units(Level.TOWNSHIP):
        assert not (town.name.endswith(("镇", "乡")) and town.name[-2] in "路街"), town.name


def test_township_scale_matches_the_seed_document():
    plan = build_plan("township", 1)
    town = plan.units(Level.TOWNSHIP)[0]
    assert (town.name, town.code, town.parent.code, town.parent.parent.code) == \
        ("八里镇", "621102101", "621102", "621100")
    villages = plan.units(Level.VILLAGE)
    assert len(villages) == 10 and all(len(v.code) == 12 for v in villages)
    per_village = [len(v.children) for v in villages]
    assert sum(per_village) == 63 and len(set(per_village)) > 1, "grids are spread unevenly"
    grids = plan.units(Level.GRID)
    assert sum(g.households for g in grids) == 4035
    assert sum(g.residents for g in grids) == 19325
    assert sum(g.floating for g in grids) == 1542
    suffixes = ("ZZZX", "SFS", "PCS", "FT", "MZS", "CJB")
    assert [d[2] for d in town.departments] == [f"621102101-{s}" for s in suffixes]
    assert "八里人民法庭" in [d[1] for d in town.departments]


def test_city_scale_is_lanzhou():
    plan = build_plan("city", 1)
    assert len(list(gen.staff_accounts(plan))) > 8703 * 2
    assert plan.city.code == "620100"
    assert [c.name for c in plan.city.children] == [
        "城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县", "兰州新区"]
    assert len(plan.units(Level.TOWNSHIP)) == 114
    assert len(plan.units(Level.VILLAGE)) == 1180
    assert len(plan.units(Level.GRID)) == 8703
    assert sum(g.residents for g in plan.units(Level.GRID)) == 1_000_000
    codes = [u.code for u in plan.city.walk()]
    assert len(codes) == len(set(codes))


def test_households_lie_inside_their_grid(tiny):
    grids = {g.pk: shape(g.boundary) for g in OrgUnit.objects.filter(level=Level.GRID)}
    households = list(Household.objects.all())
    assert len(households) == SCALES["tiny"].households
    for h in households:
        assert grids[h.grid_id].contains(shape({"type": "Point", "coordinates": [h.lng, h.lat]})), h.number
        assert OrgUnit.objects.get(pk=h.grid_id).parent_id == h.village_id


def test_every_id_number_is_valid_unique_and_matches_the_person(tiny):
    residents = list(Resident.objects.select_related("household__village"))
    assert len(residents) == SCALES["tiny"].residents
    ids = []
    for r in residents:
        value = r.id_number.reveal()
        assert normalize_id_number(value) == value
        assert birth_date_from_id(value) == r.birth_date
        assert gender_from_id(value) == r.gender
        # Locals carry the county's code; the floating population comes from elsewhere.
        assert value.startswith("621102") != r.is_floating, (value, r.is_floating)
        ids.append(value)
    assert len(set(ids)) == len(ids)


def test_every_phone_number_is_valid_and_unique(tiny):
    phones = [r.phone.reveal() for r in Resident.objects.exclude(phone_hash=None)]
    # A resident's account carries the same number as their registry record; staff have their own.
    phones += [u.phone.reveal() for u in User.objects.filter(kind=User.Kind.STAFF).exclude(phone_hash=None)]
    assert len(phones) > SCALES["tiny"].households
    for phone in phones:
        assert normalize_phone(phone) == phone
    assert len(set(phones)) == len(phones)
    heads = Resident.objects.filter(relation=Resident.Relation.HEAD)
    assert not heads.filter(phone_hash=None).exists(), "every head of household can receive an SMS code"


def test_households_have_one_head_and_plausible_members(tiny):
    heads = Counter(Resident.objects.filter(relation=Resident.Relation.HEAD)
                    .values_list("household_id", flat=True))
    assert set(heads.values()) == {1}
    assert len(heads) == Household.objects.count()
    floating = Resident.objects.filter(residence_type=ResidenceType.FLOATING).count()
    assert 0 < floating <= SCALES["tiny"].floating
    for r in Resident.objects.filter(relation__in=["head", "spouse"]):
        assert r.birth_date <= datetime.date(2006, 1, 1), "heads and spouses are adults"


def test_every_unit_has_staff_for_each_post(tiny):
    posts = Counter(Membership.objects.values_list("unit__code", "role", "part_time_kind"))
    for grid in OrgUnit.objects.filter(level=Level.GRID):
        for role, kind in [(Role.GRID_LEADER, ""), (Role.GRID_WORKER, ""),
                           (Role.GRID_PART_TIME, PartTimeKind.POLICE),
                           (Role.GRID_PART_TIME, PartTimeKind.JUDGE),
                           (Role.GRID_PART_TIME, PartTimeKind.LAWYER)]:
            assert posts[(grid.code, role, kind)] == 1, (grid.name, role, kind)
    for village in OrgUnit.objects.filter(level=Level.VILLAGE):
        assert posts[(village.code, Role.VILLAGE_ADMIN, "")] == 1
        assert posts[(village.code, Role.GENERAL_GRID_LEADER, "")] == 1
    town = OrgUnit.objects.get(level=Level.TOWNSHIP, kind=UnitKind.AREA)
    assert posts[(town.code, Role.GENERAL_GRID_LEADER, "")] == 1
    assert posts[(town.code, Role.DISPATCHER, "")] == 2
    assert posts[(town.code, Role.MERCHANT, "")] == 9
    departments = OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT)
    assert set(departments.values_list("department_type", flat=True)) == {
        DepartmentType.COMMAND_CENTRE, DepartmentType.JUSTICE, DepartmentType.POLICE, DepartmentType.COURT,
        DepartmentType.CIVIL_AFFAIRS, DepartmentType.URBAN_CONSTRUCTION}
    assert all(d.parent_id == town.pk and d.path.startswith(town.path) for d in departments)
    for dept in departments:
        assert posts[(dept.code, Role.DEPT_HANDLER, "")] == 1
    county = OrgUnit.objects.get(level=Level.COUNTY)
    city = OrgUnit.objects.get(level=Level.CITY)
    assert posts[(county.code, Role.DISPATCHER, "")] == posts[(county.code, Role.SUPERVISOR, "")] == 1
    assert posts[(city.code, Role.DISPATCHER, "")] == posts[(city.code, Role.SYSTEM_ADMIN, "")] == 1
    assert not User.objects.filter(kind=User.Kind.STAFF, memberships=None).exists()


def test_unit_paths_and_depths_are_those_save_would_write(tiny):
    for unit in OrgUnit.objects.select_related("parent"):
        expected = (unit.parent.path if unit.parent else "") + unit.code + "/"
        assert (unit.path, unit.depth) == (expected, expected.count("/") - 1)
    assert CacheVersion.objects.filter(name=GRID_INDEX).exists(), "other processes learn that the grids changed"


def test_demo_logins_exist_and_staff_can_sign_in(tiny):
    logins = gen.demo_logins("tiny", SEED)
    residents = [login for login in logins if login["id_number"]]
    roles = [login["role"] for login in logins if not login["id_number"]]
    assert len(roles) == len(set(roles)), "one login per staff role"
    assert len(residents) == 2
    for login in logins:
        if login["id_number"]:
            continue
        user = authenticate(username=login["username"], password=login["password"])
        assert user is not None and user.kind == User.Kind.STAFF, login["username"]
    assert authenticate(username="admin", password=gen.DEMO_PASSWORD).is_superuser
    town = OrgUnit.objects.get(code="621102101")
    assert scope_paths(User.objects.get(username="diaodu_bali_1")) == (town.path,)
    for login in residents:
        user = User.objects.get(username=login["username"])
        assert user.kind == User.Kind.RESIDENT and not user.has_usable_password()
        assert user.id_number.reveal() == login["id_number"] and user.phone.reveal() == login["phone"]
        record = user.resident_record
        assert record.is_head and record.name == login["name"]
        assert record.id_number.reveal() == login["id_number"]
        assert normalize_id_number(login["id_number"]) == login["id_number"]
        assert record.household.village.name == login["unit"]


def test_demo_logins_do_not_depend_on_the_seed():
    assert gen.demo_logins("township", 1) == gen.demo_logins("township", 99) == gen.DEMO_LOGINS
    usernames = {login["username"] for login in gen.DEMO_LOGINS}
    assert {"admin", "diaodu_bali_1", "sifa_bali", "wgy_bali_wangjiawan_1", "jumin_demo1"} <= usernames


@pytest.mark.django_db
def test_refuses_a_database_that_already_has_units(tree):
    users = User.objects.count()
    with pytest.raises(Conflict):
        gen.generate(scale="tiny", seed=SEED, progress=False)
    assert OrgUnit.objects.count() == len(tree) and User.objects.count() == users
    assert not Resident.objects.exists()


@pytest.mark.django_db
def test_refuses_when_a_demo_username_is_taken():
    User.objects.create_user(username="sifa_bali", password="x" * 12)
    with pytest.raises(Conflict, match="sifa_bali"):
        gen.generate(scale="tiny", seed=SEED, progress=False)
    assert not OrgUnit.objects.exists()


@pytest.mark.django_db
def test_command_prints_the_demo_logins_and_refuses_a_second_run():
    out = io.StringIO()
    call_command("generate", "--scale", "tiny", "--seed", "3", "--no-progress", stdout=out)
    text = out.getvalue()
    assert "wgy_bali_wangjiawan_1" in text and gen.DEMO_PASSWORD in text
    assert gen.demo_logins("tiny", 3)[-1]["id_number"] in text
    assert Resident.objects.count() == SCALES["tiny"].residents
    with pytest.raises(CommandError, match="组织单元"):
        call_command("generate", "--scale", "tiny", "--seed", "3", "--no-progress", stdout=io.StringIO())


def _seeded_lists():
    """The lists migration registry 0003 seeds (a transactional test's flush may have emptied them)."""
    seeds = importlib.import_module("gongzhi.registry.migrations.0003_population_data")
    for order, (code, name) in enumerate(seeds.KEY_PERSON_CATEGORIES):
        KeyPersonCategory.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    for level, days in seeds.VISIT_INTERVALS:
        VisitFrequency.objects.get_or_create(risk_level=level, defaults={"interval_days": days})


@pytest.mark.django_db
def test_township_scale_in_full():
    _seeded_lists()
    summary = gen.generate(scale="township", seed=1, progress=False)
    assert (summary.grids, summary.households, summary.residents) == (63, 4035, 19325)
    assert Resident.objects.count() == 19325 and Household.objects.count() == 4035
    assert OrgUnit.objects.filter(level=Level.VILLAGE).count() == 10
    assert abs(Resident.objects.filter(residence_type=ResidenceType.FLOATING).count() - 1542) <= 15
    assert User.objects.filter(username__in=[login["username"] for login in gen.DEMO_LOGINS]).count() == \
        len(gen.DEMO_LOGINS)
    # 一标三实 as seed 000 counts it: 491 rented houses (rooms) with the floating population as tenants, 1,336
    # shops and units; every household at a standard address with a house there, mostly 自住.
    rented = House.objects.filter(use=House.Use.RENTED)
    assert abs(rented.count() - 491) <= 25 and summary.rented_houses == rented.count()
    assert Establishment.objects.count() == summary.establishments == 1336
    assert not Household.objects.filter(standard_address__isnull=True).exists()
    assert House.objects.filter(use=House.Use.OWN).count() > 3 * rented.count()
    tenants = Resident.objects.filter(tenancies__isnull=False, tenancies__ended_on__isnull=True).distinct()
    assert tenants.count() == Tenancy.objects.count() == summary.tenancies
    assert not tenants.exclude(residence_type=ResidenceType.FLOATING).exists()
    # 137 key persons, adults with a category and the grid's grid worker answering for them; some overdue today.
    key_persons = KeyPerson.objects.select_related("resident", "responsible")
    assert key_persons.count() == summary.key_persons == 137
    assert not key_persons.filter(categories__isnull=True).exists()
    assert all(p.responsible is not None and p.responsible.memberships.filter(unit_id=p.grid_id).exists()
               and p.resident.grid_id == p.grid_id for p in key_persons)
    overdue = key_persons.filter(next_visit_due__lt=timezone.localdate()).count()
    assert 0 < overdue < 137 // 3
    assert Address.objects.filter(building__gt="").exists()  # the township seat's estate
    assert Establishment.objects.filter(kind=Establishment.Kind.ENTERPRISE).exists()
    # The points economy as seed 000 has it: 52 applications, 32 approved; a 爱心超市 per village, 9 alliance
    # merchants and 10 online shops; a ledger that checks.
    assert (summary.claims, summary.claims_approved) == (52, 32)
    assert Claim.objects.filter(status=Claim.Status.APPROVED).count() == 32
    assert dict(Shop.objects.values_list("kind").annotate(n=models.Count("pk"))) == {
        Shop.Kind.LOVE_SUPERMARKET: 10, Shop.Kind.ALLIANCE: 9, Shop.Kind.ONLINE: 10}
    # The preset's 62, and the item the volunteer demo adds (志愿服务时长, awarded per hour recorded).
    assert RuleItem.objects.exclude(trigger=Trigger.VOLUNTEER_HOURS).count() == summary.point_items == 62
    assert RuleItem.objects.filter(trigger=Trigger.VOLUNTEER_HOURS).count() == 1
    assert summary.redemptions_captured == Redemption.objects.filter(status=Redemption.Status.CAPTURED).count() == 11
    assert verify_ledger().ok and LedgerEntry.objects.exists()


def test_apportion_is_exact_and_respects_the_minimum():
    parts = apportion(63, [0.5, 1.6, 1.0, 0.7, 1.2, 0.9, 1.4, 0.6, 1.1, 1.0], minimum=3)
    assert sum(parts) == 63 and min(parts) >= 3 and len(set(parts)) > 1
    with pytest.raises(ValueError):
        apportion(5, [1, 1, 1], minimum=2)


def test_id_allocator_never_repeats_even_when_a_day_is_full():
    allocator = IdAllocator(reserved={"620102199001010017"})
    day = datetime.date(1990, 1, 1)
    issued = [allocator.issue("620102", day, "M") for _ in range(600)]
    assert len(set(issued)) == 600 and "620102199001010017" not in issued
    assert all(normalize_id_number(v) == v and gender_from_id(v) == "M" for v in issued)
    assert {birth_date_from_id(v) for v in issued} == {day, day + datetime.timedelta(days=1)}


def test_phone_allocator_never_repeats():
    import random

    allocator = PhoneAllocator(random.Random(1))
    phones = [allocator.issue() for _ in range(50_000)]
    assert len(set(phones)) == len(phones)
    assert not any(p.startswith("199") for p in phones), "the demo residents' numbers stay free"


def test_benchmark_runs_on_the_tiny_scale(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = Path(__file__).resolve().parents[3] / "bench" / "generate.py"
    spec = importlib.util.spec_from_file_location("bench_generate", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run_scale("tiny", seed=1, workdir=tmp_path)
    assert result["residents"] == SCALES["tiny"].residents
    assert result["seconds"] > 0 and result["max_rss_mb"] > 0



def test_dispatchers_and_village_admins_may_unmask_and_grid_workers_may_not(tiny):
    def holders(role):
        return User.objects.filter(memberships__role=role).distinct()

    dispatchers = holders(Role.DISPATCHER)
    assert {p.unit.level for p in Membership.objects.filter(role=Role.DISPATCHER).select_related("unit")} == {
        Level.CITY, Level.COUNTY, Level.TOWNSHIP}
    for user in [*dispatchers, *holders(Role.VILLAGE_ADMIN)]:
        assert user.has_perm("accounts.unmask_pii"), user.username
    for user in [*holders(Role.GRID_WORKER), *holders(Role.GRID_LEADER), *holders(Role.RESIDENT)]:
        assert not user.has_perm("accounts.unmask_pii"), user.username


def test_the_first_village_administrator_has_sign_ups_waiting_for_verification(tiny):
    from gongzhi.registry.selectors import verification_queue

    first_village = gen.demo_logins("tiny", SEED)[-2]["unit"]  # where jumin_demo1 lives
    admin = User.objects.get(memberships__role=Role.VILLAGE_ADMIN, memberships__unit__name=first_village,
                             memberships__unit__level=Level.VILLAGE)
    waiting, total = verification_queue(admin)
    assert total == gen.WAITING_SIGNUPS == len(waiting)
    assert [item.name_matches for item in waiting].count(False) == 1  # one typed another name
    for item in waiting:
        assert item.record.household.village.name == first_village
        assert item.account.phone.reveal() != item.record.phone.reveal()  # else signing up had verified them


def test_demo_residents_hold_their_grid_as_a_real_sign_up_does(tiny, client):
    """A verified sign-up gets a resident post in its household's grid (registry.services._link); the demo
    residents too, so their report form's map shows their village's grids."""
    for login in (login for login in gen.demo_logins("tiny", SEED) if login["id_number"]):
        user = User.objects.get(username=login["username"])
        grid = user.resident_record.household.grid
        assert Membership.objects.filter(user=user, unit=grid, role=Role.RESIDENT).exists()
        client.force_login(user)
        area = client.get("/api/org/report-area").json()
        assert {f["properties"]["id"] for f in area["features"] if f["properties"]["own"]} == {grid.pk}


def test_generated_places_pass_the_registry_rules(tiny):
    """What the generator writes is what the 一标三实 services would accept: labels composed from the parts,
    valid licence numbers, houses in their address's grid, tenants living in the house's grid."""
    from gongzhi.registry.addresses import compose_label
    from gongzhi.registry.services.records import normalize_licence

    for a in Address.objects.all():
        assert a.label == compose_label(a.road, a.number, a.building, a.unit_no, a.room)
    for unit in Establishment.objects.exclude(licence_number=""):
        assert normalize_licence(unit.licence_number) == unit.licence_number
    assert not House.objects.exclude(grid_id=models.F("address__grid_id")).exists()
    assert not Tenancy.objects.exclude(resident__grid_id=models.F("house__grid_id")).exists()
    assert Household.objects.filter(standard_address__isnull=False).count() == Household.objects.count()
