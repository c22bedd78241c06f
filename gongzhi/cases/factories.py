"""Categories, residents and cases for tests."""

import uuid

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases import presets, services
from gongzhi.cases.models import Case, Category, TimeLimit
from gongzhi.org.models import OrgUnit


def make_categories() -> dict[str, Category]:
    """A few of the preset categories (loaded by migration cases/0002; loaded again here after a
    transactional test's flush emptied the table)."""
    if not Category.objects.exists():
        presets.load(Category, TimeLimit)
    codes = {"talk": "talk", "env": "talk-environment", "policy": "talk-policy", "dispute": "dispute",
             "family": "talk-dispute-marriage"}
    return {key: Category.objects.get(code=code) for key, code in codes.items()}


def report(reporter: User, category: Category, *, lat: float = 35.585, lng: float = 104.605,
           description: str = "村口路灯坏了一个月，晚上看不见路。") -> Case:
    case, _created = services.submit_case(actor=reporter, client_id=uuid.uuid4(), category=category,
                                          description=description, lat=lat, lng=lng)
    return case


def make_resident(username: str, real_name: str, grid: OrgUnit) -> User:
    """A resident account registered in `grid` (no password: residents sign in by SMS)."""
    user = User.objects.create_user(username=username, kind=User.Kind.RESIDENT, real_name=real_name)
    Membership.objects.create(user=user, unit=grid, role=Role.RESIDENT)
    return user


def act(actor: User | None, case: Case, action: str, **kwargs) -> Case:
    """services.transition with a default note ("处理说明") for the steps that need one."""
    kwargs.setdefault("note", "处理说明")
    return services.transition(actor=actor, case=case, action=action, **kwargs)
