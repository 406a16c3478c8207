from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .choices import OrgKind, Role


class Organisation(models.Model):
    kind = models.CharField(_("类型"), max_length=32, choices=OrgKind.choices, db_index=True)
    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    area = models.ForeignKey(
        "places.Area", verbose_name=_("服务区域"), on_delete=models.PROTECT, related_name="organisations"
    )
    compound = models.ForeignKey(
        "places.Compound",
        verbose_name=_("所在小区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
    )
    phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["kind", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("orgs:organisation_detail", args=[self.pk])


class Membership(models.Model):
    """A staff account's role in an organisation, and the area it acts in (its jurisdiction)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.PROTECT, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    jurisdiction = models.ForeignKey(
        "places.Area", verbose_name=_("辖区"), on_delete=models.PROTECT, related_name="memberships"
    )
    title = models.CharField(_("职务"), max_length=60, blank=True)
    is_unit_leader = models.BooleanField(_("单位负责人"), default=False)
    is_active = models.BooleanField(_("在岗"), default=True)
    since = models.DateField(_("起始日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role", "jurisdiction"],
                condition=Q(is_active=True),
                name="membership_one_active",
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"
