"""Reads of the appeals loop that several callers need: the dispatcher's queue, a unit's inbox, a
resident's own cases, the public results, and the three rates.

The three rates, over appeals submitted in the period:
- 响应率 (response rate): dispatched cases the lead unit signed for within the acceptance deadline,
  over dispatched cases whose acceptance deadline has passed or that were signed for.
- 解决率 (resolution rate): closed cases over accepted cases (registered and not rejected, merged or
  withdrawn).
- 满意率 (satisfaction rate): satisfied + basically satisfied ratings over all ratings (one per
  closing round; call-back ratings count like the resident's own).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from linli.core.orgs.jurisdiction import jurisdiction_of

from .choices import (
    HANDLING_STATUSES,
    OPEN_STATUSES,
    SATISFIED_VALUES,
    Action,
    AppealStatus,
    AssignmentRole,
    DeadlineState,
)
from .deadlines import state_q
from .models import Appeal, AppealEvent, Category, Rating
from .permissions import DISPATCH_ROLES

S = AppealStatus


# --- queues ------------------------------------------------------------------------------------------


def dispatcher_queue(
    user,
    *,
    status: str | None = None,
    category_id: int | None = None,
    area_path: str | None = None,
    deadline_state: str | None = None,
    channel: str | None = None,
    q: str = "",
) -> QuerySet[Appeal]:
    """Appeals inside the dispatcher's jurisdiction; open ones by default, most urgent deadline first."""
    qs = jurisdiction_of(user).filter(Appeal.objects.all(), roles=DISPATCH_ROLES)
    qs = qs.filter(status=status) if status else qs.filter(status__in=OPEN_STATUSES)
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if area_path:
        qs = qs.filter(path__startswith=area_path)
    if deadline_state:
        qs = qs.filter(deadline_q(deadline_state))
    if channel:
        qs = qs.filter(channel=channel)
    if q:
        qs = qs.filter(Q(reference__icontains=q) | Q(title__icontains=q) | Q(address__icontains=q))
    return qs.select_related("category", "lead_unit", "community", "grid").order_by(
        F("handling_due").asc(nulls_last=True), "created_at"
    )


def deadline_q(state: str, *, now: dt.datetime | None = None, clock: str = "handling") -> Q:
    """Filter for the cases whose handling (or ``clock="acceptance"``) deadline colour is ``state``
    (``DeadlineState``) at ``now``. The colour is not stored: ``Appeal.deadline_state`` derives it
    from the status and the stored instants, and so does this."""
    return state_q(state, now or timezone.now(), clock=clock)


def dispatcher_counts(user) -> dict[str, int]:
    """{status: count} for every status inside the dispatcher's jurisdiction, plus yellow/red totals."""
    qs = jurisdiction_of(user).filter(Appeal.objects.all(), roles=DISPATCH_ROLES)
    counts = {s: 0 for s in S.values}
    counts.update(dict(qs.values_list("status").annotate(n=Count("id")).order_by()))
    now = timezone.now()
    overdue = qs.filter(status__in=HANDLING_STATUSES).aggregate(
        yellow=Count("id", filter=deadline_q(DeadlineState.YELLOW, now=now)),
        red=Count("id", filter=deadline_q(DeadlineState.RED, now=now)),
    )
    counts.update(overdue)
    return counts


def unit_inbox(
    user, *, unit_id: int | None = None, status: str | None = None, include_finished: bool = False
) -> QuerySet[Appeal]:
    """Appeals assigned (now) to a unit the user works for."""
    units = jurisdiction_of(user).organisation_ids
    if unit_id is not None:
        units = units & {unit_id}
    qs = Appeal.objects.filter(pk__in=_assigned_ids(units))
    if status:
        qs = qs.filter(status=status)
    elif not include_finished:
        qs = qs.filter(status__in=[*HANDLING_STATUSES, S.HANDLED])
    return qs.select_related("category", "lead_unit").order_by(F("handling_due").asc(nulls_last=True))


def _assigned_ids(units):
    from .models import Assignment

    return Assignment.objects.filter(unit_id__in=units, is_active=True).values("appeal_id")


def resident_appeals(user) -> QuerySet[Appeal]:
    if user is None or not user.is_authenticated:
        return Appeal.objects.none()
    return (
        Appeal.objects.filter(resident=user).select_related("category", "merged_into").order_by("-created_at")
    )


def resident_status(appeal: Appeal) -> str:
    """What the resident sees: a merged case shows its master's status."""
    if appeal.status == S.MERGED and appeal.merged_into_id:
        return appeal.merged_into.status
    return appeal.status


