"""Outbox and delivery against a real receiver on 127.0.0.1: signatures, retries with backoff,
parking, replay, a worker killed mid-delivery, and rolled-back changes."""

import datetime as dt
import json
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from linli.core.audit.models import AuditEvent
from linli.core.webhooks import services
from linli.core.webhooks.choices import DeliveryStatus, EventType
from linli.core.webhooks.models import Delivery, OutboxEvent
from linli.core.webhooks.tasks import webhook_sweep
from linli.core.webhooks.verify import SignatureError, compute_signature, verify_signature
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.tests.helpers import bring_to, submit


def only_delivery() -> Delivery:
    (delivery,) = Delivery.objects.all()
    return delivery


def test_event_is_signed_and_verifiable(world, subscribe, receiver):
    subscribe()
    appeal = submit(world)
    delivery = only_delivery()
    assert services.delivery_send(delivery.pk).status == DeliveryStatus.DELIVERED

    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    event = OutboxEvent.objects.get()
    assert headers["Linli-Event-Id"] == str(event.event_id)
    assert headers["Linli-Event-Type"] == "appeal.created"
    assert headers["Content-Type"].startswith("application/json")
    t = headers["Linli-Timestamp"]
    assert headers["Linli-Signature"] == f"t={t},v1={compute_signature(receiver.secret, t, body)}"
    assert verify_signature(receiver.secret, headers, body) == int(t)
    envelope = json.loads(body)
    assert envelope["id"] == str(event.event_id) and envelope["type"] == "appeal.created"
    assert envelope["data"]["reference"] == appeal.reference
    assert receiver.processed == [str(event.event_id)]

    with pytest.raises(SignatureError):
        verify_signature(receiver.secret, headers, body + b" ")  # body changed on the way
    with pytest.raises(SignatureError):
        verify_signature("whsec_wrong", headers, body)
    with pytest.raises(SignatureError):
        verify_signature(receiver.secret, headers, body, now=int(t) + 301)  # replayed later
    with pytest.raises(SignatureError):
        verify_signature(receiver.secret, {}, body)


def test_verify_accepts_any_of_several_signatures_and_wsgi_meta():
    body, t = b'{"a":1}', int(time.time())
    good = compute_signature("s2", t, body)
    meta = {"HTTP_LINLI_SIGNATURE": f"t={t},v1=deadbeef,v1={good}"}
    assert verify_signature("s2", meta, body) == t


def test_fails_twice_then_delivered_on_third_attempt(world, subscribe, receiver, clock):
    t0 = clock.set(2025, 10, 9, 10)
    subscribe()
    submit(world)
    delivery = only_delivery()
    receiver.responses = [500, 503]

    first = services.delivery_send(delivery.pk)
    assert first.status == DeliveryStatus.PENDING and first.attempts == 1 and first.last_status_code == 500
    assert t0 + dt.timedelta(seconds=15) <= first.next_attempt_at <= t0 + dt.timedelta(seconds=30)
    assert webhook_sweep.call()["sent"] == 0  # not due yet: nobody sleeps, nobody retries early

    clock.now = first.next_attempt_at
    assert webhook_sweep.call() == {"sent": 1, "delivered": 0, "failed": 1}
    second = Delivery.objects.get(pk=delivery.pk)
    assert second.attempts == 2 and second.last_status_code == 503
    # exponential: the second wait is longer than the first could have been
    assert second.next_attempt_at - clock.now >= dt.timedelta(seconds=30)

    clock.now = second.next_attempt_at + dt.timedelta(seconds=1)
    assert webhook_sweep.call() == {"sent": 1, "delivered": 1, "failed": 0}
    done = Delivery.objects.get(pk=delivery.pk)
    assert done.status == DeliveryStatus.DELIVERED and done.attempts == 3 and done.delivered_at == clock.now
    assert [a.status_code for a in done.attempt_log.all()] == [500, 503, 200]
    assert [a.number for a in done.attempt_log.all()] == [1, 2, 3]
    assert len(receiver.requests) == 3 and len(set(receiver.event_ids())) == 1
    assert len(receiver.processed) == 1
    assert webhook_sweep.call()["sent"] == 0  # delivered is final


def test_backoff_grows_and_is_capped(settings):
    settings.LINLI_WEBHOOKS_BACKOFF_SECONDS = 10
    settings.LINLI_WEBHOOKS_BACKOFF_MAX_SECONDS = 100

    class Top:
        def uniform(self, a, b):
            return b

    assert [services.backoff_delay(n, rng=Top()).total_seconds() for n in (1, 2, 3, 4, 5, 9)] == [
        10,
        20,
        40,
        80,
        100,
        100,
    ]


