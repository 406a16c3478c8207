"""The keyed hashes used to find a person or an account by an exact sensitive value. Every module
that stores or searches an ID number or phone uses these, so the hashes always agree."""

from .crypto import blind_index
from .idcard import normalise as normalise_id_number
from .phone import normalise_phone


def id_number_hash(value: str) -> str:
    return blind_index(normalise_id_number(value), purpose="id_number")


def phone_hash(value: str) -> str:
    """``value`` may be in any accepted written form; raises ValidationError if it is no phone."""
    return blind_index(normalise_phone(value), purpose="phone")
