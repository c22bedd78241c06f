"""一标三实 reads: search, lists, record pages with their history, household views and per-grid counts, always
limited to the records the given user may see (`registry.policies.records_q`); a record outside it answers
NotFound, as a missing one does.

Personal numbers are searched by their keyed hash only (never by LIKE on ciphertext): the query is normalised
as an ID or phone number first. Names are matched exactly, then by prefix, on the name index. Long lists are
paged by the caller without counting them (`web.paging.Window`), so they are ordered on an index.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import normalize_id_number, normalize_phone
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry import policies
from gongzhi.registry.models import (
    Address,
    Establishment,
    House,
    Household,
    RecordChange,
    ResidenceType,
    Resident,
    SpecialGroup,
    Tenancy,
)

SEARCH_LIMIT = 20
HISTORY_LIMIT = 100
# A user whose scope holds at most this many grids is filtered by grid ids (an index per grid) rather than by
# the grids' paths (a join): a grid worker's search reads their grid's rows only.
FEW_GRIDS = 60

_M = TypeVar("_M", bound=Model)


# ---------------------------------------------------------------------------------------------------------
# Scope


def _visible(user: User) -> Q:
    return policies.records_q(user, "grid__path")


def _scope_grid_ids(user: User) -> list[int] | None:
    """The ids of the grids in the user's scope when there are few of them, else None."""
    cached: list[int] | None | bool = getattr(user, "_record_grid_ids", False)
    if cached is not False:
        return cached if isinstance(cached, list) else None
    grids = OrgUnit.objects.filter(account_policies.scope_q(user), level=Level.GRID, kind=UnitKind.AREA)
    ids = list(grids.values_list("pk", flat=True)[:FEW_GRIDS + 1])
    found = ids if len(ids) <= FEW_GRIDS else None
    user._record_grid_ids = found  # type: ignore[attr-defined]
    return found


def _in_scope(user: User) -> Q:
    """The records of the user's scope: by grid id for a small scope, by grid path for a large one."""
    ids = _scope_grid_ids(user)
    return Q(grid_id__in=ids) if ids is not None else _visible(user)


def visible_grids(user: User, *, within: OrgUnit | None = None) -> QuerySet[OrgUnit]:
    grids = OrgUnit.objects.filter(account_policies.scope_q(user), level=Level.GRID, kind=UnitKind.AREA,
                                   is_active=True)
    if within is not None:
        grids = grids.filter(path__startswith=within.path)
    return grids.select_related("parent").order_by("path")


def editable_grids(user: User, *, within: OrgUnit | None = None) -> QuerySet[OrgUnit]:
    """The grids whose records the user may add and edit (the forms' choices)."""
    grids = OrgUnit.objects.filter(policies.editable_q(user, "path"), level=Level.GRID, kind=UnitKind.AREA,
                                   is_active=True)
    if within is not None:
        grids = grids.filter(path__startswith=within.path)
    return grids.select_related("parent").order_by("path")


def may_edit_any(user: User) -> bool:
    return bool(policies.edit_paths(user))


def visible_grid(user: User, grid_id: int) -> OrgUnit:
    grid = visible_grids(user).filter(pk=grid_id).first()
    if grid is None:
        raise NotFound()
    return grid


def filter_areas(user: User) -> list[OrgUnit]:
    """The areas a list may be narrowed to: the units of the user's posts and the area units one and two levels
    below them (a township's villages and grids), by path."""
    near = Q(pk__in=[])
    for path in account_policies.scope_paths(user):
        depth = path.count("/") - 1
        near |= Q(path__startswith=path, depth__in=(depth, depth + 1, depth + 2))
    return list(OrgUnit.objects.filter(near, kind=UnitKind.AREA, is_active=True).order_by("path"))


def special_groups() -> list[SpecialGroup]:
    return list(SpecialGroup.objects.filter(is_active=True))


# ---------------------------------------------------------------------------------------------------------
# Search


@dataclass
class SearchResults:
    query: str
    by: str  # "id_number", "phone", "number", "text", or "" for an empty query
    hint: str = ""  # why digits that look like an ID number are not one
    people: list[Resident] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    houses: list[House] = field(default_factory=list)
    establishments: list[Establishment] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (len(self.people) + len(self.households) + len(self.addresses) + len(self.houses)
                + len(self.establishments))


