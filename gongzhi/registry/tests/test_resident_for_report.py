"""代为登记: finding or creating the account of a resident a command-centre staff member reports for."""

import datetime

import pytest
import time_machine
from django.db import IntegrityError

from gongzhi.accounts import selectors
from gongzhi.accounts.models import AccountEvent, DevSmsMessage, Membership, Role, User
from gongzhi.accounts.services import resident_login, send_login_code
from gongzhi.accounts.tests.helpers import last_code, make_resident_account, valid_id
from gongzhi.core.errors import DomainError, Forbidden
from gongzhi.registry import services
from gongzhi.registry.models import Household, Resident
from gongzhi.registry.services import register_resident, resident_for_report

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
ID = valid_id(birth="19700506", seq="222")


@pytest.fixture
def disp(tree, make_staff):
    return make_staff("disp", tree["town"], Role.DISPATCHER)


@pytest.fixture
def record(tree):
    household = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H001",
                                         address="小山村1号")
    return Resident.objects.create(household=household, name="王秀英", id_number=ID, phone="13900000000",
                                   gender="F", birth_date=datetime.date(1970, 5, 6),
                                   relation=Resident.Relation.HEAD)


def residents() -> int:
    return User.objects.filter(kind=User.Kind.RESIDENT).count()


CLIENT = "192.0.2.1"


@pytest.fixture
def clock():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        yield traveller


def sign_up(phone: str, name: str = "王秀英") -> User:
    send_login_code(phone=phone, purpose="signup", client=CLIENT)
    return register_resident(name=name, id_number=ID, phone=phone, code=last_code(phone), client=CLIENT)


def test_the_new_account_cannot_be_used_until_the_resident_confirms(tree, disp, record, clock):
    user = resident_for_report(actor=disp, name=" 王秀英 ", id_number=ID.lower(), phone="138 1234 5678")
    assert user.kind == User.Kind.RESIDENT and user.real_name == "王秀英" and not user.has_usable_password()
    assert user.id_number == ID and user.phone == PHONE and user.confirmed_at is None
    record.refresh_from_db()
    assert record.user is None and not Membership.objects.filter(user=user).exists()
    # The phone staff typed in cannot sign in: no login code is even sent to it.
    send_login_code(phone=PHONE, purpose="login", client=CLIENT)
    assert not DevSmsMessage.objects.exists()
    with pytest.raises(DomainError):
        resident_login(id_number=ID, phone=PHONE, code="123456", client=CLIENT)


def test_signing_up_on_that_phone_confirms_the_same_account_unverified(tree, disp, record, clock):
    user = resident_for_report(actor=disp, name="王秀英", id_number=ID, phone=PHONE)
    mine = sign_up(PHONE)
    assert mine.pk == user.pk and mine.confirmed_at is not None
    assert not selectors.is_verified_resident(mine)  # the register holds another phone for her
    assert AccountEvent.objects.filter(user=mine, kind=AccountEvent.Kind.CLAIMED).exists()
    clock.shift(61)
    send_login_code(phone=PHONE, purpose="login", client=CLIENT)
    assert resident_login(id_number=ID, phone=PHONE, code=last_code(PHONE), client=CLIENT) == user


def test_signing_up_on_the_registers_phone_takes_the_account_over_verified(tree, disp, record, clock):
    user = resident_for_report(actor=disp, name="王秀英", id_number=ID, phone=PHONE)
    mine = sign_up("13900000000")
    assert mine.pk == user.pk and mine.phone == "13900000000"
    assert selectors.is_verified_household_head(mine)


def test_someone_else_signing_up_with_the_id_does_not_get_the_account(tree, disp, record, clock):
    user = resident_for_report(actor=disp, name="王秀英", id_number=ID, phone=PHONE)
    other = sign_up("13700000000")
    assert other.pk != user.pk and not selectors.is_verified_resident(other)
    assert User.objects.get(pk=user.pk).confirmed_at is None


def test_without_a_registry_record_the_account_is_created_unverified(tree, disp):
    user = resident_for_report(actor=disp, name="阿依古丽•买买提", id_number=valid_id(region="650102", seq="333"),
                               phone=PHONE)
    assert user.real_name == "阿依古丽·买买提" and user.kind == User.Kind.RESIDENT
    assert not Membership.objects.filter(user=user).exists() and not selectors.is_verified_resident(user)


def test_the_verified_account_is_returned_unchanged(tree, disp, record, clock):
    account = sign_up("13900000000")
    before = residents()
    found = resident_for_report(actor=disp, name="王秀英", id_number=ID, phone=PHONE)
    assert found == account and residents() == before
    found.refresh_from_db()
    assert found.phone == "13900000000"  # the typed phone does not replace the one the person proved


def test_an_account_on_the_same_phone_is_returned(tree, disp):
    account = make_resident_account(id_number=ID, phone=PHONE, grid=tree["grid2"], name="王秀英")
    before = residents()
    assert resident_for_report(actor=disp, name="王秀英", id_number=ID, phone=PHONE) == account
    assert residents() == before


