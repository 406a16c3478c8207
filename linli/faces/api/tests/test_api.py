"""/api/v1/ through HTTP, the way an app or a partner uses it."""

from __future__ import annotations

import pytest

from linli.core.apikeys.models import ApiToken
from linli.core.apikeys.services import api_key_create
from linli.domains.appeals.choices import AppealStatus
from linli.domains.appeals.models import Appeal
from linli.domains.appeals.tests.conftest import png_bytes
from linli.domains.appeals.tests.helpers import bring_to

V1 = "/api/v1"


def new_appeal(world, **extra):
    lng, lat = world.point(0)
    return {
        "title": "小区门口有暴露垃圾",
        "body": "垃圾堆了三天",
        "category": world.rubbish.code,
        "lng": lng,
        "lat": lat,
        **extra,
    }


def create(client, headers, payload, key="k1"):
    return client.post(
        f"{V1}/appeals/", payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **headers
    )


# --- tokens -----------------------------------------------------------------------------------------


def test_staff_token_for_password_then_revoked(client, world):
    world.dispatcher.set_password("correct-horse-42")
    world.dispatcher.save()
    wrong = client.post(
        f"{V1}/auth/token",
        {"username": world.dispatcher.username, "password": "nope"},
        content_type="application/json",
    )
    assert wrong.status_code == 401 and wrong["Content-Type"] == "application/problem+json"
    ok = client.post(
        f"{V1}/auth/token",
        {"username": world.dispatcher.username, "password": "correct-horse-42"},
        content_type="application/json",
    )
    assert ok.status_code == 201
    token = ok.json()["token"]
    stored = ApiToken.objects.get(user=world.dispatcher)
    assert token.startswith("lnt_") and stored.digest != token and token not in stored.digest
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(f"{V1}/appeals/", **headers).status_code == 200
    assert client.delete(f"{V1}/auth/token", **headers).json() == {"revoked": 1}
    assert client.get(f"{V1}/appeals/", **headers).status_code == 401


def test_staff_token_needs_totp_when_on(client, world):
    import pyotp

    user = world.dispatcher
    user.set_password("correct-horse-42")
    user.totp_secret, user.totp_enabled = pyotp.random_base32(), True
    user.save()
    creds = {"username": user.username, "password": "correct-horse-42"}
    assert client.post(f"{V1}/auth/token", creds, content_type="application/json").status_code == 401
    bad = client.post(f"{V1}/auth/token", {**creds, "totp": "000000"}, content_type="application/json")
    assert bad.status_code == 403
    good = client.post(
        f"{V1}/auth/token",
        {**creds, "totp": pyotp.TOTP(user.totp_secret).now()},
        content_type="application/json",
    )
    assert good.status_code == 201


def test_resident_token_for_phone_and_sms_code(client, db):
    from linli.core.accounts.sms import outbox

    assert (
        client.post(f"{V1}/auth/otp", {"phone": "13900001234"}, content_type="application/json").status_code
        == 200
    )
    import re

    code = re.search(r"(?<!\d)\d{6}(?!\d)", outbox[-1].text).group(0)
    ok = client.post(
        f"{V1}/auth/token/sms", {"phone": "13900001234", "code": code}, content_type="application/json"
    )
    assert ok.status_code == 201 and ok.json()["kind"] == "resident"


def test_expired_token_is_refused(client, world, bearer):
    headers = bearer(world.resident)
    from django.utils import timezone

    ApiToken.objects.update(expires_at=timezone.now())
    response = client.get(f"{V1}/appeals/mine", **headers)
    assert response.status_code == 401 and response.json()["status"] == 401


# --- appeals ----------------------------------------------------------------------------------------


