"""Reads of the org tree joined with registry counts, always limited to what the given user may see.

Counts are rolled up in Python from one grouped query per table: a grid's path lists all its ancestors,
so each grid adds its figures to at most five units and the cost grows with the number of grids only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, QuerySet, Subquery

from gongzhi.accounts import policies
from gongzhi.accounts.models import Membership, User
from gongzhi.core.errors import NotFound
from gongzhi.core.pii import MASKERS, SecretValue
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry.models import Household, Resident


@dataclass
class Counts:
    grids: int = 0
    households: int = 0
    residents: int = 0


@dataclass
class GridSummary:
    grid: OrgUnit
    village: OrgUnit | None
    households: int
    residents: int
    staff: list[Membership]


@dataclass
class TreeNode:
    unit: OrgUnit
    counts: Counts
    children: list[TreeNode] = field(default_factory=list)
    departments: list[OrgUnit] = field(default_factory=list)
    # Grids left out of a large tree; the page links to the unit instead of listing them.
    hidden_grids: int = 0


@dataclass
class UnitDetail:
    unit: OrgUnit
    ancestors: list[OrgUnit]
    counts: Counts
    children: list[tuple[OrgUnit, Counts]]
    departments: list[OrgUnit]
    posts: list[Membership]


@dataclass
class ResidentOverview:
    record: Resident | None
    household: Household | None
    grid: OrgUnit | None
    village: OrgUnit | None
    staff: list[Membership]


@dataclass
class PiiTarget:
    """A person whose ID or phone number someone asks to see, as far as that viewer may know them."""

    person: User | Resident
    path: str  # a place the person belongs to within the viewer's scope
    masked: SecretValue | None  # None when not registered, or for a field that cannot be unmasked


def _grids_in_scope(user: User) -> QuerySet[OrgUnit]:
    grids = OrgUnit.objects.filter(level=Level.GRID, kind=UnitKind.AREA, is_active=True)
    return policies.filter_to_scope(grids, user)


def _posts_at(unit_ids: Iterable[int]) -> QuerySet[Membership]:
    return (Membership.objects.staff().filter(unit__in=unit_ids)
            .select_related("user").order_by("unit_id", "role", "user__real_name"))


def _counts_by_grid(grid_ids: Collection[int]) -> tuple[dict[int, int], dict[int, int]]:
    households = dict(Household.objects.filter(grid_id__in=grid_ids).values("grid")
                      .annotate(n=Count("id")).values_list("grid", "n"))
    residents = dict(Resident.objects.filter(grid_id__in=grid_ids, status=Resident.Status.ACTIVE).values("grid")
                     .annotate(n=Count("id")).values_list("grid", "n"))
    return households, residents


def grid_summaries(user: User, *, within: OrgUnit | None = None) -> list[GridSummary]:
    """The active grids the user may see (optionally only those under `within`), with counts and staff."""
    queryset = _grids_in_scope(user).select_related("parent")
    if within is not None:
        queryset = queryset.filter(path__startswith=within.path)
    grids = list(queryset.order_by("path"))
    ids = [g.pk for g in grids]
    households, residents = _counts_by_grid(ids)
    staff: dict[int, list[Membership]] = defaultdict(list)
    for post in _posts_at(ids):
        staff[post.unit_id].append(post)
    return [
        GridSummary(grid=g, village=g.parent, households=households.get(g.pk, 0),
                    residents=residents.get(g.pk, 0), staff=staff[g.pk])
        for g in grids
    ]


def visible_grid(user: User, grid_id: int) -> OrgUnit:
    grid = _grids_in_scope(user).select_related("parent").filter(pk=grid_id).first()
    if grid is None:
        raise NotFound()
    return grid


def households_in_grid(user: User, grid: OrgUnit) -> QuerySet[Household]:
    """Households of a grid the user may see, with the head's name and id and the number of members."""
    if not policies.can_view_unit(user, grid) or grid.level != Level.GRID:
        raise NotFound()
    head = Resident.objects.filter(household=OuterRef("pk"), relation=Resident.Relation.HEAD)
    return (Household.objects.filter(grid=grid)
            .annotate(head_name=Subquery(head.values("name")[:1]), head_id=Subquery(head.values("pk")[:1]),
                      member_count=Count("members"))
            .order_by("number"))


def unit_counts(user: User, units: Iterable[OrgUnit]) -> dict[int, Counts]:
    """Grids, households and residents under each given unit, counting only what lies in scope."""
    wanted = {u.path: u.pk for u in units}
    grids = list(_grids_in_scope(user).values_list("pk", "path"))
    households, residents = _counts_by_grid([pk for pk, _ in grids])
    result = {pk: Counts() for pk in wanted.values()}
    for pk, path in grids:
        parts = path.rstrip("/").split("/")
        for i in range(len(parts)):
            unit_pk = wanted.get("/".join(parts[: i + 1]) + "/")
            if unit_pk is not None:
                c = result[unit_pk]
                c.grids += 1
                c.households += households.get(pk, 0)
                c.residents += residents.get(pk, 0)
    return result


