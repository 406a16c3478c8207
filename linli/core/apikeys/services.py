"""Every write to API credentials: partner keys (create, revoke) and residents' and staff's bearer
tokens (issue after sign-in, revoke). Secrets are random, shown once, stored as SHA-256 digests: a
digest of 256 random bits needs no slow hash, and lets a request find its key in one indexed read."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.accounts.models import User
from linli.core.audit.services import audit_record

from .models import ApiKey, ApiToken, Scope

KEY_PREFIX = "lnk_"
TOKEN_PREFIX = "lnt_"  # noqa: S105 - the visible prefix of every token


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Issued:
    """A credential and its secret (the only time the secret exists outside the caller's hands)."""

    record: ApiKey | ApiToken
    secret: str
    webhook_secret: str = ""


# --- partner keys ----------------------------------------------------------------------------------


@transaction.atomic
def api_key_create(
    *,
    actor,
    name: str,
    scopes: list[str] | None = None,
    source: str = "",
    callback_url: str = "",
    rate: str = "",
    subscriber=None,
) -> Issued:
    """A new partner key with its own service account. ``source`` (e.g. ``12345``) registers the
    partner as the platform that hands cases down under that external source; ``callback_url`` is
    where their status changes are pushed."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("请填写名称 / a name is required"), code="name_required")
    scopes = list(dict.fromkeys(scopes if scopes is not None else [Scope.OPEN311_POST]))
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown:
        raise ValidationError(
            _("未知的权限范围：%(s)s / unknown scopes: %(s)s") % {"s": ", ".join(unknown)}, code="scope"
        )
    if source and Scope.HANDDOWN not in scopes:
        scopes.append(Scope.HANDDOWN.value)
    if callback_url and not source:
        raise ValidationError(
            _("回调地址须与来源平台编码一起填写 / a callback URL needs the source platform's code"),
            code="source_required",
        )
    if source and ApiKey.objects.filter(source=source, is_active=True).exists():
        raise ValidationError(
            _("来源 %(s)s 已有有效密钥 / source %(s)s already has an active key") % {"s": source},
            code="source_taken",
        )
    secret = _new_secret(KEY_PREFIX)
    prefix = secret[:12]
    account = User(
        username=f"api-{prefix[len(KEY_PREFIX) :].lower()}-{secrets.token_hex(3)}",
        kind=User.Kind.STAFF,
        display_name=name[:60],
    )
    account.set_unusable_password()
    account.save()
    key = ApiKey(
        name=name[:80],
        prefix=prefix,
        digest=digest_of(secret),
        scopes=scopes,
        account=account,
        source=source.strip()[:40],
        callback_url=callback_url.strip(),
        rate=rate.strip(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    key.full_clean(exclude=["account", "digest", "created_by"])
    key.save()
    audit_record(
        actor=actor,
        action="apikeys.create",
        obj=key,
        changes={"name": key.name, "scopes": ",".join(scopes), "source": key.source},
    )
    webhook_secret = ""
    if key.callback_url:
        webhook_secret = source_platform_subscribe(actor=subscriber or actor, key=key)
    return Issued(key, secret, webhook_secret)


STATUS_EVENT = "appeal.status_changed"


def source_platform_subscribe(*, actor, key: ApiKey) -> str:
    """The platform that hands cases down (12345) hears of every status change of its cases: a
    signed-webhook subscription to ``appeal.status_changed`` limited to its external source, at its
    callback URL. Returns the signing secret (shown once). ``actor`` must be an administrator
    (the webhooks module's rule)."""
    from linli.core.webhooks.services import subscription_create

    _subscription, webhook_secret = subscription_create(
        actor=actor,
        partner=key.name,
        target_url=key.callback_url,
        event_types=[STATUS_EVENT],
        external_source=key.source,
        note=f"API key {key.prefix}",
    )
    return webhook_secret


@transaction.atomic
def api_key_revoke(*, actor, key: ApiKey, reason: str = "") -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.is_active:
        key.is_active, key.revoked_at = False, timezone.now()
        key.save(update_fields=["is_active", "revoked_at"])
        audit_record(actor=actor, action="apikeys.revoke", obj=key, reason=reason)
    from .selectors import key_cache_name

    transaction.on_commit(lambda: caches["process"].delete(key_cache_name(key.digest)))
    return key


# --- bearer tokens ---------------------------------------------------------------------------------


def token_ttl(user) -> timedelta:
    if getattr(user, "is_resident", False):
        return timedelta(days=int(getattr(settings, "LINLI_API_TOKEN_DAYS_RESIDENT", 30)))
    return timedelta(hours=int(getattr(settings, "LINLI_API_TOKEN_HOURS_STAFF", 12)))


@transaction.atomic
def api_token_issue(*, actor, user, method: str, label: str = "", ip: str | None = None) -> Issued:
    """A bearer token for ``user`` who has just signed in by ``method`` (password, password+totp,
    sms). The caller has checked the credentials."""
    secret = _new_secret(TOKEN_PREFIX)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        prefix=secret[:12],
        digest=digest_of(secret),
        method=method,
        label=(label or "")[:80],
        created_at=now,
        expires_at=now + token_ttl(user),
    )
    audit_record(
        actor=actor, action="apikeys.token_issue", obj=token, changes={"method": method}, ip_address=ip
    )
    return Issued(token, secret)


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken, ip: str | None = None) -> ApiToken:
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if updated:
        audit_record(actor=actor, action="apikeys.token_revoke", obj=token, ip_address=ip)
    token.refresh_from_db()
    return token


@transaction.atomic
def api_tokens_revoke_all(*, actor, user, ip: str | None = None) -> int:
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(
        actor=actor, action="apikeys.token_revoke_all", obj=user, changes={"count": count}, ip_address=ip
    )
    return count


_last_touched: dict[tuple[str, int], datetime] = {}


def touch(record: ApiKey | ApiToken) -> None:
    """Note the last use, at most once a minute per credential and process (no write on every
    request; the record may be a cached copy, so this process remembers when it last wrote)."""
    now = timezone.now()
    name = (type(record).__name__, record.pk)
    last = max((t for t in (record.last_used_at, _last_touched.get(name)) if t is not None), default=None)
    if last is None or now - last > timedelta(minutes=1):
        type(record).objects.filter(pk=record.pk).update(last_used_at=now)
        record.last_used_at = _last_touched[name] = now
