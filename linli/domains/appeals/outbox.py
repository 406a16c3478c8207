"""What partners hear about an appeal: each timeline event becomes outbox events for the signed
webhooks (``linli.core.webhooks``), written in the same transaction as the change.

The payload is the partner-safe view of the case: reference, status, category, coarse place,
units and milestones; the external platform's own reference; the published text only once the
case is published; status notes only from events the resident may see, with names, phones, ID
numbers and the exact address removed. Never the resident's name, phone, address or coordinates."""

from __future__ import annotations

from linli.core.webhooks.choices import EventType
from linli.core.webhooks.services import outbox_emit, wanted_event_types

from .choices import Action, AppealStatus
from .models import Appeal, AppealEvent

S = AppealStatus

# The milestone event for each status a transition leads to.
STATUS_EVENTS = {
    S.REGISTERED: EventType.APPEAL_REGISTERED,
    S.REJECTED: EventType.APPEAL_REJECTED,
    S.MERGED: EventType.APPEAL_MERGED,
    S.DISPATCHED: EventType.APPEAL_DISPATCHED,
    S.IN_PROGRESS: EventType.APPEAL_SIGNED,
    S.HANDLED: EventType.APPEAL_HANDLED,
    S.RETURNED: EventType.APPEAL_RETURNED,
    S.CLOSED: EventType.APPEAL_CLOSED,
    S.REOPENED: EventType.APPEAL_REOPENED,
    S.WITHDRAWN: EventType.APPEAL_WITHDRAWN,
}


def event_types_for(event: AppealEvent) -> list[str]:
    types: list[str] = []
    if event.action == Action.SUBMIT:
        types.append(EventType.APPEAL_CREATED)
    elif event.from_status and event.from_status != event.to_status:
        types.append(EventType.APPEAL_STATUS_CHANGED)
        if event.to_status in STATUS_EVENTS:
            types.append(STATUS_EVENTS[event.to_status])
    elif event.action == Action.CLOSE:  # a duplicate learning that its master case is closed
        types.append(EventType.APPEAL_CLOSED)
    if event.action == Action.RATE:
        types.append(EventType.APPEAL_RATED)
    return types


def _iso(value):
    return value.isoformat() if value else None


def appeal_payload(appeal: Appeal, event: AppealEvent) -> dict:
    from .services import _names_of, redact_text

    category = appeal.category
    note = ""
    if event.public and event.note:
        note = redact_text(event.note, names=_names_of(appeal), address=appeal.address)[:1000]
    published = appeal.published and not appeal.is_private
    data = {
        "reference": appeal.reference,
        "status": appeal.status,
        "status_label": str(appeal.get_status_display()),
        "previous_status": event.from_status or None,
        "action": event.action,
        "status_notes": note,
        "category": {"code": category.code, "name": category.name} if category else None,
        "priority": appeal.priority,
        "channel": appeal.channel,
        "street": appeal.street.name if appeal.street_id else None,
        "community": appeal.community.name if appeal.community_id else None,
        "lead_unit": appeal.lead_unit.name if appeal.lead_unit_id else None,
        "external_source": appeal.external_source or None,
        "external_ref": appeal.external_ref or None,
        "merged_into": appeal.merged_into.reference if appeal.merged_into_id else None,
        "round": appeal.round,
        "created_at": _iso(appeal.created_at),
        "registered_at": _iso(appeal.registered_at),
        "dispatched_at": _iso(appeal.dispatched_at),
        "handling_due": _iso(appeal.handling_due),
        "handled_at": _iso(appeal.handled_at),
        "closed_at": _iso(appeal.closed_at),
        "published": published,
        "public": {
            "title": appeal.public_title,
            "body": appeal.public_body,
            "result": appeal.public_result,
            "place": appeal.public_place,
        }
        if published
        else None,
    }
    if event.action == Action.RATE:
        data["rating"] = event.data.get("value")
    return data


def appeal_outbox_emit(appeal: Appeal, event: AppealEvent) -> None:
    """Called by ``services._record`` for every timeline event, inside its transaction. Only the
    event types some partner subscribes to are written."""
    types = wanted_event_types(event_types_for(event), appeal.external_source)
    if not types:
        return
    payload = appeal_payload(appeal, event)
    for event_type in types:
        outbox_emit(
            event_type=event_type,
            obj=appeal,
            payload=payload,
            external_source=appeal.external_source,
            occurred_at=event.at,
        )
