"""人口: one row per person, with the household's 户号, the relation to its head and the household's address and
grid. People without a household (流动, 寄住, 境外) name a registered standard address instead.

Natural keys: a person by ID number (its keyed hash), a household by 户号. An empty optional cell changes
nothing, so a file with fewer columns or blanks never wipes what the registry holds.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.jobs import Progress
from gongzhi.core.pii import encrypt, keyed_hash, mask_id_number, mask_phone
from gongzhi.core.rows import insert_many
from gongzhi.core.validators import birth_date_from_id, gender_from_id
from gongzhi.org.models import OrgUnit
from gongzhi.registry.excel import cells, workbooks
from gongzhi.registry.excel.base import INVALID, Importer, WriteSummary
from gongzhi.registry.excel.columns import POPULATION, choice_sets
from gongzhi.registry.excel.context import CHUNK, created_changes, grids_needing_code, verbose
from gongzhi.registry.models import Address, Household, ResidenceType, Resident, SpecialGroup
from gongzhi.registry.services import key_persons

HEAD = Resident.Relation.HEAD
# The columns a new resident is inserted with (core.rows.insert_many), in the order _write_residents gives them.
_NEW_RESIDENT = ("grid_id", "household_id", "name", "id_number", "id_number_hash", "phone", "phone_hash", "gender",
                 "birth_date", "relation", "residence_type", "ethnicity", "standard_address_id", "status", "note")
_NOT_REGISTERED = frozenset({ResidenceType.FLOATING, ResidenceType.LODGING, ResidenceType.OVERSEAS})


class PersonRow(NamedTuple):
    """A checked row (a tuple: staged rows are pickled, and tuples pickle fast). None: the cell was empty (no
    change)."""

    row: int
    id_number: str
    id_hash: str
    name: str
    gender: str | None
    birth_date: datetime.date | None
    ethnicity: str | None
    phone: str | None
    phone_hash: str | None
    residence_type: str | None
    household: str | None
    relation: str | None
    grid_id: int
    address_id: int | None  # the standard address of a person without a household
    groups: tuple[int, ...] | None
    status: str | None
    note: str | None
    # Needed by the chunk's lookups only.
    address_code: str | None = None
    address_text: str | None = None
    village_id: int = 0


@dataclass(slots=True)
class HouseholdInfo:
    first_row: int
    grid_id: int | None
    village_id: int | None
    address: str | None = None
    address_row: int = 0
    address_code: str | None = None
    code_row: int = 0
    address_id: int | None = None
    head_row: int = 0
    bad: bool = False
    exists: bool | None = None  # None: not looked up yet
    staged: int = 0


class _Lookups:
    """Standard addresses found by code or by label, a chunk at a time, within the importer's scope."""

    def __init__(self, importer: PopulationImport) -> None:
        self.importer = importer
        self.labels: dict[int, str] = {}

    def by_code(self, codes: Iterable[str]) -> dict[str, tuple[int, int]]:
        """{code: (address id, village id)} of the codes found in scope."""
        found: dict[str, tuple[int, int]] = {}
        codes = list(set(codes))
        for start in range(0, len(codes), CHUNK):
            for pk, code, label, village_id, path in (Address.objects.filter(code__in=codes[start:start + CHUNK])
                                                      .values_list("pk", "code", "label", "village_id",
                                                                   "grid__path")):
                if self.importer.grids.in_scope(path):
                    found[code] = (pk, village_id)
                    self.labels[pk] = label
        return found

    def by_label(self, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], list[int]]:
        """{(village id, label): [address ids]} in scope."""
        wanted = list(set(wanted))
        found: dict[tuple[int, str], list[int]] = defaultdict(list)
        if not wanted:
            return found
        villages = {v for v, _label in wanted}
        labels = [label for _v, label in wanted]
        for start in range(0, len(labels), CHUNK):
            rows = (Address.objects.filter(village_id__in=villages, label__in=labels[start:start + CHUNK])
                    .values_list("pk", "village_id", "label", "grid__path"))
            for pk, village_id, label, path in rows:
                if self.importer.grids.in_scope(path) and (village_id, label) in wanted:
                    found[(village_id, label)].append(pk)
                    self.labels[pk] = label
        return found


