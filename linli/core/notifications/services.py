"""Telling people that something needs them. ``notify`` writes inbox rows inside the caller's
transaction; SMS copies (residents only, when asked) go out from a task after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .models import Notification


def notify(
    *,
    recipients: Iterable,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    obj: models.Model | None = None,
    dedupe_key: str = "",
    sms: bool = False,
) -> list[Notification]:
    """Put a message in each recipient's inbox. With ``dedupe_key`` a retried call adds nothing new
    for a recipient who already has it. With ``sms`` residents also get a text message."""
    created = []
    seen = set()
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        row = Notification(
            recipient=user,
            kind=kind,
            title=title[:120],
            body=body,
            url=url,
            dedupe_key=dedupe_key,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
        )
        if dedupe_key:
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue
        else:
            row.save()
        created.append(row)
    if sms:
        ids = [n.pk for n in created if getattr(n.recipient, "is_resident", False)]
        if ids:
            from .tasks import send_sms_copies

            transaction.on_commit(lambda: send_sms_copies.enqueue(ids))
    return created


def notification_mark_read(*, actor, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when ``ids`` is None)."""
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
