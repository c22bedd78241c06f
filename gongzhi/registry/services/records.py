"""一标三实 writes: standard addresses, households and their members, residents, houses with their tenants, and
units (establishments). The one way every portal (and the API) adds or edits these records.

Every function is keyword-only and atomic, checks `registry.policies.can_edit_records` for the record's grid
(a record the actor may see but not edit: Forbidden; one out of their scope: NotFound), and writes one history
row per record created or changed (`services.history`). Bad input raises DomainError naming the `field` and
writes nothing. These records have no client keys: a form sent twice is recognised by the record's natural key
(the address components, the 户号, the ID number, the address of a house, the licence number or the unit's name
and address) and the second, identical create answers with the first record instead of a duplicate.

Personal numbers are normalised and checked (`core.validators`), stored encrypted with keyed hashes, and never
compared in clear in the database. Residents are never deleted: they move out (迁出) or die (死亡).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import uscc

from gongzhi.accounts.models import User
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.pii import keyed_hash
from gongzhi.core.text import clean_text
from gongzhi.core.validators import birth_date_from_id, gender_from_id, normalize_id_number, normalize_phone
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry import addresses, policies
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
from gongzhi.registry.services import history, key_persons
from gongzhi.registry.services import normalize_name as _normalize_name

# The fields each record's history shows (in this order on the page).
ADDRESS_FIELDS = ("village", "grid", "road", "number", "building", "unit_no", "room", "label", "code", "lat", "lng")
HOUSEHOLD_FIELDS = ("grid", "number", "address", "standard_address", "lat", "lng")
RESIDENT_FIELDS = ("grid", "household", "name", "id_number", "phone", "gender", "birth_date", "relation",
                   "residence_type", "ethnicity", "standard_address", "groups", "status", "note")
HOUSE_FIELDS = ("address", "grid", "use", "area", "owner_name", "owner_id_number", "owner_phone", "note")
TENANCY_FIELDS = ("house", "resident", "started_on", "ended_on")
ESTABLISHMENT_FIELDS = ("grid", "name", "kind", "licence_number", "industry", "address", "address_text",
                        "legal_person", "legal_person_phone", "staff_count", "safety_contact",
                        "safety_contact_phone", "status", "lat", "lng", "note")

MAX_AREA = Decimal("100000")
MAX_STAFF = 1_000_000
EARLIEST_MOVE_IN = datetime.date(1950, 1, 1)

_M = TypeVar("_M", bound=models.Model)


# ---------------------------------------------------------------------------------------------------------
# Shared checks


def _may_edit(actor: User, grid: OrgUnit) -> None:
    """Whether `actor` may add or change records of `grid`: Forbidden when they may only see it, NotFound when
    it lies outside their scope (so ids cannot be probed)."""
    if policies.can_edit_records(actor, grid):
        return
    if policies.can_view_records(actor, grid):
        raise Forbidden(_("您可以查看但不能修改该网格的登记信息。"))
    raise NotFound()


def _text(value: str | None, *, field: str, max_length: int, required: str | None = None) -> str:
    return clean_text(value, field=field, max_length=max_length, required_message=required,
                      too_long_message=_("不能超过%(n)d个字。") % {"n": max_length})


def _compact(value: str | None, *, field: str, max_length: int, required: str | None = None) -> str:
    """Typed codes and numbers: full-width characters as ASCII (NFKC), no spaces anywhere."""
    text = _text(unicodedata.normalize("NFKC", value or ""), field=field, max_length=10 * max_length,
                 required=required)
    text = re.sub(r"\s+", "", text)
    if len(text) > max_length:
        raise DomainError(_("不能超过%(n)d个字。") % {"n": max_length}, field=field)
    return text


def _choice(value: str, choices: Sequence[tuple[str, object]], *, field: str, required: str | None = None) -> str:
    if not value and required is not None:
        raise DomainError(required, field=field)
    if value and value not in {c for c, _label in choices}:
        raise DomainError(_("请从列表中选择。"), field=field)
    return value


def _point(lat: float | None, lng: float | None) -> tuple[float | None, float | None]:
    if lat is None and lng is None:
        return None, None
    if lat is None or lng is None:
        raise DomainError(_("请同时填写经度和纬度，或都不填。"), field="lat")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError(_("经纬度超出范围。"), field="lat")
    return lat, lng


def _phone(value: str | None, *, field: str) -> str:
    """An optional mobile number, normalised ("" when not given)."""
    if not (value or "").strip():
        return ""
    try:
        return normalize_phone(value or "")
    except DomainError as err:
        raise DomainError(err.message, field=field) from None


def _id_number(value: str, *, field: str = "id_number") -> str:
    try:
        return normalize_id_number(value)
    except DomainError as err:
        raise DomainError(err.message, field=field) from None


def _name(value: str, *, field: str = "name") -> str:
    try:
        return _normalize_name(value)
    except DomainError as err:
        raise DomainError(err.message, field=field) from None


def _same_name(stored: str, name: str) -> bool:
    try:
        return _normalize_name(stored) == name
    except DomainError:
        return stored == name


def _today() -> datetime.date:
    return timezone.localdate()


def _log_created(actor: User, obj: models.Model, fields: Sequence[str]) -> None:
    history.log_change(actor=actor, obj=obj, action=RecordChange.Action.CREATED, before={},
                       after=history.snapshot(obj, fields))


def _save_unique(obj: _M, again: Callable[[], _M | None]) -> _M:
    """Insert `obj` in a savepoint; when a concurrent identical form won the race (a unique constraint), answer
    with its record instead (`again` finds it, or returns None to let the error through)."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        found = again()
        if found is None:
            raise
        return found
    return obj


