from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message in a person's in-app inbox. SMS copies for residents are sent by a task.

    ``title`` and ``body`` are in the default language (Chinese): what an SMS says and what the admin
    searches. ``translations`` holds the same notice in the other interface languages, written with
    it (``services.notify`` with a text that renders per language), so that the reader sees it in
    the language of the page (``shown_title``, ``shown_body``)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    kind = models.CharField(_("类别"), max_length=40)
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(
        max_length=120, blank=True, help_text=_("同一收件人同一键只保留一条，用于可重试的任务")
    )
    translations = models.JSONField(
        _("其他语言"), default=dict, blank=True, editable=False, help_text='{"en": {"title": …, "body": …}}'
    )
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    sms_sent_at = models.DateTimeField(_("短信发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_dedupe",
            ),
        ]

    def __str__(self):
        return self.title

    def _shown(self, field: str) -> str:
        language = (translation.get_language() or "").lower()
        texts = self.translations or {}
        version = texts.get(language) or texts.get(language.split("-")[0]) or {}
        return version.get(field, getattr(self, field))

    @property
    def shown_title(self) -> str:
        return self._shown("title")

    @property
    def shown_body(self) -> str:
        return self._shown("body")
