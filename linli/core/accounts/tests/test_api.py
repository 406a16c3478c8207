"""/api/v1/accounts/: otp/request, otp/verify (starts a session), me."""

import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from linli.core.accounts import sms

from .conftest import PHONE, last_code

pytestmark = pytest.mark.django_db

BASE = "/api/v1/accounts/"


def _post(client, path, data, **extra):
    return client.post(BASE + path, json.dumps(data), content_type="application/json", **extra)


def test_request_and_verify_start_a_session(client):
    response = _post(client, "otp/request", {"phone": PHONE})
    assert response.status_code == 200
    assert response.json() == {"sent": True, "expires_in": 300, "resend_after": 60}
    assert len(sms.outbox) == 1
    response = _post(client, "otp/verify", {"phone": PHONE, "code": last_code()})
    assert response.status_code == 200
    data = response.json()
    assert data["kind"] == "resident" and data["phone_masked"] == "138****5678"
    assert SESSION_KEY in client.session
    me = client.get(BASE + "me")
    assert me.status_code == 200 and me.json()["username"] == data["username"]


def test_problem_details_for_invalid_phone(client):
    response = _post(client, "otp/request", {"phone": "123"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["status"] == 400 and problem["type"].endswith("/phone_invalid")
    assert " / " in problem["detail"]


def test_resend_too_soon_is_429(client):
    _post(client, "otp/request", {"phone": PHONE})
    response = _post(client, "otp/request", {"phone": PHONE})
    assert response.status_code == 429
    assert response.json()["retry_after"] > 0


def test_wrong_code(client):
    _post(client, "otp/request", {"phone": PHONE})
    response = _post(client, "otp/verify", {"phone": PHONE, "code": f"{(int(last_code()) + 1) % 10**6:06d}"})
    assert response.status_code == 400 and response.json()["title"] == "otp_wrong"
    assert SESSION_KEY not in client.session


def test_address_limit(client, settings):
    settings.LINLI_OTP_REQUEST_RATE_IP = "1/h"
    _post(client, "otp/request", {"phone": PHONE})
    response = _post(client, "otp/request", {"phone": "13900001111"})
    assert response.status_code == 429 and response.json()["title"] == "rate_limited"
    assert len(sms.outbox) == 1


def test_me_needs_sign_in(client):
    assert client.get(BASE + "me").status_code == 401


def test_posts_need_csrf():
    client = Client(enforce_csrf_checks=True)
    assert _post(client, "otp/request", {"phone": PHONE}).status_code == 403
    assert sms.outbox == []
    assert client.get(BASE + "me").status_code == 401  # still hands out the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert _post(client, "otp/request", {"phone": PHONE}, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_me_lists_roles_and_jurisdictions(client, staff, small_district):
    from linli.core.orgs.choices import OrgKind, Role
    from linli.core.orgs.services import membership_grant, organisation_create

    community = small_district.communities[0]
    station = organisation_create(
        actor=None, kind=OrgKind.COMMUNITY_STATION, code="T-CS-1", name="第1社区工作站", area=community
    )
    membership_grant(
        actor=None,
        user=staff,
        organisation=station,
        role=Role.GRID_WORKER,
        jurisdiction=small_district.grids[0],
    )
    membership_grant(
        actor=None, user=staff, organisation=station, role=Role.COMMUNITY_STAFF, jurisdiction=community
    )
    client.force_login(staff)
    data = client.get(BASE + "me").json()
    assert data["kind"] == "staff" and data["display_name"] == "王芳"
    assert data["roles"] == ["community_staff", "grid_worker"]
    by_role = {j["role"]: j for j in data["jurisdictions"]}
    assert by_role["grid_worker"]["paths"] == [small_district.grids[0].path]
    assert by_role["community_staff"]["role_label"] == "社区工作者"
    assert data["phone_masked"] == ""
