"""Photos uploaded ahead of the action that uses them (POST /api/v1/attachments): checked on
arrival by the appeals photo rules, then handed to the appeals service (submit, handle, verify)
by id. An upload belongs to the account that made it and is used once."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def upload_path(instance, filename):
    return f"api-uploads/{timezone.now():%Y/%m}/{instance.sha256}"


class Upload(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("文件"), upload_to=upload_path)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口上传")
        verbose_name_plural = _("接口上传")
        ordering = ["-created_at"]

    def __str__(self):
        return f"upload {self.pk}"