# ---------------------------------------------------------------------------------------------------------
# Standard addresses (标准地址)


@dataclass(frozen=True)
class AddressInput:
    """The parts of a standard address as typed: the village and grid, the road, lane or estate, and the door
    number, building, unit and room (each optional)."""

    village: OrgUnit
    grid: OrgUnit
    road: str
    number: str = ""
    building: str = ""
    unit_no: str = ""
    room: str = ""
    code: str = ""
    lat: float | None = None
    lng: float | None = None


# A component typed with its unit word keeps only the value: "12号" is "12", "3号楼" is "3".
_COMPONENT_LENGTH = {"road": 60, "number": 20, "building": 20, "unit_no": 10, "room": 20}


def _component(value: str, name: str) -> str:
    return addresses.bare(name, _compact(value, field=name, max_length=_COMPONENT_LENGTH[name]))


@dataclass(frozen=True)
class _CleanAddress:
    village: OrgUnit
    grid: OrgUnit
    road: str
    number: str
    building: str
    unit_no: str
    room: str
    code: str
    lat: float | None
    lng: float | None

    @property
    def key(self) -> dict[str, object]:
        return {"village": self.village, "road": self.road, "number": self.number, "building": self.building,
                "unit_no": self.unit_no, "room": self.room}

    @property
    def label(self) -> str:
        return addresses.compose_label(self.road, self.number, self.building, self.unit_no, self.room)


def _grid_of_village(village: OrgUnit, grid: OrgUnit) -> None:
    if village.level != Level.VILLAGE or village.kind != UnitKind.AREA:
        raise DomainError(_("请选择村(社区)。"), field="village")
    if grid.level != Level.GRID or grid.kind != UnitKind.AREA or grid.parent_id != village.pk or not grid.is_active:
        raise DomainError(_("所选网格不属于该村(社区)。"), field="grid")


def _clean_address(data: AddressInput) -> _CleanAddress:
    _grid_of_village(data.village, data.grid)
    road = _compact(data.road, field="road", max_length=60, required=_("请填写街路巷、小区或自然村(社)名称。"))
    lat, lng = _point(data.lat, data.lng)
    return _CleanAddress(
        village=data.village, grid=data.grid, road=road, number=_component(data.number, "number"),
        building=_component(data.building, "building"), unit_no=_component(data.unit_no, "unit_no"),
        room=_component(data.room, "room"), code=_compact(data.code, field="code", max_length=40), lat=lat, lng=lng)


def _address_same(address: Address, data: _CleanAddress) -> bool:
    return (address.grid_id == data.grid.pk and address.code == data.code
            and (data.lat is None or (address.lat, address.lng) == (data.lat, data.lng)))


def _check_code_free(code: str, exclude: int | None = None) -> None:
    others = Address.objects.filter(code=code)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if code and others.exists():
        raise Conflict(_("该标准地址编码已被其他地址使用。"), field="code", code="duplicate")


def _address_taken(existing: Address) -> Conflict:
    return Conflict(_("该地址已登记（%(label)s，%(grid)s）。") % {"label": existing.label, "grid": existing.grid.name},
                    field="road", code="duplicate")


@transaction.atomic
def create_address(*, actor: User, data: AddressInput) -> Address:
    """登记标准地址. The components (village, road, number, building, unit, room) are its natural key: the same
    address again answers with the first when nothing else differs, else Conflict (field "road")."""
    _may_edit(actor, data.grid)
    clean = _clean_address(data)
    existing = Address.objects.select_related("grid").filter(**clean.key).first()
    if existing is not None:
        if _address_same(existing, clean):
            return existing
        raise _address_taken(existing)
    _check_code_free(clean.code)
    address = Address(**clean.key, grid=clean.grid, label=clean.label, code=clean.code, lat=clean.lat,
                      lng=clean.lng)
    saved = _save_unique(address, lambda: Address.objects.filter(**clean.key, grid=clean.grid).first())
    if saved is address:
        _log_created(actor, address, ADDRESS_FIELDS)
    return saved


def _address_for(actor: User, value: Address | AddressInput) -> Address:
    """An address given as a record, or as typed: the registered one with these components (which must lie in
    the typed grid), else a new one. Either way the actor must be allowed to edit its grid."""
    if isinstance(value, Address):
        _may_edit(actor, value.grid)
        return value
    _may_edit(actor, value.grid)
    clean = _clean_address(value)
    existing = Address.objects.select_related("grid").filter(**clean.key).first()
    if existing is not None:
        if existing.grid_id != clean.grid.pk:
            raise _address_taken(existing)
        return existing
    return create_address(actor=actor, data=value)


