"""The main navigation: which pages a visitor sees, by who they are.

Each entry names a URL, a label and an icon, and says who sees it: anonymous visitors, residents, any
staff member, or staff holding one of a set of roles (``orgs.jurisdiction``). URL names are reversed
when the menu is drawn; an entry whose page does not exist (yet) is silently dropped, so modules can
be added or left out of a deployment without touching this file.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from linli.core.orgs.choices import REGISTER_ROLES, Role
from linli.core.orgs.jurisdiction import is_staff_member, jurisdiction_of

# Audiences an entry may name besides staff roles.
ANONYMOUS = "anonymous"
RESIDENT = "resident"
STAFF = "staff"  # any staff member, whatever the role
EVERYONE = frozenset({ANONYMOUS, RESIDENT, STAFF})

APPEAL_HANDLERS = frozenset(
    {
        Role.ADMIN,
        Role.DISPATCHER,
        Role.DEPARTMENT_STAFF,
        Role.STREET_STAFF,
        Role.COMMUNITY_STAFF,
        Role.GRID_WORKER,
        Role.LEADER,
    }
)
# Who reads the command dashboard (linli.faces.dashboard.scope says what each of them sees).
DASHBOARD_ROLES = frozenset(
    {
        Role.ADMIN,
        Role.LEADER,
        Role.MENTOR,
        Role.DISPATCHER,
        Role.DEPARTMENT_STAFF,
        Role.STREET_STAFF,
        Role.COMMUNITY_STAFF,
    }
)


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str
    icon: str
    audience: frozenset[str]
    section: str = "main"  # "main" or "admin"


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    icon: str
    url_name: str
    active: bool
    section: str


ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("web:home", _("首页"), "home", EVERYONE),
    NavEntry("places:map", _("辖区地图"), "map", EVERYONE),
    NavEntry("appeals:public", _("办理结果公开"), "chart", EVERYONE),
    NavEntry("public_stats:home", _("统计公开"), "chart", frozenset({ANONYMOUS, RESIDENT})),
    # Residents
    NavEntry("appeals:submit", _("我要反映"), "edit", frozenset({RESIDENT})),
    NavEntry("appeals:mine", _("我的诉求"), "inbox", frozenset({RESIDENT})),
    # Staff
    NavEntry("appeals:queue", _("诉求调度"), "inbox", frozenset({Role.ADMIN, Role.DISPATCHER})),
    NavEntry("appeals:inbox", _("待办诉求"), "inbox", APPEAL_HANDLERS - {Role.DISPATCHER, Role.LEADER}),
    NavEntry("appeals:patrol", _("巡查上报"), "edit", frozenset({Role.GRID_WORKER})),
    NavEntry("dashboard:home", _("指挥中心"), "chart", DASHBOARD_ROLES),
    NavEntry("dashboard:map", _("指挥地图"), "grid", DASHBOARD_ROLES),
    NavEntry("dashboard:deadlines", _("时限预警"), "alert", DASHBOARD_ROLES),
    NavEntry("dashboard:reports", _("统计报告"), "inbox", DASHBOARD_ROLES),
    NavEntry("triage:queue", _("分拨队列"), "route", frozenset({Role.ADMIN, Role.DISPATCHER})),
    NavEntry(
        "hot_issues:list",
        _("热点问题"),
        "alert",
        frozenset(
            {Role.ADMIN, Role.DISPATCHER, Role.LEADER, Role.MENTOR, Role.STREET_STAFF, Role.COMMUNITY_STAFF}
        ),
    ),
    NavEntry("people:household_list", _("住户登记"), "home-group", REGISTER_ROLES),
    NavEntry("orgs:organisation_list", _("组织机构"), "org", frozenset({STAFF})),
    NavEntry(
        "people:import", _("导入登记"), "upload", frozenset({Role.ADMIN, Role.COMMUNITY_STAFF}), "admin"
    ),
    NavEntry("audit:log", _("审计日志"), "shield", frozenset({Role.ADMIN}), "admin"),
)


def audience_of(user) -> frozenset[str]:
    """The audiences and roles a user belongs to."""
    if user is None or not user.is_authenticated:
        return frozenset({ANONYMOUS})
    if getattr(user, "is_resident", False) and not user.is_superuser:
        return frozenset({RESIDENT})
    j = jurisdiction_of(user)
    if j.is_superuser:
        return frozenset({STAFF, *Role.values})
    found = set(j.roles)
    if is_staff_member(user):
        found.add(STAFF)
    return frozenset(found)


def _reverse(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def entries_for(user, current_path: str = "", entries=ENTRIES) -> list[NavLink]:
    """The links a user sees, in order; pages that do not exist are left out."""
    audience = audience_of(user)
    links: list[NavLink] = []
    for entry in entries:
        if not audience.intersection(entry.audience):
            continue
        url = _reverse(entry.url_name)
        if url is None:
            continue
        if url == "/":
            active = current_path == "/"
        else:
            active = current_path.startswith(url)
        links.append(
            NavLink(
                url=url,
                label=str(entry.label),
                icon=entry.icon,
                url_name=entry.url_name,
                active=active,
                section=entry.section,
            )
        )
    return links