class PopulationImport(Importer):
    record_type = POPULATION

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        sets = choice_sets()
        self.genders, self.types = sets["gender"], sets["residence_type"]
        self.relations, self.statuses = sets["relation"], sets["status"]
        self.group_by_name = {cells.text(name): pk for pk, name in
                              SpecialGroup.objects.filter(is_active=True).values_list("pk", "name")}
        self.group_names = dict(SpecialGroup.objects.values_list("pk", "name"))
        self.seen: dict[str, int] = {}  # ID number → the first row with it
        self.households: dict[str, HouseholdInfo] = {}
        self.pending: list[PersonRow] = []
        self.staged_alone = 0  # staged people without a household
        self.lookups = _Lookups(self)
        self.household_pk: dict[str, int] = {}
        self.household_label: dict[str, str] = {}
        self.moved_households: dict[int, int] = {}  # household id → its new grid id
        self._outside_households: set[str] = set()
        self.household_word, self.code_word = _("户号"), _("标准地址编码")  # translated once, not per row

    # ------------------------------------------------------------------------------------------ checking

    def _groups(self, value: Any) -> tuple[int, ...] | None:
        names = cells.items(value)
        if not names:
            return None
        unknown = [n for n in names if n not in self.group_by_name]
        if unknown:
            raise cells.CellError(_("未知的特殊人群类别“%(name)s”，可选：%(choices)s。") % {
                "name": unknown[0], "choices": "、".join(self.group_by_name)})
        return tuple(sorted({self.group_by_name[n] for n in names}))

    def check_row(self, row: int, values: dict[str, Any]) -> None:
        errors_before = self.errors.count
        cell, optional = self.cell, self.optional
        name = cell(row, values, "name", cells.name)
        id_number = cell(row, values, "id_number", cells.id_number)
        gender = optional(row, values, "gender", cells.choice, self.genders.accepted, self.genders.offered)
        birth = optional(row, values, "birth_date", cells.date)
        ethnicity = optional(row, values, "ethnicity", cells.limited, 20) or None
        phone = optional(row, values, "phone", cells.phone) or None
        kind = optional(row, values, "residence_type", cells.choice, self.types.accepted, self.types.offered)
        number = optional(row, values, "household", cells.code, self.household_word, 30) or None
        relation = optional(row, values, "relation", cells.choice, self.relations.accepted, self.relations.offered)
        address = optional(row, values, "address", cells.limited, 200) or None
        address_code = optional(row, values, "address_code", cells.code, self.code_word, 40) or None
        groups = optional(row, values, "groups", self._groups)
        status = optional(row, values, "status", cells.choice, self.statuses.accepted, self.statuses.offered)
        note = optional(row, values, "note", cells.limited, 200) or None
        grid = self.grid(row, values)

        if id_number is not INVALID:
            if gender not in (None, INVALID) and gender != gender_from_id(id_number):
                self.error(row, "gender", values.get("gender"), _("性别与身份证号不符。"))
            if birth not in (None, INVALID) and birth != birth_date_from_id(id_number):
                why = _("出生日期与身份证号不符（身份证号中为%(date)s）。") % {
                    "date": birth_date_from_id(id_number).isoformat()}
                self.error(row, "birth_date", values.get("birth_date"), why)
            first = self.seen.get(id_number)
            if first is not None:
                why = _("与第%(row)d行的身份证号重复。") % {"row": first}
                self.error(row, "id_number", values.get("id_number"), why)
            else:
                self.seen[id_number] = row

        if number is INVALID:
            pass
        elif number is not None:
            if relation is None:
                self.error(row, "relation", values.get("relation"), _("填写了户号的，须填写与户主关系。"))
            self._household_rules(row, values, number, grid, relation, address, address_code)
        else:
            relation = None
            if kind is not INVALID and kind not in _NOT_REGISTERED:
                self.error(row, "household", values.get("household"),
                           _("户籍人口须填写户号；流动、寄住、境外人员没有户号的，请填写人口类型。"))
            elif address is None and address_code is None:
                self.error(row, "address", values.get("address"),
                           _("没有户号的人员须填写已登记的标准地址（标准地址编码，或与标准地址完全一致的住址）。"))

        if self.errors.count > errors_before or grid is None:
            if isinstance(number, str) and number in self.households:
                self.households[number].bad = True
            return
        self.pending.append(PersonRow(
            row=row, id_number=id_number, id_hash=keyed_hash(id_number), name=name, gender=gender,
            birth_date=birth, ethnicity=ethnicity, phone=phone, phone_hash=keyed_hash(phone) if phone else None,
            residence_type=kind, household=number, relation=relation, grid_id=grid.pk, address_id=None,
            groups=groups, status=status, note=note, address_code=address_code if number is None else None,
            address_text=address if number is None else None, village_id=grid.village_id))
        if len(self.pending) >= CHUNK:
            self._check_chunk()

    def _household_rules(self, row: int, values: dict[str, Any], number: str, grid: Any, relation: Any,
                         address: Any, address_code: Any) -> None:
        info = self.households.get(number)
        if info is None:
            info = self.households[number] = HouseholdInfo(
                first_row=row, grid_id=grid.pk if grid else None, village_id=grid.village_id if grid else None)
        elif grid is not None:
            if info.grid_id is None:
                info.grid_id, info.village_id = grid.pk, grid.village_id
            elif info.grid_id != grid.pk:
                self.error(row, "grid", values.get("grid") or values.get("grid_code"),
                           _("同一户的成员须在同一网格（第%(row)d行为“%(grid)s”）。") % {
                               "row": info.first_row, "grid": self.grids.by_pk[info.grid_id].name})
        if address not in (None, INVALID):
            if info.address is None:
                info.address, info.address_row = address, row
            elif info.address != address:
                self.error(row, "address", values.get("address"),
                           _("同一户的住址须一致（第%(row)d行为“%(address)s”）。") % {
                               "row": info.address_row, "address": info.address})
        if address_code not in (None, INVALID):
            if info.address_code is None:
                info.address_code, info.code_row = address_code, row
            elif info.address_code != address_code:
                self.error(row, "address_code", values.get("address_code"),
                           _("同一户的标准地址编码须一致（第%(row)d行为“%(code)s”）。") % {
                               "row": info.code_row, "code": info.address_code})
        if relation == HEAD:
            if info.head_row:
                self.error(row, "relation", values.get("relation"),
                           _("同一户有两个户主（另见第%(row)d行）。") % {"row": info.head_row})
            else:
                info.head_row = row

    def _check_chunk(self) -> None:
        """The database's say on the pending rows: a person or household registered outside the importer's
        scope, and the standard addresses named."""
        rows, self.pending = self.pending, []
        if not rows:
            return
        bad: dict[int, tuple[str, Any, str]] = {}  # row → (column, value, why); one reason per row is enough
        outside = [h for h, path in Resident.objects.filter(id_number_hash__in=[r.id_hash for r in rows])
                   .values_list("id_number_hash", "grid__path") if not self.grids.in_scope(path)]
        if outside:
            hashes = set(outside)
            for r in rows:
                if r.id_hash in hashes:
                    bad[r.row] = ("id_number", r.id_number, _("该人员已在您的导入范围以外登记，不能在此导入。"))
        numbers = {r.household for r in rows if r.household and self.households[r.household].exists is None}
        if numbers:
            found = dict(Household.objects.filter(number__in=numbers).values_list("number", "grid__path"))
            for n in numbers:
                info = self.households[n]
                info.exists = n in found
                if n in found and not self.grids.in_scope(found[n]):
                    info.bad = True
                    info.exists = None  # so every later row of it is refused too
                    self._outside_households.add(n)
        for r in rows:
            if r.household in self._outside_households:
                bad.setdefault(r.row, ("household", r.household, _("该户号已在您的导入范围以外使用，不能在此导入。")))
        addresses = self._check_addresses(rows, bad)
        clean = []
        for r in rows:
            if r.row in addresses:
                r = r._replace(address_id=addresses[r.row], address_code=None, address_text=None)
            if r.row in bad:
                column, value, why = bad[r.row]
                self.error(r.row, column, value, why)
                if r.household:
                    self.households[r.household].bad = True
            else:
                clean.append(r)
                if r.household:
                    self.households[r.household].staged += 1
                else:
                    self.staged_alone += 1
        self.staging.put(clean)

    def _check_addresses(self, rows: list[PersonRow], bad: dict[int, tuple[str, Any, str]]) -> dict[int, int]:
        """The standard address of each person without a household ({row: address id}); households get theirs."""
        codes = {r.address_code for r in rows if r.address_code}
        household_codes = {info.address_code for n in {r.household for r in rows if r.household}
                           if (info := self.households[n]).address_code and info.address_id is None}
        found = self.lookups.by_code(codes | household_codes) if codes or household_codes else {}
        unknown = _("未找到该标准地址编码，或不在您的导入范围内。")
        elsewhere = _("该标准地址不在所填网格的村(社区)内。")
        for n in {r.household for r in rows if r.household}:
            info = self.households[n]
            if info.address_code and info.address_id is None:
                hit = found.get(info.address_code)
                if hit is None or hit[1] != info.village_id:
                    why = unknown if hit is None else elsewhere
                    for r in rows:
                        if r.household == n:
                            bad.setdefault(r.row, ("address_code", info.address_code, why))
                    info.bad = True
                else:
                    info.address_id = hit[0]
        wanted = [(r.village_id, r.address_text) for r in rows if not r.household and not r.address_code
                  and r.address_text]
        by_label = self.lookups.by_label((village, text) for village, text in wanted if text)
        resolved: dict[int, int] = {}
        for r in rows:
            if r.household:
                continue
            if r.address_code:
                hit = found.get(r.address_code)
                if hit is None or hit[1] != r.village_id:
                    bad.setdefault(r.row, ("address_code", r.address_code, unknown if hit is None else elsewhere))
                else:
                    resolved[r.row] = hit[0]
            elif r.address_text:
                ids = by_label.get((r.village_id, r.address_text), [])
                if len(ids) == 1:
                    resolved[r.row] = ids[0]
                else:
                    bad.setdefault(r.row, ("address", r.address_text, _(
                        "未找到与住址完全一致的标准地址，请填写标准地址编码，或先导入标准地址。") if not ids else _(
                        "有多个与住址一致的标准地址，请填写标准地址编码。")))
        return resolved

    def end_check(self) -> None:
        self._check_chunk()
        for number, info in self.households.items():
            if info.bad or info.exists is not False:
                continue
            if not info.head_row:
                self.error(info.first_row, "relation", None, _("新户须有户主（户号%(number)s没有“户主”行）。") % {
                    "number": number})
                info.bad = True
            if info.address is None:
                why = _("新户须填写住址（户号%(number)s）。") % {"number": number}
                self.error(info.first_row, "address", None, why)
                info.bad = True

    @property
    def clean_rows(self) -> int:
        return self.staged_alone + sum(info.staged for info in self.households.values() if not info.bad)

    # ------------------------------------------------------------------------------------------- writing

    def write(self, progress: Progress) -> WriteSummary:
        self._write_households(progress)
        progress.start(_("写入人员"), total=self.clean_rows)
        for chunk in self.staging.chunks():
            rows = [r for r in chunk if not r.household or not self.households[r.household].bad]
            self.summary.skipped += len(chunk) - len(rows)
            with transaction.atomic():
                self._write_residents(rows)
                self.history.flush()
            progress.advance(len(rows))
        self._follow_moved_households()
        return self.summary

    def _grid_name(self, pk: int | None) -> str:
        return self.grids.by_pk[pk].name if pk in self.grids.by_pk else ""

    def _address_labels(self, ids: Iterable[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i and i not in self.lookups.labels}
        if wanted:
            self.lookups.labels.update(Address.objects.filter(pk__in=wanted).values_list("pk", "label"))
        return self.lookups.labels

    def _write_households(self, progress: Progress) -> None:
        todo = [(n, info) for n, info in self.households.items() if not info.bad and info.staged]
        progress.start(_("写入户"), total=len(todo))
        fields = {name: verbose(Household, name) for name in ("number", "village", "grid", "address",
                                                               "standard_address")}
        for start in range(0, len(todo), CHUNK):
            part = todo[start:start + CHUNK]
            with transaction.atomic():
                existing = {row["number"]: row for row in Household.objects.filter(
                    number__in=[n for n, _info in part]).values("pk", "number", "village_id", "grid_id", "address",
                                                               "standard_address_id")}
                labels = self._address_labels([info.address_id for _n, info in part]
                                              + [e["standard_address_id"] for e in existing.values()])
                new: list[tuple[tuple[Any, ...], dict[str, str]]] = []
                changed: list[tuple[Household, dict[str, list[str]]]] = []
                now = timezone.now()
                for number, info in part:
                    assert info.grid_id is not None and info.village_id is not None
                    old = existing.get(number)
                    if old is None:
                        row = (info.village_id, info.grid_id, number, info.address or "", info.address_id)
                        new.append((row, {
                            fields["number"]: number, fields["village"]: self.grids.by_pk[info.grid_id].village_name,
                            fields["grid"]: self._grid_name(info.grid_id), fields["address"]: info.address or "",
                            fields["standard_address"]: labels.get(info.address_id or 0, "")}))
                        continue
                    diff: dict[str, list[str]] = {}
                    household = Household(pk=old["pk"], number=number, village_id=old["village_id"],
                                          grid_id=old["grid_id"], address=old["address"],
                                          standard_address_id=old["standard_address_id"], updated_at=now)
                    if info.grid_id != old["grid_id"]:
                        old_grid = self.grids.by_pk.get(old["grid_id"])
                        diff[fields["grid"]] = [self._grid_name(old["grid_id"]), self._grid_name(info.grid_id)]
                        if info.village_id != old["village_id"]:
                            diff[fields["village"]] = [old_grid.village_name if old_grid else "",
                                                       self.grids.by_pk[info.grid_id].village_name]
                        household.grid_id, household.village_id = info.grid_id, info.village_id
                        self.moved_households[old["pk"]] = info.grid_id
                    if info.address is not None and info.address != old["address"]:
                        diff[fields["address"]] = [old["address"], info.address]
                        household.address = info.address
                    if info.address_id is not None and info.address_id != old["standard_address_id"]:
                        diff[fields["standard_address"]] = [labels.get(old["standard_address_id"] or 0, ""),
                                                            labels.get(info.address_id, "")]
                        household.standard_address_id = info.address_id
                    if diff:
                        changed.append((household, diff))
                    self.household_pk[number] = old["pk"]
                    self.household_label[number] = f"{number} {household.address}"
                if new:
                    insert_many(Household, ("village_id", "grid_id", "number", "address", "standard_address_id"),
                                [row for row, _shown in new])
                    pks = dict(Household.objects.filter(number__in=[row[2] for row, _shown in new])
                               .values_list("number", "pk"))
                    for (_village, _grid, number, address, _std), shown in new:
                        self.household_pk[number] = pks[number]
                        self.household_label[number] = f"{number} {address}"
                        self.history.add("household", pks[number], created_changes(shown), created=True)
                if changed:
                    Household.objects.bulk_update([h for h, _diff in changed], ["village", "grid", "address",
                                                                                 "standard_address", "updated_at"],
                                                  batch_size=500)
                    for household, diff in changed:
                        self.history.add("household", household.pk, diff, created=False)
                self.history.flush()
            progress.advance(len(part))

    def _resident_fields(self) -> dict[str, str]:
        names = ("name", "id_number", "gender", "birth_date", "ethnicity", "phone", "residence_type", "household",
                 "relation", "grid", "standard_address", "groups", "status", "note")
        return {name: verbose(Resident, name) for name in names}

    def _write_residents(self, rows: list[PersonRow]) -> None:
        if not rows:
            return
        fields = self._resident_fields()
        labels = {
            "gender": self.genders.label_of, "residence_type": _labels(ResidenceType.choices),
            "relation": _labels(Resident.Relation.choices), "status": _labels(Resident.Status.choices)}
        existing: dict[str, Any] = {e["id_number_hash"]: e for e in Resident.objects.filter(
            id_number_hash__in=[r.id_hash for r in rows]).values(
            "pk", "id_number_hash", "name", "gender", "birth_date", "ethnicity", "phone", "phone_hash",
            "residence_type", "household_id", "relation", "grid_id", "standard_address_id", "status", "note")}
        groups: dict[int, set[int]] = defaultdict(set)
        if existing:
            through = Resident.groups.through
            for resident_id, group_id in through.objects.filter(
                    resident_id__in=[e["pk"] for e in existing.values()]).values_list("resident_id", "specialgroup_id"):
                groups[resident_id].add(group_id)
        address_labels = self._address_labels(
            [r.address_id for r in rows] + [e["standard_address_id"] for e in existing.values()])
        new: list[tuple[tuple[Any, ...], PersonRow]] = []
        changed: list[tuple[Resident, dict[str, Any], PersonRow]] = []
        now = timezone.now()
        adapt_date = connection.ops.adapt_datefield_value
        for r in rows:
            old = existing.get(r.id_hash)
            household_id = self.household_pk[r.household] if r.household else None
            if old is None:
                new.append(((r.grid_id, household_id, r.name, encrypt(r.id_number), r.id_hash,
                             encrypt(r.phone) if r.phone else "", r.phone_hash, r.gender or gender_from_id(r.id_number),
                             adapt_date(r.birth_date or birth_date_from_id(r.id_number)), r.relation or "",
                             r.residence_type or ResidenceType.REGISTERED, r.ethnicity or "", r.address_id,
                             r.status or Resident.Status.ACTIVE, r.note or ""), r))
                continue
            diff: dict[str, Any] = {}
            if r.name != old["name"]:
                diff["name"] = r.name
            for name in ("gender", "birth_date", "ethnicity", "residence_type", "relation", "status", "note"):
                value = getattr(r, name)
                if value is not None and value != old[name]:
                    diff[name] = value
            if r.phone is not None and r.phone_hash != old["phone_hash"]:
                diff["phone"] = r.phone
            if household_id is not None and household_id != old["household_id"]:
                diff["household_id"] = household_id
            if r.grid_id != old["grid_id"]:
                diff["grid_id"] = r.grid_id
            if r.address_id is not None and r.address_id != old["standard_address_id"]:
                diff["standard_address_id"] = r.address_id
            if r.groups is not None and set(r.groups) != groups.get(old["pk"], set()):
                diff["groups"] = r.groups
            if diff:
                resident = Resident(
                    pk=old["pk"], name=old["name"], gender=old["gender"], birth_date=old["birth_date"],
                    ethnicity=old["ethnicity"], phone=old["phone"], residence_type=old["residence_type"],
                    household_id=old["household_id"], relation=old["relation"], grid_id=old["grid_id"],
                    standard_address_id=old["standard_address_id"], status=old["status"], note=old["note"],
                    updated_at=now)
                resident.phone_hash = old["phone_hash"]
                changed.append((resident, diff, r))
        if new:
            insert_many(Resident, _NEW_RESIDENT, [values for values, _r in new])
            pks = dict(Resident.objects.filter(id_number_hash__in=[r.id_hash for _values, r in new])
                       .values_list("id_number_hash", "pk"))
            links: list[tuple[int, int]] = []
            for values, r in new:
                pk = pks[r.id_hash]
                if r.groups:
                    links.extend((pk, g) for g in r.groups)
                shown = {
                    fields["name"]: r.name, fields["id_number"]: mask_id_number(r.id_number),
                    fields["gender"]: labels["gender"].get(values[7], ""),
                    fields["birth_date"]: str(r.birth_date or birth_date_from_id(r.id_number)),
                    fields["ethnicity"]: r.ethnicity or "", fields["phone"]: mask_phone(r.phone) if r.phone else "",
                    fields["residence_type"]: labels["residence_type"][values[10]],
                    fields["household"]: self.household_label[r.household] if r.household else "",
                    fields["relation"]: labels["relation"].get(values[9], ""),
                    fields["grid"]: self._grid_name(r.grid_id),
                    fields["standard_address"]: address_labels.get(r.address_id or 0, ""),
                    fields["groups"]: self._group_list(r.groups or ()),
                    fields["status"]: labels["status"][values[13]], fields["note"]: r.note or ""}
                self.history.add("resident", pk, created_changes(shown), created=True)
            if links:
                insert_many(Resident.groups.through, ("resident_id", "specialgroup_id"), links)
        if changed:
            self._update_residents(changed, fields, labels, groups, address_labels, existing)
        self.summary.unchanged += len(rows) - len(new) - len(changed)
        self.summary.created += len(new)
        self.summary.updated += len(changed)

    def _group_list(self, ids: Iterable[int]) -> str:
        return "、".join(sorted(self.group_names.get(i, "") for i in ids))

    def _update_residents(self, changed: list[tuple[Resident, dict[str, Any], PersonRow]], fields: dict[str, str],
                          labels: dict[str, dict[str, str]], groups: dict[int, set[int]],
                          address_labels: dict[int, str], existing: dict[str, dict[str, Any]]) -> None:
        old_households = {e["household_id"] for e in existing.values() if e["household_id"]}
        household_shown = {pk: f"{number} {address}" for pk, number, address in Household.objects.filter(
            pk__in=old_households).values_list("pk", "number", "address")} if old_households else {}
        by_pk = {number_pk: label for number, number_pk in self.household_pk.items()
                 if (label := self.household_label.get(number))}
        update_fields: set[str] = {"updated_at"}
        unlink: list[Q] = []
        links: list[Any] = []
        for resident, diff, r in changed:
            shown: dict[str, list[str]] = {}
            for name, value in diff.items():
                if name == "groups":
                    before = groups.get(resident.pk, set())
                    shown[fields["groups"]] = [self._group_list(before), self._group_list(value)]
                    removed, added = before - set(value), set(value) - before
                    if removed:
                        unlink.append(Q(resident_id=resident.pk, specialgroup_id__in=removed))
                    links.extend(Resident.groups.through(resident_id=resident.pk, specialgroup_id=g) for g in added)
                    continue
                if name == "phone":
                    shown[fields["phone"]] = [resident.phone.masked if resident.phone else "", mask_phone(value)]
                    resident.phone = value
                    resident.phone_hash = r.phone_hash
                    update_fields.update(("phone", "phone_hash"))
                    continue
                old_value = getattr(resident, name)
                if name == "household_id":
                    shown[fields["household"]] = [household_shown.get(old_value, ""), by_pk.get(value, "")]
                elif name == "grid_id":
                    shown[fields["grid"]] = [self._grid_name(old_value), self._grid_name(value)]
                elif name == "standard_address_id":
                    shown[fields["standard_address"]] = [address_labels.get(old_value or 0, ""),
                                                         address_labels.get(value, "")]
                elif name in labels:
                    shown[fields[name]] = [labels[name].get(old_value, ""), labels[name].get(value, "")]
                else:
                    shown[fields[name]] = ["" if old_value is None else str(old_value), str(value)]
                setattr(resident, name, value)
                update_fields.add(name)
            self.history.add("resident", resident.pk, shown, created=False)
        if len(update_fields) > 1:
            Resident.objects.bulk_update([resident for resident, _diff, _r in changed], sorted(update_fields),
                                         batch_size=500)
            if "grid_id" in update_fields:
                key_persons.follow_residents([resident.pk for resident, _diff, _r in changed])
        if unlink:
            query = Q(pk__in=[])
            for part in unlink:
                query |= part
            Resident.groups.through.objects.filter(query).delete()
        if links:
            Resident.groups.through.objects.bulk_create(links, batch_size=500)

    def _follow_moved_households(self) -> None:
        """Members of a household that moved grid, not in the file, move with it."""
        if not self.moved_households:
            return
        fields = self._resident_fields()
        for household_id, grid_id in self.moved_households.items():
            with transaction.atomic():
                stray = list(Resident.objects.filter(household_id=household_id).exclude(grid_id=grid_id)
                             .values_list("pk", "grid_id"))
                if not stray:
                    continue
                Resident.objects.filter(pk__in=[pk for pk, _g in stray]).update(grid_id=grid_id,
                                                                               updated_at=timezone.now())
                for pk, old in stray:
                    self.history.add("resident", pk, {fields["grid"]: [self._grid_name(old),
                                                                       self._grid_name(grid_id)]}, created=False)
                    self.summary.updated += 1
                self.history.flush()


def _labels(choices: list[tuple[str, Any]]) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


# ----------------------------------------------------------------------------------------------------- export

def export_rows(area: OrgUnit, *, full: bool) -> tuple[int, Iterator[list[Any]]]:
    """The people of `area` in the template's columns, households together (head first), then people without a
    household; numbers masked unless `full`. As a register is kept (and the import reads it): the household's
    address on its first row only, and 网格编码 only where the village and grid names do not tell the grid."""
    sets = choice_sets()
    genders, types = sets["gender"].label_of, sets["residence_type"].label_of
    relations, statuses = sets["relation"].label_of, sets["status"].label_of
    residents = Resident.objects.filter(grid__path__startswith=area.path)
    count = residents.count()
    through = Resident.groups.through
    names = dict(SpecialGroup.objects.values_list("pk", "name"))
    group_lists: dict[int, list[str]] = defaultdict(list)
    for resident_id, group_id in through.objects.filter(resident__grid__path__startswith=area.path).values_list(
            "resident_id", "specialgroup_id"):
        group_lists[resident_id].append(names[group_id])
    relation_order = {v: i for i, v in enumerate(Resident.Relation.values)}
    coded = grids_needing_code()

    def rows() -> Iterator[list[Any]]:
        query = (residents.order_by("household__number", "household_id", "pk")
                 .values_list("pk", "name", "id_number", "gender", "birth_date", "ethnicity", "phone",
                              "residence_type", "household__number", "relation", "grid__parent__name", "grid__name",
                              "grid_id", "household__address", "household__standard_address__code",
                              "standard_address__label", "standard_address__code", "status", "note"))
        batch: list[tuple[Any, ...]] = []
        for record in query.iterator(chunk_size=2000):
            # Members of a household come together; within it the head first, then by relation.
            if batch and record[8] != batch[-1][8]:
                yield from _export_household(batch)
                batch = []
            batch.append(record)
        yield from _export_household(batch)

    def _export_household(batch: list[tuple[Any, ...]]) -> Iterator[list[Any]]:
        in_household = bool(batch) and batch[0][8] is not None
        if in_household:
            batch.sort(key=lambda r: (relation_order.get(r[9], 99), r[0]))
        for n, (pk, name, id_number, gender, birth, ethnicity, phone, kind, number, relation, village, grid, grid_id,
                household_address, household_code, own_label, own_code, status, note) in enumerate(batch):
            id_text = id_number.reveal() if id_number is not None else ""
            phone_text = phone.reveal() if phone is not None else ""
            if not full:
                id_text, phone_text = mask_id_number(id_text), (mask_phone(phone_text) if phone_text else "")
            groups = group_lists.get(pk)
            if not in_household:
                address, code = own_label, own_code
            elif n == 0:
                address, code = household_address, household_code
            else:
                address = code = None
            yield [name, id_text, genders.get(gender, ""), birth.isoformat() if birth else None, ethnicity or None,
                   phone_text or None, types.get(kind, ""), number, relations.get(relation) if relation else None,
                   village, grid, coded.get(grid_id), address or None, code or None,
                   ";".join(sorted(groups)) if groups else None, statuses.get(status, ""), note or None]

    return count, rows()


def write_export(file: IO[bytes], area: OrgUnit, *, full: bool, progress: Progress) -> int:
    """Write the people of `area` as a workbook to `file`; the number of people."""
    count, rows = export_rows(area, full=full)
    progress.start(_("导出"), total=count)
    workbooks.write_records(file, POPULATION, rows, count=count, masked=not full, progress=progress)
    return count
