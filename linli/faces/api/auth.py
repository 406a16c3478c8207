"""Who is calling: a resident's or staff member's bearer token, a partner's API key (header
``X-Api-Key``), or a browser session. Each credential has a request allowance; over it the API
answers 429 with Retry-After. The caller's account becomes ``request.user``, so every lookup goes
through the same access helpers as the web pages."""

from __future__ import annotations

import functools

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from linli.core.apikeys.limits import check_rate, default_rate
from linli.core.apikeys.models import ApiKey, ApiToken
from linli.core.apikeys.selectors import api_key_by_secret, api_token_by_secret
from linli.core.apikeys.services import touch
from linli.core.problems import RateLimited, problem


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


def partner_scope_guard(scope: str):
    """A router decorator (``Router.add_decorator(..., mode="view")``) for endpoints that anyone may
    read (``auth=None``): a request that presents a partner key (``X-Api-Key``) is answered only when
    the key is valid (else 401), within its allowance (else 429) and has ``scope`` (else 403).
    Requests without a key — anonymous, a bearer token, a browser session — pass as before. It runs
    before the input is validated, so a key without the scope learns nothing from the endpoint."""

    def decorator(run):
        @functools.wraps(run)
        def guarded(request, *args, **kwargs):
            secret = request.headers.get(KeyAuth.param_name)
            if secret is not None:
                try:
                    record = key_auth.authenticate(request, secret)
                except RateLimited as exc:
                    detail = exc.detail or _(
                        "请求太频繁，请稍后再试 / too many requests, please try again later"
                    )
                    return problem(
                        429, "too many requests", detail, code="rate-limited", retry_after=exc.retry_after
                    )
                if record is None:
                    return problem(
                        401,
                        "not signed in",
                        _("接口密钥无效或已吊销 / the API key is unknown or revoked"),
                        code="not-signed-in",
                    )
                if not record.has_scope(scope):
                    return problem(
                        403,
                        "forbidden",
                        _("此密钥没有 %(s)s 权限 / this key lacks the %(s)s scope") % {"s": scope},
                        code="forbidden",
                    )
            return run(request, *args, **kwargs)

        return guarded

    return decorator
