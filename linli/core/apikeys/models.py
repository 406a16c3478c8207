"""Credentials for the interfaces: partner API keys (a platform, an app, a city 12345 system) with
scopes, and bearer tokens issued to residents and staff after they sign in. Only a SHA-256 digest of
each secret is kept; the secret is shown once when it is made.

A partner key acts through its own service account (``ApiKey.account``, a staff-kind user with no
role and no jurisdiction): appeals it creates are ``submitted_by`` that account, which is what makes
idempotency keys per partner work, and it can never read or act on cases beyond what it created."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    OPEN311_POST = "open311.post", _("Open311 提交诉求")
    APPEALS_CREATE = "appeals.create", _("提交诉求")
    APPEALS_READ = "appeals.read", _("查看本密钥提交的诉求")
    HANDDOWN = "appeals.handdown", _("下派案件（12345 等外部平台）")
    PLACES_READ = "places.read", _("地点查询")


DEFAULT_SCOPES = [Scope.OPEN311_POST.value]


class ApiKey(models.Model):
    name = models.CharField(_("名称"), max_length=80)
    prefix = models.CharField(_("前缀"), max_length=12, unique=True, help_text=_("密钥开头，用于识别"))
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("权限范围"), default=list, blank=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务账号"),
        on_delete=models.PROTECT,
        related_name="api_key",
    )
    source = models.CharField(
        _("来源平台编码"),
        max_length=40,
        blank=True,
        help_text=_("下派案件的外部来源，如 12345；该来源案件的状态变化会通知本平台"),
    )
    callback_url = models.URLField(_("回调地址"), blank=True, help_text=_("状态变化的推送地址"))
    rate = models.CharField(_("频率上限"), max_length=16, blank=True, help_text=_("如 600/m；留空用默认值"))
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=~Q(source="") & Q(is_active=True),
                name="apikey_one_active_source",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return self.is_active and scope in (self.scopes or [])


class ApiToken(models.Model):
    """A bearer token for one signed-in resident or staff member (an app session)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    method = models.CharField(_("登录方式"), max_length=16)
    label = models.CharField(_("设备"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_live")]

    def __str__(self):
        return f"{self.user} {self.prefix}…"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
