"""Deadlines of one appeal on the working-day calendar. The deadline scan (``tasks.py``) only compares
stored instants (``*_warn_at`` at 80% of the allowed working time, ``*_due``) with now, so it can
run as set-based UPDATEs over millions of rows."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings

from linli.core import workdays

from .choices import DeadlineState, Priority, TimeUnit
from .models import Appeal, Category

# Used when an appeal has no category yet.
FALLBACK_ACCEPTANCE = (2.0, TimeUnit.HOURS)
FALLBACK_HANDLING = {Priority.NORMAL: (5.0, TimeUnit.DAYS), Priority.URGENT: (0.0, TimeUnit.DAYS)}


def warn_fraction() -> float:
    return float(getattr(settings, "LINLI_APPEALS_WARN_FRACTION", 0.8))


def add_limit(start: dt.datetime, amount: float, unit: str) -> dt.datetime:
    cal = workdays.default_calendar()
    if unit == TimeUnit.HOURS:
        return cal.add_working_hours(start, amount)
    whole = math.floor(amount)
    due = cal.add_working_days(start, whole)
    if amount > whole:  # half a day = half the office hours of the next working day
        due = cal.add_working_hours(due, cal.hours_per_day * (amount - whole))
    return due


def state_at(now: dt.datetime, warn_at: dt.datetime | None, due: dt.datetime | None) -> str:
    if due is None:
        return DeadlineState.NONE
    if now >= due:
        return DeadlineState.RED
    if warn_at is not None and now >= warn_at:
        return DeadlineState.YELLOW
    return DeadlineState.GREEN


def _limits(category: Category | None, priority: str) -> tuple[tuple[float, str], tuple[float, str]]:
    if category is None:
        return FALLBACK_ACCEPTANCE, FALLBACK_HANDLING[priority]
    return (float(category.acceptance_limit), category.acceptance_unit), category.limit_for(priority)


def start_acceptance_clock(appeal: Appeal, start: dt.datetime, now: dt.datetime) -> None:
    (amount, unit), _handling = _limits(appeal.category, appeal.priority)
    appeal.acceptance_due = add_limit(start, amount, unit)
    appeal.acceptance_warn_at = workdays.default_calendar().fraction_point(
        start, appeal.acceptance_due, warn_fraction()
    )
    appeal.acceptance_state = state_at(now, appeal.acceptance_warn_at, appeal.acceptance_due)


def start_handling_clock(appeal: Appeal, start: dt.datetime, now: dt.datetime) -> None:
    _acceptance, (amount, unit) = _limits(appeal.category, appeal.priority)
    appeal.handling_due = add_limit(start, amount, unit)
    appeal.handling_warn_at = workdays.default_calendar().fraction_point(
        start, appeal.handling_due, warn_fraction()
    )
    appeal.deadline_state = state_at(now, appeal.handling_warn_at, appeal.handling_due)
    appeal.deadline_epoch += 1


def extend_handling_clock(appeal: Appeal, days: int, now: dt.datetime) -> None:
    """An approved extension: the due moves by ``days`` working days; the warning goes back to 80%
    of the whole allowed time, counted from dispatch."""
    cal = workdays.default_calendar()
    old_due = appeal.handling_due or now
    new_due = cal.add_working_hours(old_due, cal.hours_per_day * days)
    start = appeal.dispatched_at or now
    appeal.handling_due = new_due
    appeal.handling_warn_at = cal.fraction_point(start, new_due, warn_fraction())
    appeal.deadline_state = state_at(now, appeal.handling_warn_at, new_due)
    appeal.deadline_epoch += 1
    appeal.extended_days += days


def stop_clocks(appeal: Appeal) -> None:
    appeal.acceptance_state = DeadlineState.NONE
    appeal.deadline_state = DeadlineState.NONE