_NUMBERISH = re.compile(r"^[0-9xX+\-\s()]+$")


def classify(query: str) -> tuple[str, str]:
    """What a search box holds: ("id_number" | "phone" | "number" | "text" | "", the normalised query). A valid
    ID or mobile number is searched by its keyed hash; other digits ("number") are a 户号, a door or room
    number, a licence number."""
    text = unicodedata.normalize("NFKC", query or "").strip()
    if not text:
        return "", ""
    if not _NUMBERISH.match(text):
        return "text", re.sub(r"\s+", "", text) if _is_han(text) else text
    digits = re.sub(r"[\s\-()]", "", text).upper()
    for kind, normalize in (("id_number", normalize_id_number), ("phone", normalize_phone)):
        try:
            return kind, normalize(digits)
        except DomainError:
            continue
    return "number", digits


def number_hint(value: str) -> str:
    """Why 18 characters typed as an ID number are not one (a wrong check digit, say), else ""."""
    if len(value) != 18:
        return ""
    try:
        normalize_id_number(value)
    except DomainError as err:
        return str(err.message)
    return ""


def _is_han(text: str) -> bool:
    return all("\u3400" <= c <= "\u9fff" or c in "·• \u3000" or ord(c) > 0xFFFF for c in text)


def _prefix(field_name: str, value: str) -> Q:
    """`field` starts with `value`, in a form the database answers from the field's index: a range on SQLite
    (whose LIKE ignores case and so cannot use the index), LIKE elsewhere (PostgreSQL's pattern index)."""
    if connection.vendor == "sqlite":
        return Q(**{f"{field_name}__gte": value, f"{field_name}__lt": value[:-1] + chr(ord(value[-1]) + 1)})
    return Q(**{f"{field_name}__startswith": value})


def _people(user: User) -> QuerySet[Resident]:
    return (Resident.objects.filter(_in_scope(user))
            .select_related("grid", "household", "standard_address"))


def search_people(user: User, query: str, *, grid: OrgUnit | None = None,
                  limit: int = SEARCH_LIMIT) -> list[Resident]:
    """People in scope (and in `grid`, when given) by name (exact matches first, then names starting with it), by
    ID number or by phone number (keyed hash)."""
    by, value = classify(query)
    people = _people(user)
    if grid is not None:
        people = people.filter(grid=grid)
    if by == "id_number":
        return list(people.filter(id_number_hash=keyed_hash(value))[:limit])
    if by == "phone":
        return list(people.filter(phone_hash=keyed_hash(value)).order_by("name", "pk")[:limit])
    if by != "text" or len(value) > 50:
        return []
    exact = list(people.filter(name=value).order_by("pk")[:limit])
    if len(exact) < limit:
        exact += list(people.filter(_prefix("name", value)).exclude(name=value).order_by("name", "pk")
                      [:limit - len(exact)])
    return exact


def search_records(user: User, query: str, *, grid: OrgUnit | None = None,
                   limit: int = SEARCH_LIMIT) -> SearchResults:
    """One search box for people, households (户号), addresses, houses and units: by a personal number (keyed
    hash: residents by ID or phone, houses by the owner's ID) or by text (names exact then prefix, 户号 exact,
    address labels and unit names containing it)."""
    by, value = classify(query)
    results = SearchResults(query=value, by=by)
    if not by:
        return results
    results.people = search_people(user, value, grid=grid, limit=limit)
    scope = _in_scope(user) & Q(grid=grid) if grid is not None else _in_scope(user)
    houses = House.objects.filter(scope).select_related("address", "grid")
    if by == "id_number":
        results.houses = list(houses.filter(owner_id_number_hash=keyed_hash(value))[:limit])
        return results
    if by == "phone":
        return results
    results.hint = number_hint(value) if by == "number" else ""
    results.households = list(Household.objects.filter(scope, number=value.upper()).select_related("grid")[:limit])
    results.addresses = list(Address.objects.filter(scope, label__contains=value).select_related("grid", "village")
                             .order_by("label", "pk")[:limit])
    results.houses = list(houses.filter(address__label__contains=value).order_by("address__label", "pk")[:limit])
    units = Establishment.objects.filter(scope).select_related("grid").order_by("name", "pk")
    results.establishments = list(units.filter(Q(name__contains=value) | Q(licence_number=value.upper()))[:limit])
    return results


