"""Working time on the Chinese calendar: public holidays and adjusted working days (调休) come from
the maintained ``chinese_calendar`` package; office hours come from settings.

    from linli.core import workdays
    workdays.is_workday(date)
    workdays.add_working_days(start, 3)      # close of business on the 3rd working day after start
    workdays.add_working_hours(start, 2)     # 2 office hours after start
    workdays.working_time_between(a, b)      # office time elapsed (timedelta)

See ``calendar.py`` for the rules."""

from .calendar import (
    CalendarNotCovered,
    WorkCalendar,
    add_working_days,
    add_working_hours,
    default_calendar,
    end_of_working_day,
    is_workday,
    working_time_between,
)

__all__ = [
    "CalendarNotCovered",
    "WorkCalendar",
    "add_working_days",
    "add_working_hours",
    "default_calendar",
    "end_of_working_day",
    "is_workday",
    "working_time_between",
]
