from ninja import Schema


class Problem(Schema):
    """An error in the shape of RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    retry_after: int | None = None


class OtpRequestIn(Schema):
    phone: str


class OtpRequestOut(Schema):
    sent: bool
    expires_in: int
    resend_after: int


class OtpVerifyIn(Schema):
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