# ---------------------------------------------------------------------------------------------------------
# Lists


@dataclass(frozen=True)
class RecordFilter:
    """What a list is narrowed to. `area` and `grid` must be units the user sees (the caller picks them from
    `filter_areas` / `visible_grids`); `q` narrows by name, 户号 or address text as each list reads it."""

    area: OrgUnit | None = None
    grid: OrgUnit | None = None
    residence_type: str = ""
    group: SpecialGroup | None = None
    status: str = ""
    use: str = ""
    kind: str = ""
    q: str = ""


def _narrowed(user: User, queryset: QuerySet[_M], f: RecordFilter) -> QuerySet[_M]:
    queryset = queryset.filter(_in_scope(user))
    if f.area is not None:
        queryset = queryset.filter(grid__path__startswith=f.area.path)
    if f.grid is not None:
        queryset = queryset.filter(grid=f.grid)
    return queryset


def _order(queryset: QuerySet[_M], f: RecordFilter, *small: str) -> QuerySet[_M]:
    """A grid's list in a reading order; a larger one newest first (on the primary key: no sort of the lot)."""
    return queryset.order_by(*small, "pk") if f.grid is not None else queryset.order_by("-pk")


def _check(value: str, choices: Iterable[str], field_name: str) -> None:
    if value and value not in set(choices):
        raise DomainError(_("未知的筛选条件，已忽略。"), field=field_name)


def resident_list(user: User, f: RecordFilter) -> QuerySet[Resident]:
    _check(f.residence_type, ResidenceType.values, "residence_type")
    _check(f.status, Resident.Status.values, "status")
    people = _narrowed(user, Resident.objects.select_related("grid", "household", "standard_address"), f)
    if f.residence_type:
        people = people.filter(residence_type=f.residence_type)
    if f.group is not None:
        people = people.filter(groups=f.group)
    if f.status:
        people = people.filter(status=f.status)
    if f.q:
        by, value = classify(f.q)
        if by == "id_number":
            people = people.filter(id_number_hash=keyed_hash(value))
        elif by == "phone":
            people = people.filter(phone_hash=keyed_hash(value))
        elif by == "text":
            people = people.filter(_prefix("name", value))
        else:
            people = people.none()
    return _order(people, f, "name")


def household_list(user: User, f: RecordFilter) -> QuerySet[Household]:
    homes = _narrowed(user, Household.objects.select_related("grid", "standard_address"), f)
    if f.q:
        text = f.q.strip()
        homes = homes.filter(Q(number=text.upper()) | Q(address__contains=text))
    heads = Resident.objects.filter(relation=Resident.Relation.HEAD, status=Resident.Status.ACTIVE)
    homes = homes.prefetch_related(Prefetch("members", queryset=heads, to_attr="heads"))
    return _order(homes, f, "number")


def house_list(user: User, f: RecordFilter) -> QuerySet[House]:
    _check(f.use, House.Use.values, "use")
    houses = _narrowed(user, House.objects.select_related("grid", "address"), f)
    if f.use:
        houses = houses.filter(use=f.use)
    if f.q:
        houses = houses.filter(address__label__contains=f.q.strip())
    houses = houses.annotate(tenant_count=Count("tenancies", filter=Q(tenancies__ended_on__isnull=True)))
    return _order(houses, f, "address__label")


def establishment_list(user: User, f: RecordFilter) -> QuerySet[Establishment]:
    _check(f.kind, Establishment.Kind.values, "kind")
    _check(f.status, Establishment.Status.values, "status")
    units = _narrowed(user, Establishment.objects.select_related("grid", "address"), f)
    if f.kind:
        units = units.filter(kind=f.kind)
    if f.status:
        units = units.filter(status=f.status)
    if f.q:
        units = units.filter(Q(name__contains=f.q.strip()) | Q(licence_number=f.q.strip().upper()))
    return _order(units, f, "name")


