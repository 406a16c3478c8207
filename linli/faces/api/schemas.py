"""Typed shapes of /api/v1/ (the OpenAPI document is generated from these)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Schema

from linli.core.problems import Input

# Database ids: positive and within what every database (and JavaScript) holds exactly.
Id = Annotated[int, Field(ge=1, le=2**53 - 1)]


class TokenIn(Input):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=200)
    totp: str = Field("", max_length=12, description="动态口令 / TOTP code, when the account has it on")
    label: str = Field("", max_length=80, description="设备名 / device label")


class SmsTokenIn(Input):
    phone: str = Field(..., max_length=20)
    code: str = Field(..., max_length=12)
    label: str = Field("", max_length=80)


class OtpIn(Input):
    phone: str = Field(..., max_length=20)


class OtpOut(Schema):
    sent: bool
    expires_in: int
    resend_after: int


class TokenOut(Schema):
    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    expires_at: dt.datetime
    username: str
    kind: str


class RevokedOut(Schema):
    revoked: int


class Ref(Schema):
    code: str
    name: str


class Question(Schema):
    code: str
    label: str
    datatype: str
    required: bool = False
    choices: list[str] = []


class CategoryOut(Schema):
    code: str
    name: str
    description: str
    is_public: bool
    questions: list[Question]
    children: list[CategoryOut] = []


class AppealIn(Input):
    title: str = Field(..., min_length=1, max_length=120)
    body: str = Field(..., min_length=1, max_length=4000)
    category: str | None = Field(None, max_length=40, description="类别编码 / category code")
    priority: Literal["normal", "urgent"] = "normal"
    channel: Literal["mobile", "web", "api", "hotline", "walk_in"] | None = Field(
        None, description="默认：居民 mobile，合作方 api / default: mobile for residents, api for partners"
    )
    lng: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: str = Field("", max_length=200)
    compound_id: Id | None = None
    contact_name: str = Field("", max_length=60)
    contact_phone: str = Field("", max_length=20)
    is_private: bool = False
    answers: dict[str, str | float | bool | list[str]] = Field(
        {},
        description="补充问题的回答；多选题为列表 / answers to the extra questions; a list for multichoice",
    )
    photo_ids: list[Id] = Field([], max_length=9, description="POST /attachments 返回的编号 / upload ids")


class HanddownIn(AppealIn):
    external_ref: str = Field(
        ..., min_length=1, max_length=64, description="外部平台的工单号 / the platform's own id"
    )


class AppealOut(Schema):
    id: int
    reference: str
    title: str
    body: str
    status: str
    status_label: str
    category: Ref | None
    priority: str
    channel: str
    address: str
    lng: float | None
    lat: float | None
    street: str | None
    community: str | None
    lead_unit: str | None
    deadline_state: str
    handling_due: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    result: str
    external_source: str
    external_ref: str


class EventOut(Schema):
    at: dt.datetime
    action: str
    action_label: str
    from_status: str
    to_status: str
    note: str
    unit: str | None


class AppealDetailOut(AppealOut):
    answers: dict
    timeline: list[EventOut]
    actions: list[str] = Field(description="此账号现在可以调用的操作 / actions open to the caller now")


class AppealPage(Schema):
    items: list[AppealOut]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null / null at the end")


class UploadOut(Schema):
    id: int
    content_type: str
    size: int
    sha256: str


# --- actions ----------------------------------------------------------------------------------------


class NoteIn(Input):
    note: str = Field("", max_length=2000)


class RegisterIn(NoteIn):
    category: str | None = Field(None, max_length=40)
    priority: Literal["normal", "urgent"] | None = None


class ReasonIn(Input):
    reason: str = Field(..., min_length=1, max_length=300)


class MergeIn(NoteIn):
    master_id: Id


class DispatchIn(NoteIn):
    lead_unit: str | None = Field(None, max_length=40, description="单位编码；留空用已确定的单位 / unit code")
    assisting_units: list[str] = Field([], max_length=10)


class HandleIn(Input):
    result: str = Field(..., min_length=1, max_length=4000)
    photo_ids: list[Id] = Field([], max_length=9)


class ExtensionIn(Input):
    days: int = Field(..., ge=1, le=60)
    reason: str = Field(..., min_length=1, max_length=2000)


class ExtensionDecideIn(NoteIn):
    approve: bool


class VerifyIn(NoteIn):
    passed: bool
    photo_ids: list[Id] = Field([], max_length=9)


class WithdrawIn(Input):
    reason: str = Field("", max_length=300)


class RateIn(Input):
    value: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    comment: str = Field("", max_length=2000)
