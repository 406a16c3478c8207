import re

import pyotp
import pytest
from django.core.cache import cache

from linli.core.accounts import sms
from linli.core.accounts.models import User

STAFF_PASSWORD = "Qingyang-river-2024"
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _fresh_limits_and_outbox():
    """django-ratelimit counts in the cache, the SMS outbox is a module list: both start empty."""
    cache.clear()
    sms.outbox.clear()
    yield
    cache.clear()
    sms.outbox.clear()


def last_code(phone: str = PHONE) -> str:
    messages = [m for m in sms.outbox if m.phone == phone]
    assert messages, f"no SMS to {phone}"
    return re.search(r"(\d{6})", messages[-1].text).group(1)


@pytest.fixture
def staff(db):
    user = User(username="wang.fang", kind=User.Kind.STAFF, display_name="王芳")
    user.set_password(STAFF_PASSWORD)
    user.save()
    return user


@pytest.fixture
def totp_staff(staff):
    staff.totp_secret = pyotp.random_base32()
    staff.totp_enabled = True
    staff.save()
    return staff