def address_list(user: User, f: RecordFilter) -> QuerySet[Address]:
    places = _narrowed(user, Address.objects.select_related("grid", "village", "house"), f)
    if f.q:
        places = places.filter(label__contains=f.q.strip())
    return _order(places, f, "road", "number", "building", "unit_no", "room")


# ---------------------------------------------------------------------------------------------------------
# Counts


@dataclass
class RecordCounts:
    residents: int = 0
    floating: int = 0
    households: int = 0
    houses: int = 0
    rented: int = 0
    establishments: int = 0
    addresses: int = 0


def _grouped(queryset: QuerySet[Any], grid_ids: Sequence[int]) -> dict[int, int]:
    rows = queryset.filter(grid_id__in=grid_ids).values("grid").annotate(n=Count("id")).values_list("grid", "n")
    return dict(rows)


def grid_counts(user: User, grids: Sequence[OrgUnit]) -> dict[int, RecordCounts]:
    """Per grid (of those given that the user sees): active residents (and how many of them are not 户籍),
    households, houses (and rented ones), open units and addresses; one grouped query per figure."""
    ids = [g.pk for g in grids if policies.can_view_records(user, g)]
    active = Resident.objects.filter(status=Resident.Status.ACTIVE)
    figures = {
        "residents": _grouped(active, ids),
        "floating": _grouped(active.exclude(residence_type=ResidenceType.REGISTERED), ids),
        "households": _grouped(Household.objects.all(), ids),
        "houses": _grouped(House.objects.all(), ids),
        "rented": _grouped(House.objects.filter(use=House.Use.RENTED), ids),
        "establishments": _grouped(Establishment.objects.exclude(status=Establishment.Status.DEREGISTERED), ids),
        "addresses": _grouped(Address.objects.all(), ids),
    }
    counts: dict[int, RecordCounts] = defaultdict(RecordCounts)
    for name, by_grid in figures.items():
        for grid_id, n in by_grid.items():
            setattr(counts[grid_id], name, n)
    return {pk: counts[pk] for pk in ids}


def record_counts(user: User, grid: OrgUnit) -> RecordCounts:
    if not policies.can_view_records(user, grid):
        raise NotFound()
    return grid_counts(user, [grid])[grid.pk]


# ---------------------------------------------------------------------------------------------------------
# Records and their pages


