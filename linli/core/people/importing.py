"""Bulk import of residents and households from a spreadsheet (.xlsx) or CSV (UTF-8 with or without
BOM, or GBK). All or nothing: every row is checked first and a row-by-row error report gathered; if
any row is wrong nothing is written, otherwise everything is written in one transaction through the
register's services (so every person and household lands in the audit trail).

One row per person. Rows naming the same flat form one household; if the flat already has a
household in the register, the people join it.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from io import BytesIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.audit.services import audit_record
from linli.core.orgs.jurisdiction import jurisdiction_of
from linli.core.places.models import Flat
from linli.core.privacy import idcard
from linli.core.privacy.lookup import id_number_hash
from linli.core.privacy.phone import normalise_phone

from . import services
from .choices import Relation, Tag, Tenure
from .models import Household, HouseholdMember, Person

MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024

# Column → accepted headers (compared after dropping spaces and asterisks, case-insensitively).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name", "fullname"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "id_number", "idnumber", "id"),
    "phone": ("手机号", "手机号码", "联系电话", "电话", "phone", "mobile"),
    "ethnic_group": ("民族", "ethnic_group", "ethnicity", "ethnic"),
    "compound": ("小区", "小区/院落", "院落", "compound"),
    "building": ("楼栋", "楼号", "building"),
    "unit": ("单元", "unit"),
    "room": ("房号", "门牌号", "room"),
    "relation": ("与户主关系", "relation", "relationship"),
    "tenure": ("居住性质", "tenure"),
    "tags": ("标签", "tags"),
}
REQUIRED = ("name", "compound", "building", "unit", "room", "relation")
TEMPLATE_HEADERS = (
    "姓名",
    "身份证号",
    "手机号",
    "民族",
    "小区",
    "楼栋",
    "单元",
    "房号",
    "与户主关系",
    "居住性质",
    "标签",
)
COLUMN_LABELS = dict(zip(COLUMNS, TEMPLATE_HEADERS, strict=True))

_TAG_SPLIT = re.compile(r"[、,，;；/\s]+")


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number (the header is row 1)
    column: str  # Chinese header, or "" for the whole row
    message: str


@dataclass
class ImportReport:
    filename: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    persons_created: int = 0
    households_created: int = 0
    households_joined: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int, column: str, message) -> None:
        self.errors.append(RowError(row=row, column=COLUMN_LABELS.get(column, column), message=str(message)))


@dataclass
class _Row:
    number: int
    name: str = ""
    id_number: str = ""
    phone: str = ""
    ethnic_group: str = "汉族"
    relation: str = ""
    tenure: str = ""
    tags: list[str] = field(default_factory=list)
    flat: Flat | None = None


# --- reading the file ---------------------------------------------------------------------------------


def _header_key(text) -> str:
    return re.sub(r"[\s*＊]", "", str(text or "")).lower()


_HEADER_TO_COLUMN = {_header_key(h): col for col, headers in COLUMNS.items() for h in headers}


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """The file's rows as lists of stripped strings (first sheet of a workbook)."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            book = load_workbook(BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a damaged file
            raise ValidationError(_("无法读取该Excel文件 / the workbook cannot be read")) from exc
        sheet = book.worksheets[0]
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    if filename.lower().endswith((".csv", ".txt")):
        text = _decode(data)
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    raise ValidationError(_("仅支持 .xlsx 或 .csv 文件 / only .xlsx or .csv files are accepted"))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 101.0 → "101"
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("无法识别文件编码，请另存为UTF-8 / unknown text encoding, save as UTF-8"))


# --- checking -----------------------------------------------------------------------------------------


def _choice(value: str, choices, default: str = "") -> str | None:
    """A TextChoices value from its code or its Chinese label; None if neither."""
    if not value:
        return default or None
    for code, label in choices.choices:
        if value.lower() == code or value == str(label):
            return code
    return None