@transaction.atomic
def update_address(*, actor: User, address: Address, data: AddressInput) -> Address:
    """修改标准地址. A new grid moves the house at the address with it (a house lies in its address's grid)."""
    _may_edit(actor, address.grid)
    if data.grid.pk != address.grid_id:
        _may_edit(actor, data.grid)
    clean = _clean_address(data)
    clash = Address.objects.select_related("grid").filter(**clean.key).exclude(pk=address.pk).first()
    if clash is not None:
        raise _address_taken(clash)
    _check_code_free(clean.code, exclude=address.pk)
    before = history.snapshot(address, ADDRESS_FIELDS)
    for name, value in clean.key.items():
        setattr(address, name, value)
    address.grid, address.label, address.code = clean.grid, clean.label, clean.code
    address.lat, address.lng = clean.lat, clean.lng
    address.save()
    history.log_change(actor=actor, obj=address, action=RecordChange.Action.UPDATED, before=before,
                       after=history.snapshot(address, ADDRESS_FIELDS))
    house = House.objects.filter(address=address).exclude(grid=clean.grid).first()
    if house is not None:
        before = history.snapshot(house, HOUSE_FIELDS)
        house.grid = clean.grid
        house.save(update_fields=["grid", "updated_at"])
        history.log_change(actor=actor, obj=house, action=RecordChange.Action.UPDATED, before=before,
                           after=history.snapshot(house, HOUSE_FIELDS))
    return address


# ---------------------------------------------------------------------------------------------------------
# Households (户)


def _household_number(value: str) -> str:
    return _compact(value, field="number", max_length=30, required=_("请填写户号。")).upper()


def _standard_address(address: Address | None, grid: OrgUnit, *, field: str = "standard_address") -> None:
    if address is not None and address.grid_id != grid.pk:
        raise DomainError(_("标准地址不在所选网格内。"), field=field)


def _household_text(address_text: str, standard_address: Address | None, village: OrgUnit) -> str:
    text = _text(address_text, field="address", max_length=200)
    if not text and standard_address is not None:
        text = f"{village.name}{standard_address.label}"[:200]
    if not text:
        raise DomainError(_("请填写住址。"), field="address")
    return text


def _number_taken(actor: User, existing: Household) -> Conflict:
    if policies.can_view_records(actor, existing.grid):
        return Conflict(_("该户号已登记：%(address)s（%(grid)s）。") % {"address": existing.address,
                                                                   "grid": existing.grid.name},
                        field="number", code="duplicate")
    return Conflict(_("该户号已被使用，请核对户号。"), field="number", code="duplicate")


@transaction.atomic
def create_household(*, actor: User, grid: OrgUnit, number: str, address: str = "",
                     standard_address: Address | None = None, lat: float | None = None,
                     lng: float | None = None) -> Household:
    """登记户. The 户号 is unique: a second identical form answers with the first household; another household
    with the number is a Conflict (naming where it is only to those who may see it)."""
    _may_edit(actor, grid)
    if grid.level != Level.GRID or grid.parent is None:
        raise DomainError(_("请选择网格。"), field="grid")
    number = _household_number(number)
    _standard_address(standard_address, grid)
    text = _household_text(address, standard_address, grid.parent)
    lat, lng = _point(lat, lng)
    existing = Household.objects.select_related("grid").filter(number=number).first()
    if existing is not None:
        if existing.grid_id == grid.pk and existing.address == text:
            return existing
        raise _number_taken(actor, existing)
    household = Household(village=grid.parent, grid=grid, number=number, address=text,
                          standard_address=standard_address, lat=lat, lng=lng)
    saved = _save_unique(household, lambda: Household.objects.filter(number=number, grid=grid).first())
    if saved is household:
        _log_created(actor, household, HOUSEHOLD_FIELDS)
    return saved


@transaction.atomic
def update_household(*, actor: User, household: Household, grid: OrgUnit, number: str, address: str = "",
                     standard_address: Address | None = None, lat: float | None = None,
                     lng: float | None = None) -> Household:
    """修改户. A new grid (within the same village) moves every member with it."""
    _may_edit(actor, household.grid)
    if grid.pk != household.grid_id:
        _may_edit(actor, grid)
        if grid.level != Level.GRID or grid.parent_id != household.village_id:
            raise DomainError(_("只能改到本村(社区)的其他网格。"), field="grid")
    number = _household_number(number)
    _standard_address(standard_address, grid)
    text = _household_text(address, standard_address, household.village)
    lat, lng = _point(lat, lng)
    clash = Household.objects.select_related("grid").filter(number=number).exclude(pk=household.pk).first()
    if clash is not None:
        raise _number_taken(actor, clash)
    before = history.snapshot(household, HOUSEHOLD_FIELDS)
    moved = grid.pk != household.grid_id
    household.grid, household.number, household.address = grid, number, text
    household.standard_address, household.lat, household.lng = standard_address, lat, lng
    household.save()
    history.log_change(actor=actor, obj=household, action=RecordChange.Action.UPDATED, before=before,
                       after=history.snapshot(household, HOUSEHOLD_FIELDS))
    if moved:
        members = list(Resident.objects.filter(household=household).exclude(grid=grid))
        for member in members:
            before = history.snapshot(member, RESIDENT_FIELDS)
            member.grid = grid
            member.save(update_fields=["grid", "updated_at"])
            history.log_change(actor=actor, obj=member, action=RecordChange.Action.UPDATED, before=before,
                               after=history.snapshot(member, RESIDENT_FIELDS))
        key_persons.follow_residents([m.pk for m in members])
    return household


# ---------------------------------------------------------------------------------------------------------
# Residents (实有人口)


@dataclass(frozen=True)
class ResidentInput:
    """A person as typed on the form. On an edit, `id_number` and `phone` left as None keep the stored ones
    (the form shows them masked and does not send them back)."""

    name: str
    id_number: str | None
    gender: str = ""
    birth_date: datetime.date | None = None
    phone: str | None = ""
    relation: str = ""
    residence_type: str = ResidenceType.REGISTERED
    ethnicity: str = ""
    groups: Sequence[SpecialGroup] = ()
    note: str = ""


