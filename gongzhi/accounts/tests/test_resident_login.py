import datetime

import pytest
import time_machine

from gongzhi.accounts.models import DevSmsMessage, User
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


CLIENT = "192.0.2.1"


def refused(**kwargs) -> DomainError:
    kwargs.setdefault("client", CLIENT)
    with pytest.raises(DomainError) as exc:
        resident_login(**kwargs)
    return exc.value


def code_for(phone: str) -> str:
    send_login_code(phone=phone, purpose="login", client=CLIENT)
    return last_code(phone)


def test_id_phone_and_code_log_in(resident, clock):
    send_login_code(phone=PHONE, purpose="login", client=CLIENT)
    assert resident_login(id_number=ID.lower(), phone=f"+86{PHONE}", code=last_code(PHONE), client=CLIENT) == resident


def test_unknown_id_and_wrong_phone_answer_alike(resident, clock):
    other_phone = "13612345678"
    make_resident_account(id_number=valid_id(seq="456"), phone=other_phone)
    unknown = refused(id_number=valid_id(seq="789"), phone=other_phone, code=code_for(other_phone))
    clock.shift(60)
    mismatch = refused(id_number=ID, phone=other_phone, code=code_for(other_phone))
    assert str(unknown.message) == str(mismatch.message) == "身份证号或手机号不正确。"
    assert unknown.code == mismatch.code == "invalid_credentials" and unknown.field == mismatch.field


def test_without_the_code_an_unknown_id_and_a_known_one_answer_alike(resident, clock):
    """The code is checked before the account is looked up: guessing says nothing about who is registered."""
    send_login_code(phone=PHONE, purpose="login", client=CLIENT)
    send_login_code(phone="13612345678", purpose="login", client=CLIENT)  # nobody's: nothing is sent
    known = refused(id_number=ID, phone=PHONE, code="000000")
    unknown = refused(id_number=valid_id(seq="789"), phone="13612345678", code="000000")
    assert (known.code, known.field, str(known.message)) == (unknown.code, unknown.field, str(unknown.message))


def test_wrong_code_is_refused_and_counted(resident, clock):
    send_login_code(phone=PHONE, purpose="login", client=CLIENT)
    wrong = f"{(int(last_code(PHONE)) + 1) % 10**6:06d}"
    for _ in range(4):
        assert refused(id_number=ID, phone=PHONE, code=wrong).field == "code"
    assert refused(id_number=ID, phone=PHONE, code=wrong).status == 429


def test_repeated_failures_delay_that_address_even_with_a_good_code(resident, clock):
    for _ in range(4):
        assert refused(id_number=ID, phone="13612345678", code="123456").status == 422
    assert refused(id_number=ID, phone="13612345678", code="123456").status == 429
    good = code_for(PHONE)
    err = refused(id_number=ID, phone=PHONE, code=good)
    assert err.status == 429 and err.retry_after == 30
    # From another address (the person's own phone network) the owner gets in at once.
    assert resident_login(id_number=ID, phone=PHONE, code=good, client="198.51.100.20") == resident


def test_after_the_delay_the_owner_gets_in(resident, clock):
    for _ in range(5):
        refused(id_number=ID, phone="13612345678", code="123456")
    clock.shift(30)
    assert resident_login(id_number=ID, phone=PHONE, code=code_for(PHONE), client=CLIENT) == resident


def test_an_account_opened_by_staff_cannot_sign_in_until_confirmed(resident, clock):
    User.objects.filter(pk=resident.pk).update(confirmed_at=None)
    send_login_code(phone=PHONE, purpose="login", client=CLIENT)
    assert not DevSmsMessage.objects.exists()  # no login code for an account nobody confirmed
    assert refused(id_number=ID, phone=PHONE, code="123456").code in {"code_wrong", "invalid_credentials"}


def test_malformed_inputs_name_their_field(resident):
    assert refused(id_number="123", phone=PHONE, code="123456").field == "id_number"
    assert refused(id_number=ID, phone="555", code="123456").field == "phone"
