"""What Open311 shows: services from the appeals category tree, and the public view of requests.

The public view follows the publication rules of the appeals loop. A private case, or one in a
category whose results are not public, is not listed at all. A published (closed) case shows only
its published fields: the redacted text and the place coarsened to road or compound
(``appeals.selectors.public_appeals``). Any other listed case shows its status, category, handling
unit and dates, and the community it lies in, never its text, address, coordinates or people."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import caches
from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.domains.appeals.choices import OPEN_STATUSES, AppealStatus, AttachmentKind
from linli.domains.appeals.models import Appeal, Attachment, Category
from linli.domains.appeals.selectors import public_appeals

from .formats import iso

MAX_REQUESTS = 1000
DEFAULT_WINDOW = dt.timedelta(days=90)

# Extra-question datatypes (appeals categories) → GeoReport attribute datatypes.
DATATYPES = {
    "text": "string",
    "string": "string",
    "longtext": "text",
    "number": "number",
    "date": "datetime",
    "datetime": "datetime",
    "bool": "singlevaluelist",
    "choice": "singlevaluelist",
    "multichoice": "multivaluelist",
}
DATATYPE_DESCRIPTIONS = {
    "string": "文字 / text",
    "text": "较长文字 / longer text",
    "number": "数字 / a number",
    "datetime": "ISO 8601 日期时间 / an ISO 8601 date-time",
    "singlevaluelist": "选择一项 / one of the values",
    "multivaluelist": "选择一项或多项 / one or more of the values",
}


# --- services ----------------------------------------------------------------------------------------


def services() -> QuerySet[Category]:
    """Active categories that a request can be filed under: items, and domains without items."""
    return (
        Category.objects.filter(is_active=True)
        .filter(
            Q(parent__isnull=False, parent__is_active=True) | Q(parent__isnull=True, children__isnull=True)
        )
        .select_related("parent")
        .distinct()
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )


_services_version = [1]  # bumped when any category changes in this process


@receiver([post_save, post_delete], sender=Category, dispatch_uid="open311-services-changed")
def _services_changed(**kwargs) -> None:
    _services_version[0] += 1


def service_by_code(code: str) -> Category | None:
    """The service with this code, under the rules of ``services()``. This runs on every
    ``POST requests``: a service found is kept in the process cache for
    ``LINLI_PROCESS_CACHE_SECONDS`` (forgotten at once in a process that edits a category)."""
    ttl = getattr(settings, "LINLI_PROCESS_CACHE_SECONDS", 0)
    memo, name = caches["process"], f"open311-service:{code}"
    if ttl > 0 and len(code) <= 64:
        cached = memo.get(name, version=_services_version[0])
        if cached is not None:
            return cached
    category = Category.objects.select_related("parent").filter(code=code, is_active=True).first()
    if category is None:
        return None
    if category.parent_id is not None:
        found = category if category.parent.is_active else None
    else:
        found = None if category.children.exists() else category
    if found is not None and ttl > 0 and len(code) <= 64:
        memo.set(name, found, timeout=ttl, version=_services_version[0])
    return found


def service_row(category: Category) -> dict:
    keywords = [category.name]
    if category.parent_id:
        keywords.append(category.parent.name)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or str(category),
        "metadata": bool(category.questions),
        "type": "realtime",
        "keywords": ",".join(keywords),
        "group": category.parent.name if category.parent_id else category.name,
    }


def _values(question: dict) -> list[dict]:
    kind = question.get("datatype", "text")
    if kind == "bool":
        return [{"key": "true", "name": _("是 / yes")}, {"key": "false", "name": _("否 / no")}]
    values = []
    for choice in question.get("choices") or []:
        if isinstance(choice, dict):
            values.append({"key": str(choice.get("key", "")), "name": str(choice.get("name", ""))})
        else:
            values.append({"key": str(choice), "name": str(choice)})
    return values


def attributes(category: Category) -> list[dict]:
    out = []
    for order, question in enumerate(category.questions or [], start=1):
        datatype = DATATYPES.get(question.get("datatype", "text"), "string")
        item = {
            "variable": True,
            "code": question.get("code", ""),
            "datatype": datatype,
            "required": bool(question.get("required")),
            "datatype_description": DATATYPE_DESCRIPTIONS[datatype],
            "order": order,
            "description": question.get("label", question.get("code", "")),
        }
        if datatype in ("singlevaluelist", "multivaluelist"):
            item["values"] = _values(question)
        out.append(item)
    return out


def service_definition(category: Category) -> dict:
    return {"service_code": category.code, "attributes": attributes(category)}


# --- requests ----------------------------------------------------------------------------------------

_FIELDS = (
    "pk",
    "reference",
    "status",
    "published",
    "created_at",
    "updated_at",
    "handling_due",
    "closed_at",
    "category__code",
    "category__name",
    "lead_unit__name",
    "community__name",
    "street__name",
)


def listed_requests() -> QuerySet[Appeal]:
    """Every case Open311 may list: not private, in a category whose results may be public."""
    return Appeal.objects.filter(is_private=False).exclude(category__is_public=False)


def open311_requests(
    *,
    ids: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    statuses: list[str] | None = None,
    now: dt.datetime | None = None,
) -> list[dict]:
    """The requests of GET requests, newest first, at most 1,000. ``ids`` (references) overrides
    every other filter; without dates the window is the last 90 days."""
    qs = listed_requests()
    if ids is not None:
        qs = qs.filter(reference__in=ids[:MAX_REQUESTS])
    else:
        now = now or timezone.now()
        if start is None and end is None:
            start = now - DEFAULT_WINDOW
        if start is not None:
            qs = qs.filter(created_at__gte=start)
        if end is not None:
            qs = qs.filter(created_at__lte=end)
        if service_codes:
            qs = qs.filter(category__code__in=service_codes)
        if statuses:
            wanted = set(statuses)
            if wanted == {"open"}:
                qs = qs.filter(status__in=OPEN_STATUSES)
            elif wanted == {"closed"}:
                qs = qs.exclude(status__in=OPEN_STATUSES)
    rows = list(qs.order_by("-created_at", "-id").values(*_FIELDS)[:MAX_REQUESTS])
    return _present(rows)


def _present(rows: list[dict]) -> list[dict]:
    published_refs = [r["reference"] for r in rows if r["published"] and r["status"] == AppealStatus.CLOSED]
    public = {}
    if published_refs:
        public = {p["reference"]: p for p in public_appeals().filter(reference__in=published_refs)}
    media = _media_urls([r["pk"] for r in rows if r["reference"] in public])
    labels = dict(AppealStatus.choices)
    out = []
    for row in rows:
        is_open = row["status"] in OPEN_STATUSES
        pub = public.get(row["reference"])
        notes = str(labels.get(row["status"], row["status"]))
        if pub is not None and pub.get("public_result"):
            notes = pub["public_result"]
        description = ""
        if pub is not None:
            description = "\n".join(x for x in (pub.get("public_title"), pub.get("public_body")) if x)
        address = (pub or {}).get("public_place") or row["community__name"] or row["street__name"] or ""
        out.append(
            {
                "service_request_id": row["reference"],
                "status": "open" if is_open else "closed",
                "status_notes": notes,
                "service_name": row["category__name"] or "",
                "service_code": row["category__code"] or "",
                "description": description,
                "agency_responsible": row["lead_unit__name"] or "",
                "service_notice": "",
                "requested_datetime": iso(row["created_at"]),
                "updated_datetime": iso(row["updated_at"]),
                "expected_datetime": iso(row["handling_due"]) if is_open else None,
                "address": address,
                "address_id": None,
                "zipcode": None,
                "lat": None,
                "long": None,
                "media_url": media.get(row["pk"]),
            }
        )
    return out


def _media_urls(appeal_ids: list[int]) -> dict[int, str]:
    """The first outcome photo (EXIF-free public copy) of each published case."""
    if not appeal_ids:
        return {}
    urls: dict[int, str] = {}
    photos = (
        Attachment.objects.filter(
            appeal_id__in=appeal_ids, kind__in=[AttachmentKind.RESULT, AttachmentKind.AFTER]
        )
        .exclude(public_file="")
        .order_by("uploaded_at", "id")
    )
    for photo in photos:
        urls.setdefault(photo.appeal_id, photo.public_file.url)
    return urls


def appeal_id_by_reference(reference: str) -> int | None:
    return Appeal.objects.filter(reference=reference).values_list("pk", flat=True).first()


def reference_by_id(appeal_id: int) -> str | None:
    return Appeal.objects.filter(pk=appeal_id).values_list("reference", flat=True).first()
