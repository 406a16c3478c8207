"""Staff sign-in: password, lockout (django-axes), the TOTP step."""

import datetime as dt

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from linli.core.accounts.models import User
from linli.core.audit.models import AuditEvent

from .conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOTP = "/accounts/login/totp/"


def test_urls():
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:login_totp") == TOTP


def test_login_page(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


def test_password_sign_in(client, staff):
    response = client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(client.session[SESSION_KEY]) == staff.pk
    event = AuditEvent.objects.get(action="accounts.sign_in")
    assert event.changes == {"method": "password"} and event.actor_id == staff.pk


def test_password_is_hashed_with_argon2_in_production_settings():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_wrong_password_bilingual(client, staff):
    response = client.post(LOGIN, {"username": "wang.fang", "password": "nope"})
    assert response.status_code == 400
    assert "用户名或密码不正确 / wrong username or password" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_lockout_after_failure_limit(client, staff, settings):
    limit = settings.AXES_FAILURE_LIMIT
    assert settings.AXES_ENABLED
    statuses = [
        client.post(LOGIN, {"username": "wang.fang", "password": f"bad{i}"}).status_code for i in range(limit)
    ]
    assert statuses[:-1] == [400] * (limit - 1)
    assert statuses[-1] == 429
    # Now even the right password is refused, with the lockout page.
    response = client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    assert response.status_code == 429
    body = response.content.decode()
    assert "登录已暂时锁定 / Sign-in temporarily locked" in body
    assert "Retry-After" in response
    assert SESSION_KEY not in client.session


def test_login_rate_limited_per_address(client, staff, settings):
    settings.LINLI_LOGIN_RATE_IP = "2/m"
    client.post(LOGIN, {"username": "x", "password": "y"})
    client.post(LOGIN, {"username": "z", "password": "y"})
    response = client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_get_is_not_rate_limited(client, settings):
    settings.LINLI_LOGIN_RATE_IP = "1/m"
    assert all(client.get(LOGIN).status_code == 200 for _ in range(3))


# --- TOTP ------------------------------------------------------------------------------------------


def _code(user, *, seconds=0):
    return pyotp.TOTP(user.totp_secret).at(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=seconds))


def test_totp_required_before_logged_in(client, totp_staff):
    response = client.post(
        LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD, "next": "/accounts/profile/"}
    )
    assert response.status_code == 302 and response["Location"] == TOTP
    assert SESSION_KEY not in client.session  # not logged in yet
    assert client.get("/accounts/profile/").status_code == 302  # still anonymous
    response = client.post(TOTP, {"code": _code(totp_staff)})
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert int(client.session[SESSION_KEY]) == totp_staff.pk
    assert AuditEvent.objects.filter(action="accounts.sign_in", changes__method="password+totp").exists()


def test_totp_wrong_code_refused(client, totp_staff):
    client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    good = _code(totp_staff)
    response = client.post(TOTP, {"code": f"{(int(good) + 1) % 10**6:06d}"})
    assert response.status_code == 403
    assert "动态口令不正确 / wrong code" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_totp_previous_step_accepted_but_not_older(client, totp_staff):
    client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    old = _code(totp_staff, seconds=-95)
    if old in {_code(totp_staff, seconds=s) for s in (-30, 0, 30)}:
        pytest.skip("codes of different steps happen to collide")
    assert client.post(TOTP, {"code": old}).status_code == 403
    assert client.post(TOTP, {"code": _code(totp_staff, seconds=-30)}).status_code == 302


def test_totp_replay_refused(client, totp_staff):
    code = _code(totp_staff)
    client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    assert client.post(TOTP, {"code": code}).status_code == 302
    client.post("/accounts/logout/")
    client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    response = client.post(TOTP, {"code": code})
    assert response.status_code == 403
    assert "已使用过" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="accounts.totp_replay").exists()


def test_totp_step_without_password_step_goes_back(client, totp_staff):
    response = client.post(TOTP, {"code": _code(totp_staff)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert SESSION_KEY not in client.session


def test_totp_step_expires(client, totp_staff):
    client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    session = client.session
    session["accounts_pending_at"] -= 301
    session.save()
    response = client.post(TOTP, {"code": _code(totp_staff)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert SESSION_KEY not in client.session


def test_wrong_totp_codes_count_towards_lockout(client, totp_staff, settings):
    client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD})
    good = _code(totp_staff)
    wrong = f"{(int(good) + 500000) % 10**6:06d}"
    statuses = [client.post(TOTP, {"code": wrong}).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses[-1] == 429
    # Locked: the right password no longer works either.
    assert client.post(LOGIN, {"username": "wang.fang", "password": STAFF_PASSWORD}).status_code == 429
    assert SESSION_KEY not in client.session


def test_resident_account_cannot_use_staff_login(client):
    user = User.objects.create(username="resident-x", kind=User.Kind.RESIDENT)
    user.set_unusable_password()
    user.save()
    assert client.post(LOGIN, {"username": "resident-x", "password": ""}).status_code == 400
