"""What every import shares: where the importer may write (the grids of their bulk scope), the list of row
errors, the staging file between the check and the write, and the history rows of the write.

Grids are named in files the way people keep them: 村(社区) and 网格 by name (the grid's full name, or the
part after the village's name: 小山村 + 第1网格), or by 网格编码. Only grids where the importer may bulk-write are
known here, so a grid elsewhere and a grid that does not exist get the same error: nothing can be learnt about
other villages by importing.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.models import Job
from gongzhi.core.rows import insert_many
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry import policies
from gongzhi.registry.excel import cells
from gongzhi.registry.excel.cells import CellError
from gongzhi.registry.models import RecordChange

CHUNK = 2000  # rows looked up and written together
MAX_ERRORS = 200_000  # kept for the error file; a wrong file beyond this is cut off (and says so)


@dataclass(frozen=True, slots=True)
class GridRef:
    pk: int
    code: str
    name: str
    village_id: int
    village_name: str


def _name_key(value: str) -> str:
    return "".join(cells.text(value).split())


class GridError(CellError):
    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


class Grids:
    """The grids where `user` may bulk-write, by code and by the names people use."""

    def __init__(self, user: User) -> None:
        self.paths = policies.bulk_paths(user)
        rows = (OrgUnit.objects.filter(policies.bulk_q(user, "path"), level=Level.GRID, kind=UnitKind.AREA)
                .values_list("pk", "code", "name", "parent_id", "parent__name", "is_active"))
        self.by_pk: dict[int, GridRef] = {}
        self.by_code: dict[str, GridRef] = {}
        self.by_full_name: dict[str, list[GridRef]] = defaultdict(list)
        self.by_village: dict[tuple[str, str], list[GridRef]] = defaultdict(list)
        for pk, code, name, village_id, village_name, active in rows:
            ref = GridRef(pk, code, name, village_id or 0, village_name or "")
            self.by_pk[pk] = ref
            if not active:
                continue
            self.by_code[code.upper()] = ref
            full, village = _name_key(name), _name_key(village_name or "")
            self.by_full_name[full].append(ref)
            self.by_village[(village, full)].append(ref)
            if village and full.startswith(village) and len(full) > len(village):
                self.by_village[(village, full[len(village):])].append(ref)

    def in_scope(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.paths)

    def resolve(self, village: Any, grid: Any, code: Any) -> GridRef:
        """The grid a row names, else GridError naming the column to fix."""
        unknown = _("未找到该网格，或不在您的导入范围内。")
        code_text = cells.code(code, _("网格编码"), 40) if code is not None else ""
        village_key, grid_key = _name_key(cells.text(village)), _name_key(cells.text(grid))
        if code_text:
            ref = self.by_code.get(code_text)
            if ref is None:
                raise GridError(unknown, "grid_code")
            full, village_name = _name_key(ref.name), _name_key(ref.village_name)
            grid_ok = not grid_key or grid_key == full or (
                full.startswith(village_name) and grid_key == full[len(village_name):])
            if not grid_ok or (village_key and village_key != village_name):
                raise GridError(_("网格编码与村(社区)、网格不一致。"), "grid_code")
            return ref
        if not grid_key:
            raise GridError(_("请填写村(社区)和网格，或网格编码。"), "grid")
        found = self.by_village.get((village_key, grid_key)) if village_key else self.by_full_name.get(grid_key)
        if not found:
            raise GridError(unknown, "grid")
        if len(found) > 1:
            raise GridError(_("有多个同名的网格，请改填网格编码。"), "grid")
        return found[0]


def grids_needing_code() -> dict[int, str]:
    """{grid id: 网格编码} of the active grids whose village and grid names another active grid shares (as `Grids`
    matches them): an export writes the code for these only, since the names alone find every other grid, in
    anyone's scope."""
    index: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for pk, code, name, village in OrgUnit.objects.filter(level=Level.GRID, kind=UnitKind.AREA, is_active=True) \
            .values_list("pk", "code", "name", "parent__name"):
        full, village_key = _name_key(name), _name_key(village or "")
        index[(village_key, full)].append((pk, code))
        if village_key and full.startswith(village_key) and len(full) > len(village_key):
            index[(village_key, full[len(village_key):])].append((pk, code))
    return {pk: code for found in index.values() if len(found) > 1 for pk, code in found}


class Errors:
    """Row errors: (row number as Excel shows it, column header, the value as written, why)."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str, str, str]] = []
        self.rows: set[int] = set()
        self.count = 0

    def add(self, row: int, header: str, value: Any, why: str) -> None:
        self.count += 1
        self.rows.add(row)
        if len(self.items) < MAX_ERRORS:
            self.items.append((row, header, cells.shown(value), why))

    @property
    def truncated(self) -> bool:
        return self.count > len(self.items)

    def sorted(self) -> list[tuple[int, str, str, str]]:
        return sorted(self.items, key=lambda e: e[0])


class Staging:
    """The checked, normalised rows, pickled in chunks to an anonymous temporary file: the write pass reads
    them back instead of parsing the workbook again, and memory holds one chunk at a time."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.rows = 0

    def put(self, rows: Sequence[Any]) -> None:
        if rows:
            pickle.dump(list(rows), self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self.rows += len(rows)

    def chunks(self) -> Iterator[list[Any]]:
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)
            except EOFError:
                return

    def close(self) -> None:
        self._file.close()


class History:
    """`RecordChange` rows of one import, in the shape `services.history.diff` gives ({verbose name: [old, new]},
    values as the record page shows them), written with each batch."""

    def __init__(self, job: Job) -> None:
        self.actor_id = job.owner_id
        self.source = f"导入任务 #{job.pk}"  # data, as RecordChange.source documents it
        self.pending: list[tuple[str, int, dict[str, list[str]]]] = []
        self.created = self.updated = 0

    def add(self, record_type: str, record_id: int, changes: dict[str, list[str]], *, created: bool) -> None:
        self.pending.append((record_type, record_id, changes))
        if created:
            self.created += 1
        else:
            self.updated += 1

    def flush(self) -> None:
        if not self.pending:
            return
        at = connection.ops.adapt_datetimefield_value(timezone.now())
        action, actor, source = RecordChange.Action.IMPORTED.value, self.actor_id, self.source
        changes_field = RecordChange._meta.get_field("changes")
        prepare = changes_field.get_db_prep_save
        insert_many(RecordChange, ("record_type", "record_id", "action", "changes", "actor_id", "source", "at"),
                    [(kind, pk, action, prepare(changes, connection), actor, source, at)
                     for kind, pk, changes in self.pending])
        self.pending = []


def verbose(model: type[models.Model], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


def created_changes(shown: dict[str, str]) -> dict[str, list[str]]:
    """A new record's history: every field shown with a value, from nothing."""
    return {name: ["", value] for name, value in shown.items() if value}
