"""Who may see and change the points economy.

Each rule is a set of unit paths (`accounts.policies.paths_for_roles`): a check asks whether the object's path
lies under one of them, a list filters on the same paths, so the two cannot drift apart.
- Seeing accounts, claims, awards and statistics: the village administrator and station, and the command
  centres' dispatchers and supervisors, over the village.
- Reviewing claims and giving or deducting points: for a village item (审核给予: 村级管理员) the village
  administrator of the village, for a township item a dispatcher over the township; dispatchers over the
  village may also act on village items (a township covering for a village without an administrator).
- The catalogue, the star scale and the shops: a township's by its dispatchers (and system administrators),
  a village's own items and its 爱心超市 also by the village administrator.
- Capturing a redemption: only the shop's own managers (商铺管理员); a merchant sees nothing else.
- The ledger checks (账本核验: the results and running one now): dispatchers and system administrators.
- A resident sees their own account, claims and redemptions only (the selectors filter by the user).
"""

from django.db.models import Q

from gongzhi.accounts import policies
from gongzhi.accounts.models import Role, User
from gongzhi.org.models import OrgUnit
from gongzhi.points.models import Awarder, Claim, RuleItem, Shop

VIEW_ROLES = frozenset({Role.VILLAGE_ADMIN, Role.VILLAGE_STATION, Role.DISPATCHER, Role.SUPERVISOR,
                        Role.SYSTEM_ADMIN})
VILLAGE_ROLES = frozenset({Role.VILLAGE_ADMIN, Role.DISPATCHER, Role.SYSTEM_ADMIN})
TOWNSHIP_ROLES = frozenset({Role.DISPATCHER, Role.SYSTEM_ADMIN})


def _under(paths: tuple[str, ...], path: str) -> bool:
    return any(path.startswith(p) for p in paths)


# Seeing ------------------------------------------------------------------------------------------------------

def view_paths(user: User) -> tuple[str, ...]:
    return policies.paths_for_roles(user, VIEW_ROLES)


def can_view_village(user: User, village: OrgUnit) -> bool:
    return _under(view_paths(user), village.path)


def viewable_q(user: User, path_field: str = "path") -> Q:
    return policies.paths_q(view_paths(user), path_field)


def may_use_points_office(user: User) -> bool:
    """Whether the portal shows the user the points pages (审核, 台账, 统计)."""
    return bool(view_paths(user))


# Reviewing and awarding --------------------------------------------------------------------------------------

def award_paths(user: User, awarder: str) -> tuple[str, ...]:
    """Where the user may review claims and award items whose awarder is `awarder`."""
    return policies.paths_for_roles(user, VILLAGE_ROLES if awarder == Awarder.VILLAGE else TOWNSHIP_ROLES)


def can_award(user: User, village: OrgUnit, item: RuleItem) -> bool:
    return _under(award_paths(user, item.awarder), village.path)


def can_review(user: User, claim: Claim) -> bool:
    return _under(award_paths(user, claim.rule_item.awarder), claim.path)


def reviewable_q(user: User) -> Q:
    """Claims the user may review (a filter on Claim)."""
    return ((Q(rule_item__awarder=Awarder.VILLAGE) & policies.paths_q(award_paths(user, Awarder.VILLAGE)))
            | (Q(rule_item__awarder=Awarder.TOWNSHIP) & policies.paths_q(award_paths(user, Awarder.TOWNSHIP))))


def may_award_anywhere(user: User) -> bool:
    return bool(award_paths(user, Awarder.VILLAGE))


# The catalogue, stars and shops ------------------------------------------------------------------------------

def can_manage_township(user: User, township: OrgUnit) -> bool:
    return _under(policies.paths_for_roles(user, TOWNSHIP_ROLES), township.path)


def can_manage_village(user: User, village: OrgUnit) -> bool:
    return _under(policies.paths_for_roles(user, VILLAGE_ROLES), village.path)


def manageable_units_q(user: User, path_field: str = "path") -> Q:
    """Units (townships and villages) whose catalogue or shops the user may manage: a village administrator's
    village, a dispatcher's whole subtree."""
    return policies.paths_q(policies.paths_for_roles(user, VILLAGE_ROLES), path_field)


def can_manage_shop(user: User, shop: Shop) -> bool:
    if shop.village is not None:
        return can_manage_village(user, shop.village)
    return can_manage_township(user, shop.township)


# The ledger ------------------------------------------------------------------------------------------------------

def may_check_ledger(user: User) -> bool:
    """Whether the user sees the ledger checks and may start one (the ledger is one for the installation)."""
    return bool(policies.paths_for_roles(user, TOWNSHIP_ROLES))


# Merchants ---------------------------------------------------------------------------------------------------

def can_capture(user: User, shop: Shop) -> bool:
    """Only the shop's own managers scan its codes."""
    return (user.is_authenticated and user.is_active and shop.is_active
            and shop.managers.filter(pk=user.pk).exists())


def shops_managed_q(user: User) -> Q:
    return Q(managers=user, is_active=True) if user.is_authenticated and user.is_active else Q(pk__in=[])
