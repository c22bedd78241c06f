"""标准地址, 实有房屋 and 实有单位: their imports and exports.

Natural keys: an address by 标准地址编码 when the row gives one, else by its components within the village (街路巷/
小区, 门牌号, 楼栋, 单元, 室); a house by its address (an address not registered yet is registered with the house);
a unit by its licence number (统一社会信用代码), else by name and address within the grid.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.jobs import Progress
from gongzhi.core.pii import keyed_hash, mask_id_number, mask_phone
from gongzhi.org.models import OrgUnit
from gongzhi.registry import addresses
from gongzhi.registry.excel import cells, workbooks
from gongzhi.registry.excel.base import INVALID, Importer, WriteSummary
from gongzhi.registry.excel.columns import ADDRESSES, ESTABLISHMENTS, HOUSES, RecordType, choice_sets
from gongzhi.registry.excel.context import CHUNK, GridRef, created_changes, grids_needing_code, verbose
from gongzhi.registry.models import Address, Establishment, House, Resident, Tenancy

AddressKey = tuple[int, str, str, str, str, str]  # village id, road, number, building, unit, room


@dataclass(slots=True)
class AddressPart:
    """The address a row names: its key, its code (None: not given) and, once looked up, the record."""

    key: AddressKey
    code: str | None
    grid_id: int
    lat: float | None = None
    lng: float | None = None
    pk: int | None = None  # the registered address, None: to register


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


class _PlacesImport(Importer):
    """What the three share: reading an address from the row's columns and finding it in the registry."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pending: list[Any] = []
        self.first_by_key: dict[Any, int] = {}
        self.first_by_code: dict[str, int] = {}
        self.staged = 0

    def address_part(self, row: int, values: dict[str, Any], grid: GridRef | None, *,
                     with_point: bool = False) -> AddressPart | None:
        road = self.cell(row, values, "road", cells.limited, 60, required=True)
        number = self.cell(row, values, "number", cells.limited, 20)
        building = self.cell(row, values, "building", cells.limited, 20)
        unit_no = self.cell(row, values, "unit_no", cells.limited, 10)
        room = self.cell(row, values, "room", cells.limited, 20)
        # Stored as the forms store them (12号 → 12), so a typed and an imported address are the same key.
        number, building, unit_no, room = (p if p is INVALID else addresses.bare(n, p) for n, p in (
            ("number", number), ("building", building), ("unit_no", unit_no), ("room", room)))
        code = self.cell(row, values, "address_code", cells.code, _("标准地址编码"), 40) or None
        lat = lng = None
        if with_point:
            lat = self.cell(row, values, "lat", cells.coordinate, 3.0, 54.0)
            lng = self.cell(row, values, "lng", cells.coordinate, 73.0, 136.0)
        parts = (road, number, building, unit_no, room, code, lat, lng)
        if grid is None or any(p is INVALID for p in parts):
            return None
        return AddressPart(key=(grid.village_id, road, number, building, unit_no, room), code=code, grid_id=grid.pk,
                           lat=lat, lng=lng)

    def unique_in_file(self, row: int, values: dict[str, Any], key: Any, code: str | None, *,
                       column: str = "road", what: str = "") -> bool:
        first = self.first_by_key.get(key)
        if first is not None:
            self.error(row, column, values.get(column), what or _("与第%(row)d行是同一个地址。") % {"row": first})
            return False
        if code:
            first = self.first_by_code.get(code)
            if first is not None:
                self.error(row, "address_code", values.get("address_code"),
                           _("与第%(row)d行的标准地址编码重复。") % {"row": first})
                return False
            self.first_by_code[code] = row
        self.first_by_key[key] = row
        return True

    def find_addresses(self, parts: list[tuple[int, AddressPart]], bad: dict[int, tuple[str, Any, str]], *,
                       same_grid: bool) -> None:
        """Give each part its registered address (by code, else by components), or list why not."""
        codes = [p.code for _row, p in parts if p.code]
        by_code: dict[str, tuple[int, AddressKey, int, str]] = {}
        for start in range(0, len(codes), CHUNK):
            for pk, code, village, road, number, building, unit_no, room, grid_id, path in (
                    Address.objects.filter(code__in=codes[start:start + CHUNK]).values_list(
                        "pk", "code", "village_id", "road", "number", "building", "unit_no", "room", "grid_id",
                        "grid__path")):
                by_code[code] = (pk, (village, road, number, building, unit_no, room), grid_id, path)
        villages = {p.key[0] for _row, p in parts}
        roads = list({p.key[1] for _row, p in parts})
        by_key: dict[AddressKey, tuple[int, str, int, str]] = {}
        for start in range(0, len(roads), CHUNK):
            for pk, village, road, number, building, unit_no, room, code, grid_id, path in (
                    Address.objects.filter(village_id__in=villages, road__in=roads[start:start + CHUNK]).values_list(
                        "pk", "village_id", "road", "number", "building", "unit_no", "room", "code", "grid_id",
                        "grid__path")):
                by_key[(village, road, number, building, unit_no, room)] = (pk, code, grid_id, path)
        outside = _("该地址已登记在您的导入范围以外的网格，不能在此导入。")
        for row, part in parts:
            hit = by_code.get(part.code) if part.code else None
            if hit is not None:
                pk, key, grid_id, path = hit
                other = by_key.get(part.key)
                if not self.grids.in_scope(path):
                    bad.setdefault(row, ("address_code", part.code, _("该标准地址编码已在您的导入范围以外使用。")))
                elif other is not None and other[0] != pk:
                    why = _("该地址已登记为另一个标准地址编码（%(code)s）。") % {"code": other[1] or "—"}
                    bad.setdefault(row, ("address_code", part.code, why))
                elif same_grid and grid_id != part.grid_id:
                    bad.setdefault(row, ("grid", None, _("该地址属于“%(grid)s”，与所填网格不一致。") % {
                        "grid": self._grid_name(grid_id)}))
                else:
                    part.pk = pk
                continue
            found = by_key.get(part.key)
            if found is None:
                continue
            pk, code, grid_id, path = found
            if not self.grids.in_scope(path):
                bad.setdefault(row, ("road", part.key[1], outside))
            elif part.code and code and code != part.code:
                bad.setdefault(row, ("address_code", part.code,
                                     _("该地址已登记为另一个标准地址编码（%(code)s）。") % {"code": code}))
            elif same_grid and grid_id != part.grid_id:
                bad.setdefault(row, ("grid", None, _("该地址属于“%(grid)s”，与所填网格不一致。") % {
                    "grid": self._grid_name(grid_id)}))
            else:
                part.pk = pk

    def _grid_name(self, pk: int | None) -> str:
        ref = self.grids.by_pk.get(pk or 0)
        return ref.name if ref else _("其他网格")

    def report(self, rows: list[Any], bad: dict[int, tuple[str, Any, str]]) -> None:
        clean = []
        for r in rows:
            if r.row in bad:
                column, value, why = bad[r.row]
                self.error(r.row, column, value, why)
            else:
                clean.append(r)
        self.staged += len(clean)
        self.staging.put(clean)

    def end_check(self) -> None:
        self.check_chunk()

    def check_chunk(self) -> None:
        raise NotImplementedError

    def queue(self, row: Any) -> None:
        self.pending.append(row)
        if len(self.pending) >= CHUNK:
            self.check_chunk()

    @property
    def clean_rows(self) -> int:
        return self.staged

    def new_addresses(self, parts: Iterable[AddressPart]) -> None:
        """Register the parts' addresses not registered yet (a history row each); gives the parts their pk."""
        todo: dict[AddressKey, list[AddressPart]] = defaultdict(list)
        for part in parts:
            if part.pk is None:
                todo[part.key].append(part)
        if not todo:
            return
        fields = {n: verbose(Address, n) for n in ("village", "grid", "road", "number", "building", "unit_no", "room",
                                                   "label", "code", "lat", "lng")}
        created = []
        for key, same in todo.items():
            first = same[0]
            village, road, number, building, unit_no, room = key
            created.append(Address(village_id=village, grid_id=first.grid_id, road=road, number=number,
                                   building=building, unit_no=unit_no, room=room, code=first.code or "",
                                   label=addresses.compose_label(road, number, building, unit_no, room), lat=first.lat,
                                   lng=first.lng))
        Address.objects.bulk_create(created, batch_size=500)
        for address in created:
            for part in todo[(address.village_id, address.road, address.number, address.building, address.unit_no,
                              address.room)]:
                part.pk = address.pk
            grid = self.grids.by_pk[address.grid_id]
            shown = {fields["village"]: grid.village_name, fields["grid"]: grid.name, fields["road"]: address.road,
                     fields["number"]: address.number, fields["building"]: address.building,
                     fields["unit_no"]: address.unit_no, fields["room"]: address.room, fields["label"]: address.label,
                     fields["code"]: address.code, fields["lat"]: _plain(address.lat),
                     fields["lng"]: _plain(address.lng)}
            self.history.add("address", address.pk, created_changes(shown), created=True)


