"""The shape every record type's import has: rows checked one by one (the cells, then the file-wide rules),
looked up against the database a chunk at a time, staged; then written a chunk at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from gongzhi.accounts.models import User
from gongzhi.core.jobs import Progress
from gongzhi.core.models import Job
from gongzhi.registry.excel.cells import CellError
from gongzhi.registry.excel.columns import RecordType
from gongzhi.registry.excel.context import Errors, GridError, GridRef, Grids, History, Staging

T = TypeVar("T")
INVALID: Any = object()  # a cell that had an error (already listed)


@dataclass
class WriteSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows left out: their own or their household's errors (clean rows only)


class Importer:
    record_type: RecordType

    def __init__(self, *, user: User, job: Job, grids: Grids, headers: dict[str, str]) -> None:
        self.user, self.job, self.grids, self.headers = user, job, grids, headers
        self.errors = Errors()
        self.staging = Staging()
        self.history = History(job)
        self.summary = WriteSummary()
        self._grids: dict[tuple[Any, Any, Any], GridRef | GridError] = {}  # by the cells as written

    # ---- checking
    def header(self, key: str) -> str:
        """The column's header as the file writes it (the template's, for a column the file lacks)."""
        return self.headers.get(key) or self.record_type.by_key[key].header.rstrip("*")

    def error(self, row: int, key: str, value: Any, why: str) -> None:
        self.errors.add(row, self.header(key), value, why)

    def cell(self, row: int, values: dict[str, Any], key: str, parse: Callable[..., T], *args: Any,
             **kwargs: Any) -> T:
        """`parse(value, *args, **kwargs)` of the row's cell `key` (None when the file lacks the column), or INVALID
        after listing the error."""
        value = values.get(key)
        try:
            return parse(value, *args, **kwargs)
        except CellError as err:
            self.error(row, key, value, err.message)
            result: T = INVALID
            return result

    def optional(self, row: int, values: dict[str, Any], key: str, parse: Callable[..., T], *args: Any) -> T | None:
        """As `cell`, for a cell that may be empty: None without calling `parse` (most optional cells are)."""
        value = values.get(key)
        if value is None:
            return None
        try:
            return parse(value, *args)
        except CellError as err:
            self.error(row, key, value, err.message)
            result: T = INVALID
            return result

    def grid(self, row: int, values: dict[str, Any]) -> GridRef | None:
        key = (values.get("village"), values.get("grid"), values.get("grid_code"))
        found = self._grids.get(key)
        if found is None:
            try:
                found = self.grids.resolve(*key)
            except GridError as err:
                found = err
            self._grids[key] = found
        if isinstance(found, GridError):
            shown = values.get(found.column)
            if found.column == "grid" and values.get("village") is not None:
                shown = f"{values.get('village') or ''} {values.get('grid') or ''}".strip()
            self.error(row, found.column, shown, found.message)
            return None
        return found

    def check_row(self, row: int, values: dict[str, Any]) -> None:
        raise NotImplementedError

    def end_check(self) -> None:
        raise NotImplementedError

    @property
    def clean_rows(self) -> int:
        raise NotImplementedError

    # ---- writing
    def write(self, progress: Progress) -> WriteSummary:
        raise NotImplementedError

    def close(self) -> None:
        self.staging.close()
