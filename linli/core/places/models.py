"""The district's geography: administrative areas and grids (polygons), compounds, buildings, flats
and roads. Coordinates are WGS-84 longitude/latitude; boundaries are GeoJSON geometries."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import AreaKind, AreaSource


class Area(models.Model):
    """District, street (街道), community (社区) or grid cell (网格). ``path`` is the chain of codes
    from the district down (``510106/510106001/…/``), so everything inside an area is one prefix
    query away; it is kept by ``places.services``."""

    kind = models.CharField(_("层级"), max_length=16, choices=AreaKind.choices, db_index=True)
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    centroid_lng = models.FloatField(_("中心经度"), null=True, blank=True)
    centroid_lat = models.FloatField(_("中心纬度"), null=True, blank=True)
    population = models.PositiveIntegerField(_("常住人口"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["path"]

    def __str__(self):
        return self.name

    def is_within(self, other: "Area") -> bool:
        return self.path.startswith(other.path)


class Road(models.Model):
    name = models.CharField(_("道路名称"), max_length=100)
    street = models.ForeignKey(
        Area,
        verbose_name=_("所属街道"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="roads",
    )
    geometry = models.JSONField(_("走向 (GeoJSON)"), null=True, blank=True)

    class Meta:
        verbose_name = _("道路")
        verbose_name_plural = _("道路")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Compound(models.Model):
    """小区 or 院落: the unit of self-governance."""

    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(
        _("编码"), max_length=32, blank=True, default="", help_text=_("可选；导入 GeoJSON 时按编码更新")
    )
    aliases = models.CharField(_("别名"), max_length=200, blank=True, help_text=_("以顿号或逗号分隔"))
    community = models.ForeignKey(
        Area, verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="compounds"
    )
    grid = models.ForeignKey(
        Area,
        verbose_name=_("所属网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_compounds",
    )
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    road = models.ForeignKey(
        Road,
        verbose_name=_("所在道路"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="compounds",
    )
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    centroid_lng = models.FloatField(_("中心经度"))
    centroid_lat = models.FloatField(_("中心纬度"))
    built_year = models.PositiveSmallIntegerField(_("建成年份"), null=True, blank=True)
    has_property_company = models.BooleanField(_("有物业公司"), default=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("小区/院落")
        verbose_name_plural = _("小区/院落")
        ordering = ["path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~models.Q(code=""), name="compound_code_unique"
            )
        ]

    def __str__(self):
        return self.name


class Building(models.Model):
    compound = models.ForeignKey(
        Compound, verbose_name=_("小区"), on_delete=models.PROTECT, related_name="buildings"
    )
    name = models.CharField(_("楼栋"), max_length=50)
    grid = models.ForeignKey(
        Area, verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="buildings"
    )
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False)
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    floors = models.PositiveSmallIntegerField(_("层数"), default=6)
    units = models.PositiveSmallIntegerField(_("单元数"), default=1)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["compound", "name"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "name"], name="building_unique_in_compound")
        ]

    def __str__(self):
        return f"{self.compound.name}{self.name}"


class Flat(models.Model):
    """One dwelling (房屋): building → unit (单元) → room. Its floor area counts in owners' votes."""

    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="flats"
    )
    unit = models.CharField(_("单元"), max_length=20)
    room = models.CharField(_("房号"), max_length=20)
    floor = models.SmallIntegerField(_("楼层"), default=1)
    floor_area = models.DecimalField(
        _("专有部分面积 (㎡)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    area_source = models.CharField(
        _("面积来源"), max_length=16, choices=AreaSource.choices, default=AreaSource.REGISTERED
    )
    is_rental = models.BooleanField(_("出租房屋"), default=False)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["building", "unit", "room"]
        constraints = [
            models.UniqueConstraint(fields=["building", "unit", "room"], name="flat_unique_in_building")
        ]

    def __str__(self):
        return f"{self.building}{self.unit}{self.room}"