def test_unreachable_receiver_counts_as_a_failed_try(world, subscribe, receiver, clock):
    clock.set(2025, 10, 9, 10)
    sub = subscribe()
    sub.target_url = "http://127.0.0.1:9/nothing-listens-here"
    sub.save()
    submit(world)
    delivery = services.delivery_send(only_delivery().pk)
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code is None
    assert delivery.last_error


def test_exactly_once_at_receiver_after_worker_killed_mid_delivery(world, subscribe, receiver, clock):
    clock.set(2025, 10, 9, 10)
    subscribe()
    submit(world)
    delivery = only_delivery()

    # Worker A claims the delivery and POSTs it; the receiver processes it and answers 200 ...
    token_a = services.delivery_claim(delivery.pk)
    assert token_a
    claimed = Delivery.objects.select_related("event", "subscription").get(pk=delivery.pk)
    body, headers = services.request_for(claimed)
    assert services.post(claimed.subscription.target_url, body, headers).status_code == 200
    # ... and is killed before it records the outcome. While its lease lasts nobody else sends it.
    assert services.delivery_claim(delivery.pk) is None
    assert webhook_sweep.call()["sent"] == 0

    clock.advance(seconds=services.lease_seconds() + 1)  # the lease expires
    assert webhook_sweep.call() == {"sent": 1, "delivered": 1, "failed": 0}

    assert len(receiver.requests) == 2
    assert receiver.event_ids()[0] == receiver.event_ids()[1]  # the same event id, twice
    assert len(receiver.processed) == 1  # processed once
    done = Delivery.objects.get(pk=delivery.pk)
    assert done.status == DeliveryStatus.DELIVERED and done.attempts == 2

    # Worker A's late report (it was not dead after all) changes nothing but the history.
    late = services.delivery_finish(delivery.pk, token_a, services.Outcome(500, "HTTP 500"))
    assert late.status == DeliveryStatus.DELIVERED and late.last_status_code == 200
    assert done.attempt_log.count() == 2


def test_two_workers_never_hold_the_same_delivery(world, subscribe, clock):
    subscribe()
    submit(world)
    delivery = only_delivery()
    assert services.delivery_claim(delivery.pk) is not None
    assert services.delivery_claim(delivery.pk) is None
    assert services.due_delivery_ids() == []


def test_parked_after_max_attempts_then_replayed(
    world, subscribe, receiver, clock, admin, settings, on_commit
):
    settings.LINLI_WEBHOOKS_MAX_ATTEMPTS = 3
    clock.set(2025, 10, 9, 10)
    subscribe()
    receiver.responses = [500] * 10
    submit(world)  # on_commit: the delivery task runs at once (try 1)
    delivery = only_delivery()
    assert delivery.attempts == 1 and delivery.status == DeliveryStatus.PENDING
    for _ in range(5):
        clock.advance(hours=1)
        webhook_sweep.call()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PARKED
    assert delivery.attempts == 3 and delivery.attempt_log.count() == 3
    assert len(receiver.requests) == 3
    clock.advance(days=1)
    assert webhook_sweep.call()["sent"] == 0  # parked stays parked

    receiver.responses = []
    with pytest.raises(PermissionDenied):
        services.delivery_replay(actor=world.dispatcher, delivery=delivery)
    services.delivery_replay(actor=admin, delivery=delivery)  # on commit: sent again at once
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempt_log.count() == 4
    assert len(receiver.processed) == 1
    assert AuditEvent.objects.filter(action="webhook.replay", object_id=str(delivery.pk)).count() == 1


def test_bulk_replay(world, subscribe, admin, clock):
    sub = subscribe()
    for _ in range(3):
        submit(world)
    Delivery.objects.update(status=DeliveryStatus.PARKED, attempts=8)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    rows = services.deliveries_replay(actor=admin, delivery_ids=ids)
    assert len(rows) == 3
    assert set(Delivery.objects.values_list("status", "attempts")) == {(DeliveryStatus.PENDING, 0)}
    assert sub.deliveries.count() == 3


def test_rolled_back_change_emits_nothing(world, subscribe, django_capture_on_commit_callbacks):
    subscribe()

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(Boom), transaction.atomic():
            submit(world)
            assert OutboxEvent.objects.count() == 1  # written inside the transaction ...
            raise Boom
    assert OutboxEvent.objects.count() == 0 and Delivery.objects.count() == 0  # ... and gone with it
    assert callbacks == []  # and nothing was handed to the worker

    with django_capture_on_commit_callbacks() as callbacks:
        submit(world)
    assert OutboxEvent.objects.count() == 1 and len(callbacks) >= 1


