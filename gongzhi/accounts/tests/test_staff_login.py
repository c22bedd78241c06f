import datetime

import pyotp
import pytest
import time_machine
from django.db import connection

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


def refused(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        staff_login(**kwargs)
    return exc.value


def test_right_password_logs_in_and_resets_the_counter(tree, make_staff):
    user = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    assert refused(username="gw", password="nope").code == "invalid_credentials"
    assert User.objects.get(pk=user.pk).failed_login_count == 1
    assert staff_login(username="gw", password=PASSWORD) == user
    assert User.objects.get(pk=user.pk).failed_login_count == 0


def test_unknown_username_answers_like_a_wrong_password(tree, make_staff):
    make_staff("gw", tree["grid"], Role.GRID_WORKER)
    unknown, wrong = refused(username="ghost", password=PASSWORD), refused(username="gw", password="x")
    assert str(unknown.message) == str(wrong.message) == "用户名或密码错误。"
    assert unknown.code == wrong.code


def test_five_failures_lock_for_fifteen_minutes_even_with_the_right_password(tree, make_staff, clock):
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    for _ in range(4):
        assert refused(username="disp", password="wrong").code == "invalid_credentials"
    err = refused(username="disp", password="wrong")
    assert err.code == "locked" and "15分钟" in str(err.message)
    clock.shift(datetime.timedelta(minutes=5))
    err = refused(username="disp", password=PASSWORD)
    assert err.code == "locked" and "10分钟" in str(err.message)
    clock.shift(datetime.timedelta(minutes=10))
    assert staff_login(username="disp", password=PASSWORD) == user
    fresh = User.objects.get(pk=user.pk)
    assert fresh.locked_until is None and fresh.failed_login_count == 0


def test_counter_is_incremented_in_the_database_not_from_a_stale_copy(tree, make_staff, clock):
    """Two workers that read the row before either wrote must still count two failures."""
    user = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    with connection.cursor() as cursor:  # another process counted 3 failures since we last looked
        cursor.execute("UPDATE accounts_user SET failed_login_count = 3 WHERE id = %s", [user.pk])
    refused(username="gw", password="wrong")
    assert refused(username="gw", password="wrong").code == "locked"


def test_residents_cannot_use_the_password_form(tree):
    user = User.objects.create_user(username="res", password=PASSWORD, kind=User.Kind.RESIDENT)
    for _ in range(6):
        assert refused(username="res", password=PASSWORD).code == "invalid_credentials"
    assert User.objects.get(pk=user.pk).failed_login_count == 0  # nobody can lock a resident out this way


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
    assert User.objects.get(pk=user.pk).failed_login_count == 0
    assert staff_login(username="disp", password=PASSWORD, totp_code=totp.now()) == user


def test_wrong_or_replayed_totp_is_refused_and_counts_as_a_failure(dispatcher_with_totp, clock):
    user, totp = dispatcher_with_totp
    code = totp.now()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert refused(username="disp", password=PASSWORD, totp_code=wrong).code == "totp_invalid"
    assert User.objects.get(pk=user.pk).failed_login_count == 1
    staff_login(username="disp", password=PASSWORD, totp_code=code)
    assert refused(username="disp", password=PASSWORD, totp_code=code).code == "totp_invalid"


def test_totp_from_the_neighbouring_step_is_accepted_but_not_two_steps_away(dispatcher_with_totp, clock):
    user, totp = dispatcher_with_totp
    clock.move_to(T0 + datetime.timedelta(seconds=90))
    two_back = totp.at(T0 + datetime.timedelta(seconds=30))
    assert refused(username="disp", password=PASSWORD, totp_code=two_back).code == "totp_invalid"
    one_ahead = totp.at(T0 + datetime.timedelta(seconds=120))
    assert staff_login(username="disp", password=PASSWORD, totp_code=one_ahead) == user


def test_grid_worker_needs_no_totp_and_cannot_enrol(tree, make_staff):
    user = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    user.totp_enabled = True  # even if set by hand, field posts are not asked for it
    user.save()
    assert staff_login(username="gw", password=PASSWORD) == user
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
    assert staff_login(username="disp", password=PASSWORD) == user


def test_system_admin_can_lift_a_lock(tree, make_staff, clock):
    user = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    for _ in range(5):
        refused(username="gw", password="wrong")
    with pytest.raises(Forbidden):
        unlock_account(actor=user, user=user)
    unlock_account(actor=make_staff("root", tree["city"], Role.SYSTEM_ADMIN), user=user)
    assert staff_login(username="gw", password=PASSWORD) == user
