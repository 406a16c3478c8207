"""The hot-issues page (热点问题) for dispatchers and leaders: groups of appeals about the same problem
in the same place, hottest first, inside the reader's jurisdiction, filtered by period and area."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import jurisdiction_of
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.domains.appeals.models import Appeal

from .hotspots import hot_issue_groups

HOT_ISSUE_ROLES = frozenset(
    {Role.ADMIN, Role.DISPATCHER, Role.LEADER, Role.MENTOR, Role.STREET_STAFF, Role.COMMUNITY_STAFF}
)
PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}


def _periods():
    return [
        ("7", _("近 7 天")),
        ("30", _("近 30 天")),
        ("90", _("近 90 天")),
        ("365", _("近一年")),
    ]


@login_required
def hot_issues(request):
    user = request.user
    j = jurisdiction_of(user)
    if not j.has_role(*HOT_ISSUE_ROLES):
        raise PermissionDenied(_("此页面供调度员和领导使用 / for dispatchers and leaders"))
    areas = j.filter(
        Area.objects.filter(kind__in=[AreaKind.STREET, AreaKind.COMMUNITY]), roles=HOT_ISSUE_ROLES
    ).order_by("path")
    period = request.GET.get("period", "30")
    days = PERIODS.get(period, 30)
    area = None
    area_id = request.GET.get("area", "")
    if area_id.isdigit():
        area = areas.filter(pk=int(area_id)).first()
    until = timezone.now()
    scoped = j.filter(Appeal.objects.all(), roles=HOT_ISSUE_ROLES)
    groups = hot_issue_groups(area=area, since=until - dt.timedelta(days=days), until=until, queryset=scoped)
    ids = {i for g in groups for i in g.appeal_ids}
    appeals = {a.pk: a for a in Appeal.objects.filter(pk__in=ids).only("id", "reference", "title", "status")}
    rows = [{"group": g, "appeals": [appeals[i] for i in g.appeal_ids if i in appeals]} for g in groups]
    return render(
        request,
        "triage/hot_issues.html",
        {
            "rows": rows,
            "areas": areas,
            "area": area,
            "period": period if period in PERIODS else "30",
            "periods": _periods(),
        },
    )