def _one(user: User, queryset: QuerySet[_M], pk: int) -> _M:
    found = queryset.filter(_visible(user), pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def resident_for(user: User, pk: int) -> Resident:
    found: Resident = _one(user, Resident.objects.select_related("grid__parent", "household", "standard_address",
                                                                 "user"), pk)
    return found


def household_for(user: User, pk: int) -> Household:
    found: Household = _one(user, Household.objects.select_related("grid__parent", "standard_address"), pk)
    return found


def household_by_number(user: User, number: str) -> Household:
    """The household with this 户号 among those the user sees (NotFound naming the field otherwise)."""
    text = unicodedata.normalize("NFKC", number or "").strip().replace(" ", "").upper()
    found = Household.objects.filter(_visible(user), number=text).select_related("grid").first() if text else None
    if found is None:
        raise NotFound(_("未找到该户号，或不在您的管辖范围内。"), field="household_number")
    return found


def house_for(user: User, pk: int) -> House:
    found: House = _one(user, House.objects.select_related("grid__parent", "address"), pk)
    return found


def establishment_for(user: User, pk: int) -> Establishment:
    found: Establishment = _one(user, Establishment.objects.select_related("grid__parent", "address"), pk)
    return found


def address_for(user: User, pk: int) -> Address:
    found: Address = _one(user, Address.objects.select_related("grid__parent", "village"), pk)
    return found


def tenancy_for(user: User, pk: int) -> Tenancy:
    found = (Tenancy.objects.select_related("house__grid", "house__address", "resident")
             .filter(policies.records_q(user, "house__grid__path"), pk=pk).first())
    if found is None:
        raise NotFound()
    return found


def record_history(*records: tuple[str, Iterable[int]], limit: int = HISTORY_LIMIT) -> list[RecordChange]:
    """The change history of records, newest first, with the actors' names: (record type, ids) pairs, e.g. a
    house and its tenancies."""
    q = Q(pk__in=[])
    for record_type, ids in records:
        q |= Q(record_type=record_type, record_id__in=list(ids))
    return list(RecordChange.objects.filter(q).select_related("actor").order_by("-at", "-pk")[:limit])


@dataclass
class ResidentPage:
    resident: Resident
    groups: list[SpecialGroup]
    tenancies: list[Tenancy]  # where the person rents, newest first
    history: list[RecordChange]
    may_edit: bool


def resident_page(user: User, pk: int) -> ResidentPage:
    resident = resident_for(user, pk)
    tenancies = list(resident.tenancies.select_related("house__address").order_by("-started_on", "-pk"))
    return ResidentPage(
        resident=resident, groups=list(resident.groups.all()), tenancies=tenancies,
        history=record_history(("resident", [resident.pk]), ("tenancy", [t.pk for t in tenancies])),
        may_edit=policies.can_edit_records(user, resident.grid))


@dataclass
class HouseholdPage:
    household: Household
    members: list[Resident]  # the head first, then by relation; those who left last
    house: House | None  # the house at the household's standard address
    tenants: list[Tenancy]  # that house's current tenants
    history: list[RecordChange]
    may_edit: bool


_RELATION_ORDER = {value: i for i, value in enumerate(Resident.Relation.values)}


def household_page(user: User, pk: int) -> HouseholdPage:
    household = household_for(user, pk)
    members = sorted(household.members.select_related("grid").prefetch_related("groups"),
                     key=lambda m: (m.status != Resident.Status.ACTIVE, _RELATION_ORDER.get(m.relation, 99),
                                    m.birth_date, m.pk))
    house = None
    tenants: list[Tenancy] = []
    if household.standard_address_id is not None:
        house = House.objects.filter(address_id=household.standard_address_id).select_related("address").first()
        if house is not None:
            tenants = list(house.tenancies.filter(ended_on__isnull=True).select_related("resident")
                           .order_by("started_on", "pk"))
    return HouseholdPage(household=household, members=members, house=house, tenants=tenants,
                         history=record_history(("household", [household.pk])),
                         may_edit=policies.can_edit_records(user, household.grid))


@dataclass
class HousePage:
    house: House
    current: list[Tenancy]
    past: list[Tenancy]
    households: list[Household]  # registered at the house's address
    establishments: list[Establishment]
    history: list[RecordChange]
    may_edit: bool


def house_page(user: User, pk: int) -> HousePage:
    house = house_for(user, pk)
    tenancies = list(house.tenancies.select_related("resident__grid").order_by("-started_on", "-pk"))
    return HousePage(
        house=house, current=[t for t in tenancies if t.ended_on is None],
        past=[t for t in tenancies if t.ended_on is not None],
        households=list(Household.objects.filter(standard_address_id=house.address_id).order_by("number")),
        establishments=list(Establishment.objects.filter(address_id=house.address_id).order_by("name")),
        history=record_history(("house", [house.pk]), ("tenancy", [t.pk for t in tenancies])),
        may_edit=policies.can_edit_records(user, house.grid))


@dataclass
class EstablishmentPage:
    establishment: Establishment
    history: list[RecordChange]
    may_edit: bool


def establishment_page(user: User, pk: int) -> EstablishmentPage:
    unit = establishment_for(user, pk)
    return EstablishmentPage(establishment=unit, history=record_history(("establishment", [unit.pk])),
                             may_edit=policies.can_edit_records(user, unit.grid))


@dataclass
class AddressPage:
    address: Address
    house: House | None
    households: list[Household]
    residents: list[Resident]  # living at the address on their own (tenants, lodgers)
    establishments: list[Establishment]
    history: list[RecordChange]
    may_edit: bool


def address_page(user: User, pk: int) -> AddressPage:
    address = address_for(user, pk)
    return AddressPage(
        address=address, house=House.objects.filter(address=address).first(),
        households=list(Household.objects.filter(standard_address=address).order_by("number")),
        residents=list(Resident.objects.filter(standard_address=address, household__isnull=True)
                       .order_by("status", "name", "pk")),
        establishments=list(Establishment.objects.filter(address=address).order_by("name")),
        history=record_history(("address", [address.pk])),
        may_edit=policies.can_edit_records(user, address.grid))

