"""Writes of API uploads: store a checked photo; take (use once) the uploads an action names."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.domains.appeals.photos import PhotoRejected, check_photo, max_count

from .models import Upload


@transaction.atomic
def upload_create(*, actor, content: bytes) -> Upload:
    try:
        checked = check_photo(content)
    except PhotoRejected as exc:
        raise ValidationError(str(exc), code="photo_rejected") from None
    upload = Upload(owner=actor, content_type=checked.content_type, size=len(content), sha256=checked.sha256)
    upload.file.save("upload", ContentFile(content), save=False)
    upload.save()
    return upload


def uploads_take(*, actor, ids: list[int]) -> list[bytes]:
    """The contents of the caller's unused uploads ``ids``, marked used (inside the caller's
    transaction, so a refused action leaves them unused)."""
    ids = list(dict.fromkeys(ids or []))
    if not ids:
        return []
    if len(ids) > max_count():
        raise ValidationError(_("每次最多 %(n)d 张照片 / at most %(n)d photos") % {"n": max_count()})
    uploads = list(Upload.objects.select_for_update().filter(pk__in=ids, owner=actor, used_at__isnull=True))
    if len(uploads) != len(ids):
        raise ValidationError(_("照片编号无效或已使用 / unknown or already used photo ids"), code="upload")
    Upload.objects.filter(pk__in=ids).update(used_at=timezone.now())
    contents = []
    for upload in sorted(uploads, key=lambda u: ids.index(u.pk)):
        with upload.file.open("rb") as fh:
            contents.append(fh.read())
    return contents
