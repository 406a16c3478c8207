"""Encryption at rest for sensitive personal fields (PIPL art. 28, 51).

Values are sealed with AES-256-GCM. The stored text is ``v1:<key-index>:<base64(nonce|ciphertext)>``;
the first key in ``settings.FIELD_ENCRYPTION_KEYS`` encrypts, every key decrypts, so keys can be
rotated. Exact-match search goes through a keyed hash (``blind_index``) kept beside the ciphertext,
never through the plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "v1"


class DecryptionError(ValueError):
    """A sealed value could not be opened with any configured key."""


def _master_keys() -> tuple[bytes, ...]:
    keys = []
    for text in settings.FIELD_ENCRYPTION_KEYS:
        padded = text + "=" * (-len(text) % 4)
        raw = base64.urlsafe_b64decode(padded)
        if len(raw) < 16:
            raise ValueError("FIELD_ENCRYPTION_KEYS entries must hold at least 16 bytes")
        keys.append(raw)
    if not keys:
        raise ValueError("FIELD_ENCRYPTION_KEYS is empty")
    return tuple(keys)


@lru_cache(maxsize=8)
def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"linli:" + purpose).derive(master)


def _aead_keys() -> list[AESGCM]:
    return [AESGCM(_derive(k, b"field-encryption")) for k in _master_keys()]


def encrypt(plaintext: str) -> str:
    aead = _aead_keys()[0]
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), PREFIX.encode())
    return f"{PREFIX}:0:{base64.b64encode(nonce + sealed).decode('ascii')}"


def decrypt(token: str) -> str:
    try:
        prefix, _index, body = token.split(":", 2)
        raw = base64.b64decode(body)
    except ValueError as exc:
        raise DecryptionError("not a sealed value") from exc
    if prefix != PREFIX:
        raise DecryptionError(f"unknown format {prefix!r}")
    nonce, sealed = raw[:12], raw[12:]
    for aead in _aead_keys():
        try:
            return aead.decrypt(nonce, sealed, PREFIX.encode()).decode("utf-8")
        except Exception:  # noqa: S112 - try the next key (rotation)
            continue
    raise DecryptionError("no configured key opens this value")


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash for exact-match lookup of an encrypted value. ``purpose`` separates fields, so
    the same phone number hashes differently as a phone and as, say, an emergency contact."""
    key = _derive(_master_keys()[0], b"blind-index:" + purpose.encode())
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
