"""The one way anything is written to the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from .models import AuditEvent

# Field values that must never be copied into the trail in clear.
SENSITIVE_FIELDS = frozenset({"id_number", "phone", "password", "totp_secret", "face_template"})


def object_type_of(obj: models.Model) -> str:
    return obj._meta.label_lower


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> AuditEvent:
    """Record that ``actor`` did ``action`` to ``obj``. Call it inside the service's transaction so
    the trail and the change commit together."""
    event = audit_entry(
        actor=actor, action=action, obj=obj, changes=changes, reason=reason, ip_address=ip_address
    )
    event.save(force_insert=True)
    return event


def audit_entry(
    *,
    actor,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> AuditEvent:
    """The unsaved row ``audit_record`` writes; a batch writes many with ``audit_record_many``."""
    return AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=object_type_of(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=_scrub(changes or {}),
        reason=reason[:300],
        ip_address=ip_address,
    )


def audit_record_many(entries: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Rows from ``audit_entry``, written in one statement (a batch of background follow-ups)."""
    return AuditEvent.objects.bulk_create(list(entries))


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields that differ; sensitive ones show only that they changed."""
    diff = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            diff[key] = ["***", "***"] if key in SENSITIVE_FIELDS else [_plain(old), _plain(new)]
    return diff


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _scrub(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ("***" if k in SENSITIVE_FIELDS and v not in ("***", ["***", "***"]) else v)
        for k, v in changes.items()
    }
