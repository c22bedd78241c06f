"""Who may see and do what. Scope = the subtrees of the units where a user holds an active staff post.

Every list filter and every check goes through `scope_paths`, so checks and filters cannot drift apart.
"""

from typing import TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Q, QuerySet

from gongzhi.accounts.models import COMMAND_ROLES, STAFF_ROLES, Membership, Role, User
from gongzhi.org.models import OrgUnit

_EVERYTHING = ("",)
_M = TypeVar("_M", bound=Model)


def scope_paths(user: User | AnonymousUser) -> tuple[str, ...]:
    """Minimal set of unit paths whose subtrees the user may see (cached on the user object)."""
    if not user.is_authenticated:
        return ()
    cached: tuple[str, ...] | None = getattr(user, "_scope_paths", None)
    if cached is not None:
        return cached
    if not user.is_active:
        paths: tuple[str, ...] = ()
    elif user.is_superuser:
        paths = _EVERYTHING
    else:
        paths = _subtrees_of_posts(user, STAFF_ROLES)
    user._scope_paths = paths
    return paths


def _active_posts(user: User) -> list[tuple[str, str]]:
    """(role, unit path) of the user's active posts, read once and kept on the user object for the request:
    every role check of a page (its guard, the navigation's links, the policies) shares the one query."""
    cached: list[tuple[str, str]] | None = getattr(user, "_posts", None)
    if cached is None:
        cached = list(Membership.objects.active().filter(user=user).values_list("role", "unit__path"))
        user._posts = cached
    return cached


def resident_paths(user: User | AnonymousUser) -> tuple[str, ...]:
    """The unit paths of the user's resident posts (their home grid, set when verified against the register)."""
    if not user.is_authenticated or not user.is_active:
        return ()
    return tuple(path for role, path in _active_posts(user) if role == Role.RESIDENT)


def _subtrees_of_posts(user: User, roles: frozenset[str]) -> tuple[str, ...]:
    """The minimal set of unit paths of the user's active posts with one of `roles` in active units
    (everything for a system administrator)."""
    posts = [(role, path) for role, path in _active_posts(user) if role in roles]
    if any(role == Role.SYSTEM_ADMIN for role, _path in posts):
        return _EVERYTHING
    kept: list[str] = []
    for path in sorted({path for _role, path in posts}, key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return tuple(kept)


# Matches every row. Not `Q()`: an empty Q vanishes when OR-ed with another filter (`Q() | Q(x)` is `Q(x)`),
# which once cut a system administrator's cases down to those they reported.
_ALL_ROWS = ~Q(pk__in=[])


def paths_q(paths: tuple[str, ...], path_field: str = "path") -> Q:
    """A filter selecting rows whose `path_field` lies under one of `paths` (e.g. from `paths_for_roles`)."""
    if paths == _EVERYTHING:
        return _ALL_ROWS
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{path_field}__startswith": path})
    return q


def scope_q(user: User | AnonymousUser, path_field: str = "path") -> Q:
    """A filter selecting rows whose `path_field` lies in the user's scope (matches nothing if none)."""
    return paths_q(scope_paths(user), path_field)


def filter_to_scope(queryset: QuerySet[_M], user: User | AnonymousUser, path_field: str = "path") -> QuerySet[_M]:
    return queryset.filter(scope_q(user, path_field))


def in_scope(user: User | AnonymousUser, path: str) -> bool:
    return any(path.startswith(p) for p in scope_paths(user))


def units_visible_to(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    return filter_to_scope(OrgUnit.objects.all(), user)


def can_view_unit(user: User | AnonymousUser, unit: OrgUnit) -> bool:
    return in_scope(user, unit.path)


def roles_of(user: User | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    assert isinstance(user, User)
    return {role for role, _path in _active_posts(user)}


def is_staff_member(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(roles_of(user) & STAFF_ROLES))


def needs_second_factor(user: User) -> bool:
    return user.totp_enabled and bool(roles_of(user) & COMMAND_ROLES)


def _account_paths(account: User) -> list[str]:
    paths = list(Membership.objects.active().filter(user=account).values_list("unit__path", flat=True))
    # An account without any post belongs to the root of the tree, which only those who see everything reach.
    return paths or [""]


def place_in_scope(user: User | AnonymousUser, person: Model) -> str | None:
    """The path of a place `person` belongs to that lies in the user's scope, or None.

    A person belongs to their registry record's grid, or an account to the unit of each of its active posts (a
    resident's grid, a staff member's units).
    """
    if isinstance(person, User):
        paths = _account_paths(person)
    else:
        grid: OrgUnit | None = getattr(person, "grid", None)
        if grid is None:
            raise TypeError(f"no scope known for {type(person).__name__}")
        paths = [grid.path]
    return next((path for path in paths if in_scope(user, path)), None)


def can_unmask_pii(user: User | AnonymousUser, subject_path: str) -> bool:
    """Unmasking is a Django permission, limited to people belonging to a place in the user's scope."""
    return user.has_perm("accounts.unmask_pii") and in_scope(user, subject_path)


def paths_for_roles(user: User | AnonymousUser, roles: frozenset[str]) -> tuple[str, ...]:
    """The subtrees of the user's active staff posts with one of `roles` (everything for a system administrator
    or a superuser): where the user may do what those roles do."""
    if not user.is_authenticated or not user.is_active or user.kind != User.Kind.STAFF:
        return ()
    if user.is_superuser:
        return _EVERYTHING
    return _subtrees_of_posts(user, roles)


def on_behalf_paths(user: User | AnonymousUser) -> tuple[str, ...]:
    """Where `user` may report a matter for a resident (代为登记): the subtrees of their command-centre posts
    (dispatcher, supervisor; everything for a system administrator or superuser). Posts of other kinds
    widen what a person sees, not where they may file for others."""
    return paths_for_roles(user, COMMAND_ROLES)


def can_report_on_behalf(user: User | AnonymousUser) -> bool:
    return bool(on_behalf_paths(user))


def on_behalf_q(user: User | AnonymousUser, path_field: str = "path") -> Q:
    """A filter selecting rows whose `path_field` lies where the user may report on behalf of residents."""
    return paths_q(on_behalf_paths(user), path_field)


# Village administrators confirm who residents are (当面核验) and re-bind their phones; the system
# administrator can do so everywhere.
IDENTITY_ROLES = frozenset({Role.VILLAGE_ADMIN, Role.SYSTEM_ADMIN})


def identity_paths(user: User | AnonymousUser) -> tuple[str, ...]:
    """Where `user` may verify residents in person and re-bind their phones: the subtrees of their
    village-administrator posts (everything for a system administrator or superuser)."""
    return paths_for_roles(user, IDENTITY_ROLES)


def can_manage_identity(user: User | AnonymousUser, path: str) -> bool:
    return any(path.startswith(p) for p in identity_paths(user))


def identity_q(user: User | AnonymousUser, path_field: str = "path") -> Q:
    """A filter selecting rows whose `path_field` lies where the user may verify residents."""
    return paths_q(identity_paths(user), path_field)
