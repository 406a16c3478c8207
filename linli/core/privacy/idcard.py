"""Resident identity card numbers (居民身份证号码), GB 11643-1999.

18 characters: 6-digit address code, 8-digit birth date, 3-digit sequence (odd for men, even for
women), and an ISO 7064 MOD 11-2 check character (0-9 or X).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")


@dataclass(frozen=True)
class IdCard:
    number: str
    birth_date: dt.date
    gender: str  # "M" or "F"
    region_code: str


def check_character(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    """Strip spaces and full-width characters people paste from documents; upper-case the X."""
    table = {ord("Ｘ"): "X", ord("ｘ"): "X", **{0xFF10 + i: str(i) for i in range(10)}}
    return raw.translate(table).replace(" ", "").replace("\u3000", "").strip().upper()


def parse(raw: str, *, today: dt.date | None = None) -> IdCard:
    """Validate and decode an ID number; raises ``ValidationError`` with a bilingual message."""
    number = normalise(raw)
    if not _PATTERN.match(number):
        raise ValidationError(
            _("身份证号码应为18位，前17位为数字，最后一位为数字或X / ID number must be 18 characters"),
            code="id_format",
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise ValidationError(
            _("身份证号码中的出生日期无效 / the birth date in the ID number is not a real date"),
            code="id_birth_date",
        ) from exc
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise ValidationError(
            _("身份证号码中的出生日期不合理 / the birth date in the ID number is out of range"),
            code="id_birth_range",
        )
    if check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("身份证号码校验位错误 / the ID number's check character is wrong"), code="id_checksum"
        )
    gender = "M" if int(number[16]) % 2 == 1 else "F"
    return IdCard(number=number, birth_date=birth, gender=gender, region_code=number[:6])


def make(region_code: str, birth: dt.date, sequence: int) -> str:
    """Build a valid number (for invented demo residents and tests)."""
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
