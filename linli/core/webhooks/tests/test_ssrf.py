"""Webhook targets go through the SSRF guard: refused when saved, and again at every delivery (a
name may come to point inside the network after it was saved). The suite's receiver on 127.0.0.1
is reachable only because the test settings list 127.0.0.1."""

from __future__ import annotations

import pytest

from linli.core.webhooks import services
from linli.core.webhooks.choices import DeliveryStatus
from linli.core.webhooks.models import Delivery
from linli.domains.appeals.tests.helpers import submit


def test_the_test_settings_list_loopback_explicitly(settings):
    assert settings.LINLI_OUTBOUND_ALLOW_HOSTS == ["127.0.0.1"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/",
    ],
)
def test_a_subscription_to_an_inside_address_is_refused(admin, settings, url):
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = []
    with pytest.raises(services.WebhookError) as refused:
        services.subscription_create(actor=admin, partner="x", target_url=url, event_types=["appeal.created"])
    assert refused.value.code == "refused_address" and "/" in refused.value.messages[0]


def test_the_form_shows_the_refusal(client, admin, settings):
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = []
    client.force_login(admin)
    from django.urls import reverse

    from linli.core.webhooks.models import Subscription

    response = client.post(
        reverse("webhooks:subscription_create"),
        {"partner": "内网", "target_url": "http://127.0.0.1:9/x", "event_types": ["appeal.created"]},
    )
    assert response.status_code in (200, 400)
    assert "refused" in response.content.decode() and not Subscription.objects.exists()


def test_delivery_to_a_target_now_refused_contacts_nobody(world, subscribe, receiver, settings):
    subscribe()  # saved while 127.0.0.1 is listed
    submit(world)
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = []  # the list changed since
    (delivery,) = Delivery.objects.all()
    delivery = services.delivery_send(delivery.pk)
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code is None
    assert delivery.last_error.startswith("refused:")
    assert receiver.requests == []
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    assert services.delivery_send(delivery.pk).status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


def test_a_city_platform_callback_inside_the_network_refuses_the_whole_key(admin, settings):
    from linli.core.apikeys.models import ApiKey
    from linli.core.apikeys.services import api_key_create

    settings.LINLI_OUTBOUND_ALLOW_HOSTS = []
    with pytest.raises(services.WebhookError):
        api_key_create(actor=admin, name="成都12345", source="12345", callback_url="http://192.168.10.5/hook")
    assert not ApiKey.objects.exists()
