"""Smart triage's records: the registry of trained models, imported training messages, the model's
reading of each appeal and the dispatchers' corrections of it.

Model files live under ``MEDIA_ROOT/triage/`` (never in the repository); a row here says what each file
is, what it was trained on and how good it is. Every write goes through ``services.py``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import CorrectionKind, ModelStatus


class TriageModel(models.Model):
    """One trained version of the category classifier. At most one is active."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ModelStatus.choices, default=ModelStatus.TRAINING
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # what it was trained on
    options = models.JSONField(_("训练选项"), default=dict, blank=True)
    sources = models.JSONField(
        _("训练数据来源"), default=list, blank=True, help_text=_('[{"kind", "name", "rows"}]')
    )
    n_train = models.PositiveIntegerField(_("训练样本数"), default=0)
    labels = models.JSONField(
        _("标签与类别"), default=dict, blank=True, help_text=_("模型标签 → 诉求类别 id")
    )
    # the file
    file = models.CharField(_("模型文件"), max_length=200, blank=True, help_text=_("相对 MEDIA_ROOT"))
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("文件大小"), default=0)
    # cross-validated quality
    macro_f1 = models.FloatField(_("宏平均F1"), null=True, blank=True)
    accuracy = models.FloatField(_("准确率"), null=True, blank=True)
    metrics = models.JSONField(
        _("分类指标"),
        default=dict,
        blank=True,
        help_text=_("folds, labels, per_class {precision, recall, f1, support}, confusion"),
    )
    train_seconds = models.FloatField(_("训练耗时（秒）"), null=True, blank=True)
    # progress of a running training
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    progress_message = models.CharField(_("进度说明"), max_length=200, blank=True)
    progress_at = models.DateTimeField(
        _("最近进度时间"),
        null=True,
        blank=True,
        help_text=_("训练每报告一次进度更新；久无更新视为进程已中断"),
    )
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("分拨模型")
        verbose_name_plural = _("分拨模型")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=ModelStatus.ACTIVE), name="triage_one_active_model"
            ),
        ]

    def __str__(self):
        return f"v{self.version} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status == ModelStatus.TRAINING


class TrainingSet(models.Model):
    """An imported CSV of past messages (``title``, ``body``, ``label``, optional ``id``,
    ``submitted_at``) and how its labels map to categories. Unmapped labels are left out of training."""

    name = models.CharField(_("名称"), max_length=120)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    label_counts = models.JSONField(_("各标签行数"), default=dict, blank=True)
    mapping = models.JSONField(_("标签对应类别"), default=dict, blank=True, help_text=_("标签 → 类别 id"))
    is_active = models.BooleanField(_("用于训练"), default=True)

    class Meta:
        verbose_name = _("导入的训练数据")
        verbose_name_plural = _("导入的训练数据")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.rows})"

    @property
    def mapped_rows(self) -> int:
        return sum(n for label, n in self.label_counts.items() if self.mapping.get(label))


class TrainingExample(models.Model):
    training_set = models.ForeignKey(TrainingSet, on_delete=models.CASCADE, related_name="examples")
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    label = models.CharField(max_length=60)
    external_id = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["training_set", "label"], name="triage_example_label")]

    def __str__(self):
        return f"{self.label}: {self.title[:30]}"


class TriagePrediction(models.Model):
    """What a model read in one appeal: its three likeliest categories. Kept so the queue can be
    sorted by confidence and a dispatcher's different choice can be recognised as a correction."""

    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.CASCADE, related_name="triage_predictions")
    model = models.ForeignKey(TriageModel, on_delete=models.PROTECT, related_name="predictions")
    category = models.ForeignKey(
        "appeals.Category", verbose_name=_("预测类别"), on_delete=models.PROTECT, related_name="+"
    )
    probability = models.FloatField(_("预测概率"))
    top = models.JSONField(default=list, help_text=_('[{"category": id, "p": 0.9}] 可能性从高到低'))
    confidence = models.FloatField(_("置信度"), help_text=_("诉求当前类别的概率（未选类别时为最高概率）"))
    unit = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("分拨预测")
        verbose_name_plural = _("分拨预测")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["appeal", "model"], name="triage_prediction_once_per_model")
        ]
        indexes = [models.Index(fields=["appeal", "-created_at"], name="triage_prediction_latest")]

    def __str__(self):
        return f"{self.appeal_id} → {self.category_id} ({self.probability:.2f})"


class TriageCorrection(models.Model):
    """A dispatcher chose something other than what the model predicted: another category (at
    registration or routing) or another lead unit (re-routing). The next training weighs these up."""

    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.CASCADE, related_name="triage_corrections")
    kind = models.CharField(_("类型"), max_length=10, choices=CorrectionKind.choices)
    model = models.ForeignKey(TriageModel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    predicted_category = models.ForeignKey(
        "appeals.Category",
        verbose_name=_("预测类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    chosen_category = models.ForeignKey(
        "appeals.Category",
        verbose_name=_("改为类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    predicted_unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("建议单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    chosen_unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("改派单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调度员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("调度员纠正")
        verbose_name_plural = _("调度员纠正")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["appeal", "kind"], name="triage_correction_appeal")]

    def __str__(self):
        return f"{self.appeal_id} {self.get_kind_display()}"
