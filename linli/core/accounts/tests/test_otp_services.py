"""The resident sign-in services: codes, limits, attempts, account creation and register linking."""

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.core.accounts import services, sms
from linli.core.accounts.models import OneTimeCode, User
from linli.core.audit.models import AuditEvent
from linli.core.people.models import Person
from linli.core.privacy.lookup import phone_hash

from .conftest import PHONE, last_code

pytestmark = pytest.mark.django_db


def test_request_sends_six_digit_code_and_stores_only_its_hash():
    issued = services.otp_request(phone="+86 138 1234 5678", ip="10.0.0.1")
    assert issued.expires_in == 300 and issued.resend_after == 60
    assert len(sms.outbox) == 1 and sms.outbox[0].phone == PHONE  # normalised
    code = last_code()
    assert len(code) == 6 and code.isdigit()
    otp = OneTimeCode.objects.get()
    assert otp.phone_hash == phone_hash(PHONE)
    assert code not in otp.code_hash
    assert abs((otp.expires_at - otp.created_at) - timedelta(seconds=300)) < timedelta(seconds=1)
    event = AuditEvent.objects.get(action="accounts.otp_request")
    assert code not in str(event.changes) and event.ip_address == "10.0.0.1"


@pytest.mark.parametrize("phone", ["12345", "abc", "", "02812345678", "028-87654321"])
def test_request_refuses_invalid_phone_and_landlines(phone):
    with pytest.raises(services.SignInRefused) as err:
        services.otp_request(phone=phone)
    assert err.value.code == "phone_invalid"
    assert " / " in err.value.message  # bilingual
    assert sms.outbox == []
    assert not OneTimeCode.objects.exists()


def test_resend_too_soon_is_refused_with_wait():
    services.otp_request(phone=PHONE)
    with pytest.raises(services.SignInRefused) as err:
        services.otp_request(phone=PHONE)
    assert err.value.code == "otp_too_soon" and err.value.status == 429
    assert 0 < err.value.retry_after <= 60
    assert len(sms.outbox) == 1


def _age_codes(seconds):
    for otp in OneTimeCode.objects.all():
        OneTimeCode.objects.filter(pk=otp.pk).update(created_at=otp.created_at - timedelta(seconds=seconds))


def test_resend_after_a_minute_replaces_the_old_code():
    services.otp_request(phone=PHONE)
    first = last_code()
    _age_codes(61)
    services.otp_request(phone=PHONE)
    second = last_code()
    assert len(sms.outbox) == 2
    if first != second:  # the old code no longer works
        with pytest.raises(services.SignInRefused):
            services.otp_verify(phone=PHONE, code=first)
    assert services.otp_verify(phone=PHONE, code=second).is_resident


def test_at_most_five_codes_an_hour():
    for _ in range(5):
        services.otp_request(phone=PHONE)
        _age_codes(61)
    with pytest.raises(services.SignInRefused) as err:
        services.otp_request(phone=PHONE)
    assert err.value.code == "otp_hourly_limit" and err.value.status == 429
    assert len(sms.outbox) == 5
    # An hour after the oldest, one more is allowed.
    _age_codes(3600 - 5 * 61 + 1)
    services.otp_request(phone=PHONE)
    assert len(sms.outbox) == 6


def test_limits_are_per_phone():
    services.otp_request(phone=PHONE)
    services.otp_request(phone="13900001111")
    assert len(sms.outbox) == 2


def test_happy_path_creates_resident_account():
    services.otp_request(phone=PHONE)
    user = services.otp_verify(phone="138 1234 5678", code=last_code(), ip="10.0.0.2")
    assert user.kind == User.Kind.RESIDENT
    assert PHONE not in user.username and "5678" not in user.username
    assert user.phone == PHONE and user.phone_hash == phone_hash(PHONE)
    assert not user.has_usable_password()
    # encrypted at rest
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        assert PHONE not in cur.fetchone()[0]
    assert OneTimeCode.objects.get().used_at is not None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"accounts.resident_create", "accounts.sign_in"} <= actions


def test_second_sign_in_returns_the_same_account():
    services.otp_request(phone=PHONE)
    first = services.otp_verify(phone=PHONE, code=last_code())
    _age_codes(61)
    services.otp_request(phone=PHONE)
    second = services.otp_verify(phone=PHONE, code=last_code())
    assert first.pk == second.pk
    assert User.objects.filter(kind=User.Kind.RESIDENT).count() == 1


def test_used_code_cannot_be_used_again():
    services.otp_request(phone=PHONE)
    code = last_code()
    services.otp_verify(phone=PHONE, code=code)
    with pytest.raises(services.SignInRefused):
        services.otp_verify(phone=PHONE, code=code)