_TENURE_ALIASES = {
    "自有": Tenure.OWNER,
    "自住": Tenure.OWNER,
    "产权": Tenure.OWNER,
    "租赁": Tenure.RENTED,
    "出租": Tenure.RENTED,
    "租房": Tenure.RENTED,
}
_RELATION_ALIASES = {
    "本人": Relation.HOUSEHOLDER,
    "户主本人": Relation.HOUSEHOLDER,
    "妻": Relation.SPOUSE,
    "夫": Relation.SPOUSE,
    "妻子": Relation.SPOUSE,
    "丈夫": Relation.SPOUSE,
    "子": Relation.CHILD,
    "女": Relation.CHILD,
    "儿子": Relation.CHILD,
    "女儿": Relation.CHILD,
    "父亲": Relation.PARENT,
    "母亲": Relation.PARENT,
    "孙子": Relation.GRANDCHILD,
    "孙女": Relation.GRANDCHILD,
    "租客": Relation.TENANT,
}
_TAG_ALIASES = {
    "低保": Tag.LOW_INCOME,
    "低收入": Tag.LOW_INCOME,
    "残疾": Tag.DISABLED,
    "老人": Tag.ELDERLY,
    "流动": Tag.FLOATING,
    "租房": Tag.TENANT,
}


def _variants(value: str, suffixes: tuple[str, ...]) -> set[str]:
    """ "1", "1栋", "1号楼" all name the same building; likewise for units."""
    base = value
    for s in suffixes:
        if base.endswith(s) and base[: -len(s)]:
            base = base[: -len(s)]
            break
    return {value, base, *(base + s for s in suffixes)}


def _flat_index(rows: list[dict[str, str]]) -> dict[tuple[str, str, str, str], list[Flat]]:
    """Every flat in the compounds the file names, keyed by every spelling of its address."""
    names = {r.get("compound", "") for r in rows if r.get("compound")}
    index: dict[tuple[str, str, str, str], list[Flat]] = defaultdict(list)
    if not names:
        return index
    flats = Flat.objects.filter(building__compound__name__in=names).select_related("building__compound")
    for flat in flats:
        compound = flat.building.compound.name
        for b in _variants(flat.building.name, ("栋", "号楼", "幢", "号")):
            for u in _variants(flat.unit, ("单元",)):
                for r in _variants(flat.room, ("室", "号")):
                    key = (compound, b, u, r)
                    if flat not in index[key]:
                        index[key].append(flat)
    return index


