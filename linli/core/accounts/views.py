"""Sign-in pages. Residents: phone → one-time code. Staff: username + password, then the TOTP code
when they have turned it on (the session is logged in only after the code). Also sign-out, profile,
TOTP setup, and the pages shown when a limit or a lockout stops someone."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from linli.core.privacy import crypto
from linli.core.privacy.lookup import phone_hash
from linli.core.privacy.masking import mask_phone

from . import selectors, services, totp
from .forms import CodeForm, PasswordConfirmForm, PhoneForm, ProfileForm, StaffLoginForm, TotpForm
from .limits import client_ip, over_limit
from .models import User

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Session keys of a sign-in in progress.
OTP_PHONE = "accounts_otp_phone"  # the resident's number, encrypted
NEXT = "accounts_next"
PENDING_USER = "accounts_pending_user"  # a staff account that passed the password, awaiting TOTP
PENDING_AT = "accounts_pending_at"
PENDING_SECONDS = 300
# Set by the web interface (linli.faces.web.preferences); cleared when the profile sets the mode, so
# the account's choice shows at once.
ELDERLY_SESSION_KEY = "linli_elderly_mode"


# ---------------------------------------------------------------------------------------------------
# Limits and lockouts
# ---------------------------------------------------------------------------------------------------


def ratelimited(request, exception=None, *, retry_after: int | None = None):
    """Too many requests from one address (django-ratelimit) or for one phone: HTTP 429."""
    response = render(request, "accounts/ratelimited.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after or 60)
    return response


def lockout_response(request, original_response=None, credentials=None, *args, **kwargs):
    """django-axes: too many failed staff sign-ins for this username or address. HTTP 429."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------


def _safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _sign_in(request, user: User, *, method: str, next_url: str) -> HttpResponse:
    """Log in (Django rotates the session key), record it, and carry the account's language. The
    SMS sign-in is recorded by ``services.otp_verify`` itself."""
    login(request, user, backend=MODEL_BACKEND)
    if method != "sms":
        services.sign_in_record(actor=user, method=method, ip=client_ip(request))
    response = redirect(next_url)
    if user.language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def _refused(request, template: str, context: dict, exc: services.SignInRefused) -> HttpResponse:
    context = {**context, "error": exc.message}
    response = render(request, template, context, status=exc.status)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


