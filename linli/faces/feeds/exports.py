"""Case exports for staff, CSV and Excel.

Scope: exactly the cases the staff member may read (``appeals.permissions.appeals_visible_to``),
then the chosen filters. Personal data (the person's name, phone and exact address) appears in
clear only on rows inside the viewer's dispatching jurisdiction (dispatchers and administrators,
who take calls and call back); everyone else gets it masked, and the free text with names, phones,
ID numbers and the address removed. ID numbers never appear in any export. Every export is written
to the audit trail (who, when, filters, row count, whether personal data was included).

Size: CSV streams row by row (``StreamingHttpResponse``) whatever the size; Excel is built in
openpyxl's write-only mode into a temporary file and is refused above
``LINLI_EXPORT_XLSX_MAX_ROWS`` (default 100,000) with a hint to narrow the filters or use CSV."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from linli.core.audit.services import audit_record
from linli.core.orgs.jurisdiction import jurisdiction_of
from linli.core.privacy.masking import mask_name, mask_phone
from linli.domains.appeals.models import Appeal, Rating
from linli.domains.appeals.permissions import DISPATCH_ROLES, appeals_visible_to
from linli.domains.appeals.services import coarse_place, redact_text

_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xlsx_max_rows() -> int:
    return int(getattr(settings, "LINLI_EXPORT_XLSX_MAX_ROWS", 100_000))


@dataclass
class ExportFilters:
    status: str = ""
    category: object = None  # appeals.Category
    area: object = None  # places.Area (street or community)
    since: dt.date | None = None
    until: dt.date | None = None

    def describe(self) -> list[tuple[str, str]]:
        return [
            (_("状态"), self.status or _("全部")),
            (_("类别"), str(self.category) if self.category else _("全部")),
            (_("区域"), self.area.name if self.area else _("全部")),
            (_("提交日期自"), self.since.isoformat() if self.since else "—"),
            (_("提交日期至"), self.until.isoformat() if self.until else "—"),
        ]

    def as_audit(self) -> dict:
        return {
            "status": self.status,
            "category": self.category.code if self.category else "",
            "area": self.area.code if self.area else "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }


def export_queryset(user, filters: ExportFilters) -> QuerySet[Appeal]:
    qs = appeals_visible_to(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category is not None:
        qs = qs.filter(Q(category=filters.category) | Q(category__parent=filters.category))
    if filters.area is not None:
        qs = qs.filter(path__startswith=filters.area.path)
    if filters.since:
        qs = qs.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        qs = qs.filter(created_at__lt=_start_of(filters.until + dt.timedelta(days=1)))
    rating = Rating.objects.filter(appeal=OuterRef("pk"), round=OuterRef("round")).values("value")[:1]
    return (
        qs.select_related(
            "category",
            "category__parent",
            "street",
            "community",
            "grid",
            "compound",
            "road",
            "lead_unit",
            "resident",
        )
        .annotate(rating_value=Subquery(rating))
        .order_by("created_at", "id")
    )


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


COLUMNS = [
    ("reference", _l("编号")),
    ("created_at", _l("提交时间")),
    ("channel", _l("来源渠道")),
    ("domain", _l("类别大类")),
    ("category", _l("类别")),
    ("priority", _l("紧急程度")),
    ("status", _l("状态")),
    ("street", _l("街道")),
    ("community", _l("社区")),
    ("grid", _l("网格")),
    ("place", _l("小区/道路")),
    ("title", _l("标题")),
    ("body", _l("内容")),
    ("lead_unit", _l("主办单位")),
    ("acceptance_due", _l("签收时限")),
    ("handling_due", _l("办理时限")),
    ("deadline_state", _l("时限状态")),
    ("registered_at", _l("立案时间")),
    ("dispatched_at", _l("派遣时间")),
    ("signed_at", _l("签收时间")),
    ("handled_at", _l("办理时间")),
    ("closed_at", _l("办结时间")),
    ("result", _l("办理结果")),
    ("rating", _l("评价")),
    ("external_source", _l("外部来源")),
    ("external_ref", _l("外部编号")),
    ("is_private", _l("不公开")),
    ("published", _l("已公开")),
    ("person", _l("诉求人")),
    ("phone", _l("联系电话")),
    ("address", _l("地址")),
    ("personal", _l("个人信息")),
]


def headers() -> list[str]:
    return [str(label) for _key, label in COLUMNS]


class Exporter:
    """Turns appeals into rows for one viewer."""

    def __init__(self, user):
        self.jurisdiction = jurisdiction_of(user)
        self.rating_labels = dict(Rating._meta.get_field("value").choices)

    def personal_allowed(self, appeal: Appeal) -> bool:
        return self.jurisdiction.covers(appeal.path, roles=DISPATCH_ROLES)

    def row(self, a: Appeal) -> list:
        personal = self.personal_allowed(a)
        person = a.contact_name or (a.resident.display_name if a.resident_id else "")
        phone = a.contact_phone or (a.resident.phone if a.resident_id else "")
        if personal:
            title, body, result = (_ID.sub("[证件号已隐去]", t) for t in (a.title, a.body, a.result))
            address = a.address
        else:
            names = [n for n in (a.contact_name, person) if n]
            title, body, result = (
                redact_text(t, names=names, address=a.address) for t in (a.title, a.body, a.result)
            )
            person, phone, address = mask_name(person), mask_phone(phone), coarse_place(a)
        category = a.category
        values = {
            "reference": a.reference,
            "created_at": _local(a.created_at),
            "channel": a.get_channel_display(),
            "domain": (category.parent.name if category.parent_id else category.name) if category else "",
            "category": category.name if category else "",
            "priority": a.get_priority_display(),
            "status": a.get_status_display(),
            "street": a.street.name if a.street_id else "",
            "community": a.community.name if a.community_id else "",
            "grid": a.grid.name if a.grid_id else "",
            "place": a.compound.name if a.compound_id else (a.road.name if a.road_id else ""),
            "title": title,
            "body": body,
            "lead_unit": a.lead_unit.name if a.lead_unit_id else "",
            "acceptance_due": _local(a.acceptance_due),
            "handling_due": _local(a.handling_due),
            "deadline_state": a.get_deadline_state_display(),
            "registered_at": _local(a.registered_at),
            "dispatched_at": _local(a.dispatched_at),
            "signed_at": _local(a.signed_at),
            "handled_at": _local(a.handled_at),
            "closed_at": _local(a.closed_at),
            "result": result,
            "rating": str(self.rating_labels.get(a.rating_value, "")) if a.rating_value else "",
            "external_source": a.external_source,
            "external_ref": a.external_ref,
            "is_private": _("是") if a.is_private else _("否"),
            "published": _("是") if a.published else _("否"),
            "person": person,
            "phone": phone,
            "address": address,
            "personal": _("明文") if personal else _("已脱敏"),
        }
        return [safe_cell(values[key]) for key, _label in COLUMNS]

    def rows(self, qs: QuerySet[Appeal]) -> Iterator[list]:
        for appeal in qs.iterator(chunk_size=1000):
            yield self.row(appeal)


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def safe_cell(value):
    """A cell a spreadsheet will not run: text starting with = + - @ gets a leading apostrophe
    (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_log(*, actor, fmt: str, filters: ExportFilters, rows: int, personal: bool) -> None:
    """The audit row for an export (PIPL: every read of personal data is logged)."""
    audit_record(
        actor=actor,
        action="appeal.export",
        obj=actor,
        changes={"format": fmt, "rows": rows, "personal_data": personal, **filters.as_audit()},
        reason=_("导出诉求 / case export"),
    )


def includes_personal(user) -> bool:
    return jurisdiction_of(user).has_role(*DISPATCH_ROLES)


class _Echo:
    def write(self, value):
        return value


def csv_stream(user, qs: QuerySet[Appeal]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that Excel opens the Chinese text as UTF-8
    yield writer.writerow(headers())
    for row in Exporter(user).rows(qs):
        yield writer.writerow(row)


def xlsx_file(user, qs: QuerySet[Appeal], filters: ExportFilters, *, rows: int):
    """A temporary file holding the workbook: a 说明 sheet (generated at, by whom, filters, rows,
    personal data or not) and the 诉求 sheet."""
    import tempfile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    about = wb.create_sheet(_("说明"))
    bold = Font(bold=True)

    def cell(ws, value, *, strong=False):
        c = WriteOnlyCell(ws, value=value)
        if strong:
            c.font = bold
        return c

    about.append([cell(about, _("邻里 · 诉求导出"), strong=True)])
    about.append([_("导出时间"), _local(timezone.now())])
    about.append([_("导出人"), str(user)])
    about.append([_("范围"), _("导出人有权查看的诉求")])
    for label, value in filters.describe():
        about.append([label, value])
    about.append([_("行数"), rows])
    about.append(
        [
            _("个人信息"),
            _("辖区内调度员可见明文，其余已脱敏；不含身份证号")
            if includes_personal(user)
            else _("已脱敏；不含身份证号"),
        ]
    )
    sheet = wb.create_sheet(_("诉求"))
    sheet.append([cell(sheet, h, strong=True) for h in headers()])
    for row in Exporter(user).rows(qs):
        sheet.append(row)
    out = tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out