def test_an_existing_account_under_another_name_is_refused(tree, disp):
    make_resident_account(id_number=ID, phone=PHONE, name="王秀英")
    with pytest.raises(DomainError) as exc:
        resident_for_report(actor=disp, name="王秀兰", id_number=ID, phone=PHONE)
    assert exc.value.field == "name" and exc.value.code == "name_mismatch"
    assert "姓名" in str(exc.value.message)


def test_a_name_not_matching_the_register_creates_nothing(tree, disp, record):
    with pytest.raises(DomainError) as exc:
        resident_for_report(actor=disp, name="王秀兰", id_number=ID, phone=PHONE)
    assert exc.value.field == "name" and exc.value.code == "name_mismatch"
    assert residents() == 0
    record.refresh_from_db()
    assert record.user is None


def test_a_staff_members_id_number_is_refused(tree, disp, make_staff):
    staff = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    staff.real_name, staff.id_number = "王秀英", ID
    staff.save()
    with pytest.raises(DomainError) as exc:
        resident_for_report(actor=disp, name="王秀英", id_number=ID, phone=PHONE)
    assert exc.value.field == "id_number" and residents() == 0


@pytest.mark.parametrize("role,unit", [(Role.DISPATCHER, "county"), (Role.SUPERVISOR, "county"),
                                       (Role.SYSTEM_ADMIN, "city")])
def test_every_command_post_may(tree, make_staff, role, unit):
    actor = make_staff("cmd", tree[unit], role)
    assert resident_for_report(actor=actor, name="张三", id_number=ID, phone=PHONE).kind == User.Kind.RESIDENT


@pytest.mark.parametrize("role,unit", [(Role.GRID_WORKER, "grid"), (Role.VILLAGE_ADMIN, "village"),
                                       (Role.GENERAL_GRID_LEADER, "town"), (Role.DEPT_HANDLER, "justice")])
def test_staff_without_a_command_post_are_refused(tree, make_staff, record, role, unit):
    actor = make_staff("field", tree[unit], role)
    with pytest.raises(Forbidden):
        resident_for_report(actor=actor, name="王秀英", id_number=ID, phone=PHONE)
    assert residents() == 0


def test_a_resident_or_a_former_dispatcher_is_refused(tree, disp, record):
    resident = make_resident_account(id_number=valid_id(seq="999"), phone="13900000001", grid=tree["grid"])
    with pytest.raises(Forbidden):
        resident_for_report(actor=resident, name="王秀英", id_number=ID, phone=PHONE)
    Membership.objects.filter(user=disp).update(is_active=False)
    with pytest.raises(Forbidden):
        resident_for_report(actor=User.objects.get(pk=disp.pk), name="王秀英", id_number=ID, phone=PHONE)
    assert residents() == 1 and Resident.objects.get(pk=record.pk).user is None


def test_each_bad_input_names_its_field_and_writes_nothing(tree, disp):
    good = {"name": "张三", "id_number": ID, "phone": PHONE}
    for field, bad in (("name", "Zhang"), ("name", ""), ("id_number", "1"), ("id_number", ID[:-1] + "0"),
                       ("phone", "1"), ("phone", "")):
        with pytest.raises(DomainError) as exc:
            resident_for_report(actor=disp, **{**good, field: bad})
        assert exc.value.field == field, (field, bad)
    assert residents() == 0


def test_a_concurrent_double_entry_returns_the_first_account(tree, disp, record, monkeypatch):
    """Two staff members enter the same person at once: the second insert hits the unique (ID number,
    phone) hashes and the account the first one made is returned."""
    real_create = services._open_for_report
    winner: list[User] = []

    def racing(**kwargs):
        # The other request got there between our lookup and our insert.
        winner.append(real_create(**kwargs))
        return real_create(**kwargs)

    monkeypatch.setattr(services, "_open_for_report", racing)
    user = resident_for_report(actor=disp, name="王秀英", id_number=ID, phone=PHONE)
    assert user == winner[0] and residents() == 1


def test_a_concurrent_entry_under_another_name_is_still_refused(tree, disp, monkeypatch):
    real_create = services._open_for_report

    def racing(**kwargs):
        real_create(**{**kwargs, "name": "李四"})
        return real_create(**kwargs)

    monkeypatch.setattr(services, "_open_for_report", racing)
    with pytest.raises(DomainError) as exc:
        resident_for_report(actor=disp, name="张三", id_number=ID, phone=PHONE)
    assert exc.value.field == "name" and residents() == 1


def test_an_unrelated_integrity_error_is_not_swallowed(tree, disp, monkeypatch):
    def broken(**kwargs):
        raise IntegrityError("something else")

    monkeypatch.setattr(services, "_open_for_report", broken)
    with pytest.raises(IntegrityError):
        resident_for_report(actor=disp, name="张三", id_number=ID, phone=PHONE)
