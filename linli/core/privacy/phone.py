"""Mainland mobile and landline numbers."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalise_phone(raw: str) -> str:
    table = {0xFF10 + i: str(i) for i in range(10)}
    value = raw.translate(table).strip().replace(" ", "").replace("－", "-")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return value.replace("-", "")
    raise ValidationError(_("电话号码格式不正确 / not a valid mainland phone number"), code="phone_format")


def is_mobile(value: str) -> bool:
    return bool(_MOBILE.match(value))
