"""The signature scheme, for Linli (signing) and for receivers (verifying).

Every request carries ``Linli-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256 with the subscription's secret over ``"<t>.<raw body>"``. A receiver recomputes it,
compares in constant time, and rejects timestamps older than ``tolerance`` seconds (replayed
requests). Several ``v1=`` values may appear while a secret is being rotated; any one matching is
enough. This module has no Django imports, so a partner may copy it as it is."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "Linli-Signature"
SCHEME = "v1"


class SignatureError(ValueError):
    """The request is not signed by the secret, or its timestamp is outside the tolerance."""


def compute_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},{SCHEME}={compute_signature(secret, timestamp, body)}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower() or key.upper() == "HTTP_" + name.upper().replace("-", "_"):
            return value
    return None


def parse_signature(value: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in value.split(","):
        key, _sep, item = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(item)
            except ValueError:
                raise SignatureError("bad timestamp") from None
        elif key == SCHEME and item:
            signatures.append(item)
    if timestamp is None or not signatures:
        raise SignatureError("malformed Linli-Signature header")
    return timestamp, signatures


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes, tolerance: int = 300, now: float | None = None
) -> int:
    """Check a received request; returns its timestamp, raises ``SignatureError`` otherwise.
    ``headers`` may be any mapping (``request.headers``, ``http.server`` headers, WSGI ``META``)."""
    value = _header(headers, SIGNATURE_HEADER)
    if not value:
        raise SignatureError("missing Linli-Signature header")
    timestamp, signatures = parse_signature(value)
    now = time.time() if now is None else now
    if tolerance and abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    expected = compute_signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise SignatureError("signature does not match")
    return timestamp
