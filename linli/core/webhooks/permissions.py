"""Who may manage webhooks: system administrators only (partners' secrets and the delivery log)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import jurisdiction_of

from .models import Delivery, Subscription


def can_manage_webhooks(user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return jurisdiction_of(user).has_role(Role.ADMIN)


def require_webhook_admin(user) -> None:
    if not can_manage_webhooks(user):
        raise PermissionDenied


def access_subscription_by_id(user, subscription_id) -> Subscription:
    require_webhook_admin(user)
    try:
        return Subscription.objects.get(pk=int(subscription_id))
    except (Subscription.DoesNotExist, ValueError, TypeError):
        raise Http404("subscription") from None


def access_delivery_by_id(user, delivery_id) -> Delivery:
    require_webhook_admin(user)
    try:
        return Delivery.objects.select_related("event", "subscription").get(pk=int(delivery_id))
    except (Delivery.DoesNotExist, ValueError, TypeError):
        raise Http404("delivery") from None