# ------------------------------------------------------------------------------------------------ 标准地址

@dataclass(slots=True)
class AddressRow:
    row: int
    part: AddressPart


class AddressesImport(_PlacesImport):
    record_type = ADDRESSES

    def check_row(self, row: int, values: dict[str, Any]) -> None:
        before = self.errors.count
        grid = self.grid(row, values)
        part = self.address_part(row, values, grid, with_point=True)
        if part is None or self.errors.count > before:
            return
        if self.unique_in_file(row, values, part.key, part.code):
            self.queue(AddressRow(row, part))

    def check_chunk(self) -> None:
        rows, self.pending = self.pending, []
        bad: dict[int, tuple[str, Any, str]] = {}
        self.find_addresses([(r.row, r.part) for r in rows], bad, same_grid=False)
        self.report(rows, bad)

    def write(self, progress: Progress) -> WriteSummary:
        fields = {n: verbose(Address, n) for n in ("village", "grid", "road", "number", "building", "unit_no", "room",
                                                   "label", "code", "lat", "lng")}
        for chunk in self.staging.chunks():
            with transaction.atomic():
                parts = [r.part for r in chunk]
                existing = {a.pk: a for a in Address.objects.filter(pk__in=[p.pk for p in parts if p.pk])}
                changed = []
                names = ("grid_id", "road", "number", "building", "unit_no", "room", "label", "code", "lat", "lng")
                for part in parts:
                    if part.pk is None:
                        continue
                    address = existing[part.pk]
                    village, road, number, building, unit_no, room = part.key
                    wanted = {"grid_id": part.grid_id, "road": road, "number": number, "building": building,
                              "unit_no": unit_no, "room": room,
                              "label": addresses.compose_label(road, number, building, unit_no, room)}
                    if part.code is not None:
                        wanted["code"] = part.code
                    if part.lat is not None:
                        wanted["lat"] = part.lat
                    if part.lng is not None:
                        wanted["lng"] = part.lng
                    diff = {}
                    for name, value in wanted.items():
                        old = getattr(address, name)
                        if old != value:
                            if name == "grid_id":
                                diff[fields["grid"]] = [self._grid_name(old), self._grid_name(value)]
                            else:
                                diff[fields[name]] = [_plain(old), _plain(value)]
                            setattr(address, name, value)
                    if diff:
                        address.updated_at = timezone.now()
                        changed.append(address)
                        self.history.add("address", address.pk, diff, created=False)
                if changed:
                    Address.objects.bulk_update(changed, [n.removesuffix("_id") for n in names] + ["updated_at"],
                                                batch_size=500)
                new = sum(1 for p in parts if p.pk is None)
                self.new_addresses(parts)
                self.history.flush()
            self.summary.created += new
            self.summary.updated += len(changed)
            self.summary.unchanged += len(parts) - new - len(changed)
            progress.advance(len(parts))
        return self.summary


