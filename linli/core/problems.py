"""Errors in one shape across the API: RFC 9457 problem details (``application/problem+json``).

Apps return ``problem(...)`` for errors they expect; ``install_problem_handlers`` turns everything
else (bad input, 403, 404, HttpError, Django ValidationError) into the same shape."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import field_validator

PROBLEM_TYPE_BASE = "/api/problems/"


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    retry_after: int | None = None


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return any(_has_nul(v) for v in value)
    return False


class Input(Schema):
    """Base of every request body and query schema: text holding a NUL character is refused as bad
    input (PostgreSQL cannot store it in a text or JSON column, and no person types it)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        if _has_nul(value):
            raise ValueError("文本不能包含空字符（NUL）/ text must not contain NUL characters")
        return value


class RateLimited(Exception):
    """Too many requests for one credential or address; answered 429 with Retry-After."""

    def __init__(self, retry_after: int = 60, detail: str = ""):
        super().__init__(detail or "too many requests")
        self.retry_after = int(retry_after)
        self.detail = detail


def problem(status: int, title: str, detail: str, *, code: str = "", **extra) -> JsonResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + code if code else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **{k: v for k, v in extra.items() if v is not None},
    }
    response = JsonResponse(
        body,
        status=status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )
    if extra.get("retry_after"):
        response["Retry-After"] = str(extra["retry_after"])
    return response


def _validation_detail(errors) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "body", "path", "form"))
        parts.append(f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", "")))
    return "; ".join(parts) or "输入有误 / invalid input"


def install_problem_handlers(api) -> None:
    @api.exception_handler(NinjaValidationError)
    def _bad_input(request, exc):
        return problem(
            400,
            "invalid input",
            "输入有误 / invalid input: " + _validation_detail(exc.errors),
            code="invalid-input",
            errors=exc.errors,
        )

    @api.exception_handler(ValidationError)
    def _refused(request, exc):
        return problem(400, "refused", "; ".join(exc.messages), code="refused")

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return problem(401, "not signed in", "请先登录 / sign in first", code="not-signed-in")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc):
        return problem(403, "forbidden", str(exc) or "无权操作 / not allowed", code="forbidden")

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return problem(404, "not found", "找不到该记录 / no such record", code="not-found")

    @api.exception_handler(RateLimited)
    def _rate_limited(request, exc):
        from django.utils.translation import gettext as _

        detail = exc.detail or _("请求太频繁，请稍后再试 / too many requests, please try again later")
        return problem(429, "too many requests", detail, code="rate-limited", retry_after=exc.retry_after)

    @api.exception_handler(HttpError)
    def _http_error(request, exc):
        return problem(exc.status_code, "error", str(exc), code=f"http-{exc.status_code}")
