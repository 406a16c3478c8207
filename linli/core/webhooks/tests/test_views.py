"""Administrator pages: subscriptions, the delivery log and its filters, attempt history, replay."""

from django.urls import reverse

from linli.core.webhooks import services
from linli.core.webhooks.choices import DeliveryStatus, EventType
from linli.core.webhooks.models import Delivery, Subscription
from linli.domains.appeals.tests.helpers import submit


def test_only_administrators(client, world, admin):
    for user in (world.dispatcher, world.resident):
        client.force_login(user)
        for name in ("webhooks:subscriptions", "webhooks:deliveries", "webhooks:subscription_create"):
            assert client.get(reverse(name)).status_code == 403, (user, name)
    client.force_login(admin)
    assert client.get(reverse("webhooks:subscriptions")).status_code == 200


def test_create_shows_secret_once_then_edit(client, admin, receiver):
    client.force_login(admin)
    response = client.post(
        reverse("webhooks:subscription_create"),
        {
            "partner": "市民云",
            "target_url": receiver.url,
            "event_types": ["appeal.created", "appeal.closed"],
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    sub = Subscription.objects.get()
    assert sub.secret in response.content.decode()
    assert sub.event_types == ["appeal.created", "appeal.closed"]
    page = client.get(reverse("webhooks:subscription_edit", args=[sub.pk])).content.decode()
    assert sub.secret not in page and "市民云" in page
    response = client.post(
        reverse("webhooks:subscription_edit", args=[sub.pk]),
        {
            "partner": "市民云",
            "target_url": receiver.url,
            "event_types": ["appeal.rated"],
            "external_source": "12345",
        },
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.event_types == ["appeal.rated"] and not sub.is_active and sub.external_source == "12345"
    old = sub.secret
    response = client.post(reverse("webhooks:subscription_rotate", args=[sub.pk]))
    sub.refresh_from_db()
    assert sub.secret != old and sub.secret in response.content.decode()


def test_bad_target_is_refused(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("webhooks:subscription_create"),
        {"partner": "x", "target_url": "javascript:alert(1)", "event_types": ["appeal.created"]},
    )
    assert response.status_code == 200 and not Subscription.objects.exists()


def test_delivery_log_filters_detail_and_replay(client, world, admin, subscribe, receiver, clock):
    a = subscribe(event_types=[EventType.APPEAL_CREATED])
    b = subscribe(event_types=[EventType.APPEAL_CREATED, EventType.APPEAL_STATUS_CHANGED])
    b.partner = "12345平台"
    b.save()
    submit(world)
    submit(world)
    receiver.responses, receiver.secret = [500], a.secret
    first = Delivery.objects.filter(subscription=a).order_by("id").first()
    services.delivery_send(first.pk)
    Delivery.objects.filter(pk=first.pk).update(status=DeliveryStatus.PARKED)

    client.force_login(admin)
    log = client.get(reverse("webhooks:deliveries"))
    assert log.status_code == 200 and len(log.context["page"]) == 4
    parked = client.get(reverse("webhooks:deliveries"), {"status": "parked"})
    assert [d.pk for d in parked.context["page"]] == [first.pk]
    only_b = client.get(
        reverse("webhooks:deliveries"), {"subscription": b.pk, "event_type": "appeal.created"}
    )
    assert {d.subscription_id for d in only_b.context["page"]} == {b.pk} and len(only_b.context["page"]) == 2

    detail = client.get(reverse("webhooks:delivery", args=[first.pk])).content.decode()
    assert "500" in detail and str(first.event.event_id) in detail

    response = client.post(reverse("webhooks:delivery_replay", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == DeliveryStatus.PENDING and first.attempts == 0

    Delivery.objects.update(status=DeliveryStatus.PARKED)
    response = client.post(
        reverse("webhooks:deliveries_replay"),
        {"all_parked": "1", "subscription": b.pk, "status": "", "event_type": ""},
    )
    assert response.status_code == 302
    assert set(Delivery.objects.filter(subscription=b).values_list("status", flat=True)) == {"pending"}
    assert set(Delivery.objects.filter(subscription=a).values_list("status", flat=True)) == {"parked"}

    response = client.post(reverse("webhooks:deliveries_replay"), {"id": [first.pk]})
    first.refresh_from_db()
    assert first.status == DeliveryStatus.PENDING


def test_ping_button(client, admin, subscribe, receiver, on_commit):
    sub = subscribe()
    client.force_login(admin)
    response = client.post(reverse("webhooks:subscription_ping", args=[sub.pk]))
    assert response.status_code == 302
    (delivery,) = Delivery.objects.filter(subscription=sub)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.event.event_type == "webhook.ping"
    assert receiver.requests[-1]["headers"]["Linli-Event-Type"] == "webhook.ping"
