"""Who may see and change the registry (一标三实), key persons and field work.

Every record belongs to a grid, and each rule below is a set of unit paths (`accounts.policies.paths_for_roles`):
a check asks whether the record's grid path lies under one of them, a list filters on the same paths, so the two
cannot drift apart.
- Seeing records: any staff post over the grid (the scope of `accounts.policies`).
- Adding and editing records: the field posts (grid workers and leaders, the village administrator and
  station) over the grid.
- Importing and exporting whole lists: the village administrator and the command centres' dispatchers.
- Key persons: only the posts that care for or supervise them (not departments, part-time members or village
  stations); each opening of a record is logged by the selector that reads it.
- Patrols: the grid's own field staff; visits: whoever may edit records of the grid, and for a cadre visit
  (干部进村走访) any staff member whose scope holds the village.
"""

from django.db.models import Q

from gongzhi.accounts import policies
from gongzhi.accounts.models import FIELD_ROLES, STAFF_ROLES, Role, User
from gongzhi.org.models import OrgUnit

EDIT_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.GENERAL_GRID_LEADER, Role.VILLAGE_ADMIN,
                        Role.VILLAGE_STATION, Role.SYSTEM_ADMIN})
BULK_ROLES = frozenset({Role.VILLAGE_ADMIN, Role.DISPATCHER, Role.SYSTEM_ADMIN})
KEY_PERSON_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.GENERAL_GRID_LEADER, Role.VILLAGE_ADMIN,
                              Role.DISPATCHER, Role.SUPERVISOR, Role.SYSTEM_ADMIN})
PATROL_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.GRID_PART_TIME, Role.GENERAL_GRID_LEADER})


def _under(paths: tuple[str, ...], path: str) -> bool:
    return any(path.startswith(p) for p in paths)


# Seeing ------------------------------------------------------------------------------------------------------

def records_q(user: User, path_field: str = "grid__path") -> Q:
    return policies.scope_q(user, path_field)


def can_view_records(user: User, grid: OrgUnit) -> bool:
    return policies.in_scope(user, grid.path)


# Adding and editing ------------------------------------------------------------------------------------------

def edit_paths(user: User) -> tuple[str, ...]:
    return policies.paths_for_roles(user, EDIT_ROLES)


def can_edit_records(user: User, grid: OrgUnit) -> bool:
    return _under(edit_paths(user), grid.path)


def editable_q(user: User, path_field: str = "grid__path") -> Q:
    return policies.paths_q(edit_paths(user), path_field)


# Import and export -------------------------------------------------------------------------------------------

def bulk_paths(user: User) -> tuple[str, ...]:
    return policies.paths_for_roles(user, BULK_ROLES)


def can_import_or_export(user: User) -> bool:
    return bool(bulk_paths(user))


def can_bulk_write(user: User, grid: OrgUnit) -> bool:
    """Whether an import by `user` may write records of `grid` (a row for a grid elsewhere is a row error)."""
    return _under(bulk_paths(user), grid.path)


def bulk_q(user: User, path_field: str = "grid__path") -> Q:
    return policies.paths_q(bulk_paths(user), path_field)


# Key persons -------------------------------------------------------------------------------------------------

def key_person_paths(user: User) -> tuple[str, ...]:
    """Where `user` may see key persons. Pages ask this on every request (the warnings' filter too), so the
    common cases read no table: no key-person post at all, or only key-person posts (then it is the scope);
    both from what `accounts.policies` already holds for the request's user."""
    if not user.is_authenticated or not user.is_active or user.kind != User.Kind.STAFF:
        return ()
    if not user.is_superuser:
        roles = policies.roles_of(user) & STAFF_ROLES
        if not roles & KEY_PERSON_ROLES:
            return ()
        if roles <= KEY_PERSON_ROLES:
            return policies.scope_paths(user)
    return policies.paths_for_roles(user, KEY_PERSON_ROLES)


def can_view_key_persons(user: User, grid: OrgUnit) -> bool:
    return _under(key_person_paths(user), grid.path)


def key_persons_q(user: User, path_field: str = "grid__path") -> Q:
    return policies.paths_q(key_person_paths(user), path_field)


def can_manage_key_persons(user: User, grid: OrgUnit) -> bool:
    """Listing a person, changing the plan or ending it: key-person posts that may also edit the grid's records
    (a village administrator or grid staff), or a dispatcher over it."""
    return can_view_key_persons(user, grid) and (
        can_edit_records(user, grid) or _under(policies.paths_for_roles(user, frozenset({Role.DISPATCHER})),
                                               grid.path))


def key_persons_manage_q(user: User, path_field: str = "grid__path") -> Q:
    """Rows whose grid lies where `user` may list key persons and change their plans (`can_manage_key_persons`)."""
    dispatch = policies.paths_for_roles(user, frozenset({Role.DISPATCHER}))
    return key_persons_q(user, path_field) & (editable_q(user, path_field) | policies.paths_q(dispatch, path_field))


# Who may answer for a key person's visits (责任人): a field post that may see key persons, over the person's grid.
RESPONSIBLE_ROLES = KEY_PERSON_ROLES & FIELD_ROLES


def can_be_responsible(user: User, grid: OrgUnit) -> bool:
    return _under(policies.paths_for_roles(user, RESPONSIBLE_ROLES), grid.path)


# Patrols and visits ------------------------------------------------------------------------------------------

def patrol_paths(user: User) -> tuple[str, ...]:
    return policies.paths_for_roles(user, PATROL_ROLES)


def can_patrol(user: User, grid: OrgUnit) -> bool:
    return _under(patrol_paths(user), grid.path)


def can_record_visit(user: User, area: OrgUnit) -> bool:
    return can_edit_records(user, area)


def can_record_cadre_visit(user: User, village: OrgUnit) -> bool:
    return policies.is_staff_member(user) and policies.in_scope(user, village.path)


def fieldwork_q(user: User, path_field: str) -> Q:
    """Patrols (path_field "grid__path") and visits ("area__path") the user may see: those in scope."""
    return policies.scope_q(user, path_field)
