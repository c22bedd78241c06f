import datetime

import pyotp
import pytest
import time_machine

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.services import (
    begin_totp_enrolment,
    confirm_totp,
    disable_totp,
    staff_login,
    unlock_account,
)
from gongzhi.core.errors import DomainError, Forbidden, NotFound

pytestmark = pytest.mark.django_db

PASSWORD = "Gongzhi#2026"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


CLIENT = "203.0.113.7"


def login(**kwargs) -> User:
    kwargs.setdefault("client", CLIENT)
    return staff_login(**kwargs)


def refused(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        login(**kwargs)
    return exc.value


def test_right_password_logs_in_and_forgets_the_failures(tree, make_staff):
    user = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    for _ in range(4):
        assert refused(username="gw", password="nope").code == "invalid_credentials"
    assert login(username="gw", password=PASSWORD) == user
    for _ in range(4):  # counting starts again from nothing
        assert refused(username="gw", password="nope").code == "invalid_credentials"


def test_unknown_username_answers_like_a_wrong_password(tree, make_staff):
    make_staff("gw", tree["grid"], Role.GRID_WORKER)
    unknown, wrong = refused(username="ghost", password=PASSWORD), refused(username="gw", password="x")
    assert str(unknown.message) == str(wrong.message) == "用户名或密码错误。"
    assert unknown.code == wrong.code


def test_failures_delay_that_address_with_growing_waits_even_with_the_right_password(tree, make_staff, clock):
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    for _ in range(4):
        assert refused(username="disp", password="wrong").code == "invalid_credentials"
    err = refused(username="disp", password="wrong")  # the fifth: 30 s
    assert err.status == 429 and err.retry_after == 30 and "30秒" in str(err.message)
    clock.shift(10)
    err = refused(username="disp", password=PASSWORD)
    assert err.status == 429 and err.retry_after == 20
    clock.shift(20)
    assert refused(username="disp", password="wrong").retry_after == 60  # the sixth: twice as long
    clock.shift(60)
    assert refused(username="disp", password="wrong").retry_after == 120
    clock.shift(120)
    assert login(username="disp", password=PASSWORD) == user


def test_the_delay_never_exceeds_the_ceiling(tree, make_staff, clock, settings):
    settings.LOGIN_DELAY_MAX_SECONDS = 100
    make_staff("disp", tree["town"], Role.DISPATCHER)
    waits = []
    for _ in range(12):
        err = refused(username="disp", password="wrong")
        waits.append(getattr(err, "retry_after", 0))
        clock.shift(waits[-1])
    assert waits == [0, 0, 0, 0, 30, 60, 100, 100, 100, 100, 100, 100]


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(tree, make_staff, clock):
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    for _ in range(20):
        refused(username="disp", password="wrong", client="198.51.100.9")
    assert refused(username="disp", password="wrong", client="198.51.100.9").status == 429
    assert login(username="disp", password=PASSWORD, client=CLIENT) == user


def test_known_and_unknown_accounts_are_delayed_alike(tree, make_staff, clock):
    make_staff("disp", tree["town"], Role.DISPATCHER)
    for name in ("disp", "ghost"):
        answers = [refused(username=name, password="wrong") for _ in range(6)]
        assert [a.status for a in answers] == [422, 422, 422, 422, 429, 429]
        assert [a.retry_after for a in answers[4:]] == [30, 30]


def test_one_address_trying_many_accounts_is_limited(tree, make_staff, settings):
    settings.LOGIN_CLIENT_LIMIT = (10, 600)
    answers = [refused(username=f"user{i}", password="wrong").status for i in range(12)]
    assert answers == [422] * 10 + [429] * 2


def test_counts_are_shared_through_the_database(tree, make_staff, clock):
    """Another server process counted failures: the count is in the table, not in this process."""
    from gongzhi.core.models import Throttle

    make_staff("gw", tree["grid"], Role.GRID_WORKER)
    refused(username="gw", password="wrong")
    Throttle.objects.filter(bucket__startswith="login:staff:").update(hits=4)
    assert refused(username="gw", password="wrong").status == 429


def test_residents_cannot_use_the_password_form(tree):
    User.objects.create_user(username="res", password=PASSWORD, kind=User.Kind.RESIDENT)
    assert refused(username="res", password=PASSWORD).code == "invalid_credentials"


@pytest.fixture
def dispatcher_with_totp(tree, make_staff, clock):
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    secret, uri = begin_totp_enrolment(user=user)
    assert uri.startswith("otpauth://totp/") and secret in uri
    confirm_totp(user=user, secret=secret, code=pyotp.TOTP(secret).now())
    clock.shift(30)  # the next step: the enrolment code itself is spent
    return user, pyotp.TOTP(secret)


def test_totp_required_for_a_dispatcher_who_enabled_it(dispatcher_with_totp):
    user, totp = dispatcher_with_totp
    err = refused(username="disp", password=PASSWORD)
    assert err.code == "totp_required" and err.field == "totp_code"
    assert login(username="disp", password=PASSWORD, totp_code=totp.now()) == user


def test_wrong_or_replayed_totp_is_refused_and_counts_as_a_failure(dispatcher_with_totp, clock):
    user, totp = dispatcher_with_totp
    code = totp.now()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        assert refused(username="disp", password=PASSWORD, totp_code=wrong).code == "totp_invalid"
    login(username="disp", password=PASSWORD, totp_code=code)
    assert refused(username="disp", password=PASSWORD, totp_code=code).code == "totp_invalid"
    for _ in range(3):
        refused(username="disp", password=PASSWORD, totp_code=wrong)
    assert refused(username="disp", password=PASSWORD, totp_code=wrong).status == 429  # the fifth failure


def test_totp_from_the_neighbouring_step_is_accepted_but_not_two_steps_away(dispatcher_with_totp, clock):
    user, totp = dispatcher_with_totp
    clock.move_to(T0 + datetime.timedelta(seconds=90))
    two_back = totp.at(T0 + datetime.timedelta(seconds=30))
    assert refused(username="disp", password=PASSWORD, totp_code=two_back).code == "totp_invalid"
    one_ahead = totp.at(T0 + datetime.timedelta(seconds=120))
    assert login(username="disp", password=PASSWORD, totp_code=one_ahead) == user


def test_grid_worker_needs_no_totp_and_cannot_enrol(tree, make_staff):
    user = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    user.totp_enabled = True  # even if set by hand, field posts are not asked for it
    user.save()
    assert login(username="gw", password=PASSWORD) == user
    with pytest.raises(Forbidden):
        begin_totp_enrolment(user=user)


def test_confirm_with_a_wrong_code_does_not_enable(tree, make_staff, clock):
    user = make_staff("sup", tree["county"], Role.SUPERVISOR)
    secret, _ = begin_totp_enrolment(user=user)
    code = pyotp.TOTP(secret).now()
    with pytest.raises(DomainError) as exc:
        confirm_totp(user=user, secret=secret, code=f"{(int(code) + 1) % 10**6:06d}")
    assert exc.value.code == "totp_invalid"
    fresh = User.objects.get(pk=user.pk)
    assert not fresh.totp_enabled and fresh.totp_secret == ""


def test_secret_is_stored_encrypted(dispatcher_with_totp):
    user, totp = dispatcher_with_totp
    assert totp.secret not in User.objects.get(pk=user.pk).totp_secret


def test_disable_totp_by_self_or_system_admin_only(dispatcher_with_totp, tree, make_staff):
    user, _ = dispatcher_with_totp
    colleague = make_staff("disp2", tree["town"], Role.DISPATCHER)
    stranger = make_staff("far", tree["other_town"], Role.DISPATCHER)
    with pytest.raises(NotFound):
        disable_totp(actor=stranger, user=user)
    with pytest.raises(Forbidden):
        disable_totp(actor=colleague, user=user)
    assert User.objects.get(pk=user.pk).totp_enabled
    admin = make_staff("root", tree["city"], Role.SYSTEM_ADMIN)
    disable_totp(actor=admin, user=user)
    assert login(username="disp", password=PASSWORD) == user


def test_system_admin_can_lift_the_delays(tree, make_staff, clock):
    user = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    for _ in range(5):
        refused(username="gw", password="wrong")
    assert refused(username="gw", password=PASSWORD).status == 429
    with pytest.raises(Forbidden):
        unlock_account(actor=user, user=user)
    unlock_account(actor=make_staff("root", tree["city"], Role.SYSTEM_ADMIN), user=user)
    assert login(username="gw", password=PASSWORD) == user
