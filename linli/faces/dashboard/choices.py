from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", _("周报")
    MONTHLY = "monthly", _("月报")
    CUSTOM = "custom", _("自定义时段")


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class MapMetric(models.TextChoices):
    OPEN = "open", _("在办")
    OVERDUE = "overdue", _("超期")
    NEW = "new", _("新增")


class MapLevel(models.TextChoices):
    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")


class RateGroup(models.TextChoices):
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    DEPARTMENT = "department", _("承办单位")
    CATEGORY = "category", _("类别")
