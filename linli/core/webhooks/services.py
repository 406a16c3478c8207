"""Every write of the webhooks module: the outbox, delivery (claim → POST → record), replay, and
the administrator's subscriptions.

Delivery is at-least-once. A worker claims a due delivery with one conditional UPDATE that sets a
lease (so of two workers exactly one wins); it then POSTs outside any transaction and records the
outcome only if it still holds the lease token. A worker killed mid-delivery leaves the lease to
expire; the next sweep claims the delivery again. Receivers deduplicate by ``Linli-Event-Id``."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.audit.services import audit_record

from . import outbound, permissions
from .choices import DeliveryStatus, EventType
from .models import Delivery, DeliveryAttempt, OutboxEvent, Subscription
from .verify import signature_header

logger = logging.getLogger("linli.webhooks")
USER_AGENT = "Linli-Webhooks/1"


def _setting(name: str, default):
    return getattr(settings, f"LINLI_WEBHOOKS_{name}", default)


def max_attempts() -> int:
    return int(_setting("MAX_ATTEMPTS", 8))


def lease_seconds() -> int:
    return int(_setting("LEASE_SECONDS", 120))


def max_replay() -> int:
    return int(_setting("REPLAY_LIMIT", 1000))


def timeout_seconds() -> float:
    return float(_setting("TIMEOUT_SECONDS", 10))


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """Exponential backoff with jitter: base·2^(n−1), capped, then a random 50–100 % of it, so
    deliveries that failed together do not all come back at the same second."""
    base = float(_setting("BACKOFF_SECONDS", 30))
    cap = float(_setting("BACKOFF_MAX_SECONDS", 6 * 3600))
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=delay * (rng or random).uniform(0.5, 1.0))


class WebhookError(ValidationError):
    """A request the webhooks module refuses; the message is bilingual."""


# --- the outbox ------------------------------------------------------------------------------------


def outbox_emit(
    *,
    event_type: str,
    obj: models.Model | None,
    payload: dict,
    external_source: str = "",
    occurred_at: dt.datetime | None = None,
    only_subscription: Subscription | None = None,
) -> OutboxEvent:
    """Write one event, and a pending delivery for each active subscription that wants it, in the
    caller's transaction; the deliveries are handed to the worker once it commits. A rolled-back
    change therefore sends nothing. ``payload`` must already be what partners may see."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_emit must run inside the transaction of the change it reports")
    event = OutboxEvent.objects.create(
        event_type=event_type,
        occurred_at=occurred_at or timezone.now(),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        external_source=external_source or "",
        payload=payload,
    )
    if only_subscription is not None:
        targets = [only_subscription]
    else:
        targets = [s for s in _active_subscriptions() if s.wants(event_type, external_source or "")]
    if targets:
        deliveries = Delivery.objects.bulk_create(
            [Delivery(event=event, subscription=s, next_attempt_at=event.occurred_at) for s in targets]
        )
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    return event


_subscriptions_read: ContextVar[list[Subscription] | None] = ContextVar("linli_subscriptions", default=None)


def _active_subscriptions() -> list[Subscription]:
    read = _subscriptions_read.get()
    if read is not None:
        return read
    return list(
        Subscription.objects.filter(is_active=True).only("id", "is_active", "event_types", "external_source")
    )


@contextmanager
def subscriptions_read_once() -> Iterator[None]:
    """Inside the block the active subscriptions are read once (a batch of events written together)."""
    token = _subscriptions_read.set(_active_subscriptions())
    try:
        yield
    finally:
        _subscriptions_read.reset(token)


def enqueue_deliveries(delivery_ids: Iterable[int]) -> None:
    from .tasks import webhook_deliver

    for delivery_id in delivery_ids:
        try:
            webhook_deliver.enqueue(delivery_id=delivery_id)
        except Exception:  # the sweep picks it up; a committed change is never undone by this
            logger.exception("could not enqueue webhook delivery %s", delivery_id)


