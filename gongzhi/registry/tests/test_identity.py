"""The village confirms who residents are: 当面核验 from a queue, and re-binding a verified resident's phone."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user
from django.http import HttpRequest
from django.test import Client

from gongzhi.accounts import selectors
from gongzhi.accounts.models import AccountEvent, DevSmsMessage, Membership, Role, User
from gongzhi.accounts.services import send_login_code
from gongzhi.accounts.tests.helpers import last_code, valid_id
from gongzhi.core.errors import Conflict, DomainError, NotFound
from gongzhi.registry import selectors as registry_selectors
from gongzhi.registry.models import Household, Resident
from gongzhi.registry.services import rebind_phone, register_resident, send_rebind_code, verify_in_person

pytestmark = pytest.mark.django_db

ID = valid_id(birth="19700506", seq="222")
REGISTER_PHONE = "13900000000"
CLIENT = "192.0.2.1"


@pytest.fixture
def clock():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def record(tree):
    household = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H001",
                                         address="小山村1号")
    return Resident.objects.create(household=household, name="王秀英", id_number=ID, phone=REGISTER_PHONE,
                                   gender="F", birth_date=datetime.date(1970, 5, 6),
                                   relation=Resident.Relation.HEAD)


@pytest.fixture
def sign_up(clock):
    def run(phone: str, name: str = "王秀英", id_number: str = ID) -> User:
        send_login_code(phone=phone, purpose="signup", client=CLIENT)
        user = register_resident(name=name, id_number=id_number, phone=phone, code=last_code(phone), client=CLIENT)
        clock.shift(61)
        return user
    return run


@pytest.fixture
def village_admin(tree, make_staff):
    return make_staff("va", tree["village"], Role.VILLAGE_ADMIN)


def test_the_queue_lists_unverified_accounts_claiming_a_record_in_the_village(tree, record, sign_up,
                                                                              village_admin, make_staff):
    new_phone = sign_up("13700000000")
    sign_up("13600000000", name="张三", id_number=valid_id(seq="444"))  # nobody the register knows
    queue, total = registry_selectors.verification_queue(village_admin)
    assert total == 1 and [(p.account, p.record, p.name_matches) for p in queue] == [(new_phone, record, True)]
    neighbour = make_staff("va2", tree["village2"], Role.VILLAGE_ADMIN)
    assert registry_selectors.verification_queue(neighbour) == ([], 0)
    with pytest.raises(NotFound):
        registry_selectors.verification_queue(make_staff("gw", tree["grid"], Role.GRID_WORKER))


def test_verifying_in_person_links_the_account_and_logs_the_reason(tree, record, sign_up, village_admin):
    account = sign_up("13700000000", name="王秀蓉")  # a typing slip in the name
    verify_in_person(actor=village_admin, account=account, reason="查验身份证原件")
    record.refresh_from_db()
    account.refresh_from_db()
    assert record.user == account and account.real_name == "王秀英"
    assert selectors.is_verified_household_head(account)
    assert list(Membership.objects.filter(user=account).values_list("unit", "role")) == [
        (tree["grid"].pk, Role.RESIDENT)]
    event = AccountEvent.objects.get(user=account, kind=AccountEvent.Kind.VERIFIED_IN_PERSON)
    assert event.actor == village_admin and event.reason == "查验身份证原件"
    assert registry_selectors.verification_queue(village_admin) == ([], 0)


def test_verifying_needs_a_reason_and_the_right_village(tree, record, sign_up, village_admin, make_staff):
    account = sign_up("13700000000")
    with pytest.raises(DomainError) as exc:
        verify_in_person(actor=village_admin, account=account, reason="  ")
    assert exc.value.field == "reason"
    for outsider in (make_staff("va2", tree["village2"], Role.VILLAGE_ADMIN),
                     make_staff("disp", tree["town"], Role.DISPATCHER)):
        with pytest.raises(NotFound):
            verify_in_person(actor=outsider, account=account, reason="查验身份证原件")
    assert Resident.objects.get(pk=record.pk).user is None and not AccountEvent.objects.exists()


def test_only_one_account_can_be_verified_for_a_person(tree, record, sign_up, village_admin):
    first, second = sign_up("13700000000"), sign_up("13600000000")
    verify_in_person(actor=village_admin, account=first, reason="查验身份证原件")
    with pytest.raises(Conflict):
        verify_in_person(actor=village_admin, account=second, reason="查验身份证原件")
    assert Resident.objects.get(pk=record.pk).user == first


def test_rebinding_moves_account_and_register_to_the_new_phone_and_tells_the_old_one(
        tree, record, sign_up, village_admin, django_capture_on_commit_callbacks):
    account = sign_up(REGISTER_PHONE)
    client = Client()
    client.force_login(account)
    assert send_rebind_code(actor=village_admin, id_number=ID, phone="13500000000", client=CLIENT) == "135****0000"
    with django_capture_on_commit_callbacks(execute=True):
        rebind_phone(actor=village_admin, id_number=ID, phone="13500000000", reason="原手机丢失，本人持身份证办理",
                     code=last_code("13500000000"))
    account.refresh_from_db()
    record.refresh_from_db()
    assert account.phone == "13500000000" and record.phone == "13500000000"
    texts = [m for m in DevSmsMessage.objects.all() if m.phone == REGISTER_PHONE and "改绑" in m.message]
    assert len(texts) == 1 and "135****0000" in texts[0].message
    event = AccountEvent.objects.get(kind=AccountEvent.Kind.PHONE_REBOUND)
    assert event.detail == "139****0000 → 135****0000" and event.actor == village_admin
    assert REGISTER_PHONE not in event.detail
    request = HttpRequest()
    request.session = client.session
    assert not get_user(request).is_authenticated  # whoever holds the old phone is signed out


def test_rebinding_is_refused_outside_the_village_or_for_unverified_people(tree, record, sign_up, village_admin,
                                                                          make_staff):
    sign_up("13700000000")  # unverified
    with pytest.raises(NotFound):
        send_rebind_code(actor=village_admin, id_number=ID, phone="13500000000", client=CLIENT)
    account = sign_up(REGISTER_PHONE)
    assert selectors.is_verified_resident(account)
    texts = DevSmsMessage.objects.count()
    with pytest.raises(NotFound):
        send_rebind_code(actor=make_staff("va2", tree["village2"], Role.VILLAGE_ADMIN), id_number=ID,
                         phone="13500000000", client=CLIENT)
    with pytest.raises(DomainError) as exc:
        send_rebind_code(actor=village_admin, id_number=ID, phone=REGISTER_PHONE, client=CLIENT)
    assert exc.value.field == "phone"
    with pytest.raises(Conflict):  # the unverified account of this ID already uses that phone
        send_rebind_code(actor=village_admin, id_number=ID, phone="13700000000", client=CLIENT)
    assert DevSmsMessage.objects.count() == texts  # refused before anything is texted
    send_rebind_code(actor=village_admin, id_number=ID, phone="13500000000", client=CLIENT)
    code = last_code("13500000000")
    with pytest.raises(NotFound):  # the code does not let another village act
        rebind_phone(actor=make_staff("va3", tree["village2"], Role.VILLAGE_ADMIN), id_number=ID,
                     phone="13500000000", reason="换号", code=code)
    assert User.objects.get(pk=account.pk).phone == REGISTER_PHONE


@pytest.mark.parametrize("typed", ["", "12345", "wrong"])
def test_rebinding_needs_the_code_texted_to_the_new_phone(tree, record, sign_up, village_admin, typed):
    account = sign_up(REGISTER_PHONE)
    with pytest.raises(DomainError) as exc:  # no code asked for yet
        rebind_phone(actor=village_admin, id_number=ID, phone="13500000000", reason="换号", code="123456")
    assert exc.value.field == "code"
    send_rebind_code(actor=village_admin, id_number=ID, phone="13500000000", client=CLIENT)
    code = last_code("13500000000")
    wrong = f"{(int(code) + 1) % 10**6:06d}" if typed == "wrong" else typed
    with pytest.raises(DomainError) as exc:
        rebind_phone(actor=village_admin, id_number=ID, phone="13500000000", reason="换号", code=wrong)
    assert exc.value.field == "code"
    with pytest.raises(DomainError):  # a code texted to one number does not bind another
        rebind_phone(actor=village_admin, id_number=ID, phone="13400000000", reason="换号", code=code)
    assert User.objects.get(pk=account.pk).phone == REGISTER_PHONE
    assert not AccountEvent.objects.filter(kind=AccountEvent.Kind.PHONE_REBOUND).exists()
    rebind_phone(actor=village_admin, id_number=ID, phone="13500000000", reason="换号", code=code)
    assert User.objects.get(pk=account.pk).phone == "13500000000"


def test_a_rebind_code_cannot_be_asked_for_through_the_public_sign_in():
    with pytest.raises(DomainError) as exc:
        send_login_code(phone="13500000000", purpose="rebind", client=CLIENT)
    assert exc.value.field == "purpose"
