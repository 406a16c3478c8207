from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.privacy.fields import EncryptedTextField


class User(AbstractUser):
    """Staff sign in with username + password (+ optional TOTP); residents with phone + one-time
    code. A resident's account links to their entry in the register when there is one."""

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("居民")
        STAFF = "staff", _("工作人员")

    kind = models.CharField(_("账号类型"), max_length=16, choices=Kind.choices, default=Kind.STAFF)
    display_name = models.CharField(_("显示名"), max_length=60, blank=True)
    phone = EncryptedTextField(_("手机号"), blank=True)
    phone_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    person = models.OneToOneField(
        "people.Person",
        verbose_name=_("居民档案"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
    )
    totp_secret = EncryptedTextField(_("动态口令密钥"), blank=True)
    totp_enabled = models.BooleanField(_("启用动态口令"), default=False)
    # The last TOTP time step accepted, so a code cannot be used twice (RFC 6238 §5.2).
    totp_last_counter = models.BigIntegerField(null=True, blank=True, editable=False)
    language = models.CharField(
        _("界面语言"), max_length=10, choices=settings.LANGUAGES, blank=True, help_text=_("留空则跟随浏览器")
    )
    elderly_mode = models.BooleanField(_("适老化模式"), default=False)

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self):
        return self.display_name or self.username

    @property
    def is_resident(self) -> bool:
        return self.kind == self.Kind.RESIDENT


class OneTimeCode(models.Model):
    """A sign-in code sent by SMS. Only its hash is kept."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        ordering = ["-created_at"]

    def __str__(self):
        return f"#{self.pk}"
