"""Admin pages for accounts and codes; the create_staff command."""

import pytest
from django.core.management import CommandError, call_command

from linli.core.accounts import services
from linli.core.accounts.models import OneTimeCode, User
from linli.core.orgs.models import Membership

from .conftest import PHONE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser("root", password="Root-passphrase-123")
    client.force_login(admin)
    return client


def test_user_admin_lists_masked_phone(admin_client):
    services.otp_request(phone=PHONE)
    from .conftest import last_code

    user = services.otp_verify(phone=PHONE, code=last_code())
    body = admin_client.get("/admin/accounts/user/").content.decode()
    assert "138****5678" in body and PHONE not in body
    change = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert change.status_code == 200 and PHONE not in change.content.decode()
    # Search by a full number finds the account through the hash.
    found = admin_client.get("/admin/accounts/user/", {"q": PHONE}).content.decode()
    assert user.username in found


def test_user_admin_add_page(admin_client):
    assert admin_client.get("/admin/accounts/user/add/").status_code == 200
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "li.ming",
            "display_name": "李明",
            "usable_password": "true",
            "password1": "Jinniu-district-2025",
            "password2": "Jinniu-district-2025",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="li.ming")
    assert user.kind == User.Kind.STAFF and user.check_password("Jinniu-district-2025")


def test_totp_reset_action(admin_client, totp_staff):
    response = admin_client.post(
        "/admin/accounts/user/", {"action": "totp_reset", "_selected_action": [totp_staff.pk]}
    )
    assert response.status_code == 302
    totp_staff.refresh_from_db()
    assert not totp_staff.totp_enabled and totp_staff.totp_secret == ""


def test_one_time_codes_read_only(admin_client):
    services.otp_request(phone=PHONE)
    otp = OneTimeCode.objects.get()
    assert admin_client.get("/admin/accounts/onetimecode/").status_code == 200
    assert admin_client.get("/admin/accounts/onetimecode/add/").status_code == 403
    page = admin_client.get(f"/admin/accounts/onetimecode/{otp.pk}/change/")
    assert page.status_code == 200 and 'name="attempts"' not in page.content.decode()
    assert (
        admin_client.post(f"/admin/accounts/onetimecode/{otp.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert OneTimeCode.objects.filter(pk=otp.pk).exists()


def test_create_staff_with_membership(small_district):
    from linli.core.orgs.choices import OrgKind
    from linli.core.orgs.services import organisation_create

    organisation_create(
        actor=None, kind=OrgKind.GRID_CENTRE, code="JN-GC", name="网格中心", area=small_district.district
    )
    call_command(
        "create_staff",
        "zhao.lei",
        "--password",
        "Dispatch-desk-2025",
        "--org",
        "JN-GC",
        "--role",
        "dispatcher",
        "--area",
        small_district.streets[0].code,
        "--display-name",
        "赵磊",
    )
    user = User.objects.get(username="zhao.lei")
    assert user.kind == User.Kind.STAFF and user.display_name == "赵磊"
    assert user.check_password("Dispatch-desk-2025")
    membership = Membership.objects.get(user=user)
    assert membership.role == "dispatcher" and membership.jurisdiction == small_district.streets[0]
    # Rerun adds another membership to the same account.
    call_command(
        "create_staff",
        "zhao.lei",
        "--org",
        "JN-GC",
        "--role",
        "dispatcher",
        "--area",
        small_district.streets[1].code,
    )
    assert Membership.objects.filter(user=user).count() == 2


def test_create_staff_refuses_weak_password(db):
    with pytest.raises(CommandError):
        call_command("create_staff", "weak", "--password", "123")
    assert not User.objects.filter(username="weak").exists()


def test_create_staff_unknown_org(small_district):
    with pytest.raises(CommandError, match="no organisation"):
        call_command(
            "create_staff",
            "x.y",
            "--password",
            "Dispatch-desk-2025",
            "--org",
            "NOPE",
            "--role",
            "dispatcher",
            "--area",
            small_district.district.code,
        )
    assert not User.objects.filter(username="x.y").exists()  # all or nothing


def test_create_staff_needs_all_membership_options(db):
    with pytest.raises(CommandError, match="go together"):
        call_command("create_staff", "x.y", "--password", "Dispatch-desk-2025", "--org", "A")