@dataclass(frozen=True)
class _CleanPerson:
    name: str
    id_number: str | None
    gender: str
    birth_date: datetime.date
    phone: str | None
    relation: str
    residence_type: str
    ethnicity: str
    groups: tuple[SpecialGroup, ...]
    note: str


def _clean_person(data: ResidentInput, *, stored_id: str | None = None) -> _CleanPerson:
    name = _name(data.name)
    id_number = _id_number(data.id_number) if data.id_number is not None else None
    effective = id_number or stored_id
    if effective is None:
        raise DomainError(_("请填写身份证号码。"), field="id_number")
    gender = _choice(data.gender, [("M", ""), ("F", "")], field="gender")
    derived_gender, derived_birth = gender_from_id(effective), birth_date_from_id(effective)
    if gender and gender != derived_gender:
        raise DomainError(_("性别与身份证号不一致：身份证号显示为%(gender)s。") % {
            "gender": _("男") if derived_gender == "M" else _("女")}, field="gender")
    if data.birth_date is not None and data.birth_date != derived_birth:
        raise DomainError(_("出生日期与身份证号不一致：身份证号显示为%(date)s。") % {
            "date": derived_birth.isoformat()}, field="birth_date")
    return _CleanPerson(
        name=name, id_number=id_number, gender=derived_gender, birth_date=derived_birth,
        phone=_phone(data.phone, field="phone") if data.phone is not None else None,
        relation=_choice(data.relation, Resident.Relation.choices, field="relation"),
        residence_type=_choice(data.residence_type, ResidenceType.choices, field="residence_type",
                               required=_("请选择人口类型。")),
        ethnicity=_text(data.ethnicity, field="ethnicity", max_length=20),
        groups=tuple(data.groups), note=_text(data.note, field="note", max_length=200))


def _where(resident: Resident) -> str:
    if resident.household is not None:
        return _("户号%(number)s，%(address)s") % {"number": resident.household.number,
                                                "address": resident.household.address}
    if resident.standard_address is not None:
        return resident.standard_address.label
    return ""


def _id_taken(actor: User, existing: Resident, *, field: str = "id_number") -> Conflict:
    """An ID number already registered: where, to someone who may see that record; a neutral message else."""
    if policies.can_view_records(actor, existing.grid):
        where = _where(existing)
        names = {"name": existing.name, "grid": existing.grid.name, "where": where}
        message = (_("该身份证号已登记：%(name)s，%(grid)s，%(where)s。") % names if where
                   else _("该身份证号已登记：%(name)s，%(grid)s。") % names)
        return Conflict(message, field=field, code="duplicate")
    return Conflict(_("该身份证号已在其他地方登记，不能重复登记。如该居民已迁入，请联系原登记地或上级核实。"),
                    field=field, code="duplicate")


def _existing(id_number: str) -> Resident | None:
    return (Resident.objects.select_related("grid", "household", "standard_address")
            .filter(id_number_hash=keyed_hash(id_number)).first())


def _placement(actor: User, *, grid: OrgUnit | None, household: Household | None,
               standard_address: Address | None) -> OrgUnit:
    """The grid a person is registered in: their household's, else the one given; checked for the actor."""
    if household is not None:
        grid = household.grid
    if grid is None or grid.level != Level.GRID:
        raise DomainError(_("请选择网格。"), field="grid")
    _may_edit(actor, grid)
    _standard_address(standard_address, grid)
    return grid


def _check_relation(person: _CleanPerson, household: Household | None, resident: Resident | None = None) -> None:
    if household is None:
        if person.relation:
            raise DomainError(_("没有所属户的居民不填与户主关系。"), field="relation")
        return
    if not person.relation:
        raise DomainError(_("请选择与户主关系。"), field="relation")
    if person.relation == Resident.Relation.HEAD:
        heads = Resident.objects.filter(household=household, relation=Resident.Relation.HEAD,
                                        status=Resident.Status.ACTIVE)
        if resident is not None:
            heads = heads.exclude(pk=resident.pk)
        head = heads.first()
        if head is not None:
            raise DomainError(_("该户已有户主（%(name)s）。请先修改原户主的关系。") % {"name": head.name},
                              field="relation")


def _check_groups(groups: Sequence[SpecialGroup], kept: Sequence[int] = ()) -> None:
    if any(not g.is_active and g.pk not in kept for g in groups):
        raise DomainError(_("该特殊人群类别已停用。"), field="groups")


@transaction.atomic
def add_resident(*, actor: User, data: ResidentInput, grid: OrgUnit | None = None,
                 household: Household | None = None, standard_address: Address | None = None) -> Resident:
    """登记居民: a household member (in the household's grid) or a person on their own (a tenant, lodger …) in
    `grid`, living at `standard_address`. Gender and birth date come from the ID number, and must agree with it
    when given. An ID number already registered is a Conflict, unless it is this very form again (same name,
    grid and household), which answers with the first record."""
    grid = _placement(actor, grid=grid, household=household, standard_address=standard_address)
    if data.id_number is None:
        raise DomainError(_("请填写身份证号码。"), field="id_number")
    person = _clean_person(data)
    assert person.id_number is not None
    existing = _existing(person.id_number)
    if existing is not None:
        if (existing.name == person.name and existing.grid_id == grid.pk
                and existing.household_id == (household.pk if household else None)):
            return existing
        raise _id_taken(actor, existing)
    _check_relation(person, household)
    _check_groups(person.groups)
    resident = Resident(grid=grid, household=household, standard_address=standard_address, name=person.name,
                        id_number=person.id_number, phone=person.phone or "", gender=person.gender,
                        birth_date=person.birth_date, relation=person.relation,
                        residence_type=person.residence_type, ethnicity=person.ethnicity, note=person.note)
    saved = _save_unique(resident, lambda: _existing(person.id_number or ""))
    if saved is not resident:
        return saved
    resident.groups.set(person.groups)
    _log_created(actor, resident, RESIDENT_FIELDS)
    return resident


