"""Request allowances per credential (a token or a key): a fixed window counted in the shared cache.
Over the allowance the API answers 429 with Retry-After (``linli.core.problems.RateLimited``)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

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
    count = _count(f"linli:api-rate:{subject}:{window}", period + 1)
    if count > limit:
        raise RateLimited(retry_after=max(1, int(period - (now % period)) + 1))


def _count(key: str, ttl: int) -> int:
    """Add one to a window's counter and return it. On Redis one round trip (INCR and EXPIRE in a
    pipeline; the key names its window, so renewing the expiry is harmless); on another cache, an
    increment, or an add for the window's first request."""
    shared = caches["default"]
    if isinstance(shared, RedisCache):
        name = shared.make_and_validate_key(key)
        pipe = _redis_client(shared).pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, ttl)
        return int(pipe.execute()[0])
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request (or the counter expired)
        return 1 if cache.add(key, 1, timeout=ttl) else cache.incr(key)


_clients: dict[int, object] = {}


def _redis_client(shared: RedisCache):
    """The cache's Redis client, made once per process and cache object (Django makes a new one on
    every call, which costs more than the round trip). A Redis client is safe to share between
    threads, and its connection pool starts afresh in a forked process."""
    client = _clients.get(id(shared))
    if client is None:
        client = _clients[id(shared)] = shared._cache.get_client(write=True)
    return client
