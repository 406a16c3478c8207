"""The resident register: persons, households (户) living in flats, and tags. ID numbers and phones
are encrypted at rest (``EncryptedTextField``) and found by exact value through keyed hashes."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.privacy.fields import EncryptedTextField

from .choices import Gender, Relation, Tag, Tenure


class Household(models.Model):
    flat = models.ForeignKey(
        "places.Flat", verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="households"
    )
    grid = models.ForeignKey(
        "places.Area", verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="households"
    )
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False)
    tenure = models.CharField(_("居住性质"), max_length=16, choices=Tenure.choices, default=Tenure.OWNER)
    registered_on = models.DateField(_("登记日期"), null=True, blank=True)
    moved_out_on = models.DateField(_("迁出日期"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("住户")
        verbose_name_plural = _("住户")
        ordering = ["path", "flat_id"]

    def __str__(self):
        return str(self.flat)

    def get_absolute_url(self):
        return reverse("people:household_detail", args=[self.pk])


class Person(models.Model):
    name = models.CharField(_("姓名"), max_length=60)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    ethnic_group = models.CharField(_("民族"), max_length=20, default="汉族")
    id_number = EncryptedTextField(_("身份证号"), blank=True)
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    grid = models.ForeignKey(
        "places.Area",
        verbose_name=_("所属网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="persons",
    )
    path = models.CharField(_("路径"), max_length=255, db_index=True, blank=True, editable=False)
    note = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(
        _("删除时间"), null=True, blank=True, help_text=_("依个人信息保护法删除后，仅保留匿名统计所需字段")
    )

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ["path", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("people:person_detail", args=[self.pk])


class PersonTag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(_("标签"), max_length=32, choices=Tag.choices, db_index=True)

    class Meta:
        verbose_name = _("居民标签")
        verbose_name_plural = _("居民标签")
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="person_tag_unique")]

    def __str__(self):
        return self.get_tag_display()


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices)
    joined_on = models.DateField(_("入户日期"), null=True, blank=True)
    left_on = models.DateField(_("离户日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("住户成员")
        verbose_name_plural = _("住户成员")
        constraints = [
            models.UniqueConstraint(
                fields=["household", "person"],
                condition=Q(left_on__isnull=True),
                name="member_once_per_household",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(left_on__isnull=True, relation=Relation.HOUSEHOLDER),
                name="one_householder",
            ),
        ]

    def __str__(self):
        return f"{self.person} · {self.get_relation_display()}"