@transaction.atomic
def edit_resident(*, actor: User, resident: Resident, data: ResidentInput, household: Household | None,
                  standard_address: Address | None = None, grid: OrgUnit | None = None) -> Resident:
    """修改居民信息, and moving them into another household (or out of one, to `grid`). The actor must be allowed
    to edit both the old grid and the new."""
    _may_edit(actor, resident.grid)
    new_grid = _placement(actor, grid=grid or resident.grid, household=household, standard_address=standard_address)
    stored_id = resident.id_number.reveal() if resident.id_number else None
    person = _clean_person(data, stored_id=stored_id)
    _check_relation(person, household, resident)
    _check_groups(person.groups, kept=list(resident.groups.values_list("pk", flat=True)))
    if person.id_number is not None and person.id_number != stored_id:
        clash = _existing(person.id_number)
        if clash is not None and clash.pk != resident.pk:
            raise _id_taken(actor, clash)
    before = history.snapshot(resident, RESIDENT_FIELDS)
    resident.grid, resident.household, resident.standard_address = new_grid, household, standard_address
    resident.name, resident.gender, resident.birth_date = person.name, person.gender, person.birth_date
    if person.id_number is not None:
        resident.id_number = person.id_number
    if person.phone is not None:
        resident.phone = person.phone
    resident.relation, resident.residence_type = person.relation, person.residence_type
    resident.ethnicity, resident.note = person.ethnicity, person.note
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError:  # the ID number was registered meanwhile
        raise Conflict(_("该身份证号已被登记，请刷新后重试。"), field="id_number", code="duplicate") from None
    resident.groups.set(person.groups)
    key_persons.follow_residents([resident.pk])
    history.log_change(actor=actor, obj=resident, action=RecordChange.Action.UPDATED, before=before,
                       after=history.snapshot(resident, RESIDENT_FIELDS))
    return resident


LEAVING = (Resident.Status.MOVED_OUT, Resident.Status.DECEASED)


@transaction.atomic
def set_resident_status(*, actor: User, resident: Resident, status: str, note: str = "") -> Resident:
    """迁出 or 死亡 instead of deleting a person (their open tenancies end today), or back to 在册. Setting the
    status a person already has changes nothing."""
    _may_edit(actor, resident.grid)
    status = _choice(status, Resident.Status.choices, field="status", required=_("请选择状态。"))
    note = _text(note, field="note", max_length=200)
    if status == resident.status:
        return resident
    if resident.status == Resident.Status.DECEASED:
        raise DomainError(_("已死亡的居民不能改为其他状态。如登记有误，请联系上级核实。"), field="status")
    before = history.snapshot(resident, RESIDENT_FIELDS)
    resident.status = status
    if note:
        resident.note = note
    resident.save(update_fields=["status", "note", "updated_at"])
    leaving = status in LEAVING
    history.log_change(actor=actor, obj=resident, before=before, after=history.snapshot(resident, RESIDENT_FIELDS),
                       action=RecordChange.Action.ENDED if leaving else RecordChange.Action.UPDATED)
    if leaving:
        for tenancy in Tenancy.objects.filter(resident=resident, ended_on__isnull=True).select_related("house"):
            _close(actor, tenancy, max(_today(), tenancy.started_on))
    return resident


# ---------------------------------------------------------------------------------------------------------
# Houses (实有房屋) and tenants


@dataclass(frozen=True)
class HouseInput:
    """A house as typed. On an edit, owner numbers left as None keep the stored ones."""

    use: str
    area: Decimal | None = None
    owner_name: str = ""
    owner_id_number: str | None = ""
    owner_phone: str | None = ""
    note: str = ""


@dataclass(frozen=True)
class TenantInput:
    """One tenant of the 登记出租房屋 form."""

    name: str
    id_number: str
    phone: str = ""
    started_on: datetime.date | None = None


def _clean_house(data: HouseInput) -> HouseInput:
    use = _choice(data.use, House.Use.choices, field="use", required=_("请选择房屋用途。"))
    if data.area is not None and not (0 < data.area < MAX_AREA):
        raise DomainError(_("建筑面积应大于0且小于%(n)s平方米。") % {"n": MAX_AREA}, field="area")
    owner_id = data.owner_id_number
    if owner_id is not None and owner_id.strip():
        owner_id = _id_number(owner_id, field="owner_id_number")
    owner_phone = _phone(data.owner_phone, field="owner_phone") if data.owner_phone is not None else None
    return HouseInput(use=use, area=data.area, owner_name=_text(data.owner_name, field="owner_name", max_length=50),
                      owner_id_number=owner_id.strip() if owner_id is not None else None, owner_phone=owner_phone,
                      note=_text(data.note, field="note", max_length=200))


