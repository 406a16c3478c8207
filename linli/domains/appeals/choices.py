from django.db import models
from django.utils.translation import gettext_lazy as _


class AppealStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    REGISTERED = "registered", _("已立案")
    DISPATCHED = "dispatched", _("已派遣")
    IN_PROGRESS = "in_progress", _("处置中")
    HANDLED = "handled", _("待核查")
    CLOSED = "closed", _("已办结")
    # side states
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已合并")
    RETURNED = "returned", _("已退回")
    WITHDRAWN = "withdrawn", _("已撤回")
    REOPENED = "reopened", _("重新办理")


# Statuses in which a case is still being worked on (deadline scan, queues).
OPEN_STATUSES = (
    AppealStatus.SUBMITTED,
    AppealStatus.REGISTERED,
    AppealStatus.DISPATCHED,
    AppealStatus.IN_PROGRESS,
    AppealStatus.HANDLED,
    AppealStatus.RETURNED,
    AppealStatus.REOPENED,
)
# Statuses in which the handling clock runs for the assigned unit.
HANDLING_STATUSES = (AppealStatus.DISPATCHED, AppealStatus.IN_PROGRESS, AppealStatus.REOPENED)
FINAL_STATUSES = (AppealStatus.CLOSED, AppealStatus.REJECTED, AppealStatus.MERGED, AppealStatus.WITHDRAWN)


class Priority(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Channel(models.TextChoices):
    WEB = "web", _("网页")
    MOBILE = "mobile", _("手机")
    HOTLINE = "hotline", _("热线电话")
    WALK_IN = "walk_in", _("来访")
    PATROL = "patrol", _("网格巡查")
    API = "api", _("接口")
    DEVICE = "device", _("设备告警")


# Channels on which staff enter the case on a resident's behalf.
STAFF_CHANNELS = (Channel.HOTLINE, Channel.WALK_IN)


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("工作小时")
    DAYS = "days", _("工作日")


class DeadlineState(models.TextChoices):
    NONE = "none", _("未计时")
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("临期")
    RED = "red", _("超期")


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("主办")
    ASSIST = "assist", _("协办")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("不予批准")


class RatingValue(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


SATISFIED_VALUES = (RatingValue.SATISFIED, RatingValue.BASICALLY_SATISFIED)


class RatingSource(models.TextChoices):
    RESIDENT = "resident", _("居民评价")
    CALLBACK = "callback", _("电话回访")


class AttachmentKind(models.TextChoices):
    REPORT = "report", _("反映照片")
    BEFORE = "before", _("处置前")
    AFTER = "after", _("处置后")
    EVIDENCE = "evidence", _("佐证材料")
    RESULT = "result", _("办理结果")


class SupervisionLevel(models.TextChoices):
    REMINDER = "reminder", _("催办")
    SUPERVISION = "supervision", _("督办")


class SupervisionTrigger(models.TextChoices):
    YELLOW = "yellow", _("临期预警")
    RED = "red", _("超期")
    ACCEPTANCE_RED = "acceptance_red", _("签收超时")
    MANUAL = "manual", _("人工督办")


class Action(models.TextChoices):
    """What an AppealEvent records."""

    SUBMIT = "submit", _("提交")
    REGISTER = "register", _("立案")
    REJECT = "reject", _("不予受理")
    MERGE = "merge", _("合并")
    ROUTE = "route", _("确定承办单位")
    DISPATCH = "dispatch", _("派遣")
    SIGN = "sign", _("签收")
    HANDLE = "handle", _("办理")
    RETURN = "return", _("退回")
    EXTENSION_REQUEST = "extension_request", _("申请延期")
    EXTENSION_DECIDE = "extension_decide", _("延期审批")
    VERIFY = "verify", _("核查")
    CLOSE = "close", _("办结")
    REOPEN = "reopen", _("重新办理")
    WITHDRAW = "withdraw", _("撤回")
    RATE = "rate", _("评价")
    SUPERVISE = "supervise", _("督办")
    PUBLISH = "publish", _("公开")
    DEADLINE = "deadline", _("时限预警")
    SUPPLEMENT = "supplement", _("补充材料")
    ASSIST_REPORT = "assist_report", _("协办结果")
    CATEGORISE = "categorise", _("智能分类")
