"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/.

Every endpoint answers in XML (``.xml``, the default) or JSON (``.json``), UTF-8. Reads are public
and show only what the appeals publication rules allow (``selectors``); ``POST requests`` needs a
partner ``api_key`` (``manage.py create_api_key``) and files an appeal through the one intake
service, ``appeals.services.appeal_submit`` (channel ``api``), so it joins the dispatcher's queue;
one with a ``media_url`` is answered 202 with a ``token`` and filed by the worker once it has fetched
the picture (``services``), ``GET tokens/{token}`` giving its id.
Errors are the specification's list of {code, description}: 400 bad input, 403 missing or wrong
api_key, 404 unknown resource (or jurisdiction)."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from linli.core.apikeys.limits import check_rate, default_rate
from linli.core.apikeys.models import Scope
from linli.core.apikeys.selectors import api_key_by_secret
from linli.core.apikeys.services import touch
from linli.core.places.models import Compound
from linli.core.places.selectors import place_locate, place_search
from linli.core.problems import RateLimited
from linli.core.webhooks.outbound import OutboundRefused, check_url_quick
from linli.domains.appeals.choices import Channel
from linli.domains.appeals.services import appeal_submit

from . import selectors
from .formats import FORMATS, error, respond
from .models import PendingStatus
from .services import pending_by_token, pending_request_create

MAX_DESCRIPTION = 4000
TOKEN_SALT = "linli.open311.token"  # noqa: S105 - a signing salt, not a secret
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


def jurisdiction_id() -> str:
    return getattr(settings, "LINLI_OPEN311_JURISDICTION", settings.LINLI_DISTRICT_CODE)


def _checked(request, fmt: str):
    """None when the format and jurisdiction are fine, else the error response."""
    if fmt not in FORMATS:
        return error("xml", 404, _("不支持的格式 / unsupported format: %(f)s") % {"f": fmt})
    wanted = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
    if wanted and wanted != jurisdiction_id():
        return error(fmt, 404, _("未知的 jurisdiction_id / jurisdiction_id not found: %(j)s") % {"j": wanted})
    return None


# --- discovery and services ------------------------------------------------------------------------


