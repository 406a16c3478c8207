"""Profile, password change and TOTP setup."""

import re

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY

from linli.core.accounts import services
from linli.core.accounts.models import User
from linli.core.audit.models import AuditEvent
from linli.core.privacy.lookup import phone_hash

from .conftest import PHONE, STAFF_PASSWORD

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/profile/"
SETUP = "/accounts/totp/"


@pytest.fixture
def resident(db):
    user = User(username="resident-abc", kind=User.Kind.RESIDENT, phone=PHONE, phone_hash=phone_hash(PHONE))
    user.set_unusable_password()
    user.save()
    return user


def test_profile_needs_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_resident_profile_shows_masked_phone_and_no_password_form(client, resident):
    client.force_login(resident)
    body = client.get(PROFILE).content.decode()
    assert "138****5678" in body and PHONE not in body
    assert 'name="new_password1"' not in body
    assert client.post(PROFILE, {"form": "password"}).status_code == 403


def test_profile_update(client, resident):
    client.force_login(resident)
    session = client.session
    session["linli_elderly_mode"] = False
    session.save()
    response = client.post(
        PROFILE, {"form": "profile", "display_name": " 张阿姨 ", "language": "en", "elderly_mode": "on"}
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert (resident.display_name, resident.language, resident.elderly_mode) == ("张阿姨", "en", True)
    assert response.cookies["django_language"].value == "en"
    assert "linli_elderly_mode" not in client.session  # the account's choice now shows
    event = AuditEvent.objects.get(action="accounts.profile_update")
    assert event.changes["language"] == ["", "en"]


def test_profile_rejects_unknown_language(client, resident):
    client.force_login(resident)
    response = client.post(PROFILE, {"form": "profile", "display_name": "x", "language": "fr"})
    assert response.status_code == 400
    resident.refresh_from_db()
    assert resident.language == ""


def test_language_cookie_set_at_sign_in(client, staff):
    staff.language = "en"
    staff.save()
    response = client.post("/accounts/login/", {"username": "wang.fang", "password": STAFF_PASSWORD})
    assert response.cookies["django_language"].value == "en"


def test_staff_password_change(client, staff):
    client.force_login(staff)
    new = "Another-long-passphrase-7"
    response = client.post(
        PROFILE,
        {"form": "password", "old_password": STAFF_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password(new)
    assert SESSION_KEY in client.session  # still signed in
    assert AuditEvent.objects.get(action="accounts.password_change").changes == {"password": ["***", "***"]}


def test_staff_password_change_wrong_old(client, staff):
    client.force_login(staff)
    response = client.post(
        PROFILE,
        {
            "form": "password",
            "old_password": "wrong",
            "new_password1": "Another-long-passphrase-7",
            "new_password2": "Another-long-passphrase-7",
        },
    )
    assert response.status_code == 400
    staff.refresh_from_db()
    assert staff.check_password(STAFF_PASSWORD)


def _secret_from_page(body: str) -> str:
    return re.search(r'class="acc-secret">([A-Z2-7 ]+)<', body).group(1).replace(" ", "")


def test_totp_setup_flow(client, staff):
    client.force_login(staff)
    response = client.get(SETUP)
    assert response.status_code == 200
    body = response.content.decode()
    secret = _secret_from_page(body)
    staff.refresh_from_db()
    assert staff.totp_secret == secret and not staff.totp_enabled
    assert 'src="/accounts/totp/qr.svg"' in body
    qr = client.get("/accounts/totp/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml" and qr.content.startswith(b"<svg")
    assert "no-store" in qr["Cache-Control"]
    # A reload shows the same secret (the scanned QR stays valid).
    assert _secret_from_page(client.get(SETUP).content.decode()) == secret
    # Wrong code: not enabled.
    good = pyotp.TOTP(secret).now()
    response = client.post(SETUP, {"code": f"{(int(good) + 1) % 10**6:06d}"})
    assert response.status_code == 400
    staff.refresh_from_db()
    assert not staff.totp_enabled
    # Right code: enabled; the QR is gone.
    assert client.post(SETUP, {"code": good}).status_code == 302
    staff.refresh_from_db()
    assert staff.totp_enabled
    assert client.get("/accounts/totp/qr.svg").status_code == 404
    assert AuditEvent.objects.filter(action="accounts.totp_enable").exists()
    # The code used to enable cannot be used to sign in.
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "wang.fang", "password": STAFF_PASSWORD})
    assert client.post("/accounts/login/totp/", {"code": good}).status_code == 403


def test_totp_disable_requires_password(client, totp_staff):
    client.force_login(totp_staff)
    page = client.get(SETUP).content.decode()
    assert 'name="password"' in page and "acc-secret" not in page
    assert client.post(SETUP, {"password": "wrong"}).status_code == 403
    totp_staff.refresh_from_db()
    assert totp_staff.totp_enabled
    assert client.post(SETUP, {"password": STAFF_PASSWORD}).status_code == 302
    totp_staff.refresh_from_db()
    assert not totp_staff.totp_enabled and totp_staff.totp_secret == ""


def test_residents_have_no_totp_setup(client, resident):
    client.force_login(resident)
    assert client.get(SETUP).status_code == 302
    assert client.get("/accounts/totp/qr.svg").status_code == 404
    resident.refresh_from_db()
    assert resident.totp_secret == ""


def test_totp_enable_twice_refused(totp_staff):
    with pytest.raises(services.SignInRefused) as err:
        services.totp_enable(actor=totp_staff, user=totp_staff, code=pyotp.TOTP(totp_staff.totp_secret).now())
    assert err.value.code == "totp_already_on"
