"""Working days and hours on the official calendar, under a frozen clock where "now" matters."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.core import workcalendar
from gongzhi.core.models import CalendarDay

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=10, mm=0):
    return datetime.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def test_weekend_is_skipped():
    # Friday 2026-11-20 + 1 working day → Monday 11-23 at close of office.
    assert workcalendar.add_working_days(at(2026, 11, 20), 1) == at(2026, 11, 23, 17, 30)


def test_reporting_day_does_not_count_and_five_days_cross_a_weekend():
    # Tuesday 2026-11-17 + 5 working days → Tuesday 11-24.
    assert workcalendar.add_working_days(at(2026, 11, 17, 16), 5) == at(2026, 11, 24, 17, 30)


def test_national_day_holiday_and_make_up_workday():
    # 2026: 10-01..10-07 off; Saturday 10-10 is a make-up workday (调休上班).
    assert not workcalendar.is_workday(datetime.date(2026, 10, 5))
    assert workcalendar.is_workday(datetime.date(2026, 10, 10))
    # Wednesday 09-30 + 3 working days: 10-08, 10-09, then Saturday 10-10.
    assert workcalendar.add_working_days(at(2026, 9, 30), 3) == at(2026, 10, 10, 17, 30)


def test_unknown_year_falls_back_to_weekends_and_administrator_entries():
    # 2027 is not in the package yet: Friday 2027-01-01 counts as a weekday until an administrator says otherwise.
    assert workcalendar.is_workday(datetime.date(2027, 1, 1))
    CalendarDay.objects.create(date=datetime.date(2027, 1, 1), is_workday=False, name="元旦")
    assert not workcalendar.is_workday(datetime.date(2027, 1, 1))
    assert workcalendar.add_working_days(at(2026, 12, 31), 1) == at(2027, 1, 4, 17, 30)


def test_administrator_entry_overrides_the_package():
    CalendarDay.objects.create(date=datetime.date(2026, 11, 21), is_workday=True, name="调休上班")
    assert workcalendar.add_working_days(at(2026, 11, 20), 1) == at(2026, 11, 21, 17, 30)


def test_working_hours_stop_at_close_and_resume_next_workday():
    # Friday 16:30 + 4 office hours: 1 h on Friday, 3 h from Monday 08:30.
    assert workcalendar.add_working_hours(at(2026, 11, 20, 16, 30), 4) == at(2026, 11, 23, 11, 30)


def test_working_hours_started_outside_office_hours():
    # Saturday evening + 2 h → Monday 10:30; Monday 07:00 + 1 h → 09:30.
    assert workcalendar.add_working_hours(at(2026, 11, 21, 20), 2) == at(2026, 11, 23, 10, 30)
    assert workcalendar.add_working_hours(at(2026, 11, 23, 7), 1) == at(2026, 11, 23, 9, 30)


def test_working_hours_across_the_national_day_week():
    # Wednesday 09-30 17:00 + 1 h: half an hour that day, then the holiday week, then 10-08 09:00.
    assert workcalendar.add_working_hours(at(2026, 9, 30, 17), 1) == at(2026, 10, 8, 9, 0)


def test_works_from_utc_input_under_a_frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 11, 20, 23, 0, tzinfo=SHANGHAI), tick=False):
        from django.utils import timezone

        # 23:00 Friday in Shanghai is 15:00 UTC: the local date (Friday) is what counts.
        assert workcalendar.add_working_days(timezone.now(), 1) == at(2026, 11, 23, 17, 30)


@pytest.mark.parametrize("call", [lambda: workcalendar.add_working_days(at(2026, 11, 20), 0),
                                  lambda: workcalendar.add_working_hours(at(2026, 11, 20), 0)])
def test_non_positive_limits_are_refused(call):
    with pytest.raises(ValueError):
        call()
