"""一标三实 writes: validation of every field, natural keys against double submits, history rows, scope."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import id_check_digit
from gongzhi.registry.models import (
    Address,
    Establishment,
    House,
    Household,
    RecordChange,
    ResidenceType,
    Resident,
    Tenancy,
)
from gongzhi.registry.services import records as svc
from gongzhi.registry.services.records import AddressInput, EstablishmentInput, HouseInput, ResidentInput, TenantInput
from gongzhi.registry.tests.records_helpers import add_household, add_person, group, make_cast, new_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(tree, make_staff):
    return make_cast(tree, make_staff)


def changes(obj):
    return list(RecordChange.objects.filter(record_type=obj._meta.model_name, record_id=obj.pk).order_by("pk"))


def addr(tree, grid="grid", **parts):
    return AddressInput(village=tree["village"], grid=tree[grid], **{"road": "幸福路", **parts})


# --- addresses ----------------------------------------------------------------------------------------------

def test_an_address_label_is_composed_from_its_parts_typed_any_way(tree, cast):
    address = svc.create_address(actor=cast["worker"], data=addr(tree, number="１２号", building="3号楼",
                                                                   unit_no="2单元", room=" 301 "))
    assert (address.number, address.building, address.unit_no, address.room) == ("12", "3", "2", "301")
    assert address.label == "幸福路12号3栋2单元301室"
    assert address.grid == tree["grid"] and address.village == tree["village"]
    [row] = changes(address)
    assert row.action == RecordChange.Action.CREATED and row.actor == cast["worker"]
    assert row.changes["地址"] == ["", "幸福路12号3栋2单元301室"]


def test_the_same_address_twice_answers_with_the_first_and_another_grid_is_a_conflict(tree, cast):
    first = svc.create_address(actor=cast["worker"], data=addr(tree, number="12"))
    assert svc.create_address(actor=cast["worker"], data=addr(tree, number="12号")) == first
    assert Address.objects.count() == 1 and len(changes(first)) == 1
    with pytest.raises(Conflict) as err:
        svc.create_address(actor=cast["village_admin"], data=addr(tree, grid="grid2", number="12"))
    assert err.value.field == "road" and "已登记" in str(err.value.message)


@pytest.mark.parametrize("parts,field", [
    ({"road": ""}, "road"),
    ({"road": "路" * 61}, "road"),
    ({"room": "1" * 21}, "room"),
    ({"lat": 35.5}, "lat"),
    ({"lat": 135.5, "lng": 104.6}, "lat"),
])
def test_bad_address_input_names_its_field_and_writes_nothing(tree, cast, parts, field):
    with pytest.raises(DomainError) as err:
        svc.create_address(actor=cast["worker"], data=addr(tree, **parts))
    assert err.value.field == field
    assert not Address.objects.exists() and not RecordChange.objects.exists()


def test_the_grid_must_lie_in_the_village(tree, cast):
    with pytest.raises(DomainError) as err:
        svc.create_address(actor=cast["village_admin"],
                           data=AddressInput(village=tree["village2"], grid=tree["grid"], road="幸福路"))
    assert err.value.field == "grid"


def test_address_codes_are_unique(tree, cast):
    svc.create_address(actor=cast["worker"], data=addr(tree, number="1", code="620000001"))
    with pytest.raises(Conflict) as err:
        svc.create_address(actor=cast["worker"], data=addr(tree, number="2", code="620000001"))
    assert err.value.field == "code"


def test_moving_an_address_to_another_grid_moves_its_house(tree, cast):
    address = svc.create_address(actor=cast["village_admin"], data=addr(tree, number="5"))
    house = svc.create_house(actor=cast["village_admin"], address=address, data=HouseInput(use=House.Use.OWN))
    svc.update_address(actor=cast["village_admin"], address=address, data=addr(tree, grid="grid2", number="5"))
    house.refresh_from_db()
    assert house.grid == tree["grid2"]
    assert changes(address)[-1].changes["网格"] == ["小山村第1网格", "小山村第2网格"]
    assert changes(house)[-1].changes["网格"] == ["小山村第1网格", "小山村第2网格"]


# --- scope ----------------------------------------------------------------------------------------------------

def test_a_grid_worker_cannot_touch_another_grid_and_a_dispatcher_sees_but_cannot_edit(tree, cast):
    with pytest.raises(NotFound):
        svc.create_address(actor=cast["worker_b"], data=addr(tree, number="9"))
    with pytest.raises(Forbidden):
        svc.create_address(actor=cast["dispatcher"], data=addr(tree, number="9"))
    home = add_household(tree["grid"], "H1")
    person = add_person(tree["grid"], "张三", household=home, relation="head")
    with pytest.raises(NotFound):
        svc.update_household(actor=cast["worker_b"], household=home, grid=tree["grid"], number="H1", address="x")
    with pytest.raises(Forbidden):
        svc.set_resident_status(actor=cast["dispatcher"], resident=person, status=Resident.Status.MOVED_OUT)
    with pytest.raises(NotFound):
        svc.edit_resident(actor=cast["stranger"], resident=person, household=home,
                          data=ResidentInput(name="张三", id_number=None, relation="head"))
    assert not RecordChange.objects.exists()


# --- households -----------------------------------------------------------------------------------------------

def test_a_household_number_is_unique_and_a_resubmit_answers_with_the_first(tree, cast):
    home = svc.create_household(actor=cast["worker"], grid=tree["grid"], number=" h-001 ", address="小山村一社3号")
    assert home.number == "H-001" and home.village == tree["village"]
    assert svc.create_household(actor=cast["worker"], grid=tree["grid"], number="H-001",
                                address="小山村一社3号") == home
    assert Household.objects.count() == 1
    with pytest.raises(Conflict) as err:  # the worker of grid2 cannot see grid's household: a neutral message
        svc.create_household(actor=cast["worker_b"], grid=tree["grid2"], number="H-001", address="别处")
    assert err.value.field == "number" and "小山村一社3号" not in str(err.value.message)
    with pytest.raises(Conflict) as err:  # the village administrator sees where it is
        svc.create_household(actor=cast["village_admin"], grid=tree["grid2"], number="H-001", address="别处")
    assert "小山村一社3号" in str(err.value.message)


def test_a_household_address_comes_from_its_standard_address_which_must_be_in_its_grid(tree, cast):
    address = svc.create_address(actor=cast["village_admin"], data=addr(tree, number="8"))
    home = svc.create_household(actor=cast["worker"], grid=tree["grid"], number="H2", standard_address=address)
    assert home.address == "小山村幸福路8号"
    with pytest.raises(DomainError) as err:
        svc.create_household(actor=cast["village_admin"], grid=tree["grid2"], number="H3", standard_address=address)
    assert err.value.field == "standard_address"
    with pytest.raises(DomainError) as err:
        svc.create_household(actor=cast["worker"], grid=tree["grid"], number="H4")
    assert err.value.field == "address"


def test_moving_a_household_to_another_grid_moves_its_members(tree, cast):
    home = add_household(tree["grid"], "H5")
    member = add_person(tree["grid"], "李四", household=home, relation="head")
    svc.update_household(actor=cast["village_admin"], household=home, grid=tree["grid2"], number="H5",
                         address=home.address)
    member.refresh_from_db()
    assert member.grid == tree["grid2"]
    assert changes(member)[-1].changes["网格"] == ["小山村第1网格", "小山村第2网格"]
    with pytest.raises(NotFound):  # a grid of another village lies outside the village administrator's scope
        svc.update_household(actor=cast["village_admin"], household=home, grid=tree["grid3"], number="H5",
                             address=home.address)


def test_a_key_person_moves_with_their_household(tree, cast):
    from gongzhi.registry.models import KeyPerson, RiskLevel

    home = add_household(tree["grid"], "H6")
    member = add_person(tree["grid"], "赵五", household=home, relation="head")
    person = KeyPerson.objects.create(resident=member, grid=tree["grid"], risk_level=RiskLevel.LOW,
                                      started_on=datetime.date(2026, 1, 1))
    svc.update_household(actor=cast["village_admin"], household=home, grid=tree["grid2"], number="H6",
                         address=home.address)
    person.refresh_from_db()
    assert person.grid == tree["grid2"]  # the new grid's staff see them now, the old grid's no longer


# --- residents ------------------------------------------------------------------------------------------------

_BODY = "62110219900102123"
WRONG_CHECK_DIGIT = _BODY + ("0" if id_check_digit(_BODY) != "0" else "1")


def person(**overrides):
    return ResidentInput(**{"name": "王 小 明", "id_number": new_id("19900102", male=True), "phone": "１３９ 1234 5678",
                            "relation": "head", **overrides})


def test_adding_a_member_takes_gender_and_birth_from_the_id_number_and_the_households_grid(tree, cast):
    home = add_household(tree["grid"], "H6")
    dibao = group("dibao")
    resident = svc.add_resident(actor=cast["worker"], household=home, data=person(groups=[dibao], ethnicity="回族"))
    resident.refresh_from_db()
    assert (resident.name, resident.gender, resident.birth_date) == ("王小明", "M", datetime.date(1990, 1, 2))
    assert resident.phone.reveal() == "13912345678" and resident.phone_hash == keyed_hash("13912345678")
    assert resident.grid == tree["grid"] and list(resident.groups.all()) == [dibao]
    [row] = changes(resident)
    assert row.changes["手机号"] == ["", "139****5678"]  # masked in the history
    assert row.changes["特殊人群"] == ["", "低保"]
    assert "13912345678" not in str(row.changes)


@pytest.mark.parametrize("overrides,field", [
    ({"name": ""}, "name"),
    ({"name": "Tom"}, "name"),
    ({"id_number": "62110219900102123"}, "id_number"),
    ({"id_number": WRONG_CHECK_DIGIT}, "id_number"),
    ({"gender": "F"}, "gender"),
    ({"birth_date": datetime.date(1990, 1, 3)}, "birth_date"),
    ({"phone": "12345"}, "phone"),
    ({"relation": ""}, "relation"),
    ({"relation": "cousin"}, "relation"),
    ({"residence_type": "alien"}, "residence_type"),
    ({"ethnicity": "族" * 21}, "ethnicity"),
])
def test_bad_resident_input_names_its_field_and_writes_nothing(tree, cast, overrides, field):
    home = add_household(tree["grid"], "H7")
    with pytest.raises(DomainError) as err:
        svc.add_resident(actor=cast["worker"], household=home, data=person(**overrides))
    assert err.value.field == field
    assert not Resident.objects.exists() and not RecordChange.objects.exists()


def test_a_household_has_one_head_and_a_person_on_their_own_has_no_relation(tree, cast):
    home = add_household(tree["grid"], "H8")
    add_person(tree["grid"], "户主甲", household=home, relation="head")
    with pytest.raises(DomainError) as err:
        svc.add_resident(actor=cast["worker"], household=home, data=person())
    assert err.value.field == "relation" and "户主甲" in str(err.value.message)
    with pytest.raises(DomainError) as err:
        svc.add_resident(actor=cast["worker"], grid=tree["grid"], data=person())
    assert err.value.field == "relation"
    lodger = svc.add_resident(actor=cast["worker"], grid=tree["grid"],
                              data=person(relation="", residence_type=ResidenceType.LODGING))
    assert lodger.household is None and lodger.grid == tree["grid"]


def test_an_id_number_registered_elsewhere_names_the_place_only_to_those_who_see_it(tree, cast):
    id_number = new_id()
    add_person(tree["grid2"], "赵六", id_number=id_number, household=add_household(tree["grid2"], "H9"),
               relation="head")
    with pytest.raises(Conflict) as err:
        svc.add_resident(actor=cast["worker"], grid=tree["grid"], data=person(id_number=id_number, relation=""))
    assert err.value.field == "id_number" and "赵六" not in str(err.value.message)
    with pytest.raises(Conflict) as err:
        svc.add_resident(actor=cast["village_admin"], grid=tree["grid"],
                         data=person(id_number=id_number, relation=""))
    assert "赵六" in str(err.value.message) and "小山村第2网格" in str(err.value.message)
    assert Resident.objects.count() == 1


def test_the_same_person_form_twice_answers_with_the_first_record(tree, cast):
    home = add_household(tree["grid"], "H10")
    data = person()
    first = svc.add_resident(actor=cast["worker"], household=home, data=data)
    assert svc.add_resident(actor=cast["worker"], household=home, data=data) == first
    assert Resident.objects.count() == 1 and len(changes(first)) == 1


def test_editing_a_resident_keeps_unsent_numbers_and_logs_what_changed(tree, cast):
    home = add_household(tree["grid"], "H11")
    resident = svc.add_resident(actor=cast["worker"], household=home, data=person())
    svc.edit_resident(actor=cast["worker"], resident=resident, household=home,
                      data=ResidentInput(name="王小明", id_number=None, phone=None, relation="head",
                                         residence_type=ResidenceType.REGISTERED, note="残疾证已办"))
    resident.refresh_from_db()
    assert resident.phone.reveal() == "13912345678"
    edit = changes(resident)[-1]
    assert edit.action == RecordChange.Action.UPDATED and edit.changes == {"备注": ["", "残疾证已办"]}
    # Saving the same values again writes no history row.
    svc.edit_resident(actor=cast["worker"], resident=resident, household=home,
                      data=ResidentInput(name="王小明", id_number=None, phone=None, relation="head",
                                         note="残疾证已办"))
    assert len(changes(resident)) == 2


def test_moving_out_or_dying_ends_the_record_and_its_tenancies_instead_of_deleting(tree, cast):
    house = svc.register_rented_house(actor=cast["worker"], address=addr(tree, number="20"),
                                      data=HouseInput(use=House.Use.RENTED),
                                      tenants=[TenantInput(name="租客甲", id_number=new_id(),
                                                           started_on=datetime.date(2026, 1, 1))])
    tenant = house.tenancies.get().resident
    svc.set_resident_status(actor=cast["worker"], resident=tenant, status=Resident.Status.MOVED_OUT)
    tenant.refresh_from_db()
    assert tenant.status == Resident.Status.MOVED_OUT
    assert house.tenancies.get().ended_on is not None
    assert changes(tenant)[-1].action == RecordChange.Action.ENDED
    svc.set_resident_status(actor=cast["worker"], resident=tenant, status=Resident.Status.DECEASED)
    with pytest.raises(DomainError) as err:
        svc.set_resident_status(actor=cast["worker"], resident=tenant, status=Resident.Status.ACTIVE)
    assert err.value.field == "status"


# --- houses and tenants ---------------------------------------------------------------------------------------

def tenants(*people):
    return [TenantInput(name=name, id_number=id_number, phone=phone, started_on=datetime.date(2026, 3, 1))
            for name, id_number, phone in people]


def test_registering_a_rented_house_with_two_new_tenants(tree, cast):
    a, b = new_id(), new_id(male=False)
    house = svc.register_rented_house(
        actor=cast["worker"], address=addr(tree, number="30", room="101"),
        data=HouseInput(use=House.Use.RENTED, area=Decimal("56.5"), owner_name="房东", owner_id_number=new_id(),
                        owner_phone="13800000001"),
        tenants=tenants(("租客甲", a, "13900000001"), ("租客乙", b, "")))
    assert house.use == House.Use.RENTED and house.grid == tree["grid"] and house.address.label == "幸福路30号101室"
    assert house.owner_phone.reveal() == "13800000001"
    people = {t.resident.name: t.resident for t in house.tenancies.select_related("resident")}
    assert set(people) == {"租客甲", "租客乙"}
    for resident in people.values():
        assert resident.residence_type == ResidenceType.FLOATING and resident.grid == tree["grid"]
        assert resident.standard_address == house.address and resident.household is None
    assert people["租客乙"].gender == "F"
    assert RecordChange.objects.filter(record_type="tenancy").count() == 2
    assert RecordChange.objects.filter(record_type="address").count() == 1


def test_the_same_rented_house_form_twice_adds_nothing(tree, cast):
    form = {"address": addr(tree, number="31"), "data": HouseInput(use=House.Use.RENTED),
            "tenants": tenants(("租客甲", new_id(), ""), ("租客乙", new_id(), ""))}
    first = svc.register_rented_house(actor=cast["worker"], **form)
    rows = RecordChange.objects.count()
    assert svc.register_rented_house(actor=cast["worker"], **form) == first
    assert (House.objects.count(), Resident.objects.count(), Tenancy.objects.count()) == (1, 2, 2)
    assert RecordChange.objects.count() == rows


def test_a_tenant_already_registered_is_linked_and_moved_to_the_house(tree, cast):
    id_number = new_id()
    known = add_person(tree["grid2"], "老租客", id_number=id_number, residence_type=ResidenceType.FLOATING)
    house = svc.register_rented_house(actor=cast["village_admin"], address=addr(tree, number="32"),
                                      data=HouseInput(use=House.Use.RENTED),
                                      tenants=tenants(("老租客", id_number, "")))
    known.refresh_from_db()
    assert house.tenancies.get().resident == known and Resident.objects.count() == 1
    assert known.grid == tree["grid"] and known.standard_address == house.address


def test_a_bad_tenant_names_its_block_and_nothing_is_written(tree, cast):
    good = new_id()
    cases = [
        (tenants(("租客甲", good, ""), ("租客乙", WRONG_CHECK_DIGIT, "")), "tenants.1.id_number"),
        (tenants(("租客甲", good, ""), ("租客乙", good, "")), "tenants.1.id_number"),
        (tenants(("租客甲", good, "139")), "tenants.0.phone"),
        ([TenantInput(name="租客甲", id_number=good, started_on=None)], "tenants.0.started_on"),
        ([TenantInput(name="租客甲", id_number=good, started_on=datetime.date(2099, 1, 1))], "tenants.0.started_on"),
    ]
    for people, field in cases:
        with pytest.raises(DomainError) as err:
            svc.register_rented_house(actor=cast["worker"], address=addr(tree, number="33"),
                                      data=HouseInput(use=House.Use.RENTED), tenants=people)
        assert err.value.field == field
    assert not (House.objects.exists() or Address.objects.exists() or Resident.objects.exists()
                or RecordChange.objects.exists())


def test_a_tenant_whose_name_differs_from_the_register_is_refused(tree, cast):
    id_number = new_id()
    add_person(tree["grid"], "张三", id_number=id_number)
    with pytest.raises(DomainError) as err:
        svc.register_rented_house(actor=cast["worker"], address=addr(tree, number="34"),
                                  data=HouseInput(use=House.Use.RENTED), tenants=tenants(("李四", id_number, "")))
    assert err.value.field == "tenants.0.name"


@time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=datetime.UTC), tick=False)
def test_adding_and_ending_a_tenancy(tree, cast):
    address = svc.create_address(actor=cast["worker"], data=addr(tree, number="35"))
    house = svc.create_house(actor=cast["worker"], address=address, data=HouseInput(use=House.Use.VACANT))
    tenancy = svc.add_tenancy(actor=cast["worker"], house=house,
                              tenant=TenantInput(name="租客丙", id_number=new_id(),
                                                 started_on=datetime.date(2026, 5, 1)))
    house.refresh_from_db()
    assert house.use == House.Use.RENTED
    with pytest.raises(DomainError) as err:
        svc.update_house(actor=cast["worker"], house=house, data=HouseInput(use=House.Use.OWN))
    assert err.value.field == "use"
    with pytest.raises(DomainError) as err:
        svc.end_tenancy(actor=cast["worker"], tenancy=tenancy, ended_on=datetime.date(2026, 4, 30))
    assert err.value.field == "ended_on"
    svc.end_tenancy(actor=cast["worker"], tenancy=tenancy, ended_on=datetime.date(2026, 5, 31))
    assert svc.end_tenancy(actor=cast["worker"], tenancy=tenancy, ended_on=datetime.date(2026, 5, 31)) == tenancy
    assert changes(tenancy)[-1].action == RecordChange.Action.ENDED
    svc.update_house(actor=cast["worker"], house=house, data=HouseInput(use=House.Use.OWN, owner_id_number=None,
                                                                        owner_phone=None))
    with pytest.raises(NotFound):
        svc.end_tenancy(actor=cast["worker_b"], tenancy=tenancy)


def test_an_address_holds_one_house(tree, cast):
    address = svc.create_address(actor=cast["worker"], data=addr(tree, number="36"))
    house = svc.create_house(actor=cast["worker"], address=address, data=HouseInput(use=House.Use.OWN))
    assert svc.create_house(actor=cast["worker"], address=address, data=HouseInput(use=House.Use.OWN)) == house
    with pytest.raises(Conflict) as err:
        svc.create_house(actor=cast["worker"], address=address, data=HouseInput(use=House.Use.SHOP))
    assert err.value.field == "address"
    with pytest.raises(DomainError) as err:
        svc.create_house(actor=cast["worker"], address=addr(tree, number="37"),
                         data=HouseInput(use=House.Use.OWN, area=Decimal("0")))
    assert err.value.field == "area"


# --- establishments -------------------------------------------------------------------------------------------

def unit(**overrides):
    return EstablishmentInput(**{"name": "八里小卖部", "kind": Establishment.Kind.SHOP, **overrides})


def test_units_with_a_licence_number_are_unique_and_phones_are_normalised(tree, cast):
    shop = svc.create_establishment(actor=cast["worker"], grid=tree["grid"], data=unit(
        licence_number="91110000 600037341l", legal_person_phone="+86 139-0000-0002", staff_count=3,
        safety_contact="安全员", safety_contact_phone="13900000003"))
    assert shop.licence_number == "91110000600037341L"
    assert shop.legal_person_phone.reveal() == "13900000002"
    again = svc.create_establishment(actor=cast["worker"], grid=tree["grid"],
                                     data=unit(licence_number="91110000600037341L"))
    assert again == shop
    with pytest.raises(Conflict) as err:
        svc.create_establishment(actor=cast["worker_b"], grid=tree["grid2"],
                                 data=unit(name="别家", licence_number="91110000600037341L"))
    assert err.value.field == "licence_number" and "八里小卖部" not in str(err.value.message)


@pytest.mark.parametrize("overrides,field", [
    ({"name": ""}, "name"),
    ({"kind": ""}, "kind"),
    ({"licence_number": "91110000600037341X"}, "licence_number"),
    ({"licence_number": "123"}, "licence_number"),
    ({"legal_person_phone": "1234"}, "legal_person_phone"),
    ({"safety_contact_phone": "1234"}, "safety_contact_phone"),
    ({"staff_count": -1}, "staff_count"),
    ({"status": "gone"}, "status"),
])
def test_bad_unit_input_names_its_field(tree, cast, overrides, field):
    with pytest.raises(DomainError) as err:
        svc.create_establishment(actor=cast["worker"], grid=tree["grid"], data=unit(**overrides))
    assert err.value.field == field
    assert not Establishment.objects.exists()


def test_a_unit_without_licence_sent_twice_is_one_unit_and_edits_are_logged(tree, cast):
    first = svc.create_establishment(actor=cast["worker"], grid=tree["grid"], data=unit(address_text="幸福路1号"))
    assert svc.create_establishment(actor=cast["worker"], grid=tree["grid"],
                                    data=unit(address_text="幸福路1号")) == first
    svc.update_establishment(actor=cast["worker"], establishment=first,
                             data=unit(address_text="幸福路1号", status=Establishment.Status.CLOSED,
                                       legal_person_phone=None, safety_contact_phone=None))
    assert changes(first)[-1].changes == {"经营状态": ["正常经营", "停业"]}
    with pytest.raises(Forbidden):
        svc.update_establishment(actor=cast["dispatcher"], establishment=first, data=unit())
