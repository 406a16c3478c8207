"""Reads about accounts that more than one caller needs."""

from __future__ import annotations

from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import jurisdiction_of
from linli.core.privacy.masking import mask_phone

from .models import User


def phone_masked(user: User) -> str:
    return mask_phone(user.phone) if user.phone else ""


def account_summary(user: User) -> dict:
    """Who is signed in: what the API's ``me`` returns and the profile page shows."""
    j = jurisdiction_of(user)
    return {
        "username": user.username,
        "kind": user.kind,
        "display_name": user.display_name,
        "phone_masked": phone_masked(user),
        "is_superuser": j.is_superuser,
        "roles": sorted(j.roles),
        "jurisdictions": [
            {
                "role": role,
                "role_label": str(Role(role).label) if role in Role.values else role,
                "paths": list(paths),
            }
            for role, paths in sorted(j.paths_by_role.items())
        ],
        "totp_enabled": user.totp_enabled,
        "language": user.language,
        "elderly_mode": user.elderly_mode,
    }


def otp_resend_wait(phone_hash: str) -> int:
    """Seconds until another code may be sent to the phone with this hash (0: now)."""
    import math

    from django.utils import timezone

    from .models import OneTimeCode
    from .services import otp_resend_seconds

    latest = (
        OneTimeCode.objects.filter(phone_hash=phone_hash)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if latest is None:
        return 0
    return max(0, math.ceil(otp_resend_seconds() - (timezone.now() - latest).total_seconds()))
