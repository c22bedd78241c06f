import pytest

from gongzhi.accounts.models import Membership, User
from gongzhi.org.factories import make_tree


@pytest.fixture
def tree(db):
    return make_tree()


@pytest.fixture
def make_staff(db):
    """make_staff("username", unit, role, ...) → a staff user holding that post; password "Gongzhi#2026"."""

    def make(username, unit, role, **post):
        user = User.objects.create_user(username=username, password="Gongzhi#2026", real_name=username,
                                        kind=User.Kind.STAFF)
        Membership.objects.create(user=user, unit=unit, role=role, **post)
        return user

    return make
