import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from linli.core import workdays
from linli.core.workdays.calendar import WorkCalendar, _parse_periods

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


def test_national_day_week_and_adjusted_working_days():
    assert workdays.is_workday(dt.date(2025, 9, 30))  # Tuesday before the holiday
    for day in range(1, 9):
        assert not workdays.is_workday(dt.date(2025, 10, day)), day
    assert workdays.is_workday(dt.date(2025, 9, 28))  # Sunday worked in exchange (调休)
    assert workdays.is_workday(dt.date(2025, 10, 11))  # Saturday worked in exchange
    assert not workdays.is_workday(dt.date(2025, 9, 27))  # an ordinary Saturday


def test_working_days_cross_national_day():
    # Tuesday 30 September + 1 working day: 1–8 October are off, so Thursday 9 October at close.
    assert workdays.add_working_days(at(2025, 9, 30, 10), 1) == at(2025, 10, 9, 18)
    # + 3 working days: 9 (Thu), 10 (Fri), 11 (the 调休 Saturday).
    assert workdays.add_working_days(at(2025, 9, 30, 10), 3) == at(2025, 10, 11, 18)


def test_working_day_after_an_ordinary_saturday_is_the_adjusted_sunday():
    assert workdays.add_working_days(at(2025, 9, 27, 11), 1) == at(2025, 9, 28, 18)


def test_same_day_urgent():
    assert workdays.add_working_days(at(2025, 9, 30, 10), 0) == at(2025, 9, 30, 18)
    # After office hours, "same day" rolls to the next working day's close.
    assert workdays.add_working_days(at(2025, 9, 30, 19), 0) == at(2025, 10, 9, 18)
    # On a holiday, too.
    assert workdays.add_working_days(at(2025, 10, 3, 10), 0) == at(2025, 10, 9, 18)


def test_two_working_hours_for_street_cleaning():
    assert workdays.add_working_hours(at(2025, 9, 29, 9), 2) == at(2025, 9, 29, 11)
    # 11:00 + 2h: one hour before lunch, one after 13:30.
    assert workdays.add_working_hours(at(2025, 9, 29, 11), 2) == at(2025, 9, 29, 14, 30)
    # 17:00 on the last day before National Day + 2h: one hour today, one on 9 October.
    assert workdays.add_working_hours(at(2025, 9, 30, 17), 2) == at(2025, 10, 9, 10)
    # Reported at night: counting starts at 09:00 next working day.
    assert workdays.add_working_hours(at(2025, 9, 29, 22), 2) == at(2025, 9, 30, 11)
    # Reported during lunch: counting starts at 13:30.
    assert workdays.add_working_hours(at(2025, 9, 29, 12, 15), 2) == at(2025, 9, 29, 15, 30)


def test_four_working_hours_from_a_saturday_land_on_the_adjusted_sunday():
    assert workdays.add_working_hours(at(2025, 9, 27, 10), 4) == at(2025, 9, 28, 14, 30)


def test_add_working_hours_accepts_timedelta_and_zero():
    assert workdays.add_working_hours(at(2025, 9, 29, 9), dt.timedelta(minutes=30)) == at(2025, 9, 29, 9, 30)
    assert workdays.add_working_hours(at(2025, 9, 29, 20), 0) == at(2025, 9, 29, 20)
    with pytest.raises(ValueError):
        workdays.add_working_hours(at(2025, 9, 29, 9), -1)


def test_working_time_between():
    assert workdays.working_time_between(at(2025, 9, 29, 9), at(2025, 9, 29, 18)) == dt.timedelta(hours=7.5)
    # The whole National Day week counts nothing.
    assert workdays.working_time_between(at(2025, 9, 30, 18), at(2025, 10, 9, 9)) == dt.timedelta()
    assert workdays.working_time_between(at(2025, 9, 30, 17), at(2025, 10, 9, 10)) == dt.timedelta(hours=2)
    assert workdays.working_time_between(at(2025, 9, 29, 10), at(2025, 9, 29, 9)) == dt.timedelta()


def test_round_trip_between_and_add():
    start = at(2025, 9, 26, 15, 10)
    for hours in (0.5, 2, 7.5, 13, 40):
        end = workdays.add_working_hours(start, hours)
        assert workdays.working_time_between(start, end) == dt.timedelta(hours=hours)


def test_fraction_point_is_80_percent_of_working_time():
    cal = workdays.default_calendar()
    start, due = at(2025, 9, 30, 17), at(2025, 10, 9, 10)  # two working hours across the holiday
    assert cal.fraction_point(start, due, 0.8) == at(2025, 10, 9, 9, 36)


def test_naive_datetimes_are_read_as_local_time():
    naive = dt.datetime(2025, 9, 29, 9)
    assert workdays.add_working_hours(naive, 1) == at(2025, 9, 29, 10)


def test_utc_input_is_converted():
    utc = dt.datetime(2025, 9, 29, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert workdays.add_working_hours(utc, 1) == at(2025, 9, 29, 10)


def test_uncovered_year_warns_and_falls_back_to_weekdays(caplog):
    far = dt.date(2099, 6, 1)  # a Monday
    assert workdays.is_workday(far)
    assert not workdays.is_workday(dt.date(2099, 6, 6))  # Saturday


@override_settings(LINLI_WORKDAYS_UNKNOWN_YEARS="error")
def test_uncovered_year_raises_a_clear_error_when_strict():
    with pytest.raises(workdays.CalendarNotCovered) as info:
        workdays.is_workday(dt.date(2099, 6, 1))
    assert "2099" in str(info.value)
    assert "/" in str(info.value)  # bilingual


@override_settings(LINLI_OFFICE_HOURS="08:30-12:00,14:00-17:30")
def test_office_hours_are_configurable():
    assert workdays.add_working_hours(at(2025, 9, 29, 11), 2) == at(2025, 9, 29, 15)
    assert workdays.default_calendar().hours_per_day == dt.timedelta(hours=7)


def test_bad_office_hours_are_refused():
    with pytest.raises(ValueError):
        _parse_periods("12:00-09:00")
    with pytest.raises(ValueError):
        _parse_periods("09:00-12:00,11:00-13:00")


def test_calendar_default_hours():
    assert WorkCalendar().hours_per_day == dt.timedelta(hours=7.5)
