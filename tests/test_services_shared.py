"""The shared services a multi-process deployment relies on (Redis cache)."""

import socket
import uuid

from django.core.cache.backends.redis import RedisCache

from conftest import require_service


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_redis_cache_is_shared_between_clients():
    require_service(_port_open(6379), "Redis is not running on 127.0.0.1:6379")
    first = RedisCache("redis://127.0.0.1:6379/15", {})
    second = RedisCache("redis://127.0.0.1:6379/15", {})
    key = f"linli-test-{uuid.uuid4()}"
    first.set(key, 1, 30)
    assert second.incr(key) == 2
    first.delete(key)
