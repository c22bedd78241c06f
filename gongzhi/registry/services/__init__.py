"""Registry writes. Resident sign-up lives here because it matches the new account to the population
register (一标三实): a matching record links the account and places the person in their grid."""

from __future__ import annotations

import logging
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies
from gongzhi.accounts.models import AccountEvent, Membership, Role, SmsCode, User
from gongzhi.accounts.services import check_code, send_code
from gongzhi.accounts.sms import get_sms_backend
from gongzhi.core import throttle
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.pii import keyed_hash, mask_phone
from gongzhi.core.text import clean_text
from gongzhi.core.validators import normalize_id_number, normalize_phone
from gongzhi.registry.models import Resident

logger = logging.getLogger(__name__)

# Han characters (basic block, extension A and the supplementary planes, for rare characters in names)
# and the middle dot of transcribed minority names such as 阿依古丽·买买提.
_NAME_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]+(·[\u3400-\u4dbf\u4e00-\u9fff"
                      r"\U00020000-\U0003134f]+)*$")
# Look-alike dots people type on phone keyboards.
_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "‧": "·", "∙": "·", ".": "·"})


def normalize_name(value: str) -> str:
    name = (value or "").strip().replace(" ", "").replace("\u3000", "").translate(_DOTS)
    if not name:
        raise DomainError(_("请填写姓名。"), field="name")
    if not 2 <= len(name) <= 20:
        raise DomainError(_("姓名应为2到20个字。"), field="name")
    if not _NAME_RE.match(name):
        raise DomainError(_("姓名只能包含汉字和间隔号“·”。"), field="name")
    return name


def _already_registered() -> Conflict:
    return Conflict(_("该身份证号已用此手机号注册，请直接登录。"), code="already_registered", field="id_number")


def _verified_elsewhere() -> Conflict:
    return Conflict(_("该身份证号已有实名账号。如果更换了手机号，请带身份证到村(社区)办理换绑。"),
                    code="already_verified", field="id_number")


def register_resident(*, name: str, id_number: str, phone: str, code: str, client: str) -> User:
    """Create (or confirm) a resident account once the SMS code proves the phone.

    Nothing before the code is checked depends on the population register, so the form cannot be used to
    test names against ID numbers. After it:
    - the register's record for the ID number is linked (the account is verified, and a household head's
      account a verified head) only when the proved phone is the record's phone and the name matches;
    - otherwise the account is unverified: it may report and follow its own cases and sees no household
      data, until a village administrator verifies the person in person (`verify_in_person`);
    - an account staff opened for this person (代为登记) is taken over when the phone is the one they gave,
      or the register's;
    - an ID number with a verified account on another phone is refused (409): a new phone is bound by the
      village (`rebind_phone`), not by a second account.
    Attempts are limited per client address and for the whole site. Every refusal raises DomainError with
    `field` set and writes nothing but the limit counters (a wrong code counts an attempt against it).
    """
    name = normalize_name(name)
    id_number = normalize_id_number(id_number)
    phone = normalize_phone(phone)
    throttle.enforce(f"signup:client:{client}", settings.SIGNUP_CLIENT_LIMIT)
    throttle.enforce("signup:all", settings.SIGNUP_GLOBAL_LIMIT)
    check_code(phone=phone, purpose=SmsCode.Purpose.SIGNUP, code=code)
    id_hash, phone_hash = keyed_hash(id_number), keyed_hash(phone)
    try:
        return _register(name=name, id_number=id_number, id_hash=id_hash, phone=phone, phone_hash=phone_hash)
    except IntegrityError:  # the same person submitting twice at once
        raise _already_registered() from None


@transaction.atomic
def _register(*, name: str, id_number: str, id_hash: str, phone: str, phone_hash: str) -> User:
    same = User.objects.filter(id_number_hash=id_hash, phone_hash=phone_hash).first()
    if same is not None and same.confirmed_at is not None:
        raise _already_registered()
    record = Resident.objects.select_related("household").filter(id_number_hash=id_hash).first()
    if record is not None and record.user_id is not None and record.user_id != getattr(same, "pk", None):
        raise _verified_elsewhere()
    proved = record is not None and record.phone_hash == phone_hash and _same_name(record.name, name)
    account = same
    if account is None and proved:  # the register's phone: whatever staff opened for this person is theirs
        account = User.objects.filter(id_number_hash=id_hash, kind=User.Kind.RESIDENT,
                                      confirmed_at__isnull=True).first()
    now = timezone.now()
    if account is None:
        account = User(username=f"r-{secrets.token_hex(12)}", kind=User.Kind.RESIDENT, id_number=id_number)
        account.set_unusable_password()
    else:
        AccountEvent.objects.create(user=account, kind=AccountEvent.Kind.CLAIMED)
    account.real_name, account.phone, account.confirmed_at = name, phone, now
    account.save()
    if proved:
        assert record is not None
        _link(account, record)
        AccountEvent.objects.create(user=account, kind=AccountEvent.Kind.VERIFIED_BY_PHONE)
    return account


