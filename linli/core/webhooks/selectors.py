from __future__ import annotations

from django.db.models import QuerySet

from .models import Delivery


def delivery_log(
    *, status: str = "", subscription_id: int | None = None, event_type: str = ""
) -> QuerySet[Delivery]:
    qs = Delivery.objects.select_related("event", "subscription")
    if status:
        qs = qs.filter(status=status)
    if subscription_id:
        qs = qs.filter(subscription_id=subscription_id)
    if event_type:
        qs = qs.filter(event__event_type=event_type)
    return qs.order_by("-created_at", "-id")