def _house_same(house: House, data: HouseInput) -> bool:
    return (house.use == data.use and house.area == data.area and house.owner_name == data.owner_name
            and house.note == data.note)


def _apply_house(house: House, data: HouseInput) -> None:
    house.use, house.area, house.owner_name, house.note = data.use, data.area, data.owner_name, data.note
    if data.owner_id_number is not None:
        house.owner_id_number = data.owner_id_number
    if data.owner_phone is not None:
        house.owner_phone = data.owner_phone


@transaction.atomic
def create_house(*, actor: User, address: Address | AddressInput, data: HouseInput) -> House:
    """登记房屋 at a standard address (registered, or typed and registered now); the house lies in the address's
    grid. An address holds one house: the same form again answers with it, another is a Conflict."""
    place = _address_for(actor, address)
    clean = _clean_house(data)
    existing = House.objects.filter(address=place).first()
    if existing is not None:
        if _house_same(existing, clean):
            return existing
        raise Conflict(_("该地址已登记房屋，请打开该房屋修改。"), field="address", code="duplicate")
    house = House(address=place, grid=place.grid)
    _apply_house(house, clean)
    saved = _save_unique(house, lambda: House.objects.filter(address=place).first())
    if saved is house:
        _log_created(actor, house, HOUSE_FIELDS)
    return saved


@transaction.atomic
def update_house(*, actor: User, house: House, data: HouseInput) -> House:
    """修改房屋. A house with tenants living in it stays 出租 until they move out."""
    _may_edit(actor, house.grid)
    clean = _clean_house(data)
    if clean.use != House.Use.RENTED and house.tenancies.filter(ended_on__isnull=True).exists():
        raise DomainError(_("该房屋还有在住租客，请先登记租客搬离。"), field="use")
    before = history.snapshot(house, HOUSE_FIELDS)
    _apply_house(house, clean)
    house.save()
    history.log_change(actor=actor, obj=house, action=RecordChange.Action.UPDATED, before=before,
                       after=history.snapshot(house, HOUSE_FIELDS))
    return house


def _move_in_date(value: datetime.date | None) -> datetime.date:
    if value is None:
        raise DomainError(_("请填写入住日期。"), field="started_on")
    if value > _today():
        raise DomainError(_("入住日期不能晚于今天。"), field="started_on")
    if value < EARLIEST_MOVE_IN:
        raise DomainError(_("入住日期无效。"), field="started_on")
    return value


def _tenant_record(actor: User, house: House, tenant: TenantInput) -> Resident:
    """The registry's person for a tenant: linked by ID number when registered (the name must match), else a
    new 流动人口 at the house's address, in its grid."""
    name = _name(tenant.name)
    id_number = _id_number(tenant.id_number)
    phone = _phone(tenant.phone, field="phone")
    existing = _existing(id_number)
    if existing is None:
        resident = Resident(grid=house.grid, standard_address=house.address, name=name, id_number=id_number,
                            phone=phone, gender=gender_from_id(id_number), birth_date=birth_date_from_id(id_number),
                            residence_type=ResidenceType.FLOATING)
        saved = _save_unique(resident, lambda: _existing(id_number))
        if saved is not resident:
            if not _same_name(saved.name, name):
                raise DomainError(_("姓名与该身份证号已登记的姓名不一致，请核对。"), field="name")
            return saved
        _log_created(actor, resident, RESIDENT_FIELDS)
        return resident
    if not _same_name(existing.name, name):
        raise DomainError(_("姓名与该身份证号已登记的姓名不一致，请核对。"), field="name")
    if existing.status == Resident.Status.DECEASED:
        raise DomainError(_("该身份证号登记为已死亡，不能登记为租客。"), field="id_number")
    # A person without a household here lives where they rent: moved to the house when the actor may.
    if existing.household_id is None and policies.can_edit_records(actor, existing.grid) and (
            existing.standard_address_id != house.address_id or existing.status != Resident.Status.ACTIVE):
        before = history.snapshot(existing, RESIDENT_FIELDS)
        existing.grid, existing.standard_address, existing.status = house.grid, house.address, Resident.Status.ACTIVE
        existing.save(update_fields=["grid", "standard_address", "status", "updated_at"])
        history.log_change(actor=actor, obj=existing, action=RecordChange.Action.UPDATED, before=before,
                           after=history.snapshot(existing, RESIDENT_FIELDS))
    return existing


def _open_tenancy(actor: User, house: House, resident: Resident, started_on: datetime.date) -> Tenancy:
    current = Tenancy.objects.filter(house=house, resident=resident, ended_on__isnull=True).first()
    if current is not None:
        return current
    tenancy = Tenancy(house=house, resident=resident, started_on=started_on)
    saved = _save_unique(tenancy, lambda: Tenancy.objects.filter(house=house, resident=resident,
                                                                 ended_on__isnull=True).first())
    if saved is tenancy:
        _log_created(actor, tenancy, TENANCY_FIELDS)
    return saved


def _with_prefix(err: DomainError, prefix: str) -> DomainError:
    """The same refusal, naming the field of one tenant block ("tenants.1.id_number")."""
    if err.field is None and isinstance(err, NotFound | Forbidden):
        return err
    return type(err)(err.message, code=err.code, field=f"{prefix}.{err.field or 'name'}")


