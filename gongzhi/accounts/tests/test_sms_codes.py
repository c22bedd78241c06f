import datetime
import logging

import pytest
import time_machine
from django.test import override_settings

from gongzhi.accounts import services
from gongzhi.accounts.models import DevSmsMessage, SmsCode
from gongzhi.accounts.services import check_code, send_login_code
from gongzhi.accounts.sms import recent_dev_messages
from gongzhi.accounts.tests.helpers import last_code, make_resident_account, valid_id
from gongzhi.core.errors import DomainError, NotFound, RateLimited, ServiceUnavailable
from gongzhi.core.pii import keyed_hash

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def error(fn, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        fn(**kwargs)
    return exc.value


def test_code_is_texted_and_only_its_hash_stored(clock, caplog):
    with caplog.at_level(logging.INFO):
        send_login_code(phone="+86 139 1234 5678", purpose="signup")
    code = last_code(PHONE)
    row = SmsCode.objects.get()
    assert row.phone_hash == keyed_hash(PHONE) and code not in row.code_hash
    assert row.expires_at == T0 + datetime.timedelta(minutes=5)
    # The log line names the phone masked only.
    assert "139****5678" in caplog.text and PHONE not in caplog.text
    assert recent_dev_messages()[0]["masked_phone"] == "139****5678"
    check_code(phone=PHONE, purpose="signup", code=code)
    assert SmsCode.objects.get().used_at == T0


def test_resend_within_60_seconds_is_refused_with_the_wait(clock):
    send_login_code(phone=PHONE, purpose="signup")
    clock.shift(45)
    err = error(send_login_code, phone=PHONE, purpose="login")
    assert isinstance(err, RateLimited) and err.status == 429 and "15秒" in str(err.message)
    assert SmsCode.objects.count() == 1
    clock.shift(15)
    send_login_code(phone=PHONE, purpose="signup")
    assert SmsCode.objects.count() == 2


def test_daily_cap(clock):
    for _ in range(10):
        send_login_code(phone=PHONE, purpose="signup")
        clock.shift(61)
    assert "明天" in str(error(send_login_code, phone=PHONE, purpose="signup").message)
    clock.move_to(datetime.datetime(2026, 3, 3, 0, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=8))))
    send_login_code(phone=PHONE, purpose="signup")


def test_code_expires_after_five_minutes(clock):
    send_login_code(phone=PHONE, purpose="signup")
    code = last_code(PHONE)
    clock.shift(300)
    err = error(check_code, phone=PHONE, purpose="signup", code=code)
    assert err.code == "code_expired" and "已过期" in str(err.message) and err.field == "code"


def test_wrong_codes_count_and_then_even_the_right_code_is_refused(clock):
    send_login_code(phone=PHONE, purpose="signup")
    code = last_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        err = error(check_code, phone=PHONE, purpose="signup", code=wrong)
        assert err.code == "code_wrong" and f"{left}次" in str(err.message)
    assert error(check_code, phone=PHONE, purpose="signup", code=wrong).code == "code_attempts"
    err = error(check_code, phone=PHONE, purpose="signup", code=code)
    assert err.code == "code_attempts" and "错误次数过多" in str(err.message)
    assert SmsCode.objects.get().attempts == 5


def test_code_cannot_be_reused(clock):
    send_login_code(phone=PHONE, purpose="signup")
    code = last_code(PHONE)
    check_code(phone=PHONE, purpose="signup", code=code)
    assert error(check_code, phone=PHONE, purpose="signup", code=code).code == "code_used"


def test_code_for_one_purpose_does_not_work_for_the_other(clock):
    send_login_code(phone=PHONE, purpose="signup")
    assert error(check_code, phone=PHONE, purpose="login", code=last_code(PHONE)).code == "code_missing"


def test_only_the_latest_code_counts(clock):
    send_login_code(phone=PHONE, purpose="signup")
    first = last_code(PHONE)
    clock.shift(61)
    send_login_code(phone=PHONE, purpose="signup")
    second = last_code(PHONE)
    if first != second:
        assert error(check_code, phone=PHONE, purpose="signup", code=first).code == "code_wrong"
    check_code(phone=PHONE, purpose="signup", code=second)


def test_malformed_code_does_not_spend_an_attempt(clock):
    send_login_code(phone=PHONE, purpose="signup")
    assert error(check_code, phone=PHONE, purpose="signup", code="12a").field == "code"
    assert SmsCode.objects.get().attempts == 0


def test_login_code_to_unknown_phone_answers_alike_but_sends_nothing(clock):
    send_login_code(phone=PHONE, purpose="login")
    assert DevSmsMessage.objects.count() == 0
    assert SmsCode.objects.count() == 1  # so the resend limit is the same as for a real account
    make_resident_account(id_number=valid_id(), phone=PHONE)
    clock.shift(61)
    send_login_code(phone=PHONE, purpose="login")
    assert DevSmsMessage.objects.count() == 1


def test_bad_phone_or_purpose(clock):
    assert error(send_login_code, phone="12345", purpose="signup").field == "phone"
    assert error(send_login_code, phone=PHONE, purpose="reset").field == "purpose"
    assert SmsCode.objects.count() == 0


@override_settings(SMS_BACKEND="gongzhi.accounts.sms.FailingSmsBackend")
def test_provider_failure_leaves_no_code_so_the_person_may_retry(clock):
    err = error(send_login_code, phone=PHONE, purpose="signup")
    assert isinstance(err, ServiceUnavailable) and err.status == 503
    assert SmsCode.objects.count() == 0


def test_dev_page_data_is_refused_when_the_page_is_off(clock):
    send_login_code(phone=PHONE, purpose="signup")
    with override_settings(SHOW_DEV_SMS_PAGE=False), pytest.raises(NotFound):
        recent_dev_messages()


def test_old_dev_messages_are_pruned(clock):
    services.get_sms_backend().send(PHONE, "old")
    clock.shift(datetime.timedelta(days=1, seconds=1))
    services.get_sms_backend().send(PHONE, "new")
    assert [m["message"] for m in recent_dev_messages()] == ["new"]
