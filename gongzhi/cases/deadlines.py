"""Time limits as arithmetic: when a limit falls due, which limit runs in which state, and the moments a
sweep or a work list compares deadlines with. It reads the category limits and the working-day calendar
and writes nothing; `services` set the deadlines, `sweep` acts on them, `selectors.with_flags` shows them.

Which limit runs when
    The response limit (`respond_due`, natural hours) runs while a case waits to be taken up: `reported`,
    or `escalated` to a new level (escalation sets a fresh `respond_due`). The handling limit
    (`handle_due`, working days) runs while a unit works on it: `accepted`, `dispatched`, `in_progress`,
    `returned`, `reopened`. Other states run against no limit (handled, deferred, final ones).

When a limit counts as coming due (yellow; the sweep writes a reminder)
    - response limit: at most `RESPOND_WARNING` (6 hours, a quarter of the usual 24) left;
    - handling limit: it falls due before the close of office hours on the next working day
      (`workcalendar.add_working_days(now, 1)`): on a Friday that is Monday's close, on the eve of a
      holiday the close of the first workday after it, on the Friday before a make-up Saturday (调休) that
      Saturday's close.
    A limit has passed (red; the sweep marks it overdue) once its moment is behind `now`. A handling limit
    has used up its grace (the sweep escalates) once the close of office hours on the first workday after
    its date has passed.

延期 (extension)
    A handling limit may be extended to the close of office hours of a later workday, at most
    `CASE_EXTENSION_MAX_WORKING_DAYS` (30) working days after the current limit (`extension_bounds`). Flags
    and sweep steps follow the new limit by themselves: a flag is computed from `handle_due`, and a sweep
    step's key names the deadline it was written for, so the new limit is reminded of and marked overdue
    afresh.

The rating window (评价期)
    Residents may rate a closed case until `CASE_RATING_WINDOW_DAYS` (7) days after it was closed
    (`rating_open`); after that the sweep archives it (归档), as it archives a rated case at once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from gongzhi.cases import categories
from gongzhi.cases.models import Case, Category
from gongzhi.cases.workflow import Status
from gongzhi.core import workcalendar

RESPOND_PENDING = frozenset({Status.REPORTED, Status.ESCALATED})
HANDLE_PENDING = frozenset({Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURNED,
                            Status.REOPENED})
RESPOND_WARNING = datetime.timedelta(hours=6)
_MAX_SCAN_DAYS = 3660


class Limit:
    RESPOND = "respond"
    HANDLE = "handle"


def respond_due(category: Category, level: str, *, start: datetime.datetime) -> datetime.datetime:
    """The response limit of a case of `category` held at `level` that came in at `start` (natural hours)."""
    return start + datetime.timedelta(hours=categories.limits_for(category, level).respond_hours)


def handle_due(category: Category, level: str, *, start: datetime.datetime) -> datetime.datetime:
    """The handling limit of a case of `category` taken up at `level` at `start` (working days)."""
    return workcalendar.add_working_days(start, categories.limits_for(category, level).handle_working_days)


def snapshot(respond: datetime.datetime | None, handle: datetime.datetime | None) -> dict[str, str | None]:
    """The deadlines as a log row keeps them (`CaseLog.deadlines`)."""
    return {"respond_due": respond.isoformat() if respond else None,
            "handle_due": handle.isoformat() if handle else None}


@dataclass(frozen=True)
class Horizons:
    """The moments one sweep (or one list) compares deadlines with."""

    now: datetime.datetime
    respond_warn_until: datetime.datetime  # a response limit at or before this is coming due
    handle_warn_until: datetime.datetime  # a handling limit at or before this is coming due
    escalate_before: datetime.datetime  # a handling limit before this has used up its grace day


def _last_closed_workday(now: datetime.datetime) -> datetime.date:
    """The latest workday whose office hours have closed by `now`."""
    local = timezone.localtime(now)
    closes = datetime.time.fromisoformat(settings.OFFICE_HOURS[1])
    day = local.date()
    calendar = workcalendar.WorkCalendar(day - datetime.timedelta(days=60), day)
    if calendar.is_workday(day) and local.time() > closes:
        return day
    for _offset in range(_MAX_SCAN_DAYS):
        day -= datetime.timedelta(days=1)
        if calendar.is_workday(day):
            return day
    raise ValueError("no working day found")  # pragma: no cover - only with a calendar of all holidays


def horizons(now: datetime.datetime | None = None) -> Horizons:
    now = now or timezone.now()
    grace_day = _last_closed_workday(now)
    return Horizons(
        now=now,
        respond_warn_until=now + RESPOND_WARNING,
        handle_warn_until=workcalendar.add_working_days(now, 1),
        # add_working_days(due, 1) < now  ⟺  due's local date < the last closed workday.
        escalate_before=timezone.make_aware(datetime.datetime.combine(grace_day, datetime.time.min)),
    )


# ---------------------------------------------------------------------------------------------------------
# 延期 and the rating window


def close_of_office(day: datetime.date) -> datetime.datetime:
    """The close of office hours on `day`, local time: where every handling limit ends."""
    closes = datetime.time.fromisoformat(settings.OFFICE_HOURS[1])
    return timezone.make_aware(datetime.datetime.combine(day, closes))


def extension_bounds(current: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """An extended handling limit must lie after `current` and at or before the second moment (the close of
    the `CASE_EXTENSION_MAX_WORKING_DAYS`-th working day after it)."""
    return current, workcalendar.add_working_days(current, settings.CASE_EXTENSION_MAX_WORKING_DAYS)


def rating_closes(closed_at: datetime.datetime) -> datetime.datetime:
    """When the rating window of a case closed at `closed_at` ends."""
    return closed_at + datetime.timedelta(days=settings.CASE_RATING_WINDOW_DAYS)


def rating_open(case: Case, now: datetime.datetime | None = None) -> bool:
    """Whether residents may still rate `case`: a case not closed (handled, 回访 done) may be rated 不满意
    at any time; a closed one within the rating window."""
    return case.closed_at is None or (now or timezone.now()) <= rating_closes(case.closed_at)


def rating_closed_before(now: datetime.datetime) -> datetime.datetime:
    """Cases closed before this moment are past their rating window at `now` (what the sweep archives)."""
    return now - datetime.timedelta(days=settings.CASE_RATING_WINDOW_DAYS)