def scope_tree(user: User, *, max_grids: int = 300) -> list[TreeNode]:
    """The user's visible units as a tree (areas nested, departments beside them), with counts.

    Above `max_grids` visible grids the grid level is left out (counted in `hidden_grids`): a city's
    thousands of grids belong on the village pages, not in one list.
    """
    units = list(policies.units_visible_to(user).filter(is_active=True).order_by("path"))
    show_grids = sum(1 for u in units if u.level == Level.GRID and u.kind == UnitKind.AREA) <= max_grids
    counts = unit_counts(user, [u for u in units if u.kind == UnitKind.AREA])
    nodes: dict[int, TreeNode] = {}
    roots: list[TreeNode] = []
    for unit in units:  # ordered by path, so a parent always comes before its children
        parent = nodes.get(unit.parent_id) if unit.parent_id else None
        if unit.kind == UnitKind.DEPARTMENT:
            if parent is not None:
                parent.departments.append(unit)
            else:
                roots.append(TreeNode(unit=unit, counts=Counts()))
            continue
        if unit.level == Level.GRID and not show_grids and parent is not None:
            parent.hidden_grids += 1
            continue
        node = TreeNode(unit=unit, counts=counts[unit.pk])
        nodes[unit.pk] = node
        (parent.children if parent is not None else roots).append(node)
    return roots


def unit_detail(user: User, unit_id: int) -> UnitDetail:
    unit = policies.units_visible_to(user).filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    ancestors = list(policies.filter_to_scope(unit.ancestors(), user))
    below = list(policies.units_visible_to(user).filter(parent=unit, is_active=True).order_by("path"))
    children = [u for u in below if u.kind == UnitKind.AREA]
    counts = unit_counts(user, [unit, *children])
    return UnitDetail(
        unit=unit,
        ancestors=ancestors,
        counts=counts[unit.pk],
        children=[(c, counts[c.pk]) for c in children],
        departments=[u for u in below if u.kind == UnitKind.DEPARTMENT],
        posts=list(_posts_at([unit.pk])),
    )


def resident_overview(user: User) -> ResidentOverview:
    """What a signed-in resident sees about themselves: their registry record, grid and grid staff."""
    record = (Resident.objects.select_related("household", "grid__parent")
              .filter(user=user).first()) if user.is_authenticated else None
    if record is None:
        return ResidentOverview(record=None, household=None, grid=None, village=None, staff=[])
    return ResidentOverview(record=record, household=record.household, grid=record.grid,
                            village=record.grid.parent, staff=list(_posts_at([record.grid_id])))


def pii_target(user: User, subject_type: str, subject_id: int, field: str) -> PiiTarget:
    """A registry record ("resident") or an account ("user") within the user's scope, else NotFound."""
    person: User | Resident | None = None
    if subject_type == "resident":
        person = Resident.objects.select_related("grid").filter(pk=subject_id).first()
    elif subject_type == "user":
        person = User.objects.filter(pk=subject_id).first()
    path = policies.place_in_scope(user, person) if person is not None else None
    if person is None or path is None:
        raise NotFound()
    return PiiTarget(person=person, path=path, masked=getattr(person, field) if field in MASKERS else None)


@dataclass
class PendingVerification:
    """An unverified resident account whose ID number the register knows, waiting for 当面核验."""

    account: User
    record: Resident  # the register's record for the ID number the account claims
    name_matches: bool


def verification_queue(user: User, *, limit: int = 200) -> tuple[list[PendingVerification], int]:
    """Unverified accounts (oldest first, at most `limit`) claiming an ID number whose unlinked registry
    record lies where `user` may verify residents, and how many there are in all."""
    if not policies.identity_paths(user):
        raise NotFound()
    records = Resident.objects.filter(policies.identity_q(user, "grid__path"), user__isnull=True)
    accounts = (User.objects.filter(kind=User.Kind.RESIDENT, is_active=True, confirmed_at__isnull=False,
                                    resident_record__isnull=True,
                                    id_number_hash__in=records.values("id_number_hash"))
                .order_by("date_joined", "pk"))
    total = accounts.count()
    page = list(accounts[:limit])
    by_hash = {r.id_number_hash: r for r in records.filter(id_number_hash__in=[a.id_number_hash for a in page])
               .select_related("household", "grid__parent")}
    return [PendingVerification(account=a, record=by_hash[a.id_number_hash],
                                name_matches=a.real_name == by_hash[a.id_number_hash].name)
            for a in page if a.id_number_hash in by_hash], total


def pending_account(user: User, account_id: int) -> User:
    """An account of `user`'s verification queue, else NotFound."""
    records = Resident.objects.filter(policies.identity_q(user, "grid__path"), user__isnull=True)
    account = (User.objects.filter(pk=account_id, kind=User.Kind.RESIDENT, resident_record__isnull=True,
                                   id_number_hash__in=records.values("id_number_hash")).first()
               if policies.identity_paths(user) else None)
    if account is None:
        raise NotFound()
    return account
