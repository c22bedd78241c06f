"""Paging a list without counting it: a page reads its own rows and one more, which says whether there is a
next page. Counting a city's million cases on every view cost more than showing them (issue 11)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet

# Pages further on are not offered: the rows before an OFFSET are still read. Narrow the filters instead.
MAX_PAGE = 1000


class Window:
    """One page of a list whose length is unknown; the template interface of Django's `Page` that the pager
    (includes/pager.html) reads, with `total` known only when the whole list fits on the first page."""

    paginator = None  # no page count

    def __init__(self, queryset: QuerySet[Any], number: str | int | None, per_page: int) -> None:
        try:
            self.number = min(max(int(number or 1), 1), MAX_PAGE)
        except (TypeError, ValueError):
            self.number = 1
        start = (self.number - 1) * per_page
        rows = list(queryset[start:start + per_page + 1])
        self.object_list: Sequence[Any] = rows[:per_page]
        self._has_next = len(rows) > per_page and self.number < MAX_PAGE
        self.total = len(rows) if self.number == 1 and not self._has_next else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
