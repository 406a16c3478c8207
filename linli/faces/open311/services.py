"""Deferred Open311 requests (tokens): acknowledge, then file the case in the background.

``pending_request_create`` stores the checked request and enqueues the worker in the transaction
that acknowledges it; a retry with the same ``Idempotency-Key`` gets the same token.
``pending_request_process`` (the task ``open311_pending_process``) fetches the picture at
``media_url`` through the SSRF guard, checks it by its bytes like an uploaded photo, and files the
case through ``appeals.services.appeal_submit``; a picture that cannot be fetched or is not a photo
leaves the case without it and says so on its timeline. Processing is idempotent: the case is filed
under an idempotency key derived from the token, and a request already processed is left alone.
``pending_request_sweep`` re-enqueues requests whose worker never finished."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.apikeys.models import ApiKey
from linli.core.places.models import Compound
from linli.core.webhooks import outbound
from linli.domains.appeals.choices import Channel
from linli.domains.appeals.models import Category
from linli.domains.appeals.photos import PhotoRejected, check_photo, max_bytes
from linli.domains.appeals.services import appeal_submit

from .models import PendingRequest, PendingStatus

logger = logging.getLogger("linli.open311")
MAX_ATTEMPTS = 5


def media_timeout() -> float:
    return float(getattr(settings, "LINLI_OPEN311_MEDIA_TIMEOUT_SECONDS", 10))


def media_max_bytes() -> int:
    return int(getattr(settings, "LINLI_OPEN311_MEDIA_MAX_BYTES", max_bytes()))


def new_token() -> str:
    return "t" + secrets.token_urlsafe(18)


def pending_request_create(
    *, key: ApiKey, submission: dict, media_url: str, idempotency_key: str = ""
) -> PendingRequest:
    """Store a checked request and enqueue its worker, both in this transaction. ``submission``
    holds ``appeal_submit``'s arguments with ids for objects (``category_id``, ``compound_id``)."""
    from .tasks import open311_pending_process

    idempotency_key = (idempotency_key or "")[:64]
    with transaction.atomic():
        if idempotency_key:
            existing = PendingRequest.objects.filter(api_key=key, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                pending = PendingRequest.objects.create(
                    token=new_token(),
                    api_key=key,
                    idempotency_key=idempotency_key,
                    submission=json.dumps(submission, ensure_ascii=False),
                    media_url=media_url,
                )
        except IntegrityError:  # a concurrent retry with the same key won
            existing = PendingRequest.objects.filter(api_key=key, idempotency_key=idempotency_key).first()
            if existing is None:
                raise
            return existing
        # Inside the transaction on purpose: the worker's row commits with the request or not at all.
        open311_pending_process.enqueue(pending_id=pending.pk)
    pending.refresh_from_db()  # a backend that runs tasks at once has already filed it
    return pending


def fetch_picture(url: str) -> tuple[bytes | None, str]:
    """The picture at ``url`` checked as a photo, or None and why not (bilingual)."""
    try:
        answer = outbound.request(
            "GET",
            url,
            headers={"Accept": "image/jpeg, image/png, image/webp"},
            timeout=media_timeout(),
            max_bytes=media_max_bytes(),
            follow_redirects=3,
            truncate=False,
        )
        if answer.status != 200:
            return None, f"HTTP {answer.status}"
        check_photo(answer.body)
        return answer.body, ""
    except (outbound.OutboundRefused, PhotoRejected) as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - refused, reset, timeout, too big, bad answer: no picture
        return None, f"{type(exc).__name__}: {exc}"[:200]


def _submit_arguments(pending: PendingRequest) -> dict:
    data = json.loads(pending.submission)
    category_id, compound_id = data.pop("category_id"), data.pop("compound_id", None)
    data["category"] = Category.objects.get(pk=category_id)
    data["compound"] = Compound.objects.filter(pk=compound_id).first() if compound_id else None
    return data


def pending_request_process(*, pending_id: int) -> PendingRequest | None:
    """File the case of one pending request, once. The picture is fetched outside any transaction;
    the case and the request's new state are written in one."""
    pending = PendingRequest.objects.select_related("api_key__account").filter(pk=pending_id).first()
    if pending is None or pending.status != PendingStatus.PENDING:
        return pending
    PendingRequest.objects.filter(pk=pending_id).update(attempts=F("attempts") + 1)
    picture, problem = fetch_picture(pending.media_url)
    note = ""
    if picture is None:
        note = _(
            "未能取回 media_url 的图片，已先立件（%(why)s）/ the picture at media_url could not be fetched; "
            "the case was filed without it (%(why)s): %(url)s"
        ) % {"why": problem, "url": pending.media_url}
    with transaction.atomic():
        locked = PendingRequest.objects.select_for_update().get(pk=pending_id)
        if locked.status != PendingStatus.PENDING:
            return locked
        try:
            appeal = appeal_submit(
                actor=pending.api_key.account,
                channel=Channel.API,
                photos=[picture] if picture is not None else [],
                idempotency_key=f"open311-token:{locked.token}",
                note=note,
                **_submit_arguments(locked),
            )
        except (ValidationError, PermissionDenied, Category.DoesNotExist) as exc:
            locked.status = PendingStatus.FAILED
            messages = getattr(exc, "messages", None) or [str(exc) or type(exc).__name__]
            locked.note = "; ".join(messages)[:1000]
        else:
            locked.status, locked.appeal, locked.note = PendingStatus.CREATED, appeal, note
        locked.processed_at = timezone.now()
        locked.save(update_fields=["status", "appeal", "note", "processed_at"])
    return locked


def pending_request_sweep(*, older_than: dt.timedelta = dt.timedelta(minutes=10), limit: int = 500) -> int:
    """Enqueue the worker again for requests still pending after ``older_than`` (a worker that
    died, a task that failed); after ``MAX_ATTEMPTS`` tries a request is marked failed."""
    from .tasks import open311_pending_process

    cutoff = timezone.now() - older_than
    waiting = PendingRequest.objects.filter(status=PendingStatus.PENDING, created_at__lte=cutoff)
    waiting.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=PendingStatus.FAILED,
        processed_at=timezone.now(),
        note=_("多次处理未成功 / could not be processed"),
    )
    ids = list(waiting.order_by("created_at").values_list("pk", flat=True)[:limit])
    for pending_id in ids:
        open311_pending_process.enqueue(pending_id=pending_id)
    return len(ids)


def pending_by_token(token: str) -> PendingRequest | None:
    if not token or len(token) > 40:
        return None
    return PendingRequest.objects.select_related("appeal").filter(token=token).first()
