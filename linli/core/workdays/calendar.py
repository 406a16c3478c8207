"""Working-time arithmetic.

Rules:
- A day is a working day when ``chinese_calendar`` says so: Monday to Friday unless a public holiday,
  plus the weekend days declared working days (调休, e.g. Sunday 2025-09-28).
- Office hours are periods of the day (default 09:00–12:00 and 13:30–18:00, Asia/Shanghai), set by
  ``LINLI_OFFICE_HOURS = "09:00-12:00,13:30-18:00"``.
- ``add_working_hours`` counts only time inside office periods of working days.
- ``add_working_days(start, n)`` is the close of business on the n-th working day after the day of
  ``start``; ``n == 0`` means "the same working day" (urgent cases): close of business today if today is
  a working day and office hours are not over, else close of business on the next working day.
- For a year the library does not cover yet (it is updated each winter when the State Council
  publishes the next year's holidays), ``LINLI_WORKDAYS_UNKNOWN_YEARS`` decides: ``"warn"`` (default)
  falls back to Monday–Friday and logs a warning once per year; ``"error"`` raises
  ``CalendarNotCovered``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger("linli.workdays")

DEFAULT_OFFICE_HOURS = "09:00-12:00,13:30-18:00"
_MAX_DAYS = 3 * 366  # no working-time question in this product looks further than three years


class CalendarNotCovered(ValueError):
    """The holiday calendar has no data for the year asked about."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            _(
                "节假日日历尚未包含%(year)s年，请升级 chinesecalendar / the holiday calendar does not cover "
                "%(year)s yet: upgrade the chinesecalendar package"
            )
            % {"year": year}
        )


def _parse_periods(text: str) -> tuple[tuple[dt.time, dt.time], ...]:
    periods = []
    for chunk in text.split(","):
        start_text, end_text = chunk.strip().split("-")
        start, end = dt.time.fromisoformat(start_text.strip()), dt.time.fromisoformat(end_text.strip())
        if end <= start:
            raise ValueError(f"office period {chunk!r} ends before it starts")
        periods.append((start, end))
    periods.sort()
    for (_s1, e1), (s2, _e2) in zip(periods, periods[1:], strict=False):
        if s2 < e1:
            raise ValueError(f"office periods overlap: {text!r}")
    if not periods:
        raise ValueError("no office periods")
    return tuple(periods)


def _as_timedelta(amount) -> dt.timedelta:
    if isinstance(amount, dt.timedelta):
        return amount
    if isinstance(amount, Decimal):
        amount = float(amount)
    return dt.timedelta(hours=amount)


@dataclass(frozen=True)
class WorkCalendar:
    periods: tuple[tuple[dt.time, dt.time], ...] = _parse_periods(DEFAULT_OFFICE_HOURS)
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    unknown_years: str = "warn"  # or "error"

    # -- days -------------------------------------------------------------------------------------
    def is_workday(self, day: dt.date) -> bool:
        if isinstance(day, dt.datetime):
            day = self._local(day).date()
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if self.unknown_years == "error":
                raise CalendarNotCovered(day.year) from None
            _warn_uncovered(day.year)
            return day.weekday() < 5

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        for _i in range(_MAX_DAYS):
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                return day
        raise ValueError("no working day within three years")  # pragma: no cover

    @property
    def hours_per_day(self) -> dt.timedelta:
        return sum((self._span(s, e) for s, e in self.periods), dt.timedelta())

    # -- instants ---------------------------------------------------------------------------------
    def _local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def _at(self, day: dt.date, t: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, t, tzinfo=self.tz)

    @staticmethod
    def _span(s: dt.time, e: dt.time) -> dt.timedelta:
        return dt.datetime.combine(dt.date.min, e) - dt.datetime.combine(dt.date.min, s)

    def office_periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if not self.is_workday(day):
            return []
        return [(self._at(day, s), self._at(day, e)) for s, e in self.periods]

    def close_of_business(self, day: dt.date) -> dt.datetime:
        return self._at(day, self.periods[-1][1])

    def end_of_working_day(self, moment: dt.datetime) -> dt.datetime:
        """Close of business today if today is a working day still open, else of the next one."""
        local = self._local(moment)
        day = local.date()
        if self.is_workday(day) and local < self.close_of_business(day):
            return self.close_of_business(day)
        return self.close_of_business(self.next_workday(day))

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        if days < 0:
            raise ValueError("days must not be negative")
        if days == 0:
            return self.end_of_working_day(start)
        day = self._local(start).date()
        for _i in range(days):
            day = self.next_workday(day)
        return self.close_of_business(day)

    def add_working_hours(self, start: dt.datetime, hours) -> dt.datetime:
        """The instant when ``hours`` (a number or a timedelta) of office time have passed after
        ``start``. Zero hours is ``start`` itself."""
        remaining = _as_timedelta(hours)
        if remaining < dt.timedelta():
            raise ValueError("hours must not be negative")
        cursor = self._local(start)
        if remaining == dt.timedelta():
            return cursor
        day = cursor.date()
        for _i in range(_MAX_DAYS):
            for period_start, period_end in self.office_periods(day):
                begin = max(period_start, cursor)
                if begin >= period_end:
                    continue
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("working time beyond three years")  # pragma: no cover

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Office time inside [start, end]; zero when end is not after start."""
        start, end = self._local(start), self._local(end)
        total = dt.timedelta()
        if end <= start:
            return total
        day = start.date()
        last = end.date()
        if (last - day).days > _MAX_DAYS:
            raise ValueError("span longer than three years")
        while day <= last:
            for period_start, period_end in self.office_periods(day):
                begin, finish = max(period_start, start), min(period_end, end)
                if finish > begin:
                    total += finish - begin
            day += dt.timedelta(days=1)
        return total

    def fraction_point(self, start: dt.datetime, due: dt.datetime, fraction: float) -> dt.datetime:
        """The instant when ``fraction`` of the office time between start and due has passed (the 80%
        yellow warning)."""
        allowed = self.working_time_between(start, due)
        if allowed == dt.timedelta():
            return self._local(start)
        return self.add_working_hours(start, allowed * fraction)


_warned_years: set[int] = set()


def _warn_uncovered(year: int) -> None:
    if year not in _warned_years:
        _warned_years.add(year)
        logger.warning("holiday calendar does not cover %s; counting Monday to Friday as working days", year)


@lru_cache(maxsize=8)
def _calendar_for(office_hours: str, tz: str, unknown_years: str) -> WorkCalendar:
    if unknown_years not in {"warn", "error"}:
        raise ValueError("LINLI_WORKDAYS_UNKNOWN_YEARS must be 'warn' or 'error'")
    return WorkCalendar(periods=_parse_periods(office_hours), tz=ZoneInfo(tz), unknown_years=unknown_years)


def default_calendar() -> WorkCalendar:
    return _calendar_for(
        getattr(settings, "LINLI_OFFICE_HOURS", DEFAULT_OFFICE_HOURS),
        getattr(settings, "LINLI_WORKDAY_TIME_ZONE", settings.TIME_ZONE),
        getattr(settings, "LINLI_WORKDAYS_UNKNOWN_YEARS", "warn"),
    )


def is_workday(day: dt.date) -> bool:
    return default_calendar().is_workday(day)


def end_of_working_day(moment: dt.datetime) -> dt.datetime:
    return default_calendar().end_of_working_day(moment)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    return default_calendar().add_working_days(start, days)


def add_working_hours(start: dt.datetime, hours) -> dt.datetime:
    return default_calendar().add_working_hours(start, hours)


def working_time_between(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    return default_calendar().working_time_between(start, end)
