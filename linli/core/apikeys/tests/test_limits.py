"""Request allowances: a fixed window per credential, counted in the shared cache (one round trip on
Redis), 429 with Retry-After once the window's allowance is used."""

import socket
import uuid

import pytest
from django.core.cache import caches

from conftest import require_service
from linli.core.apikeys.limits import check_rate, parse_rate
from linli.core.problems import RateLimited


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_parse_rate():
    assert parse_rate("600/m") == (600, 60)
    assert parse_rate("10/5s") == (10, 5)


def _use_up(subject: str, limit: int):
    for _ in range(limit):
        check_rate(subject, f"{limit}/h")
    with pytest.raises(RateLimited) as refused:
        check_rate(subject, f"{limit}/h")
    assert 1 <= refused.value.retry_after <= 3601


def test_the_allowance_is_counted_in_the_shared_cache():
    subject = f"key:{uuid.uuid4().hex}"
    _use_up(subject, 3)
    check_rate(f"key:{uuid.uuid4().hex}", "3/h")  # another credential has its own allowance


def test_on_redis_the_counter_is_one_round_trip_and_expires(settings):
    require_service(_redis_up(), "Redis needed on 127.0.0.1:6379")
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"linli-test-{uuid.uuid4().hex[:8]}",
        },
    }
    shared = caches["default"]
    subject = f"key:{uuid.uuid4().hex}"
    _use_up(subject, 4)
    name = next(
        k.decode()
        for k in shared._cache.get_client().keys(f"*{subject}*")  # the window's counter
    )
    client = shared._cache.get_client()
    assert int(client.get(name)) == 5 and 0 < client.ttl(name) <= 3601
    client.delete(name)