def test_expired_code_is_refused():
    services.otp_request(phone=PHONE)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.SignInRefused) as err:
        services.otp_verify(phone=PHONE, code=last_code())
    assert err.value.code == "otp_expired"
    assert not User.objects.exists()


def test_no_code_requested():
    with pytest.raises(services.SignInRefused) as err:
        services.otp_verify(phone=PHONE, code="123456")
    assert err.value.code == "otp_missing"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_wrong_code_counts_attempts_and_says_how_many_are_left():
    services.otp_request(phone=PHONE)
    with pytest.raises(services.SignInRefused) as err:
        services.otp_verify(phone=PHONE, code=_wrong(last_code()))
    assert err.value.code == "otp_wrong" and "4" in err.value.message
    assert OneTimeCode.objects.get().attempts == 1  # kept although the call raised
    assert AuditEvent.objects.filter(action="accounts.otp_failed").count() == 1


def test_too_many_wrong_tries_kill_the_code():
    services.otp_request(phone=PHONE)
    code = last_code()
    codes = []
    for _ in range(5):
        with pytest.raises(services.SignInRefused) as err:
            services.otp_verify(phone=PHONE, code=_wrong(code))
        codes.append(err.value.code)
    assert codes == ["otp_wrong"] * 4 + ["otp_exhausted"]
    with pytest.raises(services.SignInRefused) as err:
        services.otp_verify(phone=PHONE, code=code)  # even the right one
    assert err.value.code == "otp_exhausted"
    assert not User.objects.exists()


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", ""])
def test_malformed_code_does_not_count(code):
    services.otp_request(phone=PHONE)
    with pytest.raises(services.SignInRefused) as err:
        services.otp_verify(phone=PHONE, code=code)
    assert err.value.code == "otp_format"
    assert OneTimeCode.objects.get().attempts == 0


def test_full_width_digits_are_accepted():
    services.otp_request(phone=PHONE)
    code = last_code()
    full = code.translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)})
    assert services.otp_verify(phone=PHONE, code=full).is_resident


def test_code_for_another_phone_does_not_work():
    services.otp_request(phone=PHONE)
    services.otp_request(phone="13900001111")
    mine, theirs = last_code(PHONE), last_code("13900001111")
    if mine == theirs:
        pytest.skip("the two random codes happen to be equal (one chance in a million)")
    with pytest.raises(services.SignInRefused) as err:
        services.otp_verify(phone="13900001111", code=mine)
    assert err.value.code == "otp_wrong"


def _person(name, phone, **kw):
    return Person.objects.create(name=name, phone=phone, phone_hash=phone_hash(phone), **kw)


def test_links_to_the_register_when_exactly_one_entry_has_the_phone():
    person = _person("李秀英", PHONE)
    _person("别人", "13900001111")
    services.otp_request(phone=PHONE)
    user = services.otp_verify(phone=PHONE, code=last_code())
    assert user.person_id == person.pk
    assert user.display_name == "李秀英"
    assert AuditEvent.objects.filter(action="accounts.register_link", object_id=str(user.pk)).exists()


def test_no_link_when_two_entries_share_the_phone():
    _person("父亲", PHONE)
    _person("儿子", PHONE)
    services.otp_request(phone=PHONE)
    user = services.otp_verify(phone=PHONE, code=last_code())
    assert user.person_id is None


def test_no_link_to_an_erased_entry():
    _person("已删除", PHONE, erased_at=timezone.now())
    services.otp_request(phone=PHONE)
    assert services.otp_verify(phone=PHONE, code=last_code()).person_id is None


def test_link_made_on_a_later_sign_in_once_registered():
    services.otp_request(phone=PHONE)
    user = services.otp_verify(phone=PHONE, code=last_code())
    assert user.person_id is None
    person = _person("后登记", PHONE)
    _age_codes(61)
    services.otp_request(phone=PHONE)
    assert services.otp_verify(phone=PHONE, code=last_code()).person_id == person.pk


def test_staff_account_with_that_phone_cannot_sign_in_by_sms(staff):
    staff.phone, staff.phone_hash = PHONE, phone_hash(PHONE)
    staff.save()
    services.otp_request(phone=PHONE)
    with pytest.raises(services.SignInRefused) as err:
        services.otp_verify(phone=PHONE, code=last_code())
    assert err.value.code == "staff_account"


def test_disabled_resident_cannot_sign_in():
    services.otp_request(phone=PHONE)
    user = services.otp_verify(phone=PHONE, code=last_code())
    User.objects.filter(pk=user.pk).update(is_active=False)
    _age_codes(61)
    services.otp_request(phone=PHONE)
    with pytest.raises(services.SignInRefused) as err:
        services.otp_verify(phone=PHONE, code=last_code())
    assert err.value.code == "inactive"
