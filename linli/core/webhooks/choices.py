from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待投递")
    DELIVERED = "delivered", _("已投递")
    PARKED = "parked", _("已搁置")


class EventType(models.TextChoices):
    """What partners may subscribe to. ``appeal.status_changed`` accompanies every change of status;
    the others name the milestone."""

    APPEAL_CREATED = "appeal.created", _("诉求提交")
    APPEAL_STATUS_CHANGED = "appeal.status_changed", _("诉求状态变化（每次）")
    APPEAL_REGISTERED = "appeal.registered", _("立案")
    APPEAL_REJECTED = "appeal.rejected", _("不予受理")
    APPEAL_MERGED = "appeal.merged", _("合并")
    APPEAL_DISPATCHED = "appeal.dispatched", _("派遣")
    APPEAL_SIGNED = "appeal.signed", _("承办单位签收")
    APPEAL_HANDLED = "appeal.handled", _("办理完毕待核查")
    APPEAL_RETURNED = "appeal.returned", _("退回")
    APPEAL_CLOSED = "appeal.closed", _("办结")
    APPEAL_REOPENED = "appeal.reopened", _("重新办理")
    APPEAL_WITHDRAWN = "appeal.withdrawn", _("撤回")
    APPEAL_RATED = "appeal.rated", _("评价")
    PING = "webhook.ping", _("测试事件")
