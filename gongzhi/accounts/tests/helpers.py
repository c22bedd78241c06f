"""Test helpers shared by the account, registry and API tests."""

import re

from django.utils import timezone

from gongzhi.accounts.models import DevSmsMessage, Membership, Role, User
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import id_check_digit


def valid_id(region: str = "621102", birth: str = "19800101", seq: str = "123") -> str:
    first17 = region + birth + seq
    return first17 + id_check_digit(first17)


def last_code(phone: str) -> str:
    """The code the development SMS backend last texted to `phone`."""
    for message in DevSmsMessage.objects.order_by("-id"):
        if message.phone == phone:
            return re.search(r"\d{6}", message.message).group()
    raise AssertionError("no code was texted to this phone")


def make_resident_account(*, id_number: str, phone: str, grid=None, name: str = "张三") -> User:
    user = User(username=f"r-{keyed_hash(id_number)[:24]}", kind=User.Kind.RESIDENT, real_name=name,
                id_number=id_number, phone=phone, confirmed_at=timezone.now())
    user.set_unusable_password()
    user.save()
    if grid is not None:
        Membership.objects.create(user=user, unit=grid, role=Role.RESIDENT)
    return user
