import datetime

import pytest
import time_machine

from gongzhi.accounts.models import User
from gongzhi.accounts.services import resident_login, send_login_code
from gongzhi.accounts.tests.helpers import last_code, make_resident_account, valid_id
from gongzhi.core.errors import DomainError

pytestmark = pytest.mark.django_db

PHONE = "13712345678"
ID = valid_id(birth="19650302")
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def resident(tree):
    return make_resident_account(id_number=ID, phone=PHONE, grid=tree["grid"])


def refused(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        resident_login(**kwargs)
    return exc.value


def test_id_phone_and_code_log_in(resident, clock):
    send_login_code(phone=PHONE, purpose="login")
    assert resident_login(id_number=ID.lower(), phone=f"+86{PHONE}", code=last_code(PHONE)) == resident


def test_unknown_id_and_wrong_phone_answer_alike(resident, clock):
    other_phone = "13612345678"
    make_resident_account(id_number=valid_id(seq="456"), phone=other_phone)
    send_login_code(phone=other_phone, purpose="login")
    code = last_code(other_phone)
    unknown = refused(id_number=valid_id(seq="789"), phone=other_phone, code=code)
    mismatch = refused(id_number=ID, phone=other_phone, code=code)
    assert str(unknown.message) == str(mismatch.message) == "身份证号或手机号不正确。"
    assert unknown.code == mismatch.code == "invalid_credentials" and unknown.field == mismatch.field


def test_wrong_code_is_refused_and_counted(resident, clock):
    send_login_code(phone=PHONE, purpose="login")
    wrong = f"{(int(last_code(PHONE)) + 1) % 10**6:06d}"
    assert refused(id_number=ID, phone=PHONE, code=wrong).field == "code"
    assert User.objects.get(pk=resident.pk).failed_login_count == 1


def test_repeated_failures_lock_the_account_even_with_a_good_code(resident, clock):
    for _ in range(4):
        assert refused(id_number=ID, phone="13612345678", code="123456").code == "invalid_credentials"
    assert refused(id_number=ID, phone="13612345678", code="123456").code == "locked"
    send_login_code(phone=PHONE, purpose="login")
    assert refused(id_number=ID, phone=PHONE, code=last_code(PHONE)).code == "locked"
    clock.shift(datetime.timedelta(minutes=15))
    send_login_code(phone=PHONE, purpose="login")
    assert resident_login(id_number=ID, phone=PHONE, code=last_code(PHONE)) == resident


def test_malformed_inputs_name_their_field(resident):
    assert refused(id_number="123", phone=PHONE, code="123456").field == "id_number"
    assert refused(id_number=ID, phone="555", code="123456").field == "phone"