# --- delivery --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    status_code: int | None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def delivery_claim(delivery_id: int, *, now: dt.datetime | None = None) -> str | None:
    """Take a due delivery for one try: returns the lease token, or None when it is not due, done,
    parked or held by a live lease (someone else is sending it)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(
            lease_until=now + dt.timedelta(seconds=lease_seconds()),
            lease_token=token,
            attempts=F("attempts") + 1,
        )
    )
    return token if claimed else None


def request_for(delivery: Delivery, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers a delivery is sent with."""
    event = delivery.event
    body = json.dumps(event.envelope(), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Linli-Event-Id": str(event.event_id),
        "Linli-Event-Type": event.event_type,
        "Linli-Timestamp": str(timestamp),
        "Linli-Delivery-Attempt": str(delivery.attempts),
        "Linli-Signature": signature_header(delivery.subscription.secret, timestamp, body),
    }
    return body, headers


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """One try, through the SSRF guard (``outbound``): the target's address is checked again at
    every try, so a name that has come to point inside the network is refused, not contacted.
    A redirect is an answer, not a delivery (not followed)."""
    started = time.monotonic()
    try:
        answer = outbound.request(
            "POST", url, body=body, headers=headers, timeout=timeout_seconds(), max_bytes=500
        )
        code, excerpt = answer.status, answer.body.decode("utf-8", "replace")
        error = "" if 200 <= code < 300 else f"HTTP {code}"
    except outbound.OutboundRefused as exc:
        code, error, excerpt = None, f"refused: {exc}", ""
    except Exception as exc:  # noqa: BLE001 - refused, reset, timeout, DNS: all a failed try
        code, error, excerpt = None, f"{type(exc).__name__}: {exc}"[:300], ""
    return Outcome(code, error[:300], excerpt[:500], int((time.monotonic() - started) * 1000))