def _link(account: User, record: Resident) -> None:
    """Verify `account` as the person of `record`: link it and give it a resident post in their grid."""
    # Conditional: a record linked meanwhile by another sign-up is not taken over.
    if Resident.objects.filter(pk=record.pk, user__isnull=True).update(user=account) != 1:
        raise IntegrityError("registry record already linked")
    record.user = account
    Membership.objects.get_or_create(user=account, unit_id=record.grid_id, role=Role.RESIDENT)


# ---------------------------------------------------------------------------------------------------------
# 代为登记: a command-centre staff member records a matter for a resident who came in or phoned


def _same_name(stored: str, name: str) -> bool:
    return stored.replace(" ", "").replace("\u3000", "").translate(_DOTS) == name


def _name_mismatch() -> DomainError:
    return DomainError(_("姓名与该身份证号登记的姓名不一致，请核对后重新填写。"), code="name_mismatch",
                       field="name")


def _existing_for_report(account: User, name: str) -> User:
    if account.kind != User.Kind.RESIDENT:
        raise DomainError(_("该身份证号属于工作人员账号，不能代为登记。"), code="not_resident", field="id_number")
    if not _same_name(account.real_name, name):
        raise _name_mismatch()
    return account


def resident_for_report(*, actor: User, name: str, id_number: str, phone: str) -> User:
    """The resident account a command-centre staff member reports a matter for, found or opened.

    The person's verified account if there is one (its name must match), else an account for this ID
    number and phone, else a new one on that phone, which nobody can sign in to until the resident signs up
    on that phone themselves (or on the register's phone, which also verifies them): staff choosing the
    phone proves nothing about who holds it. A registry record for the ID number must carry the same name.
    Refusals raise Forbidden (not command-centre staff) or DomainError with `field` set, and write nothing.
    """
    if not policies.can_report_on_behalf(actor):
        raise Forbidden(_("只有指挥中心工作人员可以代为登记。"))
    name = normalize_name(name)
    id_number = normalize_id_number(id_number)
    phone = normalize_phone(phone)
    id_hash, phone_hash = keyed_hash(id_number), keyed_hash(phone)
    record = Resident.objects.select_related("household", "user").filter(id_number_hash=id_hash).first()
    if record is not None and not _same_name(record.name, name):
        raise _name_mismatch()
    if record is not None and record.user is not None:
        return record.user
    account = User.objects.filter(id_number_hash=id_hash, phone_hash=phone_hash).first()
    if account is not None:
        return _existing_for_report(account, name)
    if User.objects.filter(id_number_hash=id_hash).exclude(kind=User.Kind.RESIDENT).exists():
        raise DomainError(_("该身份证号属于工作人员账号，不能代为登记。"), code="not_resident", field="id_number")
    try:
        return _open_for_report(name=name, id_number=id_number, phone=phone)
    except IntegrityError:  # the same person entered twice at once: the first account wins
        account = User.objects.filter(id_number_hash=id_hash, phone_hash=phone_hash).first()
        if account is None:
            raise
        return _existing_for_report(account, name)


@transaction.atomic
def _open_for_report(*, name: str, id_number: str, phone: str) -> User:
    """A resident account nobody can sign in to yet (no `confirmed_at`)."""
    account = User(username=f"r-{secrets.token_hex(12)}", kind=User.Kind.RESIDENT, real_name=name,
                   id_number=id_number, phone=phone)
    account.set_unusable_password()
    account.save()
    return account


# ---------------------------------------------------------------------------------------------------------
# The village confirms who residents are: in person, and a new phone for a verified resident


def _reason(reason: str) -> str:
    return clean_text(reason, field="reason", max_length=200,
                      required_message=_("请填写核验方式，如：查验身份证原件。"),
                      too_long_message=_("事由不能超过200个字。"))


