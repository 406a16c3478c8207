"""Signed webhooks through a transactional outbox.

A change writes an ``OutboxEvent`` in its own transaction, together with one ``Delivery`` per
matching active ``Subscription``; a rolled-back change leaves neither. The background worker then
POSTs each delivery to the partner, signed (see ``verify.py``), and records every try as a
``DeliveryAttempt``. Nothing here is deleted: the log is the partner's and the administrator's
evidence of what was sent when."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.privacy.fields import EncryptedTextField

from .choices import DeliveryStatus


class Subscription(models.Model):
    partner = models.CharField(_("合作方"), max_length=80)
    target_url = models.URLField(_("接收地址"), max_length=500)
    secret = EncryptedTextField(_("签名密钥"))
    event_types = models.JSONField(_("订阅事件"), default=list, help_text=_("事件类型列表"))
    external_source = models.CharField(
        _("仅限外部来源"),
        max_length=40,
        blank=True,
        help_text=_("填写后只推送该外部来源（如 12345）转来的诉求；留空推送全部"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("Webhook 订阅")
        verbose_name_plural = _("Webhook 订阅")
        ordering = ["partner", "id"]

    def __str__(self):
        return f"{self.partner} → {self.target_url}"

    def wants(self, event_type: str, external_source: str) -> bool:
        if not self.is_active or event_type not in (self.event_types or []):
            return False
        return not self.external_source or self.external_source == external_source


class OutboxEvent(models.Model):
    event_id = models.UUIDField(_("事件编号"), default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(_("事件类型"), max_length=40, db_index=True)
    occurred_at = models.DateTimeField(_("发生时间"), default=timezone.now)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    external_source = models.CharField(_("外部来源"), max_length=40, blank=True)
    payload = models.JSONField(_("内容"), default=dict)

    class Meta:
        verbose_name = _("外发事件")
        verbose_name_plural = _("外发事件")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "occurred_at"], name="outbox_object")]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"

    def envelope(self) -> dict:
        """The JSON body every receiver gets."""
        return {
            "id": str(self.event_id),
            "type": self.event_type,
            "occurred_at": self.occurred_at.isoformat(),
            "data": self.payload,
        }


class Delivery(models.Model):
    """One event for one subscription. A worker claims it by setting ``lease_until`` (conditional
    update), so two workers never send it at once; a worker that dies leaves the lease to expire
    and the next sweep sends it again (at-least-once; receivers deduplicate by event id)."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    lease_until = models.DateTimeField(_("占用至"), null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("投递时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("投递")
        verbose_name_plural = _("投递")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="delivery_once_per_subscription"),
        ]
        indexes = [
            # The sweep reads only what is due.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(status=DeliveryStatus.PENDING),
            ),
            models.Index(fields=["subscription", "status", "-created_at"], name="delivery_log"),
        ]

    def __str__(self):
        return f"{self.event} → {self.subscription.partner}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="attempt_log")
    number = models.PositiveIntegerField(_("第几次"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    status_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    response_excerpt = models.CharField(_("响应摘要"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("投递记录")
        verbose_name_plural = _("投递记录")
        ordering = ["delivery", "at", "id"]

    def __str__(self):
        return f"{self.delivery_id}#{self.number} {self.status_code or self.error}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
