"""Requests acknowledged before their case exists (GeoReport v2 tokens).

A ``POST requests`` that carries a ``media_url`` is answered at once with a ``token``: the row below
and the worker's task commit in the same transaction as that answer, so an acknowledged request is
never lost. The worker fetches the picture, files the case through the one intake service and
links it here; ``GET tokens/{token}`` then gives its ``service_request_id``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.privacy.fields import EncryptedTextField


class PendingStatus(models.TextChoices):
    PENDING = "pending", _("待建立")
    CREATED = "created", _("已建立")
    FAILED = "failed", _("未能建立")


class PendingRequest(models.Model):
    token = models.CharField(_("令牌"), max_length=40, unique=True)
    api_key = models.ForeignKey(
        "apikeys.ApiKey", verbose_name=_("接口密钥"), on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64, blank=True)
    # The checked arguments of the intake (JSON), encrypted: they hold the reporter's name and phone.
    submission = EncryptedTextField(_("提交内容"))
    media_url = models.URLField(_("图片地址"), max_length=2000)
    status = models.CharField(
        _("状态"), max_length=8, choices=PendingStatus.choices, default=PendingStatus.PENDING
    )
    appeal = models.ForeignKey(
        "appeals.Appeal",
        verbose_name=_("诉求"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    attempts = models.PositiveSmallIntegerField(_("处理次数"), default=0)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待建立的 Open311 请求")
        verbose_name_plural = _("待建立的 Open311 请求")
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="open311_pending_idempotency",
            )
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="open311_pending_waiting")
        ]

    def __str__(self):
        return f"{self.token} ({self.status})"
