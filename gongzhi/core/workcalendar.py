"""The official working-day calendar: weekends, public holidays and make-up workdays (调休).

Time limits of government work are counted in working days ("5个工作日内") and working hours. A day is a
workday when an administrator's `CalendarDay` entry says so; otherwise by the chinese-calendar package
for the years it knows; otherwise (a year not yet published) Monday to Friday.

Conventions: N working days from a moment end at the close of office hours on the N-th working day after
that moment's date (the day itself does not count, as in government practice). Working hours are counted
only inside office hours on workdays.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import chinese_calendar
from django.conf import settings
from django.utils import timezone

from gongzhi.core.models import CalendarDay

# Far enough to cross the longest run of holidays (春节 with adjoining weekends) many times over.
_MAX_SCAN_DAYS = 3660


def _office_hours() -> tuple[datetime.time, datetime.time]:
    start, end = (datetime.time.fromisoformat(t) for t in settings.OFFICE_HOURS)
    return start, end


def _library_workday(day: datetime.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not know yet
        return day.weekday() < 5


class WorkCalendar:
    """Answers workday questions for a date range with one query for the administrator's entries."""

    def __init__(self, start: datetime.date, end: datetime.date):
        self._load(start, end)

    def _load(self, start: datetime.date, end: datetime.date) -> None:
        self.start, self.end = start, end
        self.overrides: dict[datetime.date, bool] = dict(
            CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "is_workday")
        )

    def is_workday(self, day: datetime.date) -> bool:
        if not self.start <= day <= self.end:
            self._load(day, day + datetime.timedelta(days=366))
        if day in self.overrides:
            return self.overrides[day]
        return _library_workday(day)

    def workdays_after(self, day: datetime.date) -> Iterator[datetime.date]:
        for offset in range(1, _MAX_SCAN_DAYS):
            candidate = day + datetime.timedelta(days=offset)
            if self.is_workday(candidate):
                yield candidate


def _calendar_from(day: datetime.date, days: int) -> WorkCalendar:
    # Working days never stretch beyond three times their number plus a month of holidays.
    return WorkCalendar(day, day + datetime.timedelta(days=days * 3 + 31))


def is_workday(day: datetime.date) -> bool:
    return WorkCalendar(day, day).is_workday(day)


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """The close of office hours on the `days`-th working day after `start`'s local date."""
    if days < 1:
        raise ValueError("days must be at least 1")
    local_day = timezone.localtime(start).date()
    calendar = _calendar_from(local_day, days)
    for count, day in enumerate(calendar.workdays_after(local_day), start=1):
        if count == days:
            return timezone.make_aware(datetime.datetime.combine(day, _office_hours()[1]))
    raise ValueError("no working day found")  # pragma: no cover - only with a calendar of all holidays


def add_working_hours(start: datetime.datetime, hours: float) -> datetime.datetime:
    """The moment when `hours` of office time on workdays have passed since `start`."""
    if hours <= 0:
        raise ValueError("hours must be positive")
    open_at, close_at = _office_hours()
    remaining = datetime.timedelta(hours=hours)
    moment = timezone.localtime(start)
    day = moment.date()
    office_day = datetime.datetime.combine(day, close_at) - datetime.datetime.combine(day, open_at)
    span_days = int(remaining / office_day) + 1
    calendar = _calendar_from(day, span_days)
    for _ in range(_MAX_SCAN_DAYS):
        if calendar.is_workday(day):
            opens = timezone.make_aware(datetime.datetime.combine(day, open_at))
            closes = timezone.make_aware(datetime.datetime.combine(day, close_at))
            begin = max(moment, opens)
            if begin < closes:
                if begin + remaining <= closes:
                    return begin + remaining
                remaining -= closes - begin
        day += datetime.timedelta(days=1)
        moment = timezone.make_aware(datetime.datetime.combine(day, open_at))
    raise ValueError("no working time found")  # pragma: no cover - only with a calendar of all holidays


class OfficeClock:
    """Office time between many pairs of moments (the handling time of every case a statistic counts): a
    table of office seconds before each day, so each answer is a lookup and two partial days."""

    def __init__(self) -> None:
        self._first: datetime.date | None = None
        self._before: list[float] = []  # office seconds on workdays before self._first + i days
        self._calendar: WorkCalendar | None = None

    def _cover(self, first: datetime.date, last: datetime.date) -> None:
        if self._first is not None and self._first <= first and last < self._first + datetime.timedelta(
                days=len(self._before) - 1):
            return
        first = min(first, self._first or first) - datetime.timedelta(days=31)
        last = max(last, (self._first + datetime.timedelta(days=len(self._before))) if self._first else last)
        last += datetime.timedelta(days=366)
        self._calendar = WorkCalendar(first, last)
        day_seconds = self._office_seconds()
        self._first, self._before, total = first, [], 0.0
        for offset in range((last - first).days + 2):
            self._before.append(total)
            if self._calendar.is_workday(first + datetime.timedelta(days=offset)):
                total += day_seconds

    @staticmethod
    def _office_seconds() -> float:
        open_at, close_at = _office_hours()
        day = datetime.date(2000, 1, 1)
        return (datetime.datetime.combine(day, close_at) - datetime.datetime.combine(day, open_at)).total_seconds()

    def _seconds_before(self, moment: datetime.datetime) -> float:
        """Office seconds on workdays from the table's start up to `moment`."""
        assert self._first is not None and self._calendar is not None
        local = timezone.localtime(moment)
        day = local.date()
        index = (day - self._first).days
        seconds = self._before[index]
        if self._calendar.is_workday(day):
            open_at, close_at = _office_hours()
            opens = datetime.datetime.combine(day, open_at)
            closes = datetime.datetime.combine(day, close_at)
            at = min(max(local.replace(tzinfo=None), opens), closes)
            seconds += (at - opens).total_seconds()
        return seconds

    def days_between(self, start: datetime.datetime, end: datetime.datetime) -> float:
        """Office time on workdays between `start` and `end`, in office days (one day's office hours = 1.0);
        0 when `end` is not after `start`."""
        if end <= start:
            return 0.0
        self._cover(timezone.localtime(start).date(), timezone.localtime(end).date())
        return (self._seconds_before(end) - self._seconds_before(start)) / self._office_seconds()