@require_GET
def discovery(request, fmt="xml"):
    if (bad := _checked(request, fmt)) is not None:
        return bad
    base = request.build_absolute_uri(reverse("open311:root"))
    data = {
        "changeset": "2025-01-01T00:00:00+08:00",
        "contact": getattr(settings, "LINLI_OPEN311_CONTACT", "")
        or _("金牛区网格化服务管理中心 / Jinniu grid centre"),
        "key_service": _("向区网格化服务管理中心申请接口密钥 / ask the district grid centre for an api_key"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base.rstrip("/"),
                "changeset": "2025-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(data, fmt, root="discovery")


@require_GET
def service_list(request, fmt="xml"):
    if (bad := _checked(request, fmt)) is not None:
        return bad
    return respond([selectors.service_row(c) for c in selectors.services()], fmt, root="services")


@require_GET
def service_definition(request, code, fmt="xml"):
    if (bad := _checked(request, fmt)) is not None:
        return bad
    category = selectors.service_by_code(code)
    if category is None:
        return error(fmt, 404, _("没有此服务 / service_code not found: %(c)s") % {"c": code})
    return respond(selectors.service_definition(category), fmt, root="service_definition")


# --- requests --------------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests(request, fmt="xml"):
    if (bad := _checked(request, fmt)) is not None:
        return bad
    if request.method == "POST":
        return _post_request(request, fmt)
    return _get_requests(request, fmt)


def _when(value: str, *, end: bool) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        parsed = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _get_requests(request, fmt):
    ids = _csv(request.GET.get("service_request_id"))
    if ids:
        return respond(selectors.open311_requests(ids=ids), fmt, root="service_requests")
    try:
        start = _when(request.GET["start_date"], end=False) if request.GET.get("start_date") else None
        end = _when(request.GET["end_date"], end=True) if request.GET.get("end_date") else None
    except (ValueError, TypeError):
        return error(fmt, 400, _("日期须为 ISO 8601 格式 / start_date and end_date must be ISO 8601 (w3c)"))
    if start and end and start > end:
        return error(fmt, 400, _("start_date 晚于 end_date / start_date is after end_date"))
    statuses = [s.lower() for s in _csv(request.GET.get("status"))]
    if any(s not in ("open", "closed") for s in statuses):
        return error(fmt, 400, _("status 只能是 open 或 closed / status must be open or closed"))
    rows = selectors.open311_requests(
        service_codes=_csv(request.GET.get("service_code")), start=start, end=end, statuses=statuses
    )
    return respond(rows, fmt, root="service_requests")


@require_GET
def request_detail(request, request_id, fmt="xml"):
    if (bad := _checked(request, fmt)) is not None:
        return bad
    rows = selectors.open311_requests(ids=[request_id])
    if not rows:
        return error(fmt, 404, _("没有此请求 / service_request_id not found: %(i)s") % {"i": request_id})
    return respond(rows, fmt, root="service_requests")


@require_GET
def token_detail(request, token, fmt="xml"):
    if (bad := _checked(request, fmt)) is not None:
        return bad
    pending = pending_by_token(token)
    if pending is not None:  # a deferred request: its id once the worker has filed the case
        row = {"service_request_id": pending.appeal.reference if pending.appeal_id else None, "token": token}
        if pending.status == PendingStatus.FAILED:
            row["service_notice"] = _("未能建立工单 / the request could not be created: %(n)s") % {
                "n": pending.note
            }
        return respond([row], fmt, root="service_requests")
    try:
        appeal_id = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        appeal_id = None
    reference = selectors.reference_by_id(appeal_id) if isinstance(appeal_id, int) else None
    if reference is None:
        return error(fmt, 404, _("没有此令牌 / token not found"))
    return respond([{"service_request_id": reference, "token": token}], fmt, root="service_requests")


def token_for(appeal_id: int) -> str:
    return signing.dumps(appeal_id, salt=TOKEN_SALT)


class _Bad(Exception):
    def __init__(self, status: int, description: str):
        self.status, self.description = status, description


def _float(value: str, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Bad(400, _("%(n)s 须为数字 / %(n)s must be a number") % {"n": name}) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _Bad(400, _("%(n)s 须为数字 / %(n)s must be a number") % {"n": name})
    return number


def _attributes(post, category) -> dict:
    """attribute[code]=v and, for multi-value lists, attribute[code][]=v1&attribute[code][]=v2."""
    questions = {q.get("code"): q for q in category.questions or []}
    answers: dict = {}
    for key in post:
        match = _ATTRIBUTE.match(key)
        if not match:
            continue
        code, many = match.group(1), bool(match.group(2))
        question = questions.get(code)
        if question is None:
            raise _Bad(400, _("此服务没有属性 %(c)s / unknown attribute: %(c)s") % {"c": code})
        values = post.getlist(key)
        kind = selectors.DATATYPES.get(question.get("datatype", "text"), "string")
        allowed = {v["key"] for v in selectors._values(question)}
        if kind == "multivaluelist":
            if any(v not in allowed for v in values):
                raise _Bad(400, _("属性 %(c)s 的取值无效 / invalid value for attribute %(c)s") % {"c": code})
            answers[code] = list(dict.fromkeys(values))  # stored as a list, each value once
            continue
        if many and len(values) > 1:
            raise _Bad(400, _("属性 %(c)s 只能取一个值 / attribute %(c)s takes one value") % {"c": code})
        value = values[-1]
        if kind == "singlevaluelist" and value not in allowed:
            raise _Bad(400, _("属性 %(c)s 的取值无效 / invalid value for attribute %(c)s") % {"c": code})
        if kind == "number":
            _float(value, f"attribute[{code}]")
        if kind == "datetime" and parse_datetime(value) is None and parse_date(value) is None:
            raise _Bad(400, _("属性 %(c)s 须为 ISO 8601 / attribute %(c)s must be ISO 8601") % {"c": code})
        answers[code] = value
    for code, question in questions.items():
        if question.get("required") and answers.get(code) in (None, "", []):
            raise _Bad(
                400,
                _("缺少必填属性 %(c)s（%(l)s）/ required attribute missing: %(c)s")
                % {"c": code, "l": question.get("label", code)},
            )
    return answers


def _location(post) -> dict:
    lat, lng = post.get("lat", "").strip(), post.get("long", "").strip()
    address, address_id = post.get("address_string", "").strip(), post.get("address_id", "").strip()
    place: dict = {"address": address[:200]}
    if lat or lng:
        if not (lat and lng):
            raise _Bad(400, _("lat 与 long 须同时提供 / lat and long go together"))
        place["lat"], place["lng"] = _float(lat, "lat"), _float(lng, "long")
        if not (-90 <= place["lat"] <= 90 and -180 <= place["lng"] <= 180):
            raise _Bad(400, _("坐标超出范围 / lat or long out of range"))
    elif address_id:
        raw = address_id.removeprefix("compound:")
        compound = Compound.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 12 else None
        if compound is None:
            raise _Bad(400, _("address_id 无效 / address_id not found: %(a)s") % {"a": address_id})
        place["compound"] = compound
        place["address"] = place["address"] or compound.name
    elif address:
        found = [c for c in place_search(address, limit=1) if c.lng is not None and c.lat is not None]
        if found:
            place["lng"], place["lat"] = found[0].lng, found[0].lat
    else:
        raise _Bad(
            400,
            _(
                "须提供位置：lat 和 long、address_string 或 address_id / a location is required: lat+long, "
                "address_string or address_id"
            ),
        )
    return place


def _post_request(request, fmt):
    post = request.POST
    key = api_key_by_secret(post.get("api_key", "").strip())
    if key is None or not key.has_scope(Scope.OPEN311_POST):
        return error(fmt, 403, _("api_key 缺失或无效 / api_key missing or invalid"))
    try:
        check_rate(f"key:{key.pk}", key.rate or default_rate("key"))
    except RateLimited as exc:
        response = error(fmt, 429, _("请求太频繁，请稍后再试 / too many requests"))
        response["Retry-After"] = str(exc.retry_after)
        return response
    touch(key)
    try:
        code = post.get("service_code", "").strip()
        if not code:
            raise _Bad(400, _("缺少 service_code / service_code was not provided"))
        category = selectors.service_by_code(code)
        if category is None:
            raise _Bad(400, _("没有此服务 / service_code not found: %(c)s") % {"c": code})
        place = _location(post)
        answers = _attributes(post, category)
        description = post.get("description", "").strip()
        if len(description) > MAX_DESCRIPTION:
            raise _Bad(400, _("description 最多 4000 字 / description is longer than 4,000 characters"))
        email, media_url = post.get("email", "").strip(), post.get("media_url", "").strip()
        try:
            if email:
                EmailValidator()(email)
            if media_url:
                URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise _Bad(400, _("email 或 media_url 格式无效 / invalid email or media_url")) from None
        name = (post.get("last_name", "").strip() + post.get("first_name", "").strip())[:60]
        body = description or category.name
        title = f"{category.name}：{description[:40]}" if description else category.name
        if media_url:  # the worker fetches the picture and files the case: answered with a token
            submission = {
                "title": title,
                "body": body,
                "category_id": category.pk,
                "answers": answers,
                "lng": place.get("lng"),
                "lat": place.get("lat"),
                "address": place["address"],
                "compound_id": place["compound"].pk if place.get("compound") else None,
                "contact_name": name,
                "contact_phone": post.get("phone", "").strip(),
                "external_source": key.source or "",
            }
            return _post_deferred(request, fmt, key=key, submission=submission, media_url=media_url)
        appeal = appeal_submit(
            actor=key.account,
            title=title,
            body=body,
            category=category,
            channel=Channel.API,
            lng=place.get("lng"),
            lat=place.get("lat"),
            compound=place.get("compound"),
            address=place["address"],
            contact_name=name,
            contact_phone=post.get("phone", "").strip(),
            answers=answers,
            idempotency_key=request.headers.get("Idempotency-Key", "")[:64],
            external_source=key.source if key.source else "",
            external_ref="",
        )
    except _Bad as bad:
        return error(fmt, bad.status, bad.description)
    except PermissionDenied as exc:
        return error(fmt, 403, str(exc))
    except ValidationError as exc:
        return error(fmt, 400, "; ".join(exc.messages))
    row = {
        "service_request_id": appeal.reference,
        "token": token_for(appeal.pk),
        "service_notice": _("已收到，将按时限办理 / received; it will be handled within the time limit"),
        "account_id": post.get("account_id", "").strip()[:64] or None,
    }
    return respond([row], fmt, root="service_requests", status=201)


def _post_deferred(request, fmt, *, key, submission: dict, media_url: str):
    """A request with a picture to fetch: checked now, stored with its worker's task in this
    transaction, answered 202 with a ``token`` (GET tokens/{token} gives the request id once the
    worker has filed the case)."""
    if len(media_url) > 2000:
        raise _Bad(400, _("media_url 过长（最多 2000 字符）/ media_url is longer than 2,000 characters"))
    try:
        check_url_quick(media_url)
    except OutboundRefused as exc:
        raise _Bad(400, _("media_url 不可用 / media_url refused: %(e)s") % {"e": exc}) from None
    if submission["lng"] is not None:
        try:
            place_locate(submission["lng"], submission["lat"])
        except ValueError:
            raise _Bad(400, _("位置不在本区范围内 / the location lies outside the district")) from None
    pending = pending_request_create(
        key=key,
        submission=submission,
        media_url=media_url,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    row = {
        "token": pending.token,
        "service_notice": _("已收到，正在建立工单 / received; the request is being created"),
        "account_id": request.POST.get("account_id", "").strip()[:64] or None,
    }
    return respond([row], fmt, root="service_requests", status=202)
