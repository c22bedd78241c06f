"""Registry writes. Resident sign-up lives here because it matches the new account to the population
register (一标三实): a matching record links the account and places the person in their grid."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gongzhi.accounts import policies
from gongzhi.accounts.models import Membership, Role, SmsCode, User
from gongzhi.accounts.services import check_code
from gongzhi.core.errors import Conflict, DomainError, Forbidden
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import normalize_id_number, normalize_phone
from gongzhi.registry.models import Resident

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
    return Conflict(_("该身份证号已注册，请直接登录。"), code="already_registered", field="id_number")


def register_resident(*, name: str, id_number: str, phone: str, code: str) -> User:
    """Create a resident account after the SMS code proves the phone.

    With a registry record for the ID number the account is linked to it (the name must match) and gets a
    resident post in the household's grid; a household head's account is thereby a verified head. Without
    one the account is created unverified: people may register first and be matched later.
    Every refusal raises DomainError with `field` set and writes nothing (a wrong code only counts an
    attempt against that code).
    """
    name = normalize_name(name)
    id_number = normalize_id_number(id_number)
    phone = normalize_phone(phone)
    id_hash = keyed_hash(id_number)
    if User.objects.filter(id_number_hash=id_hash).exists():
        raise _already_registered()
    record = Resident.objects.select_related("household").filter(id_number_hash=id_hash).first()
    if record is not None:
        if record.name.replace(" ", "") != name:
            raise DomainError(_("姓名与户籍登记信息不一致，请核对后重新填写，或联系网格员。"),
                              code="name_mismatch", field="name")
        if record.user_id is not None:
            raise _already_registered()
    # Checked last, so a mistake elsewhere in the form does not spend the code.
    check_code(phone=phone, purpose=SmsCode.Purpose.SIGNUP, code=code)
    try:
        return _create_resident_account(name=name, id_number=id_number, id_hash=id_hash, phone=phone,
                                        record=record)
    except IntegrityError:  # the same person submitting twice at once
        raise _already_registered() from None


@transaction.atomic
def _create_resident_account(*, name: str, id_number: str, id_hash: str, phone: str,
                             record: Resident | None) -> User:
    user = User(username=f"r-{id_hash[:24]}", kind=User.Kind.RESIDENT, real_name=name, id_number=id_number,
                phone=phone)
    user.set_unusable_password()
    user.save()
    if record is not None:
        # Conditional: a record linked meanwhile by another sign-up is not taken over.
        if Resident.objects.filter(pk=record.pk, user__isnull=True).update(user=user) != 1:
            raise IntegrityError("registry record already linked")
        Membership.objects.create(user=user, unit_id=record.household.grid_id, role=Role.RESIDENT)
    return user


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
    """The resident account a command-centre staff member reports a matter for, found or created.

    With an account for the ID number, its name must match and it is returned unchanged (its phone too).
    Otherwise an account is created as at sign-up, without an SMS code: the staff member checked the
    person's identity in person. A registry record for the ID number links it (the name must match) and
    places the person in the household's grid. The person signs in later with ID number, this phone and an
    SMS code as usual. Refusals raise Forbidden (not command-centre staff) or DomainError with `field` set,
    and write nothing.
    """
    if not policies.can_report_on_behalf(actor):
        raise Forbidden(_("只有指挥中心工作人员可以代为登记。"))
    name = normalize_name(name)
    id_number = normalize_id_number(id_number)
    phone = normalize_phone(phone)
    id_hash = keyed_hash(id_number)
    account = User.objects.filter(id_number_hash=id_hash).first()
    if account is not None:
        return _existing_for_report(account, name)
    record = Resident.objects.select_related("household").filter(id_number_hash=id_hash).first()
    if record is not None:
        if not _same_name(record.name, name):
            raise _name_mismatch()
        if record.user_id is not None:  # linked to an account that has another ID number now
            raise Conflict(_("该身份证号的户籍信息已关联其他账号，请联系系统管理员。"), code="record_linked",
                           field="id_number")
    try:
        return _create_resident_account(name=name, id_number=id_number, id_hash=id_hash, phone=phone,
                                        record=record)
    except IntegrityError:  # the same person entered twice at once: the first account wins
        account = User.objects.filter(id_number_hash=id_hash).first()
        if account is None:
            raise
        return _existing_for_report(account, name)
