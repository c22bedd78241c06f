"""Account writes: SMS codes, resident and staff login, login delays, TOTP, audited unmasking of personal data.

Failure counters (wrong passwords, wrong codes) and abuse limits commit on their own before the refusal
is raised (see core.throttle; a wrong SMS code is a single UPDATE): wrapping them in the caller's
transaction would roll the count back together with the error, and no limit would ever trigger. The
functions that count are therefore not `@transaction.atomic` as a whole, and must not be called inside an
outer transaction that rolls back.
"""

from __future__ import annotations

import datetime
import hmac
import logging
import math
import re
import secrets
import time

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies
from gongzhi.accounts.models import COMMAND_ROLES, Role, SmsCode, User
from gongzhi.accounts.sms import get_sms_backend
from gongzhi.core import throttle
from gongzhi.core.errors import DomainError, Forbidden, NotFound, RateLimited, ServiceUnavailable
from gongzhi.core.models import PiiAccessLog
from gongzhi.core.pii import MASKERS, SecretValue, decrypt, encrypt, keyed_hash
from gongzhi.core.text import clean_text
from gongzhi.core.validators import normalize_id_number, normalize_phone

logger = logging.getLogger(__name__)

_CODE_RE = re.compile(r"^\d{6}$")
# Accept the previous and the next 30-second step as well, for phones whose clocks drift.
TOTP_VALID_WINDOW = 1
TOTP_ISSUER = "共治 Gongzhi"


# ---------------------------------------------------------------------------------------------------------
# SMS codes


def _sms_code_hash(phone_hash: str, code: str) -> str:
    # Keyed, so a leaked table cannot be brute-forced over the million possible codes.
    return keyed_hash(f"sms-code:{phone_hash}:{code}")


def _normalize_purpose(purpose: str) -> str:
    if purpose not in SmsCode.Purpose.values:
        raise DomainError(_("验证码用途无效。"), field="purpose")
    return purpose


def send_login_code(*, phone: str, purpose: str, client: str) -> None:
    """A sign-up or login code for `phone`, asked for by whoever holds it (`send_code`)."""
    if purpose not in (SmsCode.Purpose.SIGNUP, SmsCode.Purpose.LOGIN):
        raise DomainError(_("验证码用途无效。"), field="purpose")
    send_code(phone=phone, purpose=purpose, client=client)