def category_by_triage(appeal: Appeal) -> bool:
    """Whether the appeal's category is still the one smart triage chose when it came without one
    (a person who later changed it makes it theirs). The resident is told so: an automated decision
    about their case is shown as such (PIPL art. 24)."""
    if appeal.category_id is None:
        return False
    event = appeal.events.filter(action=Action.CATEGORISE).order_by("-at", "-id").first()
    return event is not None and (event.data or {}).get("category") == appeal.category.code


def appeal_timeline(appeal: Appeal, *, staff: bool) -> QuerySet[AppealEvent]:
    """The events of an appeal; residents see only the public ones (no internal notes or units)."""
    qs = appeal.events.select_related("unit").order_by("at", "id")
    return qs if staff else qs.filter(public=True)


# --- public results ----------------------------------------------------------------------------------

PUBLIC_FIELDS = (
    "reference",
    "public_title",
    "public_body",
    "public_result",
    "public_place",
    "created_at",
    "closed_at",
    "category__name",
    "category__parent__name",
    "street__name",
    "community__name",
)


def public_appeals(
    *,
    area_path: str = "",
    category_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    q: str = "",
):
    """Published closed cases as plain dicts of their public fields only: no name, phone, exact
    address or coordinates can leak through a template. Private cases are never published."""
    qs = Appeal.objects.filter(published=True, is_private=False, status=S.CLOSED)
    if area_path:
        qs = qs.filter(path__startswith=area_path)
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if since:
        qs = qs.filter(closed_at__date__gte=since)
    if until:
        qs = qs.filter(closed_at__date__lte=until)
    if q:
        qs = qs.filter(Q(public_title__icontains=q) | Q(public_body__icontains=q) | Q(reference=q))
    return qs.order_by("-closed_at", "-id").values(*PUBLIC_FIELDS)


def public_appeal(reference: str) -> dict | None:
    row = public_appeals().filter(reference=reference).first()
    if row is None:
        return None
    row["timeline"] = list(
        AppealEvent.objects.filter(appeal__reference=reference, public=True)
        .order_by("at", "id")
        .values("at", "action", "to_status")
    )
    return row


# --- the three rates ---------------------------------------------------------------------------------

GROUPS = {
    "street": ("street_id", "street__name"),
    "community": ("community_id", "community__name"),
    "department": ("lead_unit_id", "lead_unit__name"),
    "category": ("category_id", "category__name"),
    "domain": ("category__parent_id", "category__parent__name"),
    "month": ("month", "month"),
}


