"""/api/v1/accounts/: residents sign in with phone + code (starting a browser session), and anyone
signed in can ask who they are. Token authentication for apps comes later.

The two POSTs start or prepare a cookie session, so they require the CSRF token like any form
(``GET me`` sets the cookie): otherwise another site could sign a visitor into someone else's account.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from ninja import Router
from ninja.decorators import decorate_view
from ninja.responses import Status
from ninja.security import django_auth

from . import selectors, services
from .limits import client_ip, over_limit
from .schemas import MeOut, OtpRequestIn, OtpRequestOut, OtpVerifyIn, Problem

router = Router(tags=["accounts"])

PROBLEM_BASE = "https://linli.example/problems/accounts/"


def _problem(exc: services.SignInRefused):
    return Status(
        exc.status,
        {
            "type": PROBLEM_BASE + exc.code,
            "title": exc.code,
            "status": exc.status,
            "detail": exc.message,
            "retry_after": exc.retry_after,
        },
    )


def _too_many():
    from django.utils.translation import gettext as _

    return Status(
        429,
        {
            "type": PROBLEM_BASE + "rate_limited",
            "title": "rate_limited",
            "status": 429,
            "detail": _("操作太频繁，请稍后再试 / too many requests, please try again later"),
            "retry_after": 60,
        },
    )


@router.post(
    "/otp/request",
    response={200: OtpRequestOut, 400: Problem, 429: Problem},
    summary="Send a sign-in code to a mobile phone",
    auth=None,
)
@decorate_view(csrf_protect)
def otp_request(request, payload: OtpRequestIn):
    if over_limit(request, group="accounts.otp_request", setting="LINLI_OTP_REQUEST_RATE_IP"):
        return _too_many()
    try:
        issued = services.otp_request(phone=payload.phone, ip=client_ip(request))
    except services.SignInRefused as exc:
        return _problem(exc)
    return Status(200, {"sent": True, "expires_in": issued.expires_in, "resend_after": issued.resend_after})


@router.post(
    "/otp/verify",
    response={200: MeOut, 400: Problem, 403: Problem, 429: Problem},
    summary="Check the code and start a session",
    auth=None,
)
@decorate_view(csrf_protect)
def otp_verify(request, payload: OtpVerifyIn):
    if over_limit(request, group="accounts.otp_verify", setting="LINLI_OTP_VERIFY_RATE_IP"):
        return _too_many()
    try:
        user = services.otp_verify(phone=payload.phone, code=payload.code, ip=client_ip(request))
    except services.SignInRefused as exc:
        return _problem(exc)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return Status(200, selectors.account_summary(user))


@router.get("/me", response=MeOut, auth=django_auth, summary="The signed-in account, its roles and areas")
@decorate_view(ensure_csrf_cookie)
def me(request):
    return selectors.account_summary(request.user)