def delivery_finish(
    delivery_id: int, token: str, outcome: Outcome, *, now: dt.datetime | None = None
) -> Delivery:
    """Record a try. Only the holder of the lease changes the delivery's state: a worker that lost
    its lease (it was too slow and someone else took over) only adds its try to the history."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_log.count() + 1,
            at=now,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
        )
        if delivery.lease_token != token or delivery.status != DeliveryStatus.PENDING:
            return delivery
        delivery.last_status_code, delivery.last_error = outcome.status_code, outcome.error
        delivery.lease_until, delivery.lease_token = None, ""
        if outcome.ok:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        elif delivery.attempts >= max_attempts():
            delivery.status = DeliveryStatus.PARKED
            logger.warning("webhook delivery %s parked after %s attempts", delivery.pk, delivery.attempts)
        else:
            delivery.next_attempt_at = now + backoff_delay(delivery.attempts)
        delivery.save()
    return delivery


def delivery_send(delivery_id: int, *, now: dt.datetime | None = None, sender=post) -> Delivery | None:
    """Claim, POST, record. Returns None when there was nothing to do (not due, done, or being
    sent by someone else), so a duplicate task is harmless."""
    token = delivery_claim(delivery_id, now=now)
    if token is None:
        return None
    delivery = Delivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    body, headers = request_for(delivery)
    outcome = sender(delivery.subscription.target_url, body, headers)
    return delivery_finish(delivery_id, token, outcome)


def due_delivery_ids(*, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
    now = now or timezone.now()
    limit = limit or int(_setting("SWEEP_BATCH", 200))
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


# --- administrators --------------------------------------------------------------------------------


def _require_admin(actor) -> None:
    if not permissions.can_manage_webhooks(actor):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("只有系统管理员可以管理 Webhook / only administrators manage webhooks"))


@transaction.atomic
def delivery_replay(*, actor, delivery: Delivery) -> Delivery:
    """Send a delivery again from scratch (parked, or delivered but lost by the partner)."""
    rows = deliveries_replay(actor=actor, delivery_ids=[delivery.pk])
    if not rows:
        raise WebhookError(
            _("该投递正在发送中，请稍后再试 / this delivery is being sent right now; try again shortly"),
            code="busy",
        )
    return rows[0]


@transaction.atomic
def deliveries_replay(*, actor, delivery_ids: Iterable[int]) -> list[Delivery]:
    """Put deliveries back in the queue with a fresh retry budget. One leased at this moment (being
    sent) is left alone. At most ``LINLI_WEBHOOKS_REPLAY_LIMIT`` at a time."""
    _require_admin(actor)
    ids = list(dict.fromkeys(int(i) for i in delivery_ids))
    limit = max_replay()
    if len(ids) > limit:
        raise WebhookError(
            _("一次最多重放 %(n)d 条 / replay at most %(n)d deliveries at a time") % {"n": limit},
            code="too_many",
        )
    now = timezone.now()
    rows = list(
        Delivery.objects.select_for_update()
        .filter(pk__in=ids)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .select_related("event", "subscription")
    )
    for delivery in rows:
        before = delivery.status
        delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now
        delivery.lease_until, delivery.lease_token, delivery.delivered_at = None, "", None
        delivery.save()
        audit_record(
            actor=actor,
            action="webhook.replay",
            obj=delivery,
            changes={"status": [before, DeliveryStatus.PENDING], "event_id": str(delivery.event.event_id)},
        )
    replayed = [d.pk for d in rows]
    transaction.on_commit(lambda: enqueue_deliveries(replayed))
    return rows


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean(target_url: str, event_types: Iterable[str], partner: str) -> tuple[str, list[str], str]:
    partner = (partner or "").strip()
    if not partner:
        raise WebhookError(_("请填写合作方名称 / the partner's name is required"), code="partner_required")
    target_url = (target_url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(target_url)
    except ValidationError:
        raise WebhookError(
            _("接收地址须为 http 或 https 网址 / the target must be an http or https URL"), code="bad_url"
        ) from None
    if not _setting("ALLOW_HTTP", True) and not target_url.startswith("https://"):
        raise WebhookError(_("接收地址须使用 https / the target must use https"), code="https_required")
    try:
        outbound.check_url(target_url, resolve_names=False)  # checked again at every delivery
    except outbound.OutboundRefused as exc:
        raise WebhookError(str(exc), code="refused_address") from None
    types = [t for t in dict.fromkeys(event_types or []) if t]
    unknown = [t for t in types if t not in EventType.values]
    if unknown or not types:
        raise WebhookError(
            _("请选择有效的事件类型 / choose valid event types: %(bad)s")
            % {"bad": ", ".join(unknown) or "—"},
            code="bad_event_types",
        )
    return target_url, types, partner


@transaction.atomic
def subscription_create(
    *,
    actor,
    partner: str,
    target_url: str,
    event_types: Iterable[str],
    external_source: str = "",
    note: str = "",
    is_active: bool = True,
) -> tuple[Subscription, str]:
    """A new subscription and its secret (shown to the administrator once, then only encrypted)."""
    _require_admin(actor)
    target_url, types, partner = _clean(target_url, event_types, partner)
    secret = new_secret()
    subscription = Subscription.objects.create(
        partner=partner[:80],
        target_url=target_url,
        secret=secret,
        event_types=types,
        external_source=(external_source or "").strip()[:40],
        note=(note or "")[:200],
        is_active=is_active,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        action="webhook.subscription_create",
        obj=subscription,
        changes={"target_url": target_url, "event_types": ",".join(types)},
    )
    return subscription, secret


@transaction.atomic
def subscription_update(
    *,
    actor,
    subscription: Subscription,
    partner: str,
    target_url: str,
    event_types: Iterable[str],
    external_source: str = "",
    note: str = "",
    is_active: bool = True,
) -> Subscription:
    _require_admin(actor)
    target_url, types, partner = _clean(target_url, event_types, partner)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    before = {
        "partner": subscription.partner,
        "target_url": subscription.target_url,
        "event_types": ",".join(subscription.event_types),
        "external_source": subscription.external_source,
        "is_active": subscription.is_active,
    }
    subscription.partner, subscription.target_url, subscription.event_types = partner[:80], target_url, types
    subscription.external_source = (external_source or "").strip()[:40]
    subscription.note, subscription.is_active = (note or "")[:200], is_active
    subscription.save()
    after = {
        "partner": subscription.partner,
        "target_url": subscription.target_url,
        "event_types": ",".join(types),
        "external_source": subscription.external_source,
        "is_active": subscription.is_active,
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    audit_record(actor=actor, action="webhook.subscription_update", obj=subscription, changes=changes)
    return subscription


@transaction.atomic
def subscription_rotate_secret(*, actor, subscription: Subscription) -> str:
    _require_admin(actor)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    secret = new_secret()
    subscription.secret = secret
    subscription.save(update_fields=["secret", "updated_at"])
    audit_record(actor=actor, action="webhook.secret_rotate", obj=subscription, changes={"secret": "rotated"})
    return secret


@transaction.atomic
def subscription_ping(*, actor, subscription: Subscription) -> OutboxEvent:
    """A ``webhook.ping`` event to this subscription only, to test the partner's receiver."""
    _require_admin(actor)
    event = outbox_emit(
        event_type=EventType.PING,
        obj=subscription,
        payload={"partner": subscription.partner, "message": "pong?"},
        only_subscription=subscription,
    )
    audit_record(
        actor=actor, action="webhook.ping", obj=subscription, changes={"event_id": str(event.event_id)}
    )
    return event


def wanted_event_types(event_types: Iterable[str], external_source: str = "") -> list[str]:
    """Those of ``event_types`` some active subscription wants (callers skip building a payload
    nobody will receive)."""
    subscriptions = _active_subscriptions()
    return [t for t in event_types if any(s.wants(t, external_source or "") for s in subscriptions)]