def test_resident_creates_with_idempotency_key_and_lists_with_cursor(client, world, bearer, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    headers = bearer(world.resident)
    missing = client.post(f"{V1}/appeals/", new_appeal(world), content_type="application/json", **headers)
    assert missing.status_code == 400 and missing["Content-Type"] == "application/problem+json"
    first = create(client, headers, new_appeal(world), key="abc")
    assert first.status_code == 201
    again = create(client, headers, new_appeal(world), key="abc")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    appeal = Appeal.objects.get(pk=first.json()["id"])
    assert appeal.resident == world.resident and appeal.channel == "mobile"
    for i in range(4):
        assert create(client, headers, new_appeal(world), key=f"k{i}").status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{V1}/appeals/mine", params, **headers).json()
        seen += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 == len(set(seen)) and seen == sorted(seen, reverse=True)
    assert client.get(f"{V1}/appeals/mine", {"cursor": "!!"}, **headers).status_code == 400


@pytest.mark.parametrize(
    "field, value",
    [("title", "门口\x00垃圾"), ("body", "\x00"), ("answers", {"floor": "3\x00"}), ("address", "一环路\x00")],
)
def test_text_with_a_nul_character_is_bad_input_and_stores_nothing(client, world, bearer, field, value):
    headers = bearer(world.resident)
    response = create(client, headers, new_appeal(world, **{field: value}), key=f"nul-{field}")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert "NUL" in response.json()["detail"]
    assert not Appeal.objects.filter(idempotency_key=f"nul-{field}").exists()
    filters = client.get(f"{V1}/appeals/", {"q": "垃\x00圾"}, **bearer(world.dispatcher))
    assert filters.status_code == 400 and "NUL" in filters.json()["detail"]


def test_reading_is_scoped_like_the_web_pages(client, world, bearer, on_commit):
    appeal = bring_to(world, AppealStatus.SUBMITTED)  # in street 1
    assert client.get(f"{V1}/appeals/{appeal.pk}", **bearer(world.resident)).status_code == 200
    assert client.get(f"{V1}/appeals/{appeal.pk}", **bearer(world.other_resident)).status_code == 404
    assert client.get(f"{V1}/appeals/{appeal.pk}", **bearer(world.street2_dispatcher)).status_code == 404
    ids = [a["id"] for a in client.get(f"{V1}/appeals/", **bearer(world.street2_dispatcher)).json()["items"]]
    assert appeal.pk not in ids
    body = client.get(f"{V1}/appeals/{appeal.pk}", **bearer(world.dispatcher)).json()
    assert {"register", "reject", "merge"} <= set(body["actions"]) and "sign" not in body["actions"]
    assert (
        client.get(f"{V1}/appeals/", {"status": "submitted"}, **bearer(world.dispatcher)).json()["items"][0][
            "id"
        ]
        == appeal.pk
    )


def test_the_loop_through_the_api(client, world, bearer, on_commit):
    appeal = bring_to(world, AppealStatus.SUBMITTED)
    d, h, r = bearer(world.dispatcher), bearer(world.handler), bearer(world.resident)

    def act(headers, name, payload=None):
        return client.post(
            f"{V1}/appeals/{appeal.pk}/{name}", payload or {}, content_type="application/json", **headers
        )

    assert act(r, "register").status_code == 403  # a resident cannot register
    assert act(d, "register", {"note": "立案"}).json()["status"] == "registered"
    assert act(d, "register").status_code == 409  # not from this status
    assert act(d, "dispatch", {"lead_unit": world.city_mgmt.code}).json()["status"] == "dispatched"
    assert act(h, "sign").json()["status"] == "in_progress"
    upload = client.post(f"{V1}/attachments/", {"file": _file(png_bytes())}, **h)
    assert upload.status_code == 201
    bad = client.post(f"{V1}/attachments/", {"file": _file(b"not an image")}, **h)
    assert bad.status_code == 400
    handled = act(h, "handle", {"result": "已清运", "photo_ids": [upload.json()["id"]]})
    assert handled.json()["status"] == "handled"
    assert Appeal.objects.get(pk=appeal.pk).attachments.filter(kind="result").count() == 1
    assert act(d, "verify", {"passed": True}).json()["status"] == "closed"
    rated = act(r, "rate", {"value": "satisfied"})
    assert rated.status_code == 200 and "rate" not in rated.json()["actions"]
    assert act(r, "rate", {"value": "satisfied"}).status_code == 409


def _file(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.png", content, content_type="image/png")


def test_rate_limit_per_token_is_429_with_retry_after(client, world, bearer, settings):
    settings.LINLI_API_RATE_TOKEN = "3/m"
    headers = bearer(world.resident)
    codes = [client.get(f"{V1}/appeals/mine", **headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get(f"{V1}/appeals/mine", **headers)
    assert int(response["Retry-After"]) >= 1 and response.json()["type"].endswith("rate-limited")
    other = bearer(world.other_resident)
    assert client.get(f"{V1}/appeals/mine", **other).status_code == 200  # per token, not global


# --- partners and a city platform -------------------------------------------------------------------


def test_partner_key_scopes(client, world):
    reader = api_key_create(actor=None, name="只读", scopes=["places.read"])
    headers = {"HTTP_X_API_KEY": reader.secret}
    assert create(client, headers, new_appeal(world)).status_code == 403
    assert client.get(f"{V1}/appeals/", **headers).json()["items"] == []
    assert client.get(f"{V1}/appeals/", HTTP_X_API_KEY="lnk_nope").status_code == 401


def test_handdown_from_12345_is_deduplicated_and_changes_are_announced(client, world, on_commit, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    platform = api_key_create(actor=None, name="成都12345", scopes=["appeals.create"], source="12345")
    assert "appeals.handdown" in platform.record.scopes
    headers = {"HTTP_X_API_KEY": platform.secret}
    payload = new_appeal(world, external_ref="CD12345-0001")
    first = client.post(
        f"{V1}/appeals/handdown",
        payload,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="a",
        **headers,
    )
    assert first.status_code == 201
    again = client.post(
        f"{V1}/appeals/handdown",
        payload,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="b",
        **headers,
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    appeal = Appeal.objects.get(pk=first.json()["id"])
    assert (appeal.external_source, appeal.external_ref, appeal.channel) == ("12345", "CD12345-0001", "api")
    assert appeal in __import__("linli.domains.appeals.selectors", fromlist=["x"]).dispatcher_queue(
        world.dispatcher
    )
    # the platform reads its own case, not others'
    assert client.get(f"{V1}/appeals/{appeal.pk}", **headers).status_code == 200
    other = bring_to(world, AppealStatus.SUBMITTED)
    assert client.get(f"{V1}/appeals/{other.pk}", **headers).status_code == 404
    # a plain key cannot hand down
    plain = api_key_create(actor=None, name="app", scopes=["appeals.create"])
    refused = client.post(
        f"{V1}/appeals/handdown",
        payload,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="c",
        HTTP_X_API_KEY=plain.secret,
    )
    assert refused.status_code == 403


def test_source_platform_callback_gets_status_changes(world, on_commit, settings):
    webhooks = pytest.importorskip("linli.core.webhooks.models")
    from linli.domains.appeals import services as svc

    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    world.dispatcher.is_superuser = True
    world.dispatcher.save()
    issued = api_key_create(
        actor=world.dispatcher,
        name="成都12345",
        source="12345",
        callback_url="https://12345.example.org/hook",
        scopes=["appeals.create"],
    )
    assert issued.webhook_secret
    sub = webhooks.Subscription.objects.get(external_source="12345")
    assert sub.event_types == ["appeal.status_changed"] and sub.target_url == "https://12345.example.org/hook"
    lng, lat = world.point(0)
    handed = svc.appeal_submit(
        actor=issued.record.account,
        title="噪声",
        body="夜间施工",
        category=world.rubbish,
        channel="api",
        lng=lng,
        lat=lat,
        external_source="12345",
        external_ref="X1",
    )
    own = bring_to(world, AppealStatus.SUBMITTED)
    svc.appeal_register(actor=world.dispatcher, appeal=handed)
    svc.appeal_register(actor=world.dispatcher, appeal=own)
    events = webhooks.OutboxEvent.objects.filter(event_type="appeal.status_changed")
    assert [e.payload["reference"] for e in events if e.deliveries.filter(subscription=sub).exists()] == [
        handed.reference
    ]