def send_code(*, phone: str, purpose: str, client: str) -> None:
    """Create a 6-digit code for `phone` and text it.

    Limits, cheapest refusal first: per client address, per phone (resend interval, daily count), per
    number prefix, and the site's hourly budget; going over either of the last two is logged (it means
    someone is pumping SMS) and shows on /healthz. For a login code to a phone without a resident account
    the answer is the same but nothing is sent, so the form cannot be used to find out who has an account.
    """
    purpose = _normalize_purpose(purpose)
    phone = normalize_phone(phone)
    throttle.enforce(f"sms:client:{client}", settings.SMS_CLIENT_LIMIT, field="phone")
    phone_hash = keyed_hash(phone)
    now = timezone.now()

    last = SmsCode.objects.filter(phone_hash=phone_hash).order_by("-created_at", "-id").first()
    if last is not None:
        wait = settings.SMS_CODE_RESEND_SECONDS - (now - last.created_at).total_seconds()
        if wait > 0:
            raise RateLimited(_("请%(n)d秒后再获取验证码。") % {"n": math.ceil(wait)}, field="phone",
                              retry_after=wait)
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    daily_limit = settings.SMS_CODE_DAILY_LIMIT
    if SmsCode.objects.filter(phone_hash=phone_hash, created_at__gte=day_start).count() >= daily_limit:
        raise RateLimited(_("今天获取验证码的次数已达上限，请明天再试。"), field="phone")
    # Counted whether or not the code is delivered, so the answer never depends on who has an account.
    for key, limit, what in ((f"sms:prefix:{phone[:7]}", settings.SMS_PREFIX_LIMIT, "prefix"),
                             ("sms:budget", (settings.SMS_HOURLY_BUDGET, 3600), "hourly budget")):
        wait = throttle.hit(key, limit=limit[0], window=limit[1])
        if wait:
            logger.warning("SMS %s exceeded; refusing codes for %d s", what, math.ceil(wait))
            raise RateLimited(_("短信发送繁忙，请%(wait)s后再试。") % {"wait": throttle.wait_text(wait)}, field="phone",
                              retry_after=wait)

    code = f"{secrets.randbelow(10**6):06d}"
    deliver = purpose != SmsCode.Purpose.LOGIN or User.objects.filter(
        phone_hash=phone_hash, kind=User.Kind.RESIDENT, is_active=True, confirmed_at__isnull=False
    ).exists()
    # The row is written even when nothing is sent, so the resend limit behaves the same either way.
    record = SmsCode.objects.create(
        phone_hash=phone_hash, purpose=purpose, code_hash=_sms_code_hash(phone_hash, code), created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    if not deliver:
        return
    minutes = max(1, settings.SMS_CODE_TTL_SECONDS // 60)
    message = _("【共治】您的验证码是%(code)s，%(m)d分钟内有效。请勿告诉他人。") % {
        "code": code, "m": minutes}
    try:
        get_sms_backend().send(phone, message)
    except Exception as exc:  # SmsSendError, or whatever else a provider's adaptor raises
        # Sent outside any transaction (a slow provider must not hold the database); undo the row by hand
        # so the person may ask again at once. Only the error's type is logged: a provider's error may quote
        # the text it was given, code and all. `from None`: nor does an error report show it.
        record.delete()
        logger.warning("SMS provider failed for a %s code (%s)", purpose, type(exc).__name__)
        raise ServiceUnavailable(_("短信发送失败，请稍后重试。"), field="phone") from None


def sms_over_limit() -> bool:
    """Whether a number prefix or the site's hourly budget refused codes in the current hour (/healthz)."""
    return throttle.over_limit("sms:prefix:") or throttle.over_limit("sms:budget")


def check_code(*, phone: str, purpose: str, code: str) -> None:
    """Accept the latest code for this phone and purpose once, or raise DomainError(field="code").

    A wrong code counts against that code's attempts (committed even though an error follows); a code is
    spent on success and refused ever after.
    """
    purpose = _normalize_purpose(purpose)
    phone_hash = keyed_hash(normalize_phone(phone))
    code = (code or "").strip()
    if not _CODE_RE.match(code):
        raise DomainError(_("请输入6位数字验证码。"), code="code_invalid", field="code")
    now = timezone.now()
    record = (SmsCode.objects.filter(phone_hash=phone_hash, purpose=purpose)
              .order_by("-created_at", "-id").first())
    if record is None:
        raise DomainError(_("请先获取验证码。"), code="code_missing", field="code")
    if record.used_at is not None:
        raise DomainError(_("验证码已使用，请重新获取。"), code="code_used", field="code")
    if record.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
        raise DomainError(_("错误次数过多，请重新获取。"), code="code_attempts", field="code")
    if record.expires_at <= now:
        raise DomainError(_("验证码已过期，请重新获取。"), code="code_expired", field="code")
    live = SmsCode.objects.filter(pk=record.pk, used_at__isnull=True,
                                  attempts__lt=settings.SMS_CODE_MAX_ATTEMPTS, expires_at__gt=now)
    if not hmac.compare_digest(record.code_hash, _sms_code_hash(phone_hash, code)):
        live.update(attempts=F("attempts") + 1)
        left = settings.SMS_CODE_MAX_ATTEMPTS - SmsCode.objects.get(pk=record.pk).attempts
        if left <= 0:
            raise DomainError(_("错误次数过多，请重新获取。"), code="code_attempts", field="code")
        raise DomainError(_("验证码错误，还可尝试%(n)d次。") % {"n": left}, code="code_wrong", field="code")
    # Conditional update: of two requests racing with the same code only one spends it.
    if live.update(used_at=now) != 1:
        raise DomainError(_("验证码已使用，请重新获取。"), code="code_used", field="code")


# ---------------------------------------------------------------------------------------------------------
# Failed logins: growing delays per (account, client address)


def _failure_key(kind: str, identifier: str, client: str) -> str:
    # The keyed hash, not the name or ID number, goes into the table; its prefix is enough to tell apart.
    return f"login:{kind}:{keyed_hash(identifier)[:32]}:{client}"


def _before_attempt(key: str, client: str) -> None:
    """Refuse (429) an address making too many attempts overall, or one still waiting after failures."""
    throttle.enforce(f"login:client:{client}", settings.LOGIN_CLIENT_LIMIT)
    wait = throttle.blocked_for(key)
    if wait:
        raise throttle.too_many(wait)


def _failed(key: str, error: DomainError) -> DomainError:
    """Count a failure; the error to raise: `error`, or 429 once this failure starts a delay."""
    wait = throttle.record_failure(key, free=settings.LOGIN_FREE_FAILURES, delay=settings.LOGIN_DELAY_SECONDS,
                                   max_delay=settings.LOGIN_DELAY_MAX_SECONDS)
    return throttle.too_many(wait) if wait else error


# ---------------------------------------------------------------------------------------------------------
# Resident login


def resident_login(*, id_number: str, phone: str, code: str, client: str) -> User:
    """ID number + phone + SMS code → the resident account.

    The code is checked first and the account looked up only then, so an unknown ID number, a wrong phone
    and a wrong code are told apart by nothing but the code's own message, which the phone's owner alone
    can act on. Failures count against (ID number, client address), whether or not an account exists.
    """
    id_number = normalize_id_number(id_number)
    phone = normalize_phone(phone)
    key = _failure_key("resident", id_number, client)
    _before_attempt(key, client)
    try:
        check_code(phone=phone, purpose=SmsCode.Purpose.LOGIN, code=code)
    except DomainError as err:
        raise _failed(key, err) from None
    user = User.objects.filter(id_number_hash=keyed_hash(id_number), phone_hash=keyed_hash(phone),
                               kind=User.Kind.RESIDENT).first()
    if user is None or not user.can_sign_in_as_resident:
        raise _failed(key, DomainError(_("身份证号或手机号不正确。"), code="invalid_credentials"))
    throttle.clear(key)
    return user


# ---------------------------------------------------------------------------------------------------------
# Staff login and TOTP


def _totp_step(secret: str, code: str, *, after: int = 0) -> int | None:
    """The time step within the window at which `code` is valid and later than `after`, else None."""
    code = (code or "").strip()
    if not _CODE_RE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time()) // totp.interval
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_totp(user: User, code: str) -> bool:
    step = _totp_step(decrypt(user.totp_secret), code, after=user.totp_last_step)
    # Recording the step conditionally refuses a code replayed within its window, even concurrently.
    return step is not None and User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(
        totp_last_step=step) == 1


def staff_login(*, username: str, password: str, client: str, totp_code: str | None = None) -> User:
    """Username + password (+ TOTP when enabled for a command-centre post) → the staff account.

    Failures count against (user name, client address), for unknown names too. The caller then does
    `django.contrib.auth.login(request, user)`; residents, who have no password, are logged in the same way
    after `resident_login` (the single configured backend is used).
    """
    username = (username or "").strip()
    key = _failure_key("staff", username.lower(), client)
    _before_attempt(key, client)
    user = authenticate(None, username=username, password=password or "")
    if user is None:
        raise _failed(key, DomainError(_("用户名或密码错误。"), code="invalid_credentials"))
    if policies.needs_second_factor(user):
        if not totp_code or not totp_code.strip():
            raise DomainError(_("请输入动态口令。"), code="totp_required", field="totp_code")
        if not _accept_totp(user, totp_code):
            raise _failed(key, DomainError(_("动态口令不正确。"), code="totp_invalid", field="totp_code"))
    throttle.clear(key)
    return user


def _require_command_role(user: User) -> None:
    if not policies.roles_of(user) & COMMAND_ROLES:
        raise Forbidden(_("动态口令仅供指挥中心岗位启用。"))


def begin_totp_enrolment(*, user: User) -> tuple[str, str]:
    """A fresh secret and its otpauth:// URI (for the QR code). Nothing is stored until confirm_totp."""
    _require_command_role(user)
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)
    return secret, uri