def appeal_rates(
    *,
    group_by: str = "street",
    since: dt.date | None = None,
    until: dt.date | None = None,
    area_path: str = "",
    category_id: int | None = None,
    unit_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[dict]:
    """One row per group, in key order (no key last): counts and the three rates (None when there is
    nothing to divide by). Counted on the statistics copy (``stats.rates``: monthly sums, narrow
    facts, today live) once it has been built, else on the appeals table; both give the same
    numbers, except that a change to an appeal submitted before today reaches the copy at its next
    refresh (every minute). A month row's key and label are the aware start of the local month."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {sorted(GROUPS)}")
    from .stats.rates import rate_counts

    now = now or timezone.now()
    kwargs = {
        "since": since,
        "until": until,
        "area_path": area_path,
        "category_id": category_id,
        "unit_id": unit_id,
    }
    counts = rate_counts(group_by=group_by, now=now, **kwargs)
    if counts is None:
        counts = appeal_rate_counts_from_table(group_by=group_by, now=now, **kwargs)
    labels = _rate_labels(group_by, counts)
    result = []
    for key in sorted(counts, key=lambda k: (k is None, k if k is not None else 0)):
        c = counts[key]
        result.append(
            {
                "key": key,
                "label": key if group_by == "month" else labels.get(key, ""),
                **{name: c[name] for name in RATE_COUNTS},
                "response_rate": _ratio(c["responded"], c["dispatched"]),
                "resolution_rate": _ratio(c["resolved"], c["accepted"]),
                "satisfaction_rate": _ratio(c["satisfied"], c["rated"]),
            }
        )
    return result


RATE_COUNTS = ("total", "dispatched", "responded", "accepted", "resolved", "rated", "satisfied")


def appeal_rate_counts_from_table(
    *,
    group_by: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    area_path: str = "",
    category_id: int | None = None,
    unit_id: int | None = None,
    now: dt.datetime,
) -> dict:
    """``appeal_rates``' counts read from the appeals table alone, in two aggregate queries (appeals,
    ratings): the definition the statistics copy must reproduce (and what the tests compare it with)."""
    key = GROUPS[group_by][0]
    appeals = Appeal.objects.all()
    if since:
        appeals = appeals.filter(created_at__gte=_start_of(since))
    if until:
        appeals = appeals.filter(created_at__lt=_start_of(until + dt.timedelta(days=1)))
    if area_path:
        appeals = appeals.filter(path__startswith=area_path)
    if category_id:
        appeals = appeals.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if unit_id:
        appeals = appeals.filter(lead_unit_id=unit_id)
    if group_by == "month":
        appeals = appeals.annotate(month=TruncMonth("created_at"))
    from .stats.rates import case_counts

    rows = appeals.values(key).annotate(**case_counts(now)).order_by()
    rating_key = "appeal__" + key if group_by != "month" else "month"
    ratings = Rating.objects.filter(appeal__in=appeals.values("id"))
    if group_by == "month":
        ratings = ratings.annotate(month=TruncMonth("appeal__created_at"))
    rating_counts = {
        r[rating_key]: r
        for r in ratings.values(rating_key)
        .annotate(rated=Count("id"), satisfied=Count("id", filter=Q(value__in=SATISFIED_VALUES)))
        .order_by()
    }
    from .stats.rates import month_key

    counts = {}
    for row in rows:
        r = rating_counts.get(row[key], {"rated": 0, "satisfied": 0})
        k = month_key(row[key]) if group_by == "month" else row[key]
        counts[k] = {name: row[name] for name in RATE_COUNTS[:5]}
        counts[k].update(rated=r["rated"], satisfied=r["satisfied"])
    return counts


def _rate_labels(group_by: str, counts: dict) -> dict:
    """Names of the groups' places, units or categories (no label for an empty key)."""
    from linli.core.orgs.models import Organisation
    from linli.core.places.models import Area

    ids = [k for k in counts if k is not None]
    if not ids or group_by == "month":
        return {}
    if group_by in ("street", "community"):
        return dict(Area.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "department":
        return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
    return dict(Category.objects.filter(pk__in=ids).values_list("pk", "name"))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def assignment_roles_for(user, appeal: Appeal) -> set[str]:
    """Which roles (lead/assist) the user's units hold on the appeal now."""
    units = jurisdiction_of(user).organisation_ids
    return set(
        appeal.assignments.filter(is_active=True, unit_id__in=units).values_list("role", flat=True)
    ) & {AssignmentRole.LEAD, AssignmentRole.ASSIST}


# --- for the pages -----------------------------------------------------------------------------------


def appeal_by_idempotency_key(user, key: str) -> Appeal | None:
    """The case a form with this key already created (a double submit), if any."""
    if not key or user is None or not user.is_authenticated:
        return None
    return Appeal.objects.filter(submitted_by=user, idempotency_key=key).first()


def similar_open_appeals(appeal: Appeal, *, days: int = 30, limit: int = 8) -> list[Appeal]:
    """Open cases that may be the same problem: same domain, same community (or grid), recent,
    not themselves duplicates; candidates for a merge, most recent first."""
    qs = Appeal.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True).exclude(pk=appeal.pk)
    if appeal.community_id:
        qs = qs.filter(community_id=appeal.community_id)
    elif appeal.grid_id:
        qs = qs.filter(grid_id=appeal.grid_id)
    else:
        return []
    if appeal.category_id:
        domain = appeal.category.parent_id or appeal.category_id
        qs = qs.filter(Q(category_id=domain) | Q(category__parent_id=domain))
    since = appeal.created_at - dt.timedelta(days=days)
    qs = qs.filter(created_at__gte=since)
    return list(qs.select_related("category", "grid").order_by("-created_at")[:limit])


def queue_areas(user):
    """Streets and communities a dispatcher may filter the queue by."""
    from linli.core.places.choices import AreaKind
    from linli.core.places.models import Area

    areas = Area.objects.filter(kind__in=[AreaKind.STREET, AreaKind.COMMUNITY])
    return jurisdiction_of(user).filter(areas, roles=DISPATCH_ROLES).order_by("path")


def pending_extension(appeal: Appeal):
    from .choices import ExtensionStatus

    return appeal.extension_requests.filter(status=ExtensionStatus.PENDING).select_related("unit").first()


def current_rating(appeal: Appeal) -> Rating | None:
    return Rating.objects.filter(appeal=appeal, round=appeal.round).first()


def public_attachments(appeal: Appeal, *, kinds=None):
    qs = appeal.attachments.exclude(public_file="")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("uploaded_at", "id")
