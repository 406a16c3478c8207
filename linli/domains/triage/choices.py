"""Statuses of smart triage's records."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ModelStatus(models.TextChoices):
    TRAINING = "training", _("训练中")
    READY = "ready", _("待启用")
    FAILED = "failed", _("训练失败")
    ACTIVE = "active", _("使用中")
    RETIRED = "retired", _("已停用")


# status → the statuses it may move to (services check this table).
MODEL_TRANSITIONS: dict[str, frozenset[str]] = {
    ModelStatus.TRAINING: frozenset({ModelStatus.READY, ModelStatus.FAILED}),
    ModelStatus.READY: frozenset({ModelStatus.ACTIVE}),
    ModelStatus.FAILED: frozenset(),
    ModelStatus.ACTIVE: frozenset({ModelStatus.RETIRED}),
    ModelStatus.RETIRED: frozenset({ModelStatus.ACTIVE}),
}


class CorrectionKind(models.TextChoices):
    CATEGORY = "category", _("改类别")
    UNIT = "unit", _("改派单位")