def _add_tenants(actor: User, house: House, tenants: Sequence[TenantInput]) -> list[Tenancy]:
    seen: set[str] = set()
    done = []
    for index, tenant in enumerate(tenants):
        try:
            key = _id_number(tenant.id_number)
            if key in seen:
                raise DomainError(_("同一身份证号填写了两次。"), field="id_number")
            seen.add(key)
            started_on = _move_in_date(tenant.started_on)
            resident = _tenant_record(actor, house, tenant)
            done.append(_open_tenancy(actor, house, resident, started_on))
        except DomainError as err:
            raise _with_prefix(err, f"tenants.{index}") from None
    return done


def _make_rented(actor: User, house: House) -> None:
    if house.use != House.Use.RENTED:
        before = history.snapshot(house, HOUSE_FIELDS)
        house.use = House.Use.RENTED
        house.save(update_fields=["use", "updated_at"])
        history.log_change(actor=actor, obj=house, action=RecordChange.Action.UPDATED, before=before,
                           after=history.snapshot(house, HOUSE_FIELDS))


@transaction.atomic
def register_rented_house(*, actor: User, address: Address | AddressInput, data: HouseInput,
                          tenants: Sequence[TenantInput]) -> House:
    """登记出租房屋 in one form: the house at a standard address (registered now when typed), its owner, and any
    number of tenants, each linked to their registry record by ID number or registered as 流动人口 at the
    house's address. A house already at the address becomes 出租 (owner details given replace the stored
    ones; left empty they stay). The same form sent twice adds nothing the second time. A refusal about one
    tenant names its field as "tenants.<index>.<field>"."""
    place = _address_for(actor, address)
    clean = _clean_house(HouseInput(use=House.Use.RENTED, area=data.area, owner_name=data.owner_name,
                                    owner_id_number=data.owner_id_number or None,
                                    owner_phone=data.owner_phone or None, note=data.note))
    house = House.objects.select_for_update().filter(address=place).first()
    if house is None:
        house = House(address=place, grid=place.grid)
        _apply_house(house, clean)
        new = house
        house = _save_unique(new, lambda: House.objects.filter(address=place).first())
        if house is new:
            _log_created(actor, house, HOUSE_FIELDS)
    else:
        before = history.snapshot(house, HOUSE_FIELDS)
        house.use = House.Use.RENTED
        house.area = clean.area if clean.area is not None else house.area
        house.owner_name = clean.owner_name or house.owner_name
        house.note = clean.note or house.note
        if clean.owner_id_number:
            house.owner_id_number = clean.owner_id_number
        if clean.owner_phone:
            house.owner_phone = clean.owner_phone
        house.save()
        history.log_change(actor=actor, obj=house, action=RecordChange.Action.UPDATED, before=before,
                           after=history.snapshot(house, HOUSE_FIELDS))
    _add_tenants(actor, house, tenants)
    return house


@transaction.atomic
def add_tenancy(*, actor: User, house: House, tenant: TenantInput) -> Tenancy:
    """登记租客 of a house (which becomes 出租 if it was not)."""
    _may_edit(actor, house.grid)
    _make_rented(actor, house)
    [tenancy] = _add_tenants(actor, house, [tenant])
    return tenancy


def _close(actor: User, tenancy: Tenancy, ended_on: datetime.date) -> Tenancy:
    before = history.snapshot(tenancy, TENANCY_FIELDS)
    tenancy.ended_on = ended_on
    tenancy.save(update_fields=["ended_on", "updated_at"])
    history.log_change(actor=actor, obj=tenancy, action=RecordChange.Action.ENDED, before=before,
                       after=history.snapshot(tenancy, TENANCY_FIELDS))
    return tenancy


@transaction.atomic
def end_tenancy(*, actor: User, tenancy: Tenancy, ended_on: datetime.date | None = None) -> Tenancy:
    """租客搬离 on `ended_on` (today when not given). Ending it again on the same day changes nothing."""
    _may_edit(actor, tenancy.house.grid)
    ended_on = ended_on or _today()
    if tenancy.ended_on is not None:
        if tenancy.ended_on == ended_on:
            return tenancy
        raise DomainError(_("该租客已于%(date)s搬离。") % {"date": tenancy.ended_on.isoformat()}, field="ended_on")
    if ended_on > _today():
        raise DomainError(_("搬离日期不能晚于今天。"), field="ended_on")
    if ended_on < tenancy.started_on:
        raise DomainError(_("搬离日期不能早于入住日期。"), field="ended_on")
    return _close(actor, tenancy, ended_on)


# ---------------------------------------------------------------------------------------------------------
# Units (实有单位)


@dataclass(frozen=True)
class EstablishmentInput:
    """A unit as typed. On an edit, phones left as None keep the stored ones."""

    name: str
    kind: str
    licence_number: str = ""
    industry: str = ""
    address_text: str = ""
    legal_person: str = ""
    legal_person_phone: str | None = ""
    staff_count: int | None = None
    safety_contact: str = ""
    safety_contact_phone: str | None = ""
    status: str = Establishment.Status.OPEN
    lat: float | None = None
    lng: float | None = None
    note: str = ""


_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def normalize_licence(value: str) -> str:
    """A 统一社会信用代码 (18 characters, check digit verified) or an old 15-digit 注册号, as typed with full-width
    characters, spaces or lower case; "" when not given."""
    text = _compact(value, field="licence_number", max_length=30).upper()
    if not text:
        return ""
    if len(text) == 15 and text.isdigit():
        return text
    if len(text) != 18 or not _USCC_RE.match(text):
        raise DomainError(_("统一社会信用代码应为18位（或15位营业执照注册号）。"), field="licence_number")
    if not uscc.is_valid(text):
        raise DomainError(_("统一社会信用代码校验位不正确，请核对。"), field="licence_number")
    return text


