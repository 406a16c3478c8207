"""Per-address request limits (django-ratelimit) for the sign-in endpoints. The rates are settings
with defaults, so a deployment behind a shared NAT (a community station's wifi) can raise them."""

from __future__ import annotations

from django.conf import settings
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

DEFAULT_RATES = {
    "LINLI_OTP_REQUEST_RATE_IP": "20/h",
    "LINLI_OTP_VERIFY_RATE_IP": "60/h",
    "LINLI_LOGIN_RATE_IP": "30/m",
}


def rate(name: str) -> str:
    return getattr(settings, name, DEFAULT_RATES[name])


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def over_limit(request, *, group: str, setting: str) -> bool:
    """Count this request against the address's allowance for ``group``; True once it is used up."""
    return is_ratelimited(request, group=group, key="ip", rate=rate(setting), method=ALL, increment=True)
