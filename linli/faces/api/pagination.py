"""Cursor pagination: newest first by id; the cursor is opaque (base64 of the last id seen), so a
list stays stable while new rows arrive and clients cannot compute offsets."""

from __future__ import annotations

import base64
import json

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

MAX_LIMIT = 100


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
        if not isinstance(value, int) or not 0 <= value < 2**53:
            raise ValueError(value)
        return value
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationError(_("cursor 无效 / invalid cursor"), code="cursor") from None


def page(qs: QuerySet, *, cursor: str | None, limit: int) -> dict:
    limit = max(1, min(int(limit), MAX_LIMIT))
    if cursor:
        qs = qs.filter(pk__lt=decode(cursor))
    rows = list(qs.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode(rows[-1].pk) if more and rows else None}
