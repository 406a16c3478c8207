"""Resident sign-in through the pages: phone → code → signed in."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from linli.core.accounts import sms
from linli.core.accounts.models import OneTimeCode, User

from .conftest import PHONE, last_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/resident/"
CODE = "/accounts/resident/code/"


def test_urls():
    assert reverse("accounts:resident_login") == LOGIN
    assert reverse("accounts:resident_code") == CODE


def test_phone_page_renders(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="phone"' in body and 'inputmode="tel"' in body
    assert "accounts/accounts.css" in body


def test_full_sign_in_logs_in_with_a_new_session(client):
    client.get(LOGIN)
    response = client.post(LOGIN, {"phone": PHONE})
    assert response.status_code == 302 and response["Location"] == CODE
    assert len(sms.outbox) == 1
    page = client.get(CODE)
    assert "138****5678" in page.content.decode()
    assert PHONE not in page.content.decode()
    before = client.session.session_key
    response = client.post(CODE, {"code": last_code()})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session.session_key != before  # rotated
    user = User.objects.get(pk=client.session[SESSION_KEY])
    assert user.is_resident


def test_next_is_followed_when_safe(client):
    client.post(LOGIN, {"phone": PHONE, "next": "/accounts/profile/"})
    response = client.post(CODE, {"code": last_code()})
    assert response["Location"] == "/accounts/profile/"


def test_next_to_another_site_is_ignored(client):
    client.post(LOGIN, {"phone": PHONE, "next": "https://evil.example/"})
    response = client.post(CODE, {"code": last_code()})
    assert response["Location"] == "/"


def test_invalid_phone_shows_bilingual_error(client):
    response = client.post(LOGIN, {"phone": "12345"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "请输入正确的11位手机号 / please enter a valid 11-digit mobile number" in body
    assert sms.outbox == []


def test_code_page_without_phone_goes_back(client):
    response = client.get(CODE)
    assert response.status_code == 302 and response["Location"] == LOGIN


def test_wrong_code_shows_tries_left(client):
    client.post(LOGIN, {"phone": PHONE})
    wrong = f"{(int(last_code()) + 1) % 10**6:06d}"
    response = client.post(CODE, {"code": wrong})
    assert response.status_code == 400
    assert "还可尝试4次" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_resend_too_soon_is_refused_on_the_code_page(client):
    client.post(LOGIN, {"phone": PHONE})
    response = client.post(CODE, {"action": "resend"})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert len(sms.outbox) == 1


def test_asking_again_for_the_same_phone_soon_goes_to_the_code_page(client):
    client.post(LOGIN, {"phone": PHONE})
    response = client.post(LOGIN, {"phone": PHONE})
    assert response.status_code == 302 and response["Location"] == CODE
    assert len(sms.outbox) == 1


def test_resend_after_the_wait_sends_a_new_code(client):
    from datetime import timedelta

    client.post(LOGIN, {"phone": PHONE})
    otp = OneTimeCode.objects.get()
    OneTimeCode.objects.filter(pk=otp.pk).update(created_at=otp.created_at - timedelta(seconds=61))
    response = client.post(CODE, {"action": "resend"})
    assert response.status_code == 302
    assert len(sms.outbox) == 2


def test_per_address_limit_on_code_requests(client, settings):
    settings.LINLI_OTP_REQUEST_RATE_IP = "3/h"
    for i in range(3):
        assert client.post(LOGIN, {"phone": f"1390000000{i}"}).status_code == 302
    response = client.post(LOGIN, {"phone": "13900000009"})
    assert response.status_code == 429
    body = response.content.decode()
    assert "操作太频繁 / Too many requests" in body
    assert len(sms.outbox) == 3


def test_per_address_limit_on_code_checks(client, settings):
    settings.LINLI_OTP_VERIFY_RATE_IP = "2/h"
    client.post(LOGIN, {"phone": PHONE})
    client.post(CODE, {"code": "000000"})
    client.post(CODE, {"code": "000001"})
    response = client.post(CODE, {"code": last_code()})
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
