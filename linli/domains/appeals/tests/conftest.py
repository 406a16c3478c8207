"""A small world for the appeals loop on top of ``small_district``: a grid centre with dispatchers,
two departments, a street office, a community station with a grid worker, residents, a category
tree and a routing rule."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linli.core.accounts.models import User
from linli.core.orgs.choices import OrgKind, Role
from linli.core.orgs.models import Membership, Organisation
from linli.core.places import index as place_index
from linli.domains.appeals.choices import TimeUnit
from linli.domains.appeals.models import Category, RoutingRule

SH = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def png_bytes(extra_text: str = "") -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    if extra_text:
        info.add_text("Comment", extra_text)
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def jpeg_with_exif(description: str = "GPS-SECRET") -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = description  # ImageDescription
    exif[0x0110] = "Phone X"  # camera model
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def make_user(kind="staff", **extra) -> User:
    n = next(_seq)
    return User.objects.create_user(username=f"u{n}", password="x" * 12, kind=kind, **extra)


def grant(user, org, role, area, **extra):
    Membership.objects.create(user=user, organisation=org, role=role, jurisdiction=area, **extra)
    user.__dict__.pop("_linli_jurisdiction", None)
    if hasattr(user, "_linli_jurisdiction"):
        del user._linli_jurisdiction
    return user


@dataclass
class World:
    d: object
    centre: Organisation
    city_mgmt: Organisation
    housing: Organisation
    street_office: Organisation
    station: Organisation
    dispatcher: User
    street2_dispatcher: User
    handler: User
    handler_leader: User
    other_handler: User
    street_staff: User
    grid_worker: User
    resident: User
    other_resident: User
    domain: Category
    rubbish: Category
    dirty_road: Category
    complaint: Category
    rule: RoutingRule

    def point(self, grid_index=0):
        return self.d.grid_centre(grid_index)


@pytest.fixture
def world(small_district) -> World:
    place_index.invalidate()
    d = small_district
    org = itertools.count(1)

    def make_org(kind, area, name):
        return Organisation.objects.create(kind=kind, code=f"T{next(org):03d}", name=name, area=area)

    centre = make_org(OrgKind.GRID_CENTRE, d.district, "区网格化服务管理中心")
    city_mgmt = make_org(OrgKind.DEPARTMENT, d.district, "区综合执法局")
    housing = make_org(OrgKind.DEPARTMENT, d.district, "区住建局")
    street_office = make_org(OrgKind.STREET_OFFICE, d.streets[0], "第1街道办事处")
    station = make_org(OrgKind.COMMUNITY_STATION, d.communities[0], "第1社区工作站")

    dispatcher = grant(make_user(), centre, Role.DISPATCHER, d.district)
    street2_dispatcher = grant(make_user(), centre, Role.DISPATCHER, d.streets[1])
    handler = grant(make_user(), city_mgmt, Role.DEPARTMENT_STAFF, d.district)
    handler_leader = grant(make_user(), city_mgmt, Role.DEPARTMENT_STAFF, d.district, is_unit_leader=True)
    other_handler = grant(make_user(), housing, Role.DEPARTMENT_STAFF, d.district)
    street_staff = grant(make_user(), street_office, Role.STREET_STAFF, d.streets[0])
    grid_worker = grant(make_user(), station, Role.GRID_WORKER, d.grids[0])
    resident = make_user(kind=User.Kind.RESIDENT, display_name="王小明", phone="13800001111")
    other_resident = make_user(kind=User.Kind.RESIDENT)

    domain = Category.objects.create(code="SRHJ", name="市容环境", default_unit_kind=OrgKind.DEPARTMENT)
    rubbish = Category.objects.create(
        parent=domain,
        code="SRHJ-01",
        name="暴露垃圾",
        normal_limit=4,
        normal_unit=TimeUnit.HOURS,
        urgent_limit=2,
        urgent_unit=TimeUnit.HOURS,
        acceptance_limit=1,
        acceptance_unit=TimeUnit.HOURS,
    )
    dirty_road = Category.objects.create(
        parent=domain, code="SRHJ-02", name="道路不洁", normal_limit=2, normal_unit=TimeUnit.HOURS
    )
    complaint = Category.objects.create(
        code="CXJS",
        name="城乡建设",
        normal_limit=15,
        normal_unit=TimeUnit.DAYS,
        acceptance_limit=1,
        acceptance_unit=TimeUnit.DAYS,
        questions=[{"code": "floor", "label": "楼层", "datatype": "number", "required": True}],
    )
    rule = RoutingRule.objects.create(category=domain, area=None, lead_unit=city_mgmt)
    return World(
        d,
        centre,
        city_mgmt,
        housing,
        street_office,
        station,
        dispatcher,
        street2_dispatcher,
        handler,
        handler_leader,
        other_handler,
        street_staff,
        grid_worker,
        resident,
        other_resident,
        domain,
        rubbish,
        dirty_road,
        complaint,
        rule,
    )


@pytest.fixture
def clock(monkeypatch):
    """Set 'now' for services, selectors and tasks: ``clock.set(2025, 9, 30, 10)``."""

    class Clock:
        now = timezone.now()

        def set(self, *args):
            self.now = dt.datetime(*args, tzinfo=SH)
            return self.now

        def advance(self, **delta):
            self.now += dt.timedelta(**delta)
            return self.now

    c = Clock()
    monkeypatch.setattr(timezone, "now", lambda: c.now)
    return c


@pytest.fixture
def on_commit(monkeypatch):
    """Run on-commit callbacks (notifications) at once: the test's transaction never commits."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())
