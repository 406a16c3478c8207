"""Deadlines of one appeal on the working-day calendar. Only instants are stored (``*_warn_at`` at 80%
of the allowed working time, ``*_due``); the colour of a case (正常/临期/超期) is derived from them and
the status whenever it is read (``Appeal.deadline_state``, ``Appeal.acceptance_state``, and
``state_q`` for queries), so it is exact at every moment and nothing on the appeals table changes
when a deadline passes. The deadline scan (``tasks.py``) only records the crossings (催办/督办) and
tells the units."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db.models import Q

from linli.core import workdays

from .choices import HANDLING_STATUSES, AppealStatus, DeadlineState, Priority, TimeUnit
from .models import Appeal, Category, colour_at

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


state_at = colour_at  # (now, warn_at, due) -> DeadlineState of a running clock


def state_q(state: str, now: dt.datetime, *, clock: str = "handling") -> Q:
    """The cases whose ``deadline_state`` (``clock="handling"``) or ``acceptance_state``
    (``clock="acceptance"``) is ``state`` at ``now``: the same rule as the model's properties, as a
    filter on the status and the stored instants (index-friendly; no column holds the colour)."""
    if clock == "handling":
        running = Q(status__in=HANDLING_STATUSES)
        warn, due = "handling_warn_at", "handling_due"
    else:
        running = Q(status=AppealStatus.DISPATCHED)
        warn, due = "acceptance_warn_at", "acceptance_due"
    if state == DeadlineState.NONE:
        return ~running | Q(**{f"{due}__isnull": True})
    running &= Q(**{f"{due}__isnull": False})
    if state == DeadlineState.RED:
        return running & Q(**{f"{due}__lte": now})
    if state == DeadlineState.YELLOW:
        return running & Q(**{f"{due}__gt": now, f"{warn}__lte": now})
    if state == DeadlineState.GREEN:
        not_yet = Q(**{f"{warn}__isnull": True}) | Q(**{f"{warn}__gt": now})
        return running & Q(**{f"{due}__gt": now}) & not_yet
    raise ValueError(f"unknown deadline state {state!r}")


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


def start_handling_clock(appeal: Appeal, start: dt.datetime, now: dt.datetime) -> None:
    _acceptance, (amount, unit) = _limits(appeal.category, appeal.priority)
    appeal.handling_due = add_limit(start, amount, unit)
    appeal.handling_warn_at = workdays.default_calendar().fraction_point(
        start, appeal.handling_due, warn_fraction()
    )
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
    appeal.deadline_epoch += 1
    appeal.extended_days += days