def test_outbox_refuses_to_run_outside_a_transaction(world, transactional_db):
    with pytest.raises(RuntimeError):
        services.outbox_emit(event_type=EventType.PING, obj=None, payload={})


def test_lifecycle_events_and_filters(world, subscribe, receiver):
    everything = subscribe(event_types=EventType.values)
    only_12345 = subscribe(event_types=[EventType.APPEAL_CLOSED], external_source="12345")
    bring_to(world, S.CLOSED)
    types = list(OutboxEvent.objects.order_by("occurred_at", "id").values_list("event_type", flat=True))
    assert types == [
        "appeal.created",
        "appeal.status_changed",
        "appeal.registered",
        "appeal.status_changed",
        "appeal.dispatched",
        "appeal.status_changed",
        "appeal.signed",
        "appeal.status_changed",
        "appeal.handled",
        "appeal.status_changed",
        "appeal.closed",
    ]
    assert everything.deliveries.count() == len(types)
    assert only_12345.deliveries.count() == 0  # not a case from 12345

    bring_to(world, S.CLOSED, external_source="12345", external_ref="C-1")
    assert only_12345.deliveries.count() == 1
    assert only_12345.deliveries.get().event.payload["external_ref"] == "C-1"


def test_rating_event(world, subscribe):
    sub = subscribe(event_types=[EventType.APPEAL_RATED])
    from linli.domains.appeals import services as appeals

    a = bring_to(world, S.CLOSED)
    appeals.appeal_rate(actor=world.resident, appeal=a, value="satisfied")
    (delivery,) = sub.deliveries.all()
    assert delivery.event.payload["rating"] == "satisfied"


def test_payload_carries_no_personal_data(world, subscribe):
    sub = subscribe(event_types=EventType.values)
    staff = world.dispatcher
    from linli.domains.appeals import services as appeals

    lng, lat = world.point()
    a = appeals.appeal_submit(
        actor=staff,
        channel="hotline",
        title="噪音扰民",
        body="李大海反映楼上装修，电话 13912345678",
        category=world.rubbish,
        lng=lng,
        lat=lat,
        address="幸福路 8 号 3 栋 2 单元 401",
        contact_name="李大海",
        contact_phone="13912345678",
        auto_dispatch=False,
    )
    appeals.appeal_reject(actor=staff, appeal=a, reason="已转李大海所在单位处理，回电 13912345678")
    dumped = json.dumps([d.event.envelope() for d in sub.deliveries.all()], ensure_ascii=False)
    for secret in ("李大海", "13912345678", "2 单元 401", "单元", "幸福路", str(lng)[:7], str(lat)[:6]):
        assert secret not in dumped, secret
    rejected = sub.deliveries.get(event__event_type="appeal.rejected").event.payload
    assert rejected["status"] == "rejected" and "[电话已隐去]" in rejected["status_notes"]
    assert rejected["public"] is None  # not published


def test_ping_reaches_only_its_subscription(world, subscribe, receiver, admin):
    sub = subscribe()
    other = subscribe()
    event = services.subscription_ping(actor=admin, subscription=sub)
    assert list(event.deliveries.values_list("subscription", flat=True)) == [sub.pk]
    assert other.deliveries.count() == 0


def test_subscription_rules(admin, world):
    with pytest.raises(services.WebhookError):
        services.subscription_create(
            actor=admin, partner="x", target_url="ftp://x.example/", event_types=["appeal.created"]
        )
    with pytest.raises(services.WebhookError):
        services.subscription_create(
            actor=admin, partner="x", target_url="https://x.example/", event_types=["nope"]
        )
    with pytest.raises(PermissionDenied):
        services.subscription_create(
            actor=world.dispatcher,
            partner="x",
            target_url="https://x.example/",
            event_types=["appeal.created"],
        )
    sub, secret = services.subscription_create(
        actor=admin, partner="x", target_url="https://x.example/", event_types=["appeal.created"]
    )
    assert secret.startswith("whsec_")
    from linli.core.webhooks.models import Subscription

    raw = Subscription.objects.filter(pk=sub.pk).values_list("secret", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_subscription WHERE id = %s", [sub.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored  # encrypted at rest
    assert raw.get() == secret
    new = services.subscription_rotate_secret(actor=admin, subscription=sub)
    sub.refresh_from_db()
    assert new != secret and sub.secret == new
    assert not AuditEvent.objects.filter(changes__icontains=secret).exists()