@transaction.atomic
def verify_in_person(*, actor: User, account: User, reason: str) -> Resident:
    """当面核验: a village administrator saw the person's ID card and links `account` to the register's
    record for its ID number; logged with the reason. NotFound unless the record lies where `actor` may
    verify residents."""
    record = (Resident.objects.select_related("grid")
              .filter(id_number_hash=account.id_number_hash).first()) if account.id_number_hash else None
    if record is None or not policies.can_manage_identity(actor, record.grid.path):
        raise NotFound()
    if account.kind != User.Kind.RESIDENT or account.confirmed_at is None or not account.is_active:
        raise NotFound()
    reason = _reason(reason)
    linked = Conflict(_("该居民的户籍信息已关联其他账号。如需更换手机号，请使用换绑。"), code="record_linked")
    if record.user_id is not None:
        raise linked
    try:
        with transaction.atomic():
            _link(account, record)
    except IntegrityError:
        raise linked from None
    account.real_name = record.name
    account.save(update_fields=["real_name"])
    AccountEvent.objects.create(user=account, kind=AccountEvent.Kind.VERIFIED_IN_PERSON, actor=actor,
                                reason=reason)
    return record


def _rebind_target(actor: User, id_number: str, phone: str) -> tuple[Resident, str]:
    """The register's record of the verified resident whose phone `actor` may re-bind to `phone`, and the
    normalised new phone; NotFound, DomainError or Conflict (with `field`) otherwise."""
    id_number = normalize_id_number(id_number)
    record = (Resident.objects.select_related("grid", "user")
              .filter(id_number_hash=keyed_hash(id_number)).first())
    if record is None or record.user is None or not policies.can_manage_identity(actor, record.grid.path):
        raise NotFound(_("未找到该身份证号的实名账号，或不在您的管辖范围内。"), field="id_number")
    phone = normalize_phone(phone)
    account = record.user
    if account.phone and account.phone.reveal() == phone:
        raise DomainError(_("新手机号与原手机号相同。"), field="phone")
    if User.objects.filter(id_number_hash=account.id_number_hash, phone_hash=keyed_hash(phone)).exists():
        raise Conflict(_("该手机号已注册了此身份证号的另一个账号，请改为当面核验那个账号。"), code="duplicate",
                       field="phone")
    return record, phone


def send_rebind_code(*, actor: User, id_number: str, phone: str, client: str) -> str:
    """Text a code to the new phone of a 换绑手机号, so the resident at the desk proves they hold it (and a
    mistyped number is caught before anything changes). Returns the number, masked."""
    _record, phone = _rebind_target(actor, id_number, phone)
    send_code(phone=phone, purpose=SmsCode.Purpose.REBIND, client=client)
    return mask_phone(phone)


def rebind_phone(*, actor: User, id_number: str, phone: str, reason: str, code: str) -> User:
    """换绑手机号: a village administrator binds a verified resident's account (and the register's record) to
    a new phone, e.g. after a lost phone, once the code texted to it (`send_rebind_code`) is given back.
    Logged (numbers masked); the old number is told by SMS; every session of the account ends. NotFound
    unless the person is verified and lives where `actor` may act."""
    reason = _reason(reason)
    record, phone = _rebind_target(actor, id_number, phone)
    check_code(phone=phone, purpose=SmsCode.Purpose.REBIND, code=code)  # outside the transaction: a wrong
    with transaction.atomic():                                           # code's attempt stays counted
        return _rebind(actor, record, phone, reason)


def _rebind(actor: User, record: Resident, phone: str, reason: str) -> User:
    account = record.user
    assert account is not None  # _rebind_target returns verified people only
    old = account.phone.reveal() if account.phone else ""
    account.phone = phone
    account.set_unusable_password()  # a new session hash: whoever holds the old phone is signed out
    account.save(update_fields=["phone", "phone_hash", "password"])
    record.phone = phone
    record.save(update_fields=["phone", "phone_hash", "updated_at"])
    AccountEvent.objects.create(user=account, kind=AccountEvent.Kind.PHONE_REBOUND, actor=actor, reason=reason,
                                detail=f"{mask_phone(old)} → {mask_phone(phone)}" if old else mask_phone(phone))
    if old:
        message = _("【共治】您在共治平台的账号已由村(社区)改绑到手机号%(phone)s。如非本人办理，请尽快联系村委会。") % {
            "phone": mask_phone(phone)}
        transaction.on_commit(lambda: _text_quietly(old, message))
    return account


def _text_quietly(phone: str, message: str) -> None:
    try:
        get_sms_backend().send(phone, message)
    except Exception as exc:  # the binding is done; a lost notice must not turn the answer into a 500
        logger.warning("SMS provider failed for a phone re-binding notice: %s", type(exc).__name__)
