"""Request allowances per credential (a token or a key): a fixed window counted in the shared cache.
Over the allowance the API answers 429 with Retry-After (``linli.core.problems.RateLimited``)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from linli.core.problems import RateLimited

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/m' → (600, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[-1]] * int(period.strip()[:-1] or 1)


def default_rate(kind: str) -> str:
    defaults = {"token": "300/m", "key": "1200/m"}
    return getattr(settings, f"LINLI_API_RATE_{kind.upper()}", defaults[kind])


def check_rate(subject: str, rate: str) -> None:
    """Count one request for ``subject``; raise ``RateLimited`` once the window's allowance is used."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"linli:api-rate:{subject}:{window}"
    try:  # one operation for every request of a window but its first
        count = cache.incr(key)
    except ValueError:  # the window's first request (or the counter expired)
        count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
    if count > limit:
        raise RateLimited(retry_after=max(1, int(period - (now % period)) + 1))
