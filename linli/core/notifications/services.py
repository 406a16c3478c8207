"""Telling people that something needs them. ``notify`` writes inbox rows inside the caller's
transaction; SMS copies (residents only, when asked) go out from a task after commit.

A notice's text may be a plain string (shown as written to everyone) or a function of no arguments
that builds it with ``gettext``: it is then run once per interface language and every version is
stored (``Notification.translations``), so that each reader sees the notice in the language of the
page, whatever language the worker that wrote it ran in."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation

from .models import Notification

TITLE_CHARS = Notification._meta.get_field("title").max_length

Text = str | Callable[[], str]


def _clip_title(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"


def localised(title: Text, body: Text = "") -> tuple[str, str, dict]:
    """``(title, body, translations)`` for a ``Notification``: the default language's text and the
    other languages' versions. Plain strings have no other versions."""
    if not callable(title) and not callable(body):
        return _clip_title(str(title)), str(body), {}
    versions = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            versions[code] = {
                "title": _clip_title(str(title() if callable(title) else title)),
                "body": str(body() if callable(body) else body),
            }
    default = versions.pop(settings.LANGUAGE_CODE)
    others = {code: v for code, v in versions.items() if v != default}
    return default["title"], default["body"], others


def notify(
    *,
    recipients: Iterable,
    kind: str,
    title: Text,
    body: Text = "",
    url: str = "",
    obj: models.Model | None = None,
    dedupe_key: str = "",
    sms: bool = False,
) -> list[Notification]:
    """Put a message in each recipient's inbox. With ``dedupe_key`` a retried call adds nothing new
    for a recipient who already has it. With ``sms`` residents also get a text message (in the
    default language). ``title`` and ``body`` may be functions that build the text (module docstring)."""
    title, body, translations = localised(title, body)
    created = []
    seen = set()
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        row = Notification(
            recipient=user,
            kind=kind,
            title=title,
            body=body,
            translations=translations,
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
