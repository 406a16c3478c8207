from ninja import Schema

from linli.core.problems import (
    Input,
    Problem,  # noqa: E402,F401 - re-exported for the accounts API
)


class OtpRequestIn(Input):
    phone: str


class OtpRequestOut(Schema):
    sent: bool
    expires_in: int
    resend_after: int


class OtpVerifyIn(Input):
    phone: str
    code: str


class JurisdictionOut(Schema):
    role: str
    role_label: str
    paths: list[str]


class MeOut(Schema):
    username: str
    kind: str
    display_name: str
    phone_masked: str
    is_superuser: bool
    roles: list[str]
    jurisdictions: list[JurisdictionOut]
    totp_enabled: bool
    language: str
    elderly_mode: bool