@transaction.atomic
def confirm_totp(*, user: User, secret: str, code: str) -> None:
    """Turn TOTP on with `secret`, only if `code` shows the person's app holds it."""
    _require_command_role(user)
    if not re.fullmatch(r"[A-Z2-7]{32}", secret or ""):
        raise DomainError(_("动态口令密钥无效，请重新开始设置。"), field="secret")
    step = _totp_step(secret, code)
    if step is None:
        raise DomainError(_("动态口令不正确。"), code="totp_invalid", field="code")
    user.totp_secret, user.totp_enabled, user.totp_last_step = encrypt(secret), True, step
    user.save(update_fields=["totp_secret", "totp_enabled", "totp_last_step"])


def _require_account_admin(actor: User, user: User) -> None:
    """Only the account's owner or a system administrator manages its login settings."""
    if actor.pk == user.pk or actor.is_superuser or Role.SYSTEM_ADMIN in policies.roles_of(actor):
        return
    if policies.place_in_scope(actor, user) is None:
        raise NotFound()
    raise Forbidden()


@transaction.atomic
def disable_totp(*, actor: User, user: User) -> None:
    _require_account_admin(actor, user)
    user.totp_secret, user.totp_enabled, user.totp_last_step = "", False, 0
    user.save(update_fields=["totp_secret", "totp_enabled", "totp_last_step"])


