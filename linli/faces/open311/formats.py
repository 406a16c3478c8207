"""The two GeoReport v2 formats from one Python structure: JSON (``.json``) and XML (``.xml``),
both UTF-8. Lists in XML take the singular of their key as the element name (``services`` →
``service``), the way the specification's examples write them; ``None`` is an empty element."""

from __future__ import annotations

import datetime as dt
import json
from xml.etree.ElementTree import Element, SubElement, tostring

from django.http import HttpResponse
from django.utils import timezone

FORMATS = ("xml", "json")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
SINGULAR = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the time zone, e.g. 2025-09-30T10:00:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return iso(value) or ""
    return str(value)


def _fill(parent: Element, key: str, value) -> None:
    if isinstance(value, list):
        holder = SubElement(parent, key)
        for item in value:
            _fill(holder, SINGULAR.get(key, "item"), item)
    elif isinstance(value, dict):
        holder = SubElement(parent, key)
        for k, v in value.items():
            _fill(holder, k, v)
    else:
        SubElement(parent, key).text = _text(value)


def to_xml(root: str, data) -> bytes:
    """``data`` is a list (items named by ``SINGULAR[root]``) or a dict (children of ``root``)."""
    element = Element(root)
    if isinstance(data, list):
        for item in data:
            _fill(element, SINGULAR.get(root, "item"), item)
    else:
        for k, v in data.items():
            _fill(element, k, v)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(element, encoding="unicode").encode("utf-8")


def _json_default(value):
    if isinstance(value, dt.datetime):
        return iso(value)
    raise TypeError(type(value))


def respond(data, fmt: str, *, root: str, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, default=_json_default).encode("utf-8")
    else:
        body = to_xml(root, data)
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
    response["Access-Control-Allow-Origin"] = "*"  # public, read-mostly data; POST needs an api_key
    return response


def error(fmt: str, status: int, description: str) -> HttpResponse:
    """The specification's error shape: a list of {code, description}; ``code`` is the HTTP status."""
    return respond([{"code": status, "description": description}], fmt, root="errors", status=status)
