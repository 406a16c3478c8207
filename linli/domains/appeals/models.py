"""The appeals loop (民意诉求): categories and routing rules, the appeal itself, its timeline, the
units assigned to it, extension requests, ratings, photos and supervision notices. Notices go to
the shared inbox (``linli.core.notifications``).

Every write goes through ``services.py``; nothing here is ever deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from linli.core.orgs.choices import OrgKind
from linli.core.privacy.fields import EncryptedTextField

from .choices import (
    HANDLING_STATUSES,
    OPEN_STATUSES,
    Action,
    AppealStatus,
    AssignmentRole,
    AttachmentKind,
    Channel,
    DeadlineState,
    ExtensionStatus,
    Priority,
    RatingSource,
    RatingValue,
    SupervisionLevel,
    SupervisionTrigger,
    TimeUnit,
)


class Category(models.Model):
    """Two levels: a domain (市容环境, 城乡建设 …) and its items (暴露垃圾, 道路不洁 …). Limits are
    counted on the working-day calendar (``linli.core.workdays``); urgent "same day" is 0 days."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    default_unit_kind = models.CharField(
        _("默认承办单位类型"), max_length=32, choices=OrgKind.choices, blank=True
    )
    acceptance_limit = models.DecimalField(_("签收时限"), max_digits=6, decimal_places=2, default=2)
    acceptance_unit = models.CharField(
        _("签收时限单位"), max_length=8, choices=TimeUnit.choices, default=TimeUnit.HOURS
    )
    normal_limit = models.DecimalField(_("一般件办理时限"), max_digits=6, decimal_places=2, default=5)
    normal_unit = models.CharField(
        _("一般件时限单位"), max_length=8, choices=TimeUnit.choices, default=TimeUnit.DAYS
    )
    urgent_limit = models.DecimalField(_("紧急件办理时限"), max_digits=6, decimal_places=2, default=0)
    urgent_unit = models.CharField(
        _("紧急件时限单位"), max_length=8, choices=TimeUnit.choices, default=TimeUnit.DAYS
    )
    is_public = models.BooleanField(_("办理结果可公开"), default=True)
    questions = models.JSONField(
        _("补充问题"),
        default=list,
        blank=True,
        help_text=_(
            '列表，每项 {"code", "label", "datatype": text|number|bool|choice|date, "required", "choices"}'
        ),
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def save(self, *args, **kwargs):
        """A category moved under another domain moves its appeals' ``updated_at``, so that the
        statistics' next incremental refresh counts them under the new domain (their facts read the
        domain from the category when they are written)."""
        moved = (
            self.pk is not None
            and Category.objects.filter(pk=self.pk).exclude(parent_id=self.parent_id).exists()
        )
        with transaction.atomic():
            super().save(*args, **kwargs)
            if moved:
                Appeal.objects.filter(category_id=self.pk).update(updated_at=timezone.now())

    def limit_for(self, priority: str) -> tuple[float, str]:
        if priority == Priority.URGENT:
            return float(self.urgent_limit), self.urgent_unit
        return float(self.normal_limit), self.normal_unit


class RoutingRule(models.Model):
    """Category × area → lead unit (主办) and assisting units (协办). A rule on a child category beats
    one on its parent; a rule on a smaller area beats one on a larger (no area = the whole district);
    ``priority`` breaks ties (higher wins)."""

    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="routing_rules"
    )
    area = models.ForeignKey(
        "places.Area",
        verbose_name=_("区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空表示全区"),
    )
    lead_unit = models.ForeignKey(
        "orgs.Organisation", verbose_name=_("主办单位"), on_delete=models.PROTECT, related_name="+"
    )
    assisting_units = models.ManyToManyField(
        "orgs.Organisation", verbose_name=_("协办单位"), blank=True, related_name="+"
    )
    priority = models.SmallIntegerField(_("优先级"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("派遣规则")
        verbose_name_plural = _("派遣规则")
        ordering = ["category", "-priority", "id"]

    def __str__(self):
        return f"{self.category} · {self.area or _('全区')} → {self.lead_unit}"


class Appeal(models.Model):
    # Unique by a constraint (appeal_reference_unique), not ``unique=True``, which on PostgreSQL would
    # add a second, pattern-ops index that no query uses (references are matched exactly or by
    # ``icontains``): every index is written again by each insert and each non-HOT update.
    reference = models.CharField(_("编号"), max_length=24)
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"))
    category = models.ForeignKey(
        Category,
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    priority = models.CharField(
        _("紧急程度"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(
        _("状态"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.SUBMITTED
    )
    # place
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    grid = models.ForeignKey(
        "places.Area",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    community = models.ForeignKey(
        "places.Area",
        verbose_name=_("社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        "places.Area",
        verbose_name=_("街道"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    path = models.CharField(_("区域路径"), max_length=255)  # indexed for prefixes: appeal_path_prefix
    compound = models.ForeignKey(
        "places.Compound",
        verbose_name=_("小区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    road = models.ForeignKey(
        "places.Road",
        verbose_name=_("道路"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        db_index=False,  # never searched by road; deleting a road is refused (PROTECT) by a scan
    )
    # who
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("诉求人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        db_index=False,  # appeal_resident_created leads with it
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contact_name = EncryptedTextField(_("联系人"), blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True)
    is_private = models.BooleanField(_("不公开"), default=False)
    anonymous_to_public = models.BooleanField(_("对外匿名"), default=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=64, blank=True)
    external_source = models.CharField(_("外部来源"), max_length=40, blank=True, help_text=_("如 12345"))
    external_ref = models.CharField(_("外部编号"), max_length=64, blank=True)
    answers = models.JSONField(_("补充信息"), default=dict, blank=True)
    # routing
    lead_unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("主办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_appeals",
        db_index=False,  # appeal_unit_status leads with it
    )
    assisting_units = models.ManyToManyField(
        "orgs.Organisation", verbose_name=_("协办单位"), blank=True, related_name="assisted_appeals"
    )
    routing_rule = models.ForeignKey(
        RoutingRule,
        verbose_name=_("派遣规则"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # appeal_routing_rule: only the routed ones
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        db_index=False,  # appeal_merged_into: only the merged ones
    )
    # deadlines (working time, see linli.core.workdays)
    acceptance_due = models.DateTimeField(_("签收时限"), null=True, blank=True)
    # The colours (正常/临期/超期) are not stored: ``deadline_state`` and ``acceptance_state`` below
    # derive them from these instants and the status at the moment they are read (see docs/appeals.md).
    acceptance_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    handling_due = models.DateTimeField(_("办理时限"), null=True, blank=True)
    handling_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    deadline_epoch = models.PositiveIntegerField(
        default=0, editable=False, help_text=_("每次重新计算办理时限加一")
    )
    extended_days = models.PositiveSmallIntegerField(_("已延期工作日"), default=0)
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    # outcome
    result = models.TextField(_("办理结果"), blank=True)
    status_reason = models.CharField(_("原因"), max_length=300, blank=True)
    # milestones
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    registered_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # set by the intake follow-up task (routing, audit, webhooks, notices); see services.appeal_submit
    intake_done_at = models.DateTimeField(null=True, blank=True, editable=False)
    # publication
    published = models.BooleanField(_("已公开"), default=False)
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True)
    public_title = models.CharField(_("公开标题"), max_length=120, blank=True)
    public_body = models.TextField(_("公开内容"), blank=True)
    public_result = models.TextField(_("公开结果"), blank=True)
    public_place = models.CharField(_("公开地点"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="appeal_reference_unique"),
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="appeal_idempotency_per_submitter",
            ),
            models.UniqueConstraint(
                fields=["external_source", "external_ref"],
                condition=~Q(external_ref=""),
                name="appeal_external_ref_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="appeal_status_created"),
            models.Index(fields=["lead_unit", "status"], name="appeal_unit_status"),
            models.Index(fields=["resident", "-created_at"], name="appeal_resident_created"),
            # The deadline scan finds the cases whose 80% point or deadline fell since the last scan
            # by a range on these instants; the clocks run only in these statuses.
            models.Index(
                fields=["handling_warn_at"],
                name="appeal_clock_warn",
                condition=Q(status__in=HANDLING_STATUSES),
            ),
            models.Index(
                fields=["handling_due"],
                name="appeal_clock_due",
                condition=Q(status__in=HANDLING_STATUSES),
            ),
            models.Index(
                fields=["acceptance_warn_at"],
                name="appeal_accept_warn",
                condition=Q(status=AppealStatus.DISPATCHED),
            ),
            models.Index(
                fields=["acceptance_due"],
                name="appeal_accept_due",
                condition=Q(status=AppealStatus.DISPATCHED),
            ),
            models.Index(
                fields=["published", "-closed_at"], name="appeal_published", condition=Q(published=True)
            ),
            # Jurisdictions are matched by prefix (``path__startswith``): a pattern-ops index on
            # PostgreSQL (opclasses are ignored elsewhere), which also serves equality.
            models.Index(fields=["path"], name="appeal_path_prefix", opclasses=["varchar_pattern_ops"]),
            # Partial: most appeals have neither, and an index entry costs every insert and update.
            models.Index(
                fields=["merged_into"], name="appeal_merged_into", condition=Q(merged_into__isnull=False)
            ),
            models.Index(
                fields=["routing_rule"], name="appeal_routing_rule", condition=Q(routing_rule__isnull=False)
            ),
            # Intakes whose follow-up task has not finished (the sweep re-enqueues old ones).
            models.Index(
                fields=["created_at"], name="appeal_intake_pending", condition=Q(intake_done_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # The colours, derived when read: the handling clock runs while the case is with a unit
    # (dispatched, in progress, reopened), the acceptance clock until the lead unit signs for it.
    @property
    def deadline_state(self) -> str:
        if self.status not in HANDLING_STATUSES:
            return DeadlineState.NONE
        return colour_at(timezone.now(), self.handling_warn_at, self.handling_due)

    @property
    def acceptance_state(self) -> str:
        if self.status != AppealStatus.DISPATCHED:
            return DeadlineState.NONE
        return colour_at(timezone.now(), self.acceptance_warn_at, self.acceptance_due)

    def get_deadline_state_display(self) -> str:
        return str(DeadlineState(self.deadline_state).label)

    def get_acceptance_state_display(self) -> str:
        return str(DeadlineState(self.acceptance_state).label)


def colour_at(now, warn_at, due) -> str:
    """正常 / 临期 (from the 80% point) / 超期 (from the deadline) of one running clock."""
    if due is None:
        return DeadlineState.NONE
    if now >= due:
        return DeadlineState.RED
    if warn_at is not None and now >= warn_at:
        return DeadlineState.YELLOW
    return DeadlineState.GREEN


# Notes the platform writes on its own. The event keeps the note in Chinese (the record's language, as
# exports, webhooks and notifications carry it) and the key and arguments in ``data``, so that each
# reader sees it in their own language (``AppealEvent.shown_note``).
SYSTEM_NOTES = {
    "auto_register": _("系统自动登记"),
    "auto_dispatch": _("系统按派遣规则自动派遣"),
    "master_closed": _("主件 %(ref)s 已办结"),
    "triage_category": _("智能分拨按内容确定类别“%(c)s”（置信度 %(p)s%%）"),
}


def system_note(key: str, **args) -> tuple[str, dict]:
    """``(note, data)`` for an event written by the platform: the note in Chinese, and what
    ``shown_note`` needs to say it in the reader's language."""
    with translation.override("zh-hans"):
        note = str(SYSTEM_NOTES[key]) % args if args else str(SYSTEM_NOTES[key])
    return note, {"note_key": key, "note_args": args}


class AppealEvent(models.Model):
    """The timeline: one row per thing that happened to an appeal. ``public`` rows are shown to the
    resident (and, once published, to everyone)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=24, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=16, choices=AppealStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=AppealStatus.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    public = models.BooleanField(_("对诉求人可见"), default=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("诉求记录")
        verbose_name_plural = _("诉求记录")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["appeal", "at"], name="appeal_event_timeline"),
            # the platform's own dispatches, newest first (triage's "recently dispatched automatically")
            models.Index(
                fields=["-at"],
                name="appeal_event_auto_dispatch",
                condition=models.Q(action="dispatch", actor__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.appeal.reference} {self.get_action_display()}"

    @property
    def shown_note(self) -> str:
        """The note in the active language when the platform wrote it (``system_note``), else as
        written."""
        key = (self.data or {}).get("note_key")
        if key not in SYSTEM_NOTES:
            return self.note
        args = self.data.get("note_args") or {}
        try:
            return str(SYSTEM_NOTES[key]) % args if args else str(SYSTEM_NOTES[key])
        except (KeyError, TypeError, ValueError):
            return self.note


class Assignment(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("单位"),
        on_delete=models.PROTECT,
        related_name="appeal_assignments",
    )
    role = models.CharField(_("角色"), max_length=8, choices=AssignmentRole.choices)
    assigned_at = models.DateTimeField(_("派遣时间"), default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.TextField(_("办理情况"), blank=True)
    handled_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    ended_reason = models.CharField(_("结束原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("承办")
        verbose_name_plural = _("承办")
        ordering = ["appeal", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal", "unit"], condition=Q(is_active=True), name="assignment_one_active_per_unit"
            ),
            models.UniqueConstraint(
                fields=["appeal"],
                condition=Q(is_active=True, role=AssignmentRole.LEAD),
                name="assignment_one_active_lead",
            ),
        ]
        indexes = [models.Index(fields=["unit", "is_active"], name="assignment_unit_active")]

    def __str__(self):
        return f"{self.appeal.reference} · {self.unit} · {self.get_role_display()}"


class ExtensionRequest(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="extension_requests")
    unit = models.ForeignKey(
        "orgs.Organisation", verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    days = models.PositiveSmallIntegerField(_("延期工作日"))
    reason = models.TextField(_("理由"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal"], condition=Q(status=ExtensionStatus.PENDING), name="extension_one_pending"
            ),
        ]

    def __str__(self):
        return f"{self.appeal.reference} +{self.days}"


class Rating(models.Model):
    """One per closing round: the resident's own, or recorded by staff from a call-back (回访)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="ratings")
    round = models.PositiveSmallIntegerField(_("办理轮次"))
    value = models.CharField(_("评价"), max_length=24, choices=RatingValue.choices)
    comment = models.TextField(_("意见"), blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=RatingSource.choices)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["appeal", "round"]
        constraints = [models.UniqueConstraint(fields=["appeal", "round"], name="rating_one_per_round")]

    def __str__(self):
        return f"{self.appeal.reference} {self.get_value_display()}"


def attachment_path(instance, filename):
    now = timezone.now()
    return f"appeals/{now:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}{_ext(instance.content_type)}"


def attachment_public_path(instance, filename):
    now = timezone.now()
    return f"appeals/public/{now:%Y/%m}/{instance.sha256}{_ext(instance.content_type)}"


def _ext(content_type: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}.get(
        content_type, ".bin"
    )


class Attachment(models.Model):
    """A photo. ``file`` is the original (staff only); ``public_file`` is a copy without EXIF data
    (location, camera) for the resident's timeline and the public page."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(
        AppealEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to=attachment_path)
    public_file = models.FileField(_("公开副本"), upload_to=attachment_public_path, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.appeal.reference} {self.get_kind_display()}"


class Supervision(models.Model):
    """催办 (reminder) or 督办 (supervision) to the unit. Automatic ones are created by the deadline
    scan once per trigger and deadline epoch; dispatchers add manual ones.

    ``appeal`` and ``unit`` have no database constraint: rows are only ever written from an existing
    case (the scan's INSERT … SELECT over the appeals table, ``appeal_supervise`` on a locked case) and
    neither cases nor units are deleted (PROTECT), while the constraint's per-row check (a row lock on
    the case) was most of what a catch-up scan of 70,000 crossings cost (docs/appeals.md)."""

    appeal = models.ForeignKey(
        Appeal, on_delete=models.PROTECT, related_name="supervisions", db_constraint=False
    )
    unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("被督办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeal_supervisions",
        db_constraint=False,
        db_index=False,  # never searched by unit; one index less for every record the scan writes
    )
    level = models.CharField(_("级别"), max_length=12, choices=SupervisionLevel.choices)
    trigger = models.CharField(_("触发"), max_length=16, choices=SupervisionTrigger.choices)
    epoch = models.PositiveIntegerField(default=0)
    note = models.TextField(_("督办意见"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # never searched by; the scan's rows leave it empty
    )
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal", "trigger", "epoch"],
                condition=~Q(trigger=SupervisionTrigger.MANUAL),
                name="supervision_auto_once",
            ),
        ]

    def __str__(self):
        return f"{self.appeal.reference} {self.get_level_display()}"


class ReferenceCounter(models.Model):
    """Daily sequence for reference numbers (JN20261126-0001)."""

    key = models.CharField(primary_key=True, max_length=16)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("编号计数")
        verbose_name_plural = _("编号计数")

    def __str__(self):
        return f"{self.key}: {self.value}"


class AppealFollow(models.Model):
    """A resident who follows (supports) someone else's open case instead of reporting the same
    problem again: one row per resident and case. Followers hear of the case's status changes and
    closing; the hot-issue heat counts them as supports."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="follows")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("关注居民"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("关注时间"), default=timezone.now)
    source = models.CharField(_("来源"), max_length=24, blank=True, help_text=_("如 duplicate_offer"))

    class Meta:
        verbose_name = _("关注")
        verbose_name_plural = _("关注")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["appeal", "resident"], name="appeal_follow_once"),
        ]
        indexes = [models.Index(fields=["resident", "-created_at"], name="appeal_follow_resident")]

    def __str__(self):
        return f"{self.appeal.reference} ← {self.resident_id}"


class DeadlineScan(models.Model):
    """Where the deadline scan (``tasks.appeal_deadline_scan``) has got to: one row, locked by each
    scan, so scans run one after the other. ``scanned_until`` is the moment up to which every 80%
    point and deadline has been acted on; the next scan looks at the instants after it (less a
    margin for late commits) up to its own start, however long the worker was down."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    scanned_until = models.DateTimeField(null=True, blank=True)
    scans = models.PositiveIntegerField(default=0, help_text=_("已完成的扫描次数，汇总通知的编号"))
    last_counts = models.JSONField(default=dict, blank=True)
    last_seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("时限扫描")
        verbose_name_plural = _("时限扫描")

    def __str__(self):
        return f"{self.scans} · {self.scanned_until}"
