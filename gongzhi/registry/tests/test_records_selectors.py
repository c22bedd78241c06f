"""一标三实 reads: search by name, ID and phone within scope only; lists and their filters; record pages with
their history; counts per grid."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.core.errors import NotFound
from gongzhi.registry.models import Establishment, House, ResidenceType, Resident
from gongzhi.registry.selectors import records as sel
from gongzhi.registry.services import records as svc
from gongzhi.registry.services.records import AddressInput, EstablishmentInput, HouseInput, TenantInput
from gongzhi.registry.tests.records_helpers import add_household, add_person, group, make_cast, new_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(tree, make_staff):
    return make_cast(tree, make_staff)


@pytest.fixture
def town(tree, cast):
    """People in grid (A), grid2 (B) and the other township's grid, with a rented house and a shop in A."""
    a, b = tree["grid"], tree["grid2"]
    home = add_household(a, "A-1", "小山村一社1号")
    people = {
        "wang": add_person(a, "王伟", household=home, relation="head", phone="13900000001"),
        "wangfang": add_person(a, "王伟芳", household=home, relation="spouse"),
        "wang_b": add_person(b, "王伟", household=add_household(b, "B-1"), relation="head"),
        "wang_far": add_person(tree["other_grid"], "王伟", phone="13900000009"),
        "li": add_person(a, "李娜", residence_type=ResidenceType.FLOATING, status=Resident.Status.MOVED_OUT),
    }
    people["wang"].groups.add(group("veteran"))
    house = svc.register_rented_house(
        actor=cast["worker"], address=AddressInput(village=tree["village"], grid=a, road="幸福路", number="7"),
        data=HouseInput(use=House.Use.RENTED, owner_name="房东", owner_id_number=new_id()),
        tenants=[TenantInput(name="租客甲", id_number=new_id(), started_on=datetime.date(2026, 1, 5))])
    shop = svc.create_establishment(actor=cast["worker"], grid=a,
                                    data=EstablishmentInput(name="幸福超市", kind=Establishment.Kind.SHOP))
    return {**people, "home": home, "house": house, "shop": shop}


def names(people):
    return [(p.name, p.grid.name) for p in people]


def test_a_name_finds_exact_matches_first_then_prefixes_within_scope_only(tree, cast, town):
    found = sel.search_people(cast["worker"], "王伟")
    assert [p.pk for p in found] == [town["wang"].pk, town["wangfang"].pk]
    village = sel.search_people(cast["village_admin"], "王 伟")
    assert {p.pk for p in village[:2]} == {town["wang"].pk, town["wang_b"].pk} and village[2] == town["wangfang"]
    assert town["wang_far"] not in sel.search_people(cast["dispatcher"], "王伟")
    assert sel.search_people(cast["worker"], "王伟", grid=tree["grid2"]) == []


def test_id_and_phone_numbers_are_found_by_keyed_hash_typed_any_way(tree, cast, town):
    id_number = town["wang"].id_number.reveal()
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in id_number)  # full-width digits
    assert sel.search_people(cast["worker"], wide) == [town["wang"]]
    assert sel.search_people(cast["worker"], "139 0000 0001") == [town["wang"]]
    assert sel.search_people(cast["worker_b"], id_number) == []  # out of scope
    assert sel.search_people(cast["worker"], "13900000009") == []
    with CaptureQueriesContext(connection) as queries:
        sel.search_people(cast["dispatcher"], id_number)
    assert not any("LIKE" in q["sql"] and "id_number" in q["sql"] for q in queries.captured_queries)


def test_the_search_box_finds_households_addresses_houses_and_units(tree, cast, town):
    results = sel.search_records(cast["worker"], "幸福")
    assert [a.label for a in results.addresses] == ["幸福路7号"] and results.houses == [town["house"]]
    assert results.establishments == [town["shop"]]
    assert sel.search_records(cast["worker"], "a-1").households == [town["home"]]
    owner = sel.search_records(cast["worker"], town["house"].owner_id_number.reveal())
    assert owner.by == "id_number" and owner.houses == [town["house"]]
    bad = sel.search_records(cast["worker"], town["wang"].id_number.reveal()[:17] + "0")
    assert bad.by in ("number", "id_number")
    assert sel.search_records(cast["worker_b"], "幸福").count == 0


def test_lists_filter_and_stay_in_scope(tree, cast, town):
    f = sel.RecordFilter
    everyone = list(sel.resident_list(cast["dispatcher"], f()))
    assert town["wang_far"] not in everyone and town["wang_b"] in everyone
    assert list(sel.resident_list(cast["worker"], f(grid=tree["grid"], residence_type=ResidenceType.FLOATING,
                                                    status=Resident.Status.ACTIVE))) == [
        t.resident for t in town["house"].tenancies.all()]
    veterans = sel.resident_list(cast["dispatcher"], f(group=group("veteran")))
    assert list(veterans) == [town["wang"]]
    assert list(sel.resident_list(cast["dispatcher"], f(area=tree["village"], q="王伟芳"))) == [town["wangfang"]]
    assert list(sel.house_list(cast["worker"], f(use=House.Use.RENTED)))[0].tenant_count == 1
    assert list(sel.establishment_list(cast["worker_b"], f())) == []
    homes = list(sel.household_list(cast["worker"], f(grid=tree["grid"])))
    assert homes == [town["home"]] and homes[0].heads == [town["wang"]]
    assert [a.label for a in sel.address_list(cast["worker"], f(q="7号"))] == ["幸福路7号"]
    with pytest.raises(Exception) as err:
        list(sel.house_list(cast["worker"], f(use="castle")))
    assert getattr(err.value, "field", None) == "use"


def test_record_pages_answer_not_found_out_of_scope_and_show_history_newest_first(tree, cast, town):
    tenancy = town["house"].tenancies.get()
    svc.end_tenancy(actor=cast["worker"], tenancy=tenancy, ended_on=datetime.date(2026, 2, 1))
    page = sel.house_page(cast["worker"], town["house"].pk)
    assert page.may_edit and page.past == [tenancy] and page.current == []
    assert [c.action for c in page.history][:2] == ["ended", "created"]
    assert page.history[0].actor == cast["worker"]
    assert not sel.house_page(cast["dispatcher"], town["house"].pk).may_edit
    for view in (sel.house_page, sel.resident_page, sel.household_page, sel.establishment_page):
        with pytest.raises(NotFound):
            view(cast["worker_b"], {sel.house_page: town["house"], sel.resident_page: town["wang"],
                                    sel.household_page: town["home"],
                                    sel.establishment_page: town["shop"]}[view].pk)
    household = sel.household_page(cast["worker"], town["home"].pk)
    assert [m.name for m in household.members] == ["王伟", "王伟芳"]
    address = sel.address_page(cast["worker"], town["house"].address_id)
    assert address.house == town["house"] and [r.name for r in address.residents] == ["租客甲"]
    assert sel.resident_page(cast["worker"], tenancy.resident_id).tenancies == [tenancy]


def test_counts_per_grid(tree, cast, town):
    counts = sel.grid_counts(cast["village_admin"], [tree["grid"], tree["grid2"], tree["other_grid"]])
    a = counts[tree["grid"].pk]
    assert (a.residents, a.floating, a.households, a.houses, a.rented, a.establishments, a.addresses) == \
        (3, 1, 1, 1, 1, 1, 1)
    assert counts[tree["grid2"].pk].residents == 1 and tree["other_grid"].pk not in counts
    with pytest.raises(NotFound):
        sel.record_counts(cast["worker"], tree["grid2"])
