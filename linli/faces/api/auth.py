"""Who is calling: a resident's or staff member's bearer token, a partner's API key (header
``X-Api-Key``), or a browser session. Each credential has a request allowance; over it the API
answers 429 with Retry-After. The caller's account becomes ``request.user``, so every lookup goes
through the same access helpers as the web pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from linli.core.apikeys.limits import check_rate, default_rate
from linli.core.apikeys.models import ApiKey, ApiToken
from linli.core.apikeys.selectors import api_key_by_secret, api_token_by_secret
from linli.core.apikeys.services import touch


class TokenAuth(HttpBearer):
    """``Authorization: Bearer lnt_…`` from POST /api/v1/auth/token."""

    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        record = api_token_by_secret(token)
        if record is None:
            return None
        check_rate(f"token:{record.pk}", default_rate("token"))
        touch(record)
        request.user = record.user
        return record


class KeyAuth(APIKeyHeader):
    """``X-Api-Key: lnk_…`` for partners (``manage.py create_api_key``)."""

    param_name = "X-Api-Key"

    def authenticate(self, request, key):
        record = api_key_by_secret(key)
        if record is None:
            return None
        check_rate(f"key:{record.pk}", record.rate or default_rate("key"))
        touch(record)
        request.user = record.account
        return record


class Session(SessionAuth):
    """A signed-in browser (the web pages' own session); unsafe methods need the CSRF token."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None:
            return None
        check_rate(f"user:{user.pk}", default_rate("token"))
        return user


token_auth = TokenAuth()
key_auth = KeyAuth()
session_auth = Session()
PEOPLE = [token_auth, session_auth]  # residents and staff
ANYONE = [token_auth, key_auth, session_auth]  # people and partners


def partner_key(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


def bearer_token(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def require_scope(request, scope: str) -> None:
    """Partners act only within their key's scopes; people act as themselves."""
    key = partner_key(request)
    if key is not None and not key.has_scope(scope):
        raise PermissionDenied(_("此密钥没有 %(s)s 权限 / this key lacks the %(s)s scope") % {"s": scope})


def refuse_partners(request) -> None:
    if partner_key(request) is not None:
        raise PermissionDenied(_("合作方密钥不能执行此操作 / partner keys cannot do this"))
