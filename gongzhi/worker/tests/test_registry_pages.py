"""The grid worker's 一标三实 pages: the grid hub, search, record pages and the add and edit forms."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from gongzhi.accounts.models import UNMASK_PII_GROUP
from gongzhi.registry.models import Address, Establishment, House, Household, RecordChange, Resident, Tenancy
from gongzhi.registry.tests.records_helpers import add_household, add_person, make_cast, new_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(tree, make_staff):
    return make_cast(tree, make_staff)


@pytest.fixture
def home(tree):
    household = add_household(tree["grid"], "A-1", "小山村一社1号")
    add_person(tree["grid"], "王伟", household=household, relation="head", phone="13900000001",
               id_number=new_id("19700101"))
    return household


def url(name, *args):
    return reverse(f"worker:registry_{name}", args=args)


def test_the_grid_hub_has_search_tabs_with_counts_and_add_buttons(client, tree, cast, home):
    client.force_login(cast["worker"])
    page = client.get(reverse("worker:grid", args=[tree["grid"].pk])).content.decode()
    assert 'role="search"' in page and 'aria-current="page"' in page
    assert "王伟" in page and "13900000001" not in page
    assert url("resident_new") + f"?grid={tree['grid'].pk}" in page
    assert url("rented_new") + f"?grid={tree['grid'].pk}" in page
    for tab in ("households", "houses", "units", "addresses"):
        assert client.get(reverse("worker:grid", args=[tree["grid"].pk]) + f"?tab={tab}").status_code == 200
    assert client.get(reverse("worker:grid", args=[tree["grid2"].pk])).status_code == 404


def test_searching_by_id_number_goes_by_post_and_stays_in_scope(client, tree, cast, home):
    person = home.members.get()
    id_number = person.id_number.reveal()
    client.force_login(cast["worker"])
    page = client.post(url("search"), {"q": id_number, "grid": tree["grid"].pk}).content.decode()
    assert url("resident", person.pk) in page
    # A number in the address bar is not searched (it would stand in access logs).
    assert url("resident", person.pk) not in client.get(url("search") + f"?q={id_number}").content.decode()
    assert url("resident", person.pk) in client.get(url("search") + "?q=王").content.decode()
    client.force_login(cast["worker_b"])
    assert url("resident", person.pk) not in client.post(url("search"), {"q": id_number}).content.decode()
    assert client.post(url("search"), {"q": "王", "grid": tree["grid"].pk}).status_code == 404


def test_record_pages_mask_numbers_and_offer_reveal_only_to_those_who_may(client, tree, cast, home):
    person = home.members.get()
    client.force_login(cast["worker"])
    page = client.get(url("resident", person.pk)).content.decode()
    assert "139****0001" in page and "13900000001" not in page
    assert reverse("worker:pii", args=["resident", person.pk, "phone"]) not in page
    assert url("resident_edit", person.pk) in page and "变更记录" in page
    admin = cast["village_admin"]
    admin.groups.add(Group.objects.get(name=UNMASK_PII_GROUP))
    client.force_login(admin)
    assert reverse("worker:pii", args=["resident", person.pk, "phone"]) in client.get(
        url("resident", person.pk)).content.decode()
    client.force_login(cast["worker_b"])
    for name, pk in (("resident", person.pk), ("household", home.pk), ("resident_edit", person.pk),
                     ("household_edit", home.pk)):
        assert client.get(url(name, pk)).status_code == 404


def test_adding_a_household_member(client, tree, cast, home):
    client.force_login(cast["worker"])
    form = client.get(url("resident_new") + f"?household={home.pk}&grid={tree['grid'].pk}").content.decode()
    assert 'value="A-1"' in form
    bad = client.post(url("resident_new") + f"?grid={tree['grid'].pk}",
                      {"name": "王小明", "id_number": "123", "household_number": "A-1", "relation": "child",
                       "residence_type": "registered"})
    assert bad.status_code == 422 and "身份证号码应为18位" in bad.content.decode()
    number = new_id("20100505")
    done = client.post(url("resident_new") + f"?grid={tree['grid'].pk}",
                       {"name": "王小明", "id_number": number, "household_number": "a-1", "relation": "child",
                        "residence_type": "registered", "phone": ""})
    person = Resident.objects.get(name="王小明")
    assert done.status_code == 302 and done["Location"] == url("resident", person.pk)
    assert person.household == home and person.birth_date == datetime.date(2010, 5, 5)
    unknown = client.post(url("resident_new"), {"name": "王小红", "id_number": new_id(), "household_number": "Z-9",
                                                "relation": "child", "residence_type": "registered"})
    assert unknown.status_code == 422 and "未找到该户号" in unknown.content.decode()


def test_editing_a_person_and_marking_them_moved_out(client, tree, cast, home):
    person = home.members.get()
    client.force_login(cast["worker"])
    form = client.get(url("resident_edit", person.pk)).content.decode()
    assert "139****0001" in form and "13900000001" not in form  # the hint shows the number masked
    response = client.post(url("resident_edit", person.pk), {
        "name": "王伟", "id_number": "", "phone": "", "household_number": "A-1", "relation": "head",
        "residence_type": "registered", "ethnicity": "汉族", "grid": tree["grid"].pk})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.ethnicity == "汉族" and person.phone.reveal() == "13900000001"
    response = client.post(url("resident_status", person.pk), {"status": "moved_out", "note": "迁往兰州"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.status == Resident.Status.MOVED_OUT
    assert client.get(url("resident_status", person.pk)).status_code == 405


def test_registering_a_rented_house_without_javascript(client, tree, cast):
    client.force_login(cast["worker"])
    new = url("rented_new") + f"?grid={tree['grid'].pk}"
    page = client.get(new).content.decode()
    assert 'name="t0-name"' in page and 'name="t1-name"' not in page and 'name="add_tenant"' in page
    data = {"grid": tree["grid"].pk, "road": "幸福路", "number": "9", "tenants": "1",
            "t0-name": "租客甲", "t0-id_number": new_id(), "t0-phone": "13900000011", "t0-started_on": "2026-01-01"}
    more = client.post(new, {**data, "add_tenant": "1"})
    page = more.content.decode()
    assert more.status_code == 200 and 'name="t1-name"' in page and 'value="租客甲"' in page
    assert not House.objects.exists()
    data.update({"tenants": "2", "t1-name": "租客乙", "t1-id_number": "62110219900101001X",
                 "t1-started_on": "2026-01-02"})
    bad = client.post(new, data)
    assert bad.status_code == 422 and not House.objects.exists()
    assert 't1-id_number_error' in bad.content.decode()
    data["t1-id_number"] = new_id(male=False)
    done = client.post(new, data)
    house = House.objects.get()
    assert done.status_code == 302 and done["Location"] == url("house", house.pk)
    assert house.use == House.Use.RENTED and house.tenancies.count() == 2
    page = client.get(url("house", house.pk)).content.decode()
    assert "租客甲" in page and "租客乙" in page and "139****0011" in page
    assert client.post(new, data).status_code == 302  # sent again: nothing new
    assert Tenancy.objects.count() == 2 and Resident.objects.count() == 2


def test_adding_and_ending_a_tenancy_on_the_house_page(client, tree, cast):
    client.force_login(cast["worker"])
    client.post(url("address_new") + f"?grid={tree['grid'].pk}", {"grid": tree["grid"].pk, "road": "幸福路",
                                                                  "number": "3"})
    address = Address.objects.get()
    assert client.post(url("house_new") + f"?address={address.pk}", {"use": "vacant", "address_id": address.pk}
                       ).status_code == 302
    house = House.objects.get()
    response = client.post(url("tenant_new", house.pk), {"t0-name": "租客丙", "t0-id_number": new_id(),
                                                         "t0-started_on": "2026-02-01"})
    assert response.status_code == 302
    tenancy = Tenancy.objects.get()
    refused = client.post(url("tenancy_end", tenancy.pk), {"ended_on": "2026-01-01"})
    assert refused.status_code == 422 and "不能早于入住日期" in refused.content.decode()
    assert client.post(url("tenancy_end", tenancy.pk), {"ended_on": "2026-03-01"}).status_code == 302
    tenancy.refresh_from_db()
    assert tenancy.ended_on == datetime.date(2026, 3, 1)
    history = client.get(url("house", house.pk)).content.decode()
    assert "租客注销" in history and "租客新增" in history


def test_households_units_and_addresses_forms(client, tree, cast):
    client.force_login(cast["village_admin"])
    grid = tree["grid2"].pk
    assert client.post(url("address_new") + f"?grid={grid}", {"grid": grid, "road": "", "number": "1"}
                       ).status_code == 422
    assert client.post(url("address_new"), {"grid": grid, "road": "幸福路", "number": "１号"}).status_code == 302
    address = Address.objects.get()
    assert address.label == "幸福路1号" and address.grid_id == grid
    assert client.post(url("household_new") + f"?address={address.pk}",
                       {"grid": grid, "number": "B-7", "address": "", "address_id": address.pk}).status_code == 302
    household = Household.objects.get()
    assert household.standard_address == address and household.address == "小山村幸福路1号"
    assert client.post(url("household_edit", household.pk), {"grid": grid, "number": "B-8", "address": "新址"}
                       ).status_code == 302
    assert RecordChange.objects.filter(record_type="household", action="updated").exists()
    response = client.post(url("unit_new") + f"?grid={grid}", {"grid": grid, "name": "幸福超市", "kind": "shop",
                                                              "status": "open", "licence_number": "123"})
    assert response.status_code == 422 and "统一社会信用代码应为18位" in response.content.decode()
    response = client.post(url("unit_new"), {"grid": grid, "name": "幸福超市", "kind": "shop", "status": "open",
                                             "legal_person_phone": "13900000021"})
    unit = Establishment.objects.get()
    assert response.status_code == 302 and unit.legal_person_phone.reveal() == "13900000021"
    page = client.get(url("unit", unit.pk)).content.decode()
    assert "139****0021" in page and "13900000021" not in page
    assert client.post(url("unit_edit", unit.pk), {"grid": grid, "name": "幸福超市", "kind": "shop",
                                                   "status": "closed"}).status_code == 302
    unit.refresh_from_db()
    assert unit.status == "closed" and unit.legal_person_phone.reveal() == "13900000021"


def test_a_part_time_member_sees_but_gets_no_forms(client, tree, make_staff, home):
    from gongzhi.accounts.models import Role

    member = make_staff("mj", tree["grid"], Role.GRID_PART_TIME)
    client.force_login(member)
    person = home.members.get()
    page = client.get(url("resident", person.pk)).content.decode()
    assert "王伟" in page and url("resident_edit", person.pk) not in page
    assert client.get(url("resident_edit", person.pk)).status_code == 403
    assert client.get(url("resident_new")).status_code == 404
    assert client.post(url("resident_status", person.pk), {"status": "moved_out"}).status_code == 403
