"""/api/v1/auth/: bearer tokens for apps. Staff: username + password (+ TOTP when on), counted by
the same lockout as the sign-in page (django-axes). Residents: phone + SMS code. Tokens are stored
as digests, expire (residents 30 days, staff 12 hours by default) and can be revoked.

No cookie session is started, so these endpoints need no CSRF token."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status

from linli.core.accounts import services as accounts
from linli.core.accounts.limits import client_ip, over_limit
from linli.core.apikeys.services import api_token_issue, api_token_revoke, api_tokens_revoke_all
from linli.core.problems import Problem, RateLimited, problem

from . import schemas as s
from .auth import PEOPLE, bearer_token

router = Router(tags=["auth"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 429: Problem}


def _limit(request, group: str, setting: str) -> None:
    if over_limit(request, group=group, setting=setting):
        raise RateLimited(retry_after=60)


def _refused(exc: accounts.SignInRefused):
    return problem(exc.status, exc.code, exc.message, code="auth-" + exc.code, retry_after=exc.retry_after)


def _issued(request, user, method: str, label: str):
    issued = api_token_issue(actor=user, user=user, method=method, label=label, ip=client_ip(request))
    token = issued.record
    return Status(
        201,
        {
            "token": issued.secret,
            "expires_at": token.expires_at,
            "username": user.username,
            "kind": user.kind,
        },
    )


@router.post(
    "/token",
    response={201: s.TokenOut, **ERRORS},
    auth=None,
    summary="Staff: a bearer token for username + password (+ TOTP)",
)
def token_staff(request, payload: s.TokenIn):
    _limit(request, "accounts.login", "LINLI_LOGIN_RATE_IP")
    try:
        user = authenticate(request, username=payload.username, password=payload.password)
    except PermissionDenied:  # django-axes: locked out
        raise RateLimited(
            retry_after=60, detail=_("登录失败次数过多，请稍后再试 / too many failed sign-ins")
        ) from None
    if getattr(request, "axes_locked_out", False):
        raise RateLimited(retry_after=60, detail=_("登录失败次数过多，请稍后再试 / too many failed sign-ins"))
    if user is None or user.is_resident or not user.is_active or not user.has_usable_password():
        return problem(
            401,
            "wrong credentials",
            _("用户名或密码不正确 / wrong username or password"),
            code="auth-wrong-credentials",
        )
    method = "password"
    if user.totp_enabled:
        if not payload.totp:
            return problem(
                401, "totp required", _("请输入动态口令 / enter your TOTP code"), code="auth-totp-required"
            )
        try:
            accounts.totp_check(user=user, code=payload.totp, ip=client_ip(request))
        except accounts.SignInRefused as exc:
            user_login_failed.send(sender=__name__, credentials={"username": user.username}, request=request)
            return _refused(exc)
        method = "password+totp"
    accounts.sign_in_record(actor=user, method="api-" + method, ip=client_ip(request))
    return _issued(request, user, method, payload.label)


@router.post(
    "/otp", response={200: s.OtpOut, **ERRORS}, auth=None, summary="Residents: send a sign-in code by SMS"
)
def otp_request(request, payload: s.OtpIn):
    _limit(request, "accounts.otp_request", "LINLI_OTP_REQUEST_RATE_IP")
    try:
        issued = accounts.otp_request(phone=payload.phone, ip=client_ip(request))
    except accounts.SignInRefused as exc:
        return _refused(exc)
    return {"sent": True, "expires_in": issued.expires_in, "resend_after": issued.resend_after}


@router.post(
    "/token/sms",
    response={201: s.TokenOut, **ERRORS},
    auth=None,
    summary="Residents: a bearer token for phone + SMS code",
)
def token_sms(request, payload: s.SmsTokenIn):
    _limit(request, "accounts.otp_verify", "LINLI_OTP_VERIFY_RATE_IP")
    try:
        user = accounts.otp_verify(phone=payload.phone, code=payload.code, ip=client_ip(request))
    except accounts.SignInRefused as exc:
        return _refused(exc)
    return _issued(request, user, "sms", payload.label)


@router.delete(
    "/token",
    response={200: s.RevokedOut, **ERRORS},
    auth=PEOPLE,
    summary="Revoke the token used for this call (all=true: every token of the account)",
)
def token_revoke(request, all: bool = False):  # noqa: A002 - the query parameter's name
    if all:
        return {
            "revoked": api_tokens_revoke_all(actor=request.user, user=request.user, ip=client_ip(request))
        }
    token = bearer_token(request)
    if token is None:
        return {"revoked": 0}
    api_token_revoke(actor=request.user, token=token, ip=client_ip(request))
    return {"revoked": 1}
