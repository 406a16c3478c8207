"""Reads of API credentials: which key or token a presented secret is, and which partner platform
hands down cases under an external source."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from .models import ApiKey, ApiToken
from .services import KEY_PREFIX, TOKEN_PREFIX, digest_of


def key_cache_name(digest: str) -> str:
    return f"apikey:{digest}"


def api_key_by_secret(secret: str | None) -> ApiKey | None:
    """The active key whose secret this is, or None (unknown, revoked, malformed).

    A key found is kept in the process cache for ``LINLI_PROCESS_CACHE_SECONDS`` (partners post
    many requests a second); revoking it drops it at once in the revoking process and within that
    time in the others. Unknown secrets are not remembered."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    digest = digest_of(secret)
    ttl = getattr(settings, "LINLI_PROCESS_CACHE_SECONDS", 0)
    memo = caches["process"]
    if ttl > 0:
        cached = memo.get(key_cache_name(digest))
        if cached is not None:
            return cached
    # the digest is unique: no ORDER BY to build or run on every partner request
    found = next(
        iter(
            ApiKey.objects.select_related("account")
            .filter(digest=digest, is_active=True, account__is_active=True)
            .order_by()[:1]
        ),
        None,
    )
    if found is not None and ttl > 0:
        memo.set(key_cache_name(digest), found, timeout=ttl)
    return found


def api_token_by_secret(secret: str | None) -> ApiToken | None:
    """The live token (not revoked, not expired, its account active) whose secret this is."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    return (
        ApiToken.objects.select_related("user")
        .filter(
            digest=digest_of(secret),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )


def source_platform(source: str) -> ApiKey | None:
    """The partner registered as the platform of an external source (e.g. 12345), if any."""
    if not source:
        return None
    return ApiKey.objects.filter(source=source, is_active=True).first()