# ------------------------------------------------------------------------------------------------ 实有房屋

@dataclass(slots=True)
class HouseRow:
    row: int
    part: AddressPart
    use: str
    area: Decimal | None
    owner_name: str | None
    owner_id_number: str | None
    owner_phone: str | None
    tenants: tuple[str, ...] | None  # ID numbers
    tenant_ids: tuple[int, ...] = ()
    note: str | None = None


def _optional_id(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return cells.id_number(value)


class HousesImport(_PlacesImport):
    record_type = HOUSES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.uses = choice_sets()["house_use"]

    def _tenants(self, value: Any) -> tuple[str, ...] | None:
        items = cells.items(value)
        if not items:
            return None
        result = []
        for n, item in enumerate(items, start=1):
            try:
                result.append(cells.id_number(item))
            except cells.CellError as err:
                raise cells.CellError(_("第%(n)d个租住人：%(why)s") % {"n": n, "why": err.message}) from None
        return tuple(dict.fromkeys(result))

    def check_row(self, row: int, values: dict[str, Any]) -> None:
        before = self.errors.count
        grid = self.grid(row, values)
        part = self.address_part(row, values, grid)
        use = self.cell(row, values, "use", cells.choice, self.uses.accepted, self.uses.offered)
        if use is None:
            self.error(row, "use", None, _("必填项不能为空。"))
        area = self.cell(row, values, "area", cells.decimal)
        owner_name = self.cell(row, values, "owner_name", cells.limited, 50) or None
        owner_id = self.cell(row, values, "owner_id_number", _optional_id)
        owner_phone = self.cell(row, values, "owner_phone", cells.phone) or None
        tenants = self.cell(row, values, "tenants", self._tenants)
        note = self.cell(row, values, "note", cells.limited, 200) or None
        if tenants not in (None, INVALID) and use not in (INVALID, None, House.Use.RENTED):
            self.error(row, "tenants", values.get("tenants"), _("只有出租房屋可以填写租住人。"))
        if part is None or self.errors.count > before:
            return
        if self.unique_in_file(row, values, part.key, part.code):
            self.queue(HouseRow(row, part, cast(str, use), area, owner_name, owner_id, owner_phone, tenants,
                                note=note))

    def check_chunk(self) -> None:
        rows: list[HouseRow] = self.pending
        self.pending = []
        bad: dict[int, tuple[str, Any, str]] = {}
        self.find_addresses([(r.row, r.part) for r in rows], bad, same_grid=True)
        wanted = {keyed_hash(t): t for r in rows for t in (r.tenants or ())}
        found: dict[str, int] = {}
        hashes = list(wanted)
        for start in range(0, len(hashes), CHUNK):
            part = hashes[start:start + CHUNK]
            for pk, id_hash, path in Resident.objects.filter(id_number_hash__in=part).values_list(
                    "pk", "id_number_hash", "grid__path"):
                if self.grids.in_scope(path):
                    found[id_hash] = pk
        for r in rows:
            if not r.tenants:
                continue
            ids = []
            for n, tenant in enumerate(r.tenants, start=1):
                tenant_pk = found.get(keyed_hash(tenant))
                if tenant_pk is None:
                    bad.setdefault(r.row, ("tenants", "；".join(r.tenants), _(
                        "第%(n)d个租住人未登记在实有人口中（或不在您的导入范围内），请先导入人口。") % {"n": n}))
                    break
                ids.append(tenant_pk)
            r.tenant_ids = tuple(ids)
        self.report(rows, bad)

    def write(self, progress: Progress) -> WriteSummary:
        uses = self.uses.label_of
        names = {n: verbose(House, n) for n in ("address", "grid", "use", "area", "owner_name", "owner_id_number",
                                                "owner_phone", "note")}
        tenant_field = verbose(Tenancy, "resident")
        today = timezone.localdate()
        for chunk in self.staging.chunks():
            rows: list[HouseRow] = chunk
            with transaction.atomic():
                self.new_addresses(r.part for r in rows)
                address_ids = [r.part.pk for r in rows]
                houses = {h.address_id: h for h in House.objects.filter(address_id__in=address_ids)
                          .select_related("address")}
                tenancies: dict[int, dict[int, int]] = defaultdict(dict)  # house → {resident: tenancy}
                for tenancy_pk, house_id, resident_id in Tenancy.objects.filter(
                        house__address_id__in=address_ids, ended_on__isnull=True).values_list(
                        "pk", "house_id", "resident_id"):
                    tenancies[house_id][resident_id] = tenancy_pk
                names_of = dict(Resident.objects.filter(
                    pk__in={t for r in rows for t in r.tenant_ids} | {t for d in tenancies.values() for t in d})
                    .values_list("pk", "name"))
                new, changed, unchanged = [], [], 0
                tenancy_diffs: list[tuple[House, HouseRow, dict[str, list[str]]]] = []
                for r in rows:
                    assert r.part.pk is not None  # registered by new_addresses above
                    house = houses.get(r.part.pk)
                    if house is None:
                        house = House(address_id=r.part.pk, grid_id=r.part.grid_id, use=r.use, area=r.area,
                                      owner_name=r.owner_name or "", owner_id_number=r.owner_id_number or "",
                                      owner_phone=r.owner_phone or "", note=r.note or "")
                        new.append((house, r))
                        continue
                    diff = self._house_diff(house, r, names, uses)
                    open_now = tenancies.get(house.pk, {})
                    if r.tenants is not None and set(r.tenant_ids) != set(open_now):
                        diff[tenant_field] = [_names(open_now, names_of), _names(r.tenant_ids, names_of)]
                        tenancy_diffs.append((house, r, diff))
                    if diff:
                        house.updated_at = timezone.now()
                        changed.append((house, diff))
                    else:
                        unchanged += 1
                if new:
                    House.objects.bulk_create([h for h, _r in new], batch_size=500)
                    labels = dict(Address.objects.filter(pk__in=[h.address_id for h, _r in new])
                                  .values_list("pk", "label"))
                    for house, r in new:
                        shown = {names["address"]: labels.get(house.address_id, ""),
                                 names["grid"]: self._grid_name(house.grid_id), names["use"]: uses.get(house.use, ""),
                                 names["area"]: _plain(house.area), names["owner_name"]: house.owner_name,
                                 names["owner_id_number"]: mask_id_number(r.owner_id_number) if r.owner_id_number
                                 else "", names["owner_phone"]: mask_phone(r.owner_phone) if r.owner_phone else "",
                                 names["note"]: house.note, tenant_field: _names(r.tenant_ids, names_of)}
                        self.history.add("house", house.pk, created_changes(shown), created=True)
                        if r.tenant_ids:
                            tenancy_diffs.append((house, r, {}))
                if changed:
                    House.objects.bulk_update([h for h, _d in changed], ["grid", "use", "area", "owner_name",
                                                                          "owner_id_number", "owner_id_number_hash",
                                                                          "owner_phone", "note", "updated_at"],
                                              batch_size=500)
                    for house, diff in changed:
                        self.history.add("house", house.pk, diff, created=False)
                self._tenancies(tenancy_diffs, tenancies, today)
                self.history.flush()
            self.summary.created += len(new)
            self.summary.updated += len(changed)
            self.summary.unchanged += unchanged
            progress.advance(len(rows))
        return self.summary

    def _house_diff(self, house: House, r: HouseRow, names: dict[str, str], uses: dict[str, str]
                    ) -> dict[str, list[str]]:
        diff: dict[str, list[str]] = {}
        if house.grid_id != r.part.grid_id:
            diff[names["grid"]] = [self._grid_name(house.grid_id), self._grid_name(r.part.grid_id)]
            house.grid_id = r.part.grid_id
        if r.use != house.use:
            diff[names["use"]] = [uses.get(house.use, ""), uses.get(r.use, "")]
            house.use = r.use
        for name in ("area", "owner_name", "note"):
            value = getattr(r, name)
            if value is not None and value != getattr(house, name):
                diff[names[name]] = [_plain(getattr(house, name)), _plain(value)]
                setattr(house, name, value)
        if r.owner_id_number is not None and keyed_hash(r.owner_id_number) != house.owner_id_number_hash:
            diff[names["owner_id_number"]] = [house.owner_id_number.masked if house.owner_id_number else "",
                                              mask_id_number(r.owner_id_number)]
            house.owner_id_number = r.owner_id_number
            house.owner_id_number_hash = keyed_hash(r.owner_id_number)
        if r.owner_phone is not None and (house.owner_phone is None or house.owner_phone.reveal() != r.owner_phone):
            diff[names["owner_phone"]] = [house.owner_phone.masked if house.owner_phone else "",
                                          mask_phone(r.owner_phone)]
            house.owner_phone = r.owner_phone
        return diff

    def _tenancies(self, todo: list[tuple[House, HouseRow, dict[str, list[str]]]],
                   open_now: dict[int, dict[int, int]], today: datetime.date) -> None:
        """Each listed house's tenants become exactly those listed: new ones move in today, the others end."""
        start: list[Tenancy] = []
        end: list[int] = []
        for house, r, _diff in todo:
            current = open_now.get(house.pk, {})
            start.extend(Tenancy(house_id=house.pk, resident_id=t, started_on=today)
                         for t in r.tenant_ids if t not in current)
            end.extend(pk for resident, pk in current.items() if resident not in r.tenant_ids)
        if end:
            Tenancy.objects.filter(pk__in=end).update(ended_on=today, updated_at=timezone.now())
        if start:
            Tenancy.objects.bulk_create(start, batch_size=500)


def _names(ids: Iterable[int], names_of: dict[int, str]) -> str:
    return "、".join(sorted(names_of.get(i, "") for i in ids))


# ------------------------------------------------------------------------------------------------ 实有单位

@dataclass(slots=True)
class UnitRow:
    row: int
    name: str
    kind: str
    licence: str | None
    grid_id: int
    village_id: int
    values: dict[str, Any]  # the other fields given (None left out)
    address_code: str | None
    pk: int | None = None


_UNIT_FIELDS = ("industry", "address_text", "legal_person", "legal_person_phone", "staff_count", "safety_contact",
                "safety_contact_phone", "status", "note")


class EstablishmentsImport(_PlacesImport):
    record_type = ESTABLISHMENTS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        sets = choice_sets()
        self.kinds, self.statuses = sets["establishment_kind"], sets["establishment_status"]

    def check_row(self, row: int, values: dict[str, Any]) -> None:
        before = self.errors.count
        cell = self.cell
        name = cell(row, values, "name", cells.limited, 100, required=True)
        kind = cell(row, values, "kind", cells.choice, self.kinds.accepted, self.kinds.offered)
        if kind is None:
            self.error(row, "kind", None, _("必填项不能为空。"))
        licence = cell(row, values, "licence_number", cells.code, _("统一社会信用代码"), 30) or None
        given = {
            "industry": cell(row, values, "industry", cells.limited, 30),
            "address_text": cell(row, values, "address_text", cells.limited, 200),
            "legal_person": cell(row, values, "legal_person", cells.limited, 50),
            "legal_person_phone": cell(row, values, "legal_person_phone", cells.phone),
            "staff_count": cell(row, values, "staff_count", cells.whole_number),
            "safety_contact": cell(row, values, "safety_contact", cells.limited, 50),
            "safety_contact_phone": cell(row, values, "safety_contact_phone", cells.phone),
            "status": cell(row, values, "status", cells.choice, self.statuses.accepted, self.statuses.offered),
            "note": cell(row, values, "note", cells.limited, 200),
        }
        code = cell(row, values, "address_code", cells.code, _("标准地址编码"), 40) or None
        grid = self.grid(row, values)
        if grid is None or self.errors.count > before:
            return
        key = licence or (grid.pk, name, given["address_text"] or "")
        what = _("与第%(row)d行是同一个单位（统一社会信用代码相同）。") if licence else _(
            "与第%(row)d行是同一个单位（同一网格内名称和经营地址相同）。")
        first = self.first_by_key.get(key)
        if first is not None:
            self.error(row, "licence_number" if licence else "name",
                       values.get("licence_number" if licence else "name"), what % {"row": first})
            return
        self.first_by_key[key] = row
        self.queue(UnitRow(row, name, cast(str, kind), licence, grid.pk, grid.village_id,
                           {k: v for k, v in given.items() if v not in (None, "")}, code))

    def check_chunk(self) -> None:
        rows: list[UnitRow] = self.pending
        self.pending = []
        bad: dict[int, tuple[str, Any, str]] = {}
        licences = [r.licence for r in rows if r.licence]
        by_licence = {lic: (pk, path) for pk, lic, path in Establishment.objects.filter(
            licence_number__in=licences).values_list("pk", "licence_number", "grid__path")} if licences else {}
        plain = [r for r in rows if not r.licence or r.licence not in by_licence]
        by_name: dict[tuple[int, str, str], list[tuple[int, str]]] = defaultdict(list)
        if plain:
            for pk, grid_id, name, address_text, licence in Establishment.objects.filter(
                    grid_id__in={r.grid_id for r in plain}, name__in={r.name for r in plain}).values_list(
                    "pk", "grid_id", "name", "address_text", "licence_number"):
                by_name[(grid_id, name, address_text)].append((pk, licence))
        codes = [r.address_code for r in rows if r.address_code]
        addresses = {code: (pk, village, path) for pk, code, village, path in Address.objects.filter(
            code__in=codes).values_list("pk", "code", "village_id", "grid__path")} if codes else {}
        for r in rows:
            if r.licence and r.licence in by_licence:
                pk, path = by_licence[r.licence]
                if not self.grids.in_scope(path):
                    bad[r.row] = ("licence_number", r.licence,
                                  _("该统一社会信用代码已在您的导入范围以外登记，不能在此导入。"))
                    continue
                r.pk = pk
            else:
                same = [pk for pk, licence in by_name.get((r.grid_id, r.name, r.values.get("address_text", "")), [])
                        if not r.licence or not licence]  # a unit of another licence number is another unit
                if len(same) > 1:
                    bad[r.row] = ("name", r.name, _("同一网格内有多个同名同址的单位，请填写统一社会信用代码。"))
                    continue
                r.pk = same[0] if same else None
            if r.address_code:
                hit = addresses.get(r.address_code)
                if hit is None or not self.grids.in_scope(hit[2]):
                    bad[r.row] = ("address_code", r.address_code, _("未找到该标准地址编码，或不在您的导入范围内。"))
                elif hit[1] != r.village_id:
                    bad[r.row] = ("address_code", r.address_code, _("该标准地址不在所填网格的村(社区)内。"))
                else:
                    r.values["address_id"] = hit[0]
        self.report(rows, bad)

    def write(self, progress: Progress) -> WriteSummary:
        kinds, statuses = self.kinds.label_of, self.statuses.label_of
        names = {n: verbose(Establishment, n) for n in ("name", "kind", "licence_number", "grid", "address",
                                                        *_UNIT_FIELDS)}
        for chunk in self.staging.chunks():
            rows: list[UnitRow] = chunk
            with transaction.atomic():
                existing = {e.pk: e for e in Establishment.objects.filter(pk__in=[r.pk for r in rows if r.pk])}
                labels = dict(Address.objects.filter(
                    pk__in={r.values.get("address_id") for r in rows if r.values.get("address_id")}
                    | {e.address_id for e in existing.values() if e.address_id}).values_list("pk", "label"))
                new, changed = [], []
                for r in rows:
                    if r.pk is None:
                        unit = Establishment(name=r.name, kind=r.kind, licence_number=r.licence or "",
                                             grid_id=r.grid_id, **r.values)
                        new.append(unit)
                        continue
                    unit = existing[r.pk]
                    wanted: dict[str, Any] = {"name": r.name, "kind": r.kind, "grid_id": r.grid_id, **r.values}
                    if r.licence:
                        wanted["licence_number"] = r.licence
                    diff: dict[str, list[str]] = {}
                    for name, value in wanted.items():
                        old = getattr(unit, name)
                        if name.endswith("_phone"):
                            if old is not None and old.reveal() == value:
                                continue
                            diff[names[name]] = [old.masked if old else "", mask_phone(value)]
                        elif old == value:
                            continue
                        elif name == "grid_id":
                            diff[names["grid"]] = [self._grid_name(old), self._grid_name(value)]
                        elif name == "address_id":
                            diff[names["address"]] = [labels.get(old or 0, ""), labels.get(value, "")]
                        elif name in ("kind", "status"):
                            table = kinds if name == "kind" else statuses
                            diff[names[name]] = [table.get(old, ""), table.get(value, "")]
                        else:
                            diff[names[name]] = [_plain(old), _plain(value)]
                        setattr(unit, name, value)
                    if diff:
                        unit.updated_at = timezone.now()
                        changed.append(unit)
                        self.history.add("establishment", unit.pk, diff, created=False)
                if new:
                    Establishment.objects.bulk_create(new, batch_size=500)
                    for unit in new:
                        shown = {names["name"]: unit.name, names["kind"]: kinds.get(unit.kind, ""),
                                 names["licence_number"]: unit.licence_number,
                                 names["grid"]: self._grid_name(unit.grid_id),
                                 names["address"]: labels.get(unit.address_id or 0, ""),
                                 **{names[f]: _shown_unit(unit, f, statuses) for f in _UNIT_FIELDS}}
                        self.history.add("establishment", unit.pk, created_changes(shown), created=True)
                if changed:
                    Establishment.objects.bulk_update(changed, ["name", "kind", "licence_number", "grid", "address",
                                                                *_UNIT_FIELDS, "updated_at"], batch_size=500)
                self.history.flush()
            self.summary.created += len(new)
            self.summary.updated += len(changed)
            self.summary.unchanged += len(rows) - len(new) - len(changed)
            progress.advance(len(rows))
        return self.summary


def _shown_unit(unit: Establishment, name: str, statuses: dict[str, str]) -> str:
    value = getattr(unit, name)
    if name == "status":
        return statuses.get(value, "")
    if name.endswith("_phone"):
        return value.masked if value else ""
    return _plain(value)


# ------------------------------------------------------------------------------------------------- exports

def _masked(value: Any, mask: Any, full: bool) -> str | None:
    if value is None:
        return None
    plain = value.reveal()
    return plain if full else mask(plain)


def _address_rows(area: OrgUnit) -> tuple[int, Iterator[list[Any]]]:
    query = Address.objects.filter(grid__path__startswith=area.path)
    coded = grids_needing_code()

    def rows() -> Iterator[list[Any]]:
        for village, grid, grid_id, *rest in query.order_by(
                "village_id", "road", "number", "building", "unit_no", "room").values_list(
                "village__name", "grid__name", "grid_id", "road", "number", "building", "unit_no", "room", "code",
                "lat", "lng").iterator(chunk_size=2000):
            yield [village, grid, coded.get(grid_id), *(v if v != "" else None for v in rest)]

    return query.count(), rows()


def _house_rows(area: OrgUnit, full: bool) -> tuple[int, Iterator[list[Any]]]:
    query = House.objects.filter(grid__path__startswith=area.path)
    uses = choice_sets()["house_use"].label_of
    coded = grids_needing_code()
    tenants: dict[int, list[str]] = defaultdict(list)
    open_tenancies = Tenancy.objects.filter(house__grid__path__startswith=area.path, ended_on__isnull=True)
    id_number: Any  # a SecretValue (the field's own conversion), whatever the stubs say
    for house_id, id_number in open_tenancies.values_list("house_id", "resident__id_number"):
        if id_number is not None:
            tenants[house_id].append(id_number.reveal() if full else mask_id_number(id_number.reveal()))

    def rows() -> Iterator[list[Any]]:
        for (pk, village, grid, grid_id, road, number, building, unit_no, room, code, use, area_m2, owner,
             owner_id, owner_phone, note) in query.order_by("address__village_id", "address__road", "address__number",
                                                           "address__building", "address__unit_no", "address__room"
                                                           ).values_list(
                "pk", "address__village__name", "grid__name", "grid_id", "address__road", "address__number",
                "address__building", "address__unit_no", "address__room", "address__code", "use", "area",
                "owner_name", "owner_id_number", "owner_phone", "note").iterator(chunk_size=2000):
            yield [village, grid, coded.get(grid_id), road, number or None, building or None, unit_no or None,
                   room or None, code or None, uses.get(use, ""), float(area_m2) if area_m2 is not None else None,
                   owner or None,
                   _masked(owner_id, mask_id_number, full), _masked(owner_phone, mask_phone, full),
                   "；".join(sorted(tenants[pk])) or None, note or None]

    return query.count(), rows()


def _unit_rows(area: OrgUnit, full: bool) -> tuple[int, Iterator[list[Any]]]:
    query = Establishment.objects.filter(grid__path__startswith=area.path)
    sets = choice_sets()
    kinds, statuses = sets["establishment_kind"].label_of, sets["establishment_status"].label_of
    coded = grids_needing_code()

    def rows() -> Iterator[list[Any]]:
        for (name, kind, licence, industry, village, grid, grid_id, address_text, code, legal, legal_phone, staff,
             safety, safety_phone, status, note) in query.order_by("grid__path", "name", "pk").values_list(
                "name", "kind", "licence_number", "industry", "grid__parent__name", "grid__name", "grid_id",
                "address_text", "address__code", "legal_person", "legal_person_phone", "staff_count",
                "safety_contact", "safety_contact_phone", "status", "note").iterator(chunk_size=2000):
            yield [name, kinds.get(kind, ""), licence or None, industry or None, village, grid, coded.get(grid_id),
                   address_text or None, code or None, legal or None, _masked(legal_phone, mask_phone, full), staff,
                   safety or None, _masked(safety_phone, mask_phone, full), statuses.get(status, ""), note or None]

    return query.count(), rows()


def write_export(record_type: RecordType, file: IO[bytes], area: OrgUnit, *, full: bool, progress: Progress) -> int:
    if record_type is ADDRESSES:
        count, rows = _address_rows(area)
        full = True  # no personal numbers
    elif record_type is HOUSES:
        count, rows = _house_rows(area, full)
    else:
        count, rows = _unit_rows(area, full)
    progress.start(_("导出"), total=count)
    workbooks.write_records(file, record_type, rows, count=count, masked=not full, progress=progress)
    return count

