from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaKind(models.TextChoices):
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    GRID = "grid", _("网格")


# Which kind may sit under which: district → street → community → grid.
CHILD_KIND = {
    AreaKind.DISTRICT: AreaKind.STREET,
    AreaKind.STREET: AreaKind.COMMUNITY,
    AreaKind.COMMUNITY: AreaKind.GRID,
}


class AreaSource(models.TextChoices):
    """Which measure of a flat's floor area is used (Civil Code art. 278 counting)."""

    REGISTERED = "registered", _("不动产登记面积")
    SURVEYED = "surveyed", _("测绘面积")
    CONTRACT = "contract", _("合同面积")