def _clean_establishment(data: EstablishmentInput, address: Address | None, grid: OrgUnit) -> EstablishmentInput:
    _standard_address(address, grid, field="address_text")
    if data.staff_count is not None and not 0 <= data.staff_count <= MAX_STAFF:
        raise DomainError(_("从业人数无效。"), field="staff_count")
    lat, lng = _point(data.lat, data.lng)
    text = _text(data.address_text, field="address_text", max_length=200)
    if not text and address is not None:
        text = f"{grid.parent.name if grid.parent else ''}{address.label}"[:200]
    return EstablishmentInput(
        name=_text(data.name, field="name", max_length=100, required=_("请填写单位名称。")),
        kind=_choice(data.kind, Establishment.Kind.choices, field="kind", required=_("请选择单位类型。")),
        licence_number=normalize_licence(data.licence_number),
        industry=_text(data.industry, field="industry", max_length=30), address_text=text,
        legal_person=_text(data.legal_person, field="legal_person", max_length=50),
        legal_person_phone=(_phone(data.legal_person_phone, field="legal_person_phone")
                            if data.legal_person_phone is not None else None),
        staff_count=data.staff_count,
        safety_contact=_text(data.safety_contact, field="safety_contact", max_length=50),
        safety_contact_phone=(_phone(data.safety_contact_phone, field="safety_contact_phone")
                              if data.safety_contact_phone is not None else None),
        status=_choice(data.status, Establishment.Status.choices, field="status", required=_("请选择经营状态。")),
        lat=lat, lng=lng, note=_text(data.note, field="note", max_length=200))


def _apply_establishment(unit: Establishment, data: EstablishmentInput) -> None:
    for name in ("name", "kind", "licence_number", "industry", "address_text", "legal_person", "staff_count",
                 "safety_contact", "status", "lat", "lng", "note"):
        setattr(unit, name, getattr(data, name))
    if data.legal_person_phone is not None:
        unit.legal_person_phone = data.legal_person_phone
    if data.safety_contact_phone is not None:
        unit.safety_contact_phone = data.safety_contact_phone


def _licence_taken(actor: User, existing: Establishment) -> Conflict:
    if policies.can_view_records(actor, existing.grid):
        return Conflict(_("该统一社会信用代码已登记：%(name)s（%(grid)s）。") % {"name": existing.name,
                                                                         "grid": existing.grid.name},
                        field="licence_number", code="duplicate")
    return Conflict(_("该统一社会信用代码已被其他单位登记，请核对。"), field="licence_number", code="duplicate")


@transaction.atomic
def create_establishment(*, actor: User, grid: OrgUnit, data: EstablishmentInput,
                         address: Address | None = None) -> Establishment:
    """登记单位. The licence number is unique when given (the same form again answers with the first unit);
    without one, a unit of the same name at the same address in the grid is taken to be this form again."""
    _may_edit(actor, grid)
    if grid.level != Level.GRID:
        raise DomainError(_("请选择网格。"), field="grid")
    clean = _clean_establishment(data, address, grid)
    if clean.licence_number:
        existing = (Establishment.objects.select_related("grid")
                    .filter(licence_number=clean.licence_number).first())
        if existing is not None:
            if existing.grid_id == grid.pk and existing.name == clean.name:
                return existing
            raise _licence_taken(actor, existing)
    else:
        same = Establishment.objects.filter(grid=grid, name=clean.name, address=address,
                                            address_text=clean.address_text, licence_number="").first()
        if same is not None:
            return same
    unit = Establishment(grid=grid, address=address)
    _apply_establishment(unit, clean)
    saved = _save_unique(unit, lambda: Establishment.objects.filter(
        licence_number=clean.licence_number, grid=grid, name=clean.name).first() if clean.licence_number else None)
    if saved is unit:
        _log_created(actor, unit, ESTABLISHMENT_FIELDS)
    return saved


@transaction.atomic
def update_establishment(*, actor: User, establishment: Establishment, data: EstablishmentInput,
                         grid: OrgUnit | None = None, address: Address | None = None) -> Establishment:
    """修改单位 (including its 经营状态: 停业, 已注销); a new grid must be one the actor may edit too."""
    _may_edit(actor, establishment.grid)
    grid = grid or establishment.grid
    if grid.pk != establishment.grid_id:
        _may_edit(actor, grid)
        if grid.level != Level.GRID:
            raise DomainError(_("请选择网格。"), field="grid")
    clean = _clean_establishment(data, address, grid)
    if clean.licence_number:
        clash = (Establishment.objects.select_related("grid").filter(licence_number=clean.licence_number)
                 .exclude(pk=establishment.pk).first())
        if clash is not None:
            raise _licence_taken(actor, clash)
    before = history.snapshot(establishment, ESTABLISHMENT_FIELDS)
    establishment.grid, establishment.address = grid, address
    _apply_establishment(establishment, clean)
    try:
        with transaction.atomic():
            establishment.save()
    except IntegrityError:
        raise Conflict(_("该统一社会信用代码已被其他单位登记，请核对。"), field="licence_number",
                       code="duplicate") from None
    history.log_change(actor=actor, obj=establishment, action=RecordChange.Action.UPDATED, before=before,
                       after=history.snapshot(establishment, ESTABLISHMENT_FIELDS))
    return establishment