# ---------------------------------------------------------------------------------------------------
# Residents
# ---------------------------------------------------------------------------------------------------


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def resident_login(request):
    """Step 1: the phone number; a code is sent and the page moves to step 2."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    form = PhoneForm(request.POST or None)
    context = {"form": form, "next": next_url}
    if request.method == "POST":
        if over_limit(request, group="accounts.otp_request", setting="LINLI_OTP_REQUEST_RATE_IP"):
            return ratelimited(request)
        if form.is_valid():
            try:
                phone = services.mobile_normalise(form.cleaned_data["phone"])
                services.otp_request(phone=phone, ip=client_ip(request))
            except services.SignInRefused as exc:
                if exc.code != "otp_too_soon":
                    return _refused(request, "accounts/resident_login.html", context, exc)
                # A code was sent moments ago: go on and type it in (the code page says where it went).
                messages.info(request, exc.message)
            request.session[OTP_PHONE] = crypto.encrypt(phone)
            request.session[NEXT] = _safe_next(request, next_url)
            return redirect("accounts:resident_code")
    return render(request, "accounts/resident_login.html", context, status=400 if form.errors else 200)


@never_cache
@csrf_protect
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def resident_code(request):
    """Step 2: the code. The form can also ask for a new code (``action=resend``)."""
    sealed = request.session.get(OTP_PHONE)
    if not sealed:
        return redirect("accounts:resident_login")
    try:
        phone = crypto.decrypt(sealed)
    except crypto.DecryptionError:
        request.session.pop(OTP_PHONE, None)
        return redirect("accounts:resident_login")
    form = CodeForm(
        request.POST if request.method == "POST" and request.POST.get("action") != "resend" else None
    )
    context = {
        "form": form,
        "phone_masked": mask_phone(phone),
        "resend_after": selectors.otp_resend_wait(phone_hash(phone)),
    }
    if request.method != "POST":
        return render(request, "accounts/resident_code.html", context)

    if request.POST.get("action") == "resend":
        if over_limit(request, group="accounts.otp_request", setting="LINLI_OTP_REQUEST_RATE_IP"):
            return ratelimited(request)
        try:
            services.otp_request(phone=phone, ip=client_ip(request))
        except services.SignInRefused as exc:
            return _refused(request, "accounts/resident_code.html", context, exc)
        messages.success(request, _("新的验证码已发送 / a new code was sent"))
        return redirect("accounts:resident_code")

    if over_limit(request, group="accounts.otp_verify", setting="LINLI_OTP_VERIFY_RATE_IP"):
        return ratelimited(request)
    if not form.is_valid():
        return render(request, "accounts/resident_code.html", context, status=400)
    try:
        user = services.otp_verify(phone=phone, code=form.cleaned_data["code"], ip=client_ip(request))
    except services.SignInRefused as exc:
        return _refused(request, "accounts/resident_code.html", context, exc)
    next_url = _safe_next(request, request.session.get(NEXT))
    return _sign_in(request, user, method="sms", next_url=next_url)


# ---------------------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------------------


@never_cache
@csrf_protect
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def staff_login(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and over_limit(
        request, group="accounts.login", setting="LINLI_LOGIN_RATE_IP"
    ):
        return ratelimited(request)
    form = StaffLoginForm(request, data=request.POST or None)
    context = {"form": form, "next": next_url}
    if request.method == "POST":
        if not form.is_valid():
            # A lockout (django-axes) replaces this response in its middleware.
            return render(request, "accounts/login.html", context, status=400)
        user = form.get_user()
        target = _safe_next(request, next_url)
        if user.totp_enabled:
            # Not logged in yet: only remember who passed the password, in a fresh session key.
            request.session.cycle_key()
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_AT] = int(time.time())
            request.session[NEXT] = target
            return redirect("accounts:login_totp")
        return _sign_in(request, user, method="password", next_url=target)
    return render(request, "accounts/login.html", context)


def _pending_user(request) -> User | None:
    uid, at = request.session.get(PENDING_USER), request.session.get(PENDING_AT)
    if not uid or not at or time.time() - at > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=uid, is_active=True, totp_enabled=True).first()


def _clear_pending(request) -> None:
    for key in (PENDING_USER, PENDING_AT):
        request.session.pop(key, None)


@never_cache
@csrf_protect
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_totp(request):
    """The second step for staff with TOTP on. Wrong codes count as failed sign-ins (django-axes)."""
    user = _pending_user(request)
    if user is None:
        _clear_pending(request)
        messages.info(request, _("请重新输入用户名和密码 / please sign in again"))
        return redirect("accounts:login")
    form = TotpForm(request.POST or None)
    context = {"form": form, "username": user.username}
    if request.method != "POST":
        return render(request, "accounts/login_totp.html", context)
    if over_limit(request, group="accounts.login", setting="LINLI_LOGIN_RATE_IP"):
        return ratelimited(request)
    from axes.handlers.proxy import AxesProxyHandler

    credentials = {"username": user.username}
    if AxesProxyHandler.is_locked(request, credentials):
        _clear_pending(request)
        return lockout_response(request, None, credentials)
    if not form.is_valid():
        return render(request, "accounts/login_totp.html", context, status=400)
    try:
        services.totp_check(user=user, code=form.cleaned_data["code"], ip=client_ip(request))
    except services.SignInRefused as exc:
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            _clear_pending(request)  # the middleware answers with the lockout page
        return _refused(request, "accounts/login_totp.html", context, exc)
    next_url = _safe_next(request, request.session.get(NEXT))
    _clear_pending(request)
    return _sign_in(request, user, method="password+totp", next_url=next_url)


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        services.sign_out_record(actor=request.user, ip=client_ip(request))
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# ---------------------------------------------------------------------------------------------------
# Profile and TOTP setup
# ---------------------------------------------------------------------------------------------------


@login_required
@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    which = request.POST.get("form") if request.method == "POST" else None
    profile_form = ProfileForm(
        request.POST if which == "profile" else None,
        initial={
            "display_name": user.display_name,
            "language": user.language,
            "elderly_mode": user.elderly_mode,
        },
    )
    password_form = (
        None if user.is_resident else PasswordChangeForm(user, request.POST if which == "password" else None)
    )
    if password_form is not None:
        password_form.fields["old_password"].widget.attrs.pop("autofocus", None)
    context = {
        "profile_form": profile_form,
        "password_form": password_form,
        "summary": selectors.account_summary(user),
    }
    if which == "profile":
        if profile_form.is_valid():
            data = profile_form.cleaned_data
            services.profile_update(
                actor=user,
                user=user,
                display_name=data["display_name"],
                language=data["language"],
                elderly_mode=data["elderly_mode"],
            )
            request.session.pop(ELDERLY_SESSION_KEY, None)
            messages.success(request, _("已保存 / saved"))
            response = redirect("accounts:profile")
            if user.language:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    user.language,
                    max_age=365 * 24 * 3600,
                    samesite="Lax",
                    secure=request.is_secure(),
                )
            else:
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            return response
        return render(request, "accounts/profile.html", context, status=400)
    if which == "password":
        if password_form is None:
            return HttpResponseForbidden()
        if password_form.is_valid():
            services.password_change(
                actor=user,
                user=user,
                new_password=password_form.cleaned_data["new_password1"],
                ip=client_ip(request),
            )
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改 / password changed"))
            return redirect("accounts:profile")
        return render(request, "accounts/profile.html", context, status=400)
    return render(request, "accounts/profile.html", context)


def _staff_only(request) -> HttpResponse | None:
    if request.user.is_resident:
        messages.info(
            request,
            _(
                "居民账号使用短信验证码登录，无需动态口令 / resident accounts sign in with SMS "
                "codes and need no authenticator"
            ),
        )
        return redirect("accounts:profile")
    return None


@login_required
@never_cache
@sensitive_post_parameters("code", "password")
@require_http_methods(["GET", "POST"])
def totp_setup(request):
    refused = _staff_only(request)
    if refused:
        return refused
    user = request.user
    ip = client_ip(request)
    if user.totp_enabled:
        form = PasswordConfirmForm(request.POST or None)
        context = {"enabled": True, "form": form}
        if request.method == "POST":
            if over_limit(request, group="accounts.totp_disable", setting="LINLI_LOGIN_RATE_IP"):
                return ratelimited(request)
            if form.is_valid():
                try:
                    services.totp_disable(
                        actor=user, user=user, password=form.cleaned_data["password"], ip=ip
                    )
                except services.SignInRefused as exc:
                    return _refused(request, "accounts/totp_setup.html", context, exc)
                messages.success(request, _("已关闭动态口令 / two-step sign-in turned off"))
                return redirect("accounts:profile")
            return render(request, "accounts/totp_setup.html", context, status=400)
        return render(request, "accounts/totp_setup.html", context)

    secret = services.totp_setup_begin(actor=user, user=user)
    form = TotpForm(request.POST or None)
    context = {
        "enabled": False,
        "form": form,
        "secret": totp.pretty_secret(secret),
        "qr_url": reverse("accounts:totp_qr"),
    }
    if request.method == "POST":
        if over_limit(request, group="accounts.totp_enable", setting="LINLI_LOGIN_RATE_IP"):
            return ratelimited(request)
        if form.is_valid():
            try:
                services.totp_enable(actor=user, user=user, code=form.cleaned_data["code"], ip=ip)
            except services.SignInRefused as exc:
                return _refused(request, "accounts/totp_setup.html", context, exc)
            messages.success(
                request,
                _("已启用动态口令，下次登录时需要输入 / two-step sign-in is on from your next sign-in"),
            )
            return redirect("accounts:profile")
        return render(request, "accounts/totp_setup.html", context, status=400)
    return render(request, "accounts/totp_setup.html", context)


@login_required
@never_cache
def totp_qr(request):
    """The provisioning QR code as SVG, only while setting up (never once TOTP is on)."""
    user = request.user
    if user.is_resident or user.totp_enabled or not user.totp_secret:
        return HttpResponse(status=404)
    uri = totp.provisioning_uri(user.totp_secret, account_name=user.username)
    response = HttpResponse(totp.qr_svg(uri), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
