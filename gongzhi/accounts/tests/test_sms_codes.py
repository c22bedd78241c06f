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
        send_login_code(phone="+86 139 1234 5678", purpose="signup", client="192.0.2.1")
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
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    clock.shift(45)
    err = error(send_login_code, phone=PHONE, purpose="login", client="192.0.2.1")
    assert isinstance(err, RateLimited) and err.status == 429 and "15秒" in str(err.message)
    assert SmsCode.objects.count() == 1
    clock.shift(15)
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    assert SmsCode.objects.count() == 2


def test_daily_cap(clock, settings):
    settings.SMS_CLIENT_LIMIT = (100, 3600)
    for _ in range(10):
        send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
        clock.shift(61)
    assert "明天" in str(error(send_login_code, phone=PHONE, purpose="signup", client="192.0.2.1").message)
    clock.move_to(datetime.datetime(2026, 3, 3, 0, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=8))))
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")


def test_code_expires_after_five_minutes(clock):
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    code = last_code(PHONE)
    clock.shift(300)
    err = error(check_code, phone=PHONE, purpose="signup", code=code)
    assert err.code == "code_expired" and "已过期" in str(err.message) and err.field == "code"


def test_wrong_codes_count_and_then_even_the_right_code_is_refused(clock):
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
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
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    code = last_code(PHONE)
    check_code(phone=PHONE, purpose="signup", code=code)
    assert error(check_code, phone=PHONE, purpose="signup", code=code).code == "code_used"


def test_code_for_one_purpose_does_not_work_for_the_other(clock):
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    assert error(check_code, phone=PHONE, purpose="login", code=last_code(PHONE)).code == "code_missing"


def test_only_the_latest_code_counts(clock):
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    first = last_code(PHONE)
    clock.shift(61)
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    second = last_code(PHONE)
    if first != second:
        assert error(check_code, phone=PHONE, purpose="signup", code=first).code == "code_wrong"
    check_code(phone=PHONE, purpose="signup", code=second)


def test_malformed_code_does_not_spend_an_attempt(clock):
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    assert error(check_code, phone=PHONE, purpose="signup", code="12a").field == "code"
    assert SmsCode.objects.get().attempts == 0


def test_login_code_to_unknown_phone_answers_alike_but_sends_nothing(clock):
    send_login_code(phone=PHONE, purpose="login", client="192.0.2.1")
    assert DevSmsMessage.objects.count() == 0
    assert SmsCode.objects.count() == 1  # so the resend limit is the same as for a real account
    make_resident_account(id_number=valid_id(), phone=PHONE)
    clock.shift(61)
    send_login_code(phone=PHONE, purpose="login", client="192.0.2.1")
    assert DevSmsMessage.objects.count() == 1


def test_bad_phone_or_purpose(clock):
    assert error(send_login_code, phone="12345", purpose="signup", client="192.0.2.1").field == "phone"
    assert error(send_login_code, phone=PHONE, purpose="reset", client="192.0.2.1").field == "purpose"
    assert SmsCode.objects.count() == 0


@override_settings(SMS_BACKEND="gongzhi.accounts.sms.FailingSmsBackend")
def test_provider_failure_leaves_no_code_so_the_person_may_retry(clock):
    err = error(send_login_code, phone=PHONE, purpose="signup", client="192.0.2.1")
    assert isinstance(err, ServiceUnavailable) and err.status == 503
    assert SmsCode.objects.count() == 0


def test_dev_page_data_is_refused_when_the_page_is_off(clock):
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    with override_settings(SHOW_DEV_SMS_PAGE=False), pytest.raises(NotFound):
        recent_dev_messages()


def test_old_dev_messages_are_pruned(clock):
    services.get_sms_backend().send(PHONE, "old")
    clock.shift(datetime.timedelta(days=1, seconds=1))
    services.get_sms_backend().send(PHONE, "new")
    assert [m["message"] for m in recent_dev_messages()] == ["new"]


def _numbers(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


def test_one_address_gets_a_limited_number_of_codes(clock, settings):
    settings.SMS_CLIENT_LIMIT = (5, 3600)
    for phone in _numbers("1391234", 5):
        send_login_code(phone=phone, purpose="signup", client="192.0.2.1")
    err = error(send_login_code, phone="13700000000", purpose="signup", client="192.0.2.1")
    assert err.status == 429 and err.retry_after == 3600 and err.field == "phone"
    assert DevSmsMessage.objects.count() == 5
    send_login_code(phone="13700000000", purpose="signup", client="192.0.2.2")  # another address is not held
    clock.shift(3600)
    send_login_code(phone="13700000001", purpose="signup", client="192.0.2.1")


def test_a_number_range_is_limited_whoever_asks(clock, settings, caplog):
    settings.SMS_PREFIX_LIMIT = (3, 3600)
    for i, phone in enumerate(_numbers("1391234", 3)):
        send_login_code(phone=phone, purpose="signup", client=f"192.0.2.{i}")
    with caplog.at_level(logging.WARNING):
        err = error(send_login_code, phone="13912340099", purpose="signup", client="192.0.2.50")
    assert err.status == 429 and "短信发送繁忙" in str(err.message)
    assert "prefix exceeded" in caplog.text and "1391234" not in caplog.text
    send_login_code(phone="13812340000", purpose="signup", client="192.0.2.51")  # another range goes through
    assert services.sms_over_limit()


def test_the_sites_hourly_budget_stops_sms_pumping(clock, settings):
    """30 random numbers from 30 addresses: only the budget's worth of codes go out."""
    settings.SMS_HOURLY_BUDGET = 10
    import random

    rng = random.Random(7)
    answers = []
    for i in range(30):
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        try:
            send_login_code(phone=phone, purpose="signup", client=f"198.51.100.{i}")
            answers.append(204)
        except RateLimited as err:
            answers.append(err.status)
    assert answers.count(204) == 10 and DevSmsMessage.objects.count() == 10
    assert services.sms_over_limit()
    clock.shift(3600)
    assert not services.sms_over_limit()
    send_login_code(phone="13912345678", purpose="signup", client="198.51.100.200")


def test_limits_answer_alike_for_phones_with_and_without_an_account(clock, settings):
    settings.SMS_PREFIX_LIMIT = (1, 3600)
    make_resident_account(id_number=valid_id(), phone="13912340000")
    send_login_code(phone="13912340000", purpose="login", client="192.0.2.1")
    known = error(send_login_code, phone="13912340001", purpose="login", client="192.0.2.2")
    settings.SMS_PREFIX_LIMIT = (1, 3600)
    send_login_code(phone="13812340000", purpose="login", client="192.0.2.3")  # nobody's phone
    unknown = error(send_login_code, phone="13812340001", purpose="login", client="192.0.2.4")
    assert (known.status, str(known.message)) == (unknown.status, str(unknown.message))
