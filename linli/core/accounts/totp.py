"""Time-based one-time passwords (RFC 6238) for staff, with pyotp: 6 digits, 30-second steps, one
step of clock drift either way (``valid_window=1``). Pure functions; the writes are in services."""

from __future__ import annotations

import datetime as dt
import io

import pyotp
import segno
from pyotp.utils import strings_equal

ISSUER = "Linli 邻里"
VALID_WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def matching_counter(secret: str, code: str, *, at: dt.datetime | None = None) -> int | None:
    """The time step whose code equals ``code`` within the allowed window, or None. Every candidate
    is compared (in constant time), so the answer's timing does not tell which step matched."""
    code = (code or "").strip().replace(" ", "")
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = at or dt.datetime.now(tz=dt.UTC)
    current = totp.timecode(now)
    found = None
    for counter in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if strings_equal(totp.generate_otp(counter), code) and found is None:
            found = counter
    return found


def provisioning_uri(secret: str, *, account_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an SVG document (served as an image, so the strict CSP holds)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out, kind="svg", scale=6, border=2, xmldecl=False, svgns=True, dark="#000", light="#fff"
    )
    return out.getvalue().decode("utf-8")


def pretty_secret(secret: str) -> str:
    """``JBSWY3DPEHPK3PXP`` → ``JBSW Y3DP EHPK 3PXP``, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