def _check(table: list[list[str]], actor, report: ImportReport) -> list[_Row]:
    if not table or not any(table[0]):
        report.error(1, "", _("文件为空或缺少表头 / the file is empty or has no header row"))
        return []
    header = [_HEADER_TO_COLUMN.get(_header_key(h)) for h in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    for column in missing:
        report.error(1, column, _("缺少必填列 / a required column is missing"))
    if missing:
        return []
    body = [(i + 2, row) for i, row in enumerate(table[1:]) if any(c.strip() for c in row)]
    if len(body) > MAX_ROWS:
        report.error(1, "", _("行数超过上限 %(n)s / more rows than allowed") % {"n": MAX_ROWS})
        return []
    report.rows = len(body)
    records = []
    for number, row in body:
        values = {}
        for col, cell in zip(header, row, strict=False):
            if col and col not in values:
                values[col] = cell.strip()
        records.append((number, values))

    index = _flat_index([v for _, v in records])
    jurisdiction = jurisdiction_of(actor)
    seen_ids: dict[str, int] = {}
    checked: list[_Row] = []
    for number, v in records:
        row = _Row(number=number, name=v.get("name", ""))
        if not row.name:
            report.error(number, "name", _("请填写姓名 / a name is required"))
        elif len(row.name) > 60:
            report.error(number, "name", _("姓名过长 / the name is too long"))

        raw_id = v.get("id_number", "")
        if raw_id:
            try:
                row.id_number = idcard.parse(raw_id).number
            except ValidationError as exc:
                report.error(number, "id_number", exc.messages[0])
            else:
                if row.id_number in seen_ids:
                    report.error(
                        number,
                        "id_number",
                        _("身份证号与第%(row)s行重复 / same ID number as row %(row)s")
                        % {"row": seen_ids[row.id_number]},
                    )
                else:
                    seen_ids[row.id_number] = number

        if v.get("phone"):
            try:
                row.phone = normalise_phone(v["phone"])
            except ValidationError as exc:
                report.error(number, "phone", exc.messages[0])

        row.ethnic_group = v.get("ethnic_group") or "汉族"
        if not row.ethnic_group.endswith("族") or len(row.ethnic_group) > 20:
            report.error(number, "ethnic_group", _("民族填写不正确（如“汉族”“回族”） / not an ethnic group"))

        relation = _RELATION_ALIASES.get(v.get("relation", "")) or _choice(v.get("relation", ""), Relation)
        if relation is None:
            report.error(number, "relation", _("与户主关系无法识别 / unknown relation to the householder"))
        row.relation = relation or ""

        tenure = _TENURE_ALIASES.get(v.get("tenure", "")) or _choice(
            v.get("tenure", ""), Tenure, Tenure.OWNER
        )
        if tenure is None:
            report.error(number, "tenure", _("居住性质无法识别（自有住房/租住/其他） / unknown tenure"))
        row.tenure = tenure or Tenure.OWNER

        for part in filter(None, _TAG_SPLIT.split(v.get("tags", ""))):
            tag = _TAG_ALIASES.get(part) or _choice(part, Tag)
            if tag is None:
                report.error(number, "tags", _("未知的标签“%(tag)s” / unknown tag") % {"tag": part})
            elif tag not in row.tags:
                row.tags.append(tag)

        row.flat = _find_flat(index, v, number, report, jurisdiction)
        checked.append(row)

    _check_against_register(checked, report)
    _check_householders(checked, report)
    return checked


def _find_flat(index, v, number, report, jurisdiction) -> Flat | None:
    address = tuple(v.get(c, "") for c in ("compound", "building", "unit", "room"))
    for column, part in zip(("compound", "building", "unit", "room"), address, strict=True):
        if not part:
            report.error(number, column, _("请填写房屋地址 / the flat's address is required"))
            return None
    candidates = index.get(address, [])
    inside = [f for f in candidates if jurisdiction.covers(f.building.path)]
    if not candidates:
        report.error(number, "room", _("找不到该房屋：%(a)s / unknown flat") % {"a": "".join(address)})
        return None
    if not inside:
        report.error(number, "compound", _("该房屋不在您的辖区内 / the flat lies outside your jurisdiction"))
        return None
    if len(inside) > 1:
        report.error(
            number, "compound", _("有多个同名小区，无法确定房屋 / several compounds share this name")
        )
        return None
    return inside[0]


def _check_against_register(rows: list[_Row], report: ImportReport) -> None:
    hashes = {id_number_hash(r.id_number): r for r in rows if r.id_number}
    for digest in Person.objects.filter(id_number_hash__in=list(hashes)).values_list(
        "id_number_hash", flat=True
    ):
        report.error(
            hashes[digest].number,
            "id_number",
            _("该身份证号已在居民档案中登记 / this ID number is already in the register"),
        )


def _check_householders(rows: list[_Row], report: ImportReport) -> None:
    by_flat: dict[int, list[_Row]] = defaultdict(list)
    for r in rows:
        if r.flat is not None:
            by_flat[r.flat.pk].append(r)
    existing = _existing_households(list(by_flat))
    has_head = set(
        HouseholdMember.objects.filter(
            household__in=existing.values(), left_on__isnull=True, relation=Relation.HOUSEHOLDER
        ).values_list("household__flat_id", flat=True)
    )
    for flat_id, flat_rows in by_flat.items():
        heads = [r for r in flat_rows if r.relation == Relation.HOUSEHOLDER]
        if flat_id in has_head:
            for r in heads:
                report.error(
                    r.number,
                    "relation",
                    _("该房屋的住户已有户主 / the household in this flat already has a householder"),
                )
        elif len(heads) > 1:
            for r in heads[1:]:
                report.error(
                    r.number,
                    "relation",
                    _(
                        "同一房屋出现两个户主（另见第%(row)s行） / "
                        "two householders for one flat (see row %(row)s)"
                    )
                    % {"row": heads[0].number},
                )
        elif not heads and all(r.relation for r in flat_rows):
            report.error(
                flat_rows[0].number,
                "relation",
                _("该房屋没有户主，请标明一位户主 / no householder for this flat"),
            )


def _existing_households(flat_ids: list[int]) -> dict[int, Household]:
    found: dict[int, Household] = {}
    for h in Household.objects.filter(flat_id__in=flat_ids, moved_out_on__isnull=True).order_by("pk"):
        found.setdefault(h.flat_id, h)
    return found


# --- writing ------------------------------------------------------------------------------------------


def residents_import(actor, file, filename: str) -> ImportReport:
    """Check every row of ``file``; write all of them in one transaction, or none if any is wrong."""
    report = ImportReport(filename=filename)
    data = file.read() if hasattr(file, "read") else bytes(file)
    if len(data) > MAX_BYTES:
        report.error(1, "", _("文件过大 / the file is too large"))
        return report
    try:
        table = read_table(data, filename)
    except ValidationError as exc:
        report.error(1, "", exc.messages[0])
        return report
    rows = _check(table, actor, report)
    if not report.ok:
        return report
    try:
        _write(actor, rows, report)
    except ValidationError as exc:  # a concurrent change made a checked row wrong: nothing was written
        report.persons_created = report.households_created = report.households_joined = 0
        report.error(getattr(exc, "row", 0), "", "; ".join(exc.messages))
    return report


@transaction.atomic
def _write(actor, rows: list[_Row], report: ImportReport) -> None:
    by_flat: dict[int, list[_Row]] = defaultdict(list)
    for r in rows:
        by_flat[r.flat.pk].append(r)
    existing = _existing_households(list(by_flat))
    for flat_id, flat_rows in by_flat.items():
        # The householder joins first, so the household always has exactly one.
        flat_rows.sort(key=lambda r: (r.relation != Relation.HOUSEHOLDER, r.number))
        household = existing.get(flat_id)
        if household is None:
            household = services.household_create(
                actor=actor, flat=flat_rows[0].flat, tenure=flat_rows[0].tenure
            )
            report.households_created += 1
        else:
            report.households_joined += 1
        for r in flat_rows:
            try:
                person = services.person_create(
                    actor=actor,
                    name=r.name,
                    id_number=r.id_number,
                    phone=r.phone,
                    ethnic_group=r.ethnic_group,
                    tags=r.tags,
                )
                services.household_member_add(
                    actor=actor, household=household, person=person, relation=r.relation
                )
            except ValidationError as exc:
                exc.row = r.number
                raise
            report.persons_created += 1
    audit_record(
        actor=actor,
        action="register.import",
        obj=actor,
        changes={
            "file": report.filename,
            "persons": report.persons_created,
            "households_created": report.households_created,
            "households_joined": report.households_joined,
        },
    )


def template_workbook() -> bytes:
    """An empty import sheet with the headers and one invented example row."""
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "居民导入"
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(
        [
            "张示例",
            idcard.make("510106", dt.date(1956, 3, 8), 17),
            "13800000000",
            "汉族",
            "示例小区",
            "1栋",
            "1单元",
            "101",
            "户主",
            "自有住房",
            "老年人、党员",
        ]
    )
    for column, width in zip("ABCDEFGHIJK", (10, 22, 15, 8, 16, 8, 8, 8, 12, 12, 20), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("填写说明")
    notes.append(["列", "说明 / notes"])
    notes.append(["与户主关系", "、".join(str(label) for _c, label in Relation.choices)])
    notes.append(["居住性质", "、".join(str(label) for _c, label in Tenure.choices)])
    notes.append(["标签", "、".join(str(label) for _c, label in Tag.choices) + "（多个用顿号或逗号分隔）"])
    notes.append(["身份证号", "18位，校验位须正确；已登记的号码不能重复导入"])
    out = BytesIO()
    book.save(out)
    return out.getvalue()
