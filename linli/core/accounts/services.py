"""Every write to accounts: residents' one-time codes and accounts, staff accounts, TOTP, profile.

Refusals raise ``SignInRefused`` with a bilingual message, a stable ``code`` (for the API and the
tests), the HTTP status that fits, and, for limits, how many seconds to wait.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from linli.core.audit.services import audit_record
from linli.core.privacy.lookup import phone_hash as make_phone_hash
from linli.core.privacy.phone import is_mobile, normalise_phone

from . import totp
from .models import OneTimeCode, User
from .sms import send_sms


class SignInRefused(Exception):
    def __init__(self, message: str, *, code: str, status: int = 400, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after


def _setting(name: str, default):
    return getattr(settings, name, default)


def otp_ttl_seconds() -> int:
    return int(settings.LINLI_OTP_TTL_SECONDS)


def otp_resend_seconds() -> int:
    return int(_setting("LINLI_OTP_RESEND_SECONDS", 60))


def otp_per_hour() -> int:
    return int(_setting("LINLI_OTP_PER_HOUR", 5))


# ---------------------------------------------------------------------------------------------------
# Residents: phone + one-time code
# ---------------------------------------------------------------------------------------------------

_FULLWIDTH_DIGITS = {0xFF10 + i: str(i) for i in range(10)}
_CODE = re.compile(r"^\d{6}$")


def mobile_normalise(phone: str) -> str:
    """A mainland mobile number in its plain 11-digit form, or a refusal (landlines get no SMS)."""
    try:
        number = normalise_phone(phone or "")
    except ValidationError as exc:
        raise SignInRefused(
            _("请输入正确的11位手机号 / please enter a valid 11-digit mobile number"), code="phone_invalid"
        ) from exc
    if not is_mobile(number):
        raise SignInRefused(
            _(
                "验证码只能发送到手机，请输入11位手机号 / codes go to mobile phones only: enter an 11-digit "
                "mobile number"
            ),
            code="phone_invalid",
        )
    return number


def _code_digest(phone_hash: str, nonce: str, code: str) -> str:
    return salted_hmac("linli.accounts.otp", f"{phone_hash}:{nonce}:{code}", algorithm="sha256").hexdigest()


def _code_hash(phone_hash: str, code: str) -> str:
    nonce = secrets.token_hex(8)
    return f"{nonce}${_code_digest(phone_hash, nonce, code)}"


def _code_matches(stored: str, phone_hash: str, code: str) -> bool:
    nonce, _sep, digest = stored.partition("$")
    return constant_time_compare(digest, _code_digest(phone_hash, nonce, code))


@dataclass(frozen=True)
class OtpIssued:
    expires_in: int
    resend_after: int


def otp_request(*, phone: str, ip: str | None = None) -> OtpIssued:
    """Send a fresh 6-digit sign-in code to ``phone``. At most one per phone every
    ``LINLI_OTP_RESEND_SECONDS`` and ``LINLI_OTP_PER_HOUR`` per hour (the per-address limit is the
    caller's, with django-ratelimit). A new code replaces any earlier one."""
    number = mobile_normalise(phone)
    digest = make_phone_hash(number)
    now = timezone.now()
    resend, per_hour = otp_resend_seconds(), otp_per_hour()
    with transaction.atomic():
        recent = list(
            OneTimeCode.objects.select_for_update()
            .filter(phone_hash=digest, created_at__gt=now - timedelta(hours=1))
            .order_by("-created_at")
        )
        if recent:
            waited = (now - recent[0].created_at).total_seconds()
            if waited < resend:
                wait = math.ceil(resend - waited)
                raise SignInRefused(
                    _("验证码已发送，请%(s)d秒后再重新获取 / a code was just sent; ask again in %(s)d s")
                    % {"s": wait},
                    code="otp_too_soon",
                    status=429,
                    retry_after=wait,
                )
        if len(recent) >= per_hour:
            wait = max(
                1, math.ceil((recent[per_hour - 1].created_at + timedelta(hours=1) - now).total_seconds())
            )
            raise SignInRefused(
                _(
                    "该号码一小时内获取验证码次数过多，请%(m)d分钟后再试 / too many codes for this number "
                    "this hour; try again in %(m)d min"
                )
                % {"m": math.ceil(wait / 60)},
                code="otp_hourly_limit",
                status=429,
                retry_after=wait,
            )
        # Only the newest code counts: earlier ones stop working now.
        OneTimeCode.objects.filter(phone_hash=digest, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        code = f"{secrets.randbelow(10**6):06d}"
        otp = OneTimeCode.objects.create(
            phone_hash=digest,
            code_hash=_code_hash(digest, code),
            expires_at=now + timedelta(seconds=otp_ttl_seconds()),
        )
        audit_record(actor=None, action="accounts.otp_request", obj=otp, ip_address=ip)
    # Sent once the code is stored for good (the code itself is never written anywhere).
    send_sms(
        phone=number,
        text=_("【邻里】您的登录验证码是%(code)s，%(min)d分钟内有效。请勿告诉他人。")
        % {"code": code, "min": max(1, otp_ttl_seconds() // 60)},
    )
    return OtpIssued(expires_in=otp_ttl_seconds(), resend_after=resend)


def otp_verify(*, phone: str, code: str, ip: str | None = None) -> User:
    """Check the code sent to ``phone``; on success return the resident's account, creating it on
    first sign-in and linking it to the register. Wrong tries count; after
    ``LINLI_OTP_MAX_ATTEMPTS`` the code is dead. The caller logs the user in."""
    number = mobile_normalise(phone)
    digest = make_phone_hash(number)
    code = (code or "").translate(_FULLWIDTH_DIGITS).replace(" ", "").strip()
    if not _CODE.match(code):
        raise SignInRefused(_("验证码为6位数字 / the code has 6 digits"), code="otp_format")
    now = timezone.now()
    max_attempts = int(settings.LINLI_OTP_MAX_ATTEMPTS)
    refusal: SignInRefused
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(phone_hash=digest, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if otp is None:
            refusal = SignInRefused(_("请先获取验证码 / please ask for a code first"), code="otp_missing")
        elif otp.expires_at <= now:
            refusal = SignInRefused(
                _("验证码已过期，请重新获取 / the code has expired; ask for a new one"), code="otp_expired"
            )
        elif otp.attempts >= max_attempts:
            refusal = SignInRefused(
                _("验证码错误次数过多，已失效，请重新获取 / too many wrong tries; ask for a new code"),
                code="otp_exhausted",
            )
        elif not _code_matches(otp.code_hash, digest, code):
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
            audit_record(
                actor=None,
                action="accounts.otp_failed",
                obj=otp,
                ip_address=ip,
                changes={"attempts": otp.attempts},
            )
            left = max_attempts - otp.attempts
            if left <= 0:
                refusal = SignInRefused(
                    _("验证码错误次数过多，已失效，请重新获取 / too many wrong tries; ask for a new code"),
                    code="otp_exhausted",
                )
            else:
                refusal = SignInRefused(
                    _("验证码不正确，还可尝试%(n)d次 / wrong code, %(n)d tries left") % {"n": left},
                    code="otp_wrong",
                )
        else:
            otp.used_at = now
            otp.save(update_fields=["used_at"])
            user = _resident_account(number=number, digest=digest, ip=ip)
            audit_record(
                actor=user, action="accounts.sign_in", obj=user, changes={"method": "sms"}, ip_address=ip
            )
            return user
    # Raised outside the transaction, so the counted attempt is kept.
    raise refusal


def _new_resident_username() -> str:
    while True:
        username = f"resident-{secrets.token_hex(5)}"
        if not User.objects.filter(username=username).exists():
            return username


def _resident_account(*, number: str, digest: str, ip: str | None) -> User:
    user = User.objects.select_for_update().filter(phone_hash=digest).first()
    if user is None:
        user = User(
            username=_new_resident_username(), kind=User.Kind.RESIDENT, phone=number, phone_hash=digest
        )
        user.set_unusable_password()
        user.save()
        audit_record(actor=user, action="accounts.resident_create", obj=user, ip_address=ip)
    elif user.kind != User.Kind.RESIDENT:
        raise SignInRefused(
            _(
                "该号码属于工作人员账号，请用用户名和密码登录 / this number belongs to a staff account; "
                "sign in with username and password"
            ),
            code="staff_account",
            status=403,
        )
    elif not user.is_active:
        raise SignInRefused(_("该账号已停用 / this account is disabled"), code="inactive", status=403)
    if user.person_id is None:
        register_link(actor=user, user=user)
    return user


def register_link(*, actor, user: User) -> bool:
    """Link a resident's account to their register entry when exactly one living entry (not erased)
    has the same phone and no other account holds it. Returns whether a link was made."""
    if user.person_id is not None or not user.phone:
        return False
    from linli.core.people.selectors import person_find_by_phone

    with transaction.atomic():
        candidates = list(person_find_by_phone(user.phone).values_list("pk", "name")[:2])
        if len(candidates) != 1:
            return False
        person_id, name = candidates[0]
        if User.objects.filter(person_id=person_id).exists():
            return False
        changes = {"person": [None, person_id]}
        user.person_id = person_id
        fields = ["person"]
        if not user.display_name:
            user.display_name = name
            fields.append("display_name")
        user.save(update_fields=fields)
        audit_record(actor=actor, action="accounts.register_link", obj=user, changes=changes)
    return True


# ---------------------------------------------------------------------------------------------------
# Staff accounts and TOTP
# ---------------------------------------------------------------------------------------------------


def staff_create(
    *,
    actor,
    username: str,
    password: str,
    display_name: str = "",
    is_superuser: bool = False,
    is_staff: bool = False,
) -> User:
    """A staff account with a password (validated by the configured validators)."""
    from django.contrib.auth.password_validation import validate_password

    with transaction.atomic():
        user = User(
            username=username,
            kind=User.Kind.STAFF,
            display_name=display_name,
            is_superuser=is_superuser,
            is_staff=is_staff or is_superuser,
        )
        validate_password(password, user)
        user.set_password(password)
        user.full_clean(exclude=["password", "phone", "totp_secret"])
        user.save()
        audit_record(
            actor=actor,
            action="accounts.staff_create",
            obj=user,
            changes={"username": username, "is_superuser": is_superuser},
        )
    return user


def sign_in_record(*, actor: User, method: str, ip: str | None = None) -> None:
    audit_record(actor=actor, action="accounts.sign_in", obj=actor, changes={"method": method}, ip_address=ip)


def sign_out_record(*, actor: User, ip: str | None = None) -> None:
    audit_record(actor=actor, action="accounts.sign_out", obj=actor, ip_address=ip)


def totp_setup_begin(*, actor, user: User) -> str:
    """The secret to show while TOTP is being set up: kept (encrypted) on the account but not in force
    until ``totp_enable`` confirms one correct code."""
    if user.totp_enabled:
        raise SignInRefused(_("动态口令已启用 / two-step sign-in is already on"), code="totp_already_on")
    if not user.totp_secret:
        with transaction.atomic():
            user.totp_secret = totp.new_secret()
            user.save(update_fields=["totp_secret"])
            audit_record(actor=actor, action="accounts.totp_setup", obj=user)
    return user.totp_secret


def totp_enable(*, actor, user: User, code: str, ip: str | None = None) -> None:
    if user.totp_enabled:
        raise SignInRefused(_("动态口令已启用 / two-step sign-in is already on"), code="totp_already_on")
    counter = totp.matching_counter(user.totp_secret, code)
    if counter is None:
        raise SignInRefused(
            _("动态口令不正确，请核对手机时间后重试 / wrong code; check the phone's clock and try again"),
            code="totp_wrong",
        )
    with transaction.atomic():
        updated = User.objects.filter(pk=user.pk, totp_enabled=False).update(
            totp_enabled=True, totp_last_counter=counter
        )
        if not updated:
            raise SignInRefused(_("动态口令已启用 / two-step sign-in is already on"), code="totp_already_on")
        user.totp_enabled, user.totp_last_counter = True, counter
        audit_record(
            actor=actor,
            action="accounts.totp_enable",
            obj=user,
            changes={"totp_enabled": [False, True]},
            ip_address=ip,
        )


def totp_disable(*, actor, user: User, password: str, ip: str | None = None) -> None:
    if not user.check_password(password or ""):
        raise SignInRefused(_("密码不正确 / wrong password"), code="password_wrong", status=403)
    with transaction.atomic():
        user.totp_enabled, user.totp_secret, user.totp_last_counter = False, "", None
        user.save(update_fields=["totp_enabled", "totp_secret", "totp_last_counter"])
        audit_record(
            actor=actor,
            action="accounts.totp_disable",
            obj=user,
            changes={"totp_enabled": [True, False]},
            ip_address=ip,
        )


def totp_reset(*, actor, user: User, reason: str = "") -> None:
    """An administrator turns TOTP off for someone who lost their phone; they set it up again."""
    with transaction.atomic():
        was = user.totp_enabled
        user.totp_enabled, user.totp_secret, user.totp_last_counter = False, "", None
        user.save(update_fields=["totp_enabled", "totp_secret", "totp_last_counter"])
        audit_record(
            actor=actor,
            action="accounts.totp_reset",
            obj=user,
            reason=reason,
            changes={"totp_enabled": [was, False]},
        )


def totp_check(*, user: User, code: str, ip: str | None = None) -> None:
    """The second sign-in step. A code is accepted once: the step it belongs to must be later than
    the last step accepted (the conditional update closes the race between two tabs)."""
    counter = totp.matching_counter(user.totp_secret, code) if user.totp_enabled else None
    if counter is None:
        raise SignInRefused(_("动态口令不正确 / wrong code"), code="totp_wrong", status=403)
    accepted = (
        User.objects.filter(pk=user.pk)
        .filter(Q(totp_last_counter__isnull=True) | Q(totp_last_counter__lt=counter))
        .update(totp_last_counter=counter)
    )
    if not accepted:
        audit_record(actor=None, action="accounts.totp_replay", obj=user, ip_address=ip)
        raise SignInRefused(
            _("该动态口令已使用过，请等待下一个 / this code was already used; wait for the next one"),
            code="totp_replayed",
            status=403,
        )
    user.totp_last_counter = counter


# ---------------------------------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------------------------------


def profile_update(*, actor, user: User, display_name: str, language: str, elderly_mode: bool) -> list[str]:
    """Returns the names of the fields that changed."""
    before = {"display_name": user.display_name, "language": user.language, "elderly_mode": user.elderly_mode}
    after = {"display_name": display_name.strip(), "language": language, "elderly_mode": bool(elderly_mode)}
    changed = [k for k in before if before[k] != after[k]]
    if not changed:
        return []
    with transaction.atomic():
        for key in changed:
            setattr(user, key, after[key])
        user.full_clean(exclude=[f.name for f in User._meta.fields if f.name not in changed])
        user.save(update_fields=changed)
        audit_record(
            actor=actor,
            action="accounts.profile_update",
            obj=user,
            changes={k: [before[k], after[k]] for k in changed},
        )
    return changed


def password_change(*, actor, user: User, new_password: str, ip: str | None = None) -> None:
    """The caller has checked the old password and the validators (``PasswordChangeForm``)."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(
            actor=actor,
            action="accounts.password_change",
            obj=user,
            changes={"password": ["***", "***"]},
            ip_address=ip,
        )
