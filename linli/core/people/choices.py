from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
    UNKNOWN = "U", _("未说明")


class Tag(models.TextChoices):
    ELDERLY = "elderly", _("老年人")
    LIVING_ALONE = "living_alone", _("独居")
    EMPTY_NEST = "empty_nest", _("空巢")
    DISABLED = "disabled", _("残疾人")
    LOW_INCOME = "low_income", _("低保/低收入")
    SPECIAL_HARDSHIP = "special_hardship", _("特困")
    PARTY_MEMBER = "party_member", _("党员")
    TENANT = "tenant", _("租户")
    FLOATING = "floating", _("流动人口")
    ETHNIC_MINORITY = "ethnic_minority", _("少数民族")
    VETERAN = "veteran", _("退役军人")


class Relation(models.TextChoices):
    HOUSEHOLDER = "householder", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙辈")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    TENANT = "tenant", _("租住人")
    OTHER = "other", _("其他")


class Tenure(models.TextChoices):
    OWNER = "owner", _("自有住房")
    RENTED = "rented", _("租住")
    OTHER = "other", _("其他")


ETHNIC_GROUPS = (
    "汉族",
    "回族",
    "藏族",
    "彝族",
    "羌族",
    "满族",
    "蒙古族",
    "苗族",
    "土家族",
    "壮族",
    "维吾尔族",
    "朝鲜族",
)