@transaction.atomic
def unlock_account(*, actor: User, user: User) -> None:
    """Lift the login delays on an account from every address (for a person who proved who they are by
    phone or in person)."""
    if actor.pk == user.pk:
        raise Forbidden()
    _require_account_admin(actor, user)
    throttle.clear_prefix(f"login:staff:{keyed_hash(user.username.lower())[:32]}:")
    if user.id_number:
        throttle.clear_prefix(f"login:resident:{keyed_hash(user.id_number.reveal())[:32]}:")


# ---------------------------------------------------------------------------------------------------------
# Unmasking personal data


@transaction.atomic
def reveal_pii(*, actor: User, subject: models.Model, field: str, reason: str) -> str:
    """The plaintext ID or phone number of `subject`, logged with who asked and why."""
    if field not in MASKERS:
        raise DomainError(_("只能查看身份证号或手机号。"), field="field")
    path = policies.place_in_scope(actor, subject)
    if path is None:
        raise NotFound()
    if not policies.can_unmask_pii(actor, path):
        raise Forbidden(_("您没有查看完整个人信息的权限。"))
    return reveal_logged(actor=actor, subject=subject, field=field, reason=reason)


def reveal_logged(*, actor: User, subject: models.Model, field: str, reason: str) -> str:
    """The plaintext number, with the access log row every reveal writes (who, whom, which field, why).
    The caller has checked that `actor` may see it: `reveal_pii` by scope and permission, the case
    services for a case's reporter."""
    reason = clean_text(reason, field="reason", max_length=200, required_message=_("请填写查看事由。"),
                        too_long_message=_("查看事由不能超过200个字。"))
    value: SecretValue | None = getattr(subject, field)
    if value is None:
        raise DomainError(_("该项信息未登记。"), field="field")
    PiiAccessLog.objects.create(actor=actor, subject_type=subject._meta.label_lower, subject_id=subject.pk,
                                field=field, reason=reason)
    return value.reveal()
