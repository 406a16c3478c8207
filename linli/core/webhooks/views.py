"""Administrator pages: partners' subscriptions, the delivery log with its attempt history, replay."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .choices import DeliveryStatus
from .forms import DeliveryFilterForm, SubscriptionForm
from .models import Subscription
from .permissions import access_delivery_by_id, access_subscription_by_id, require_webhook_admin
from .selectors import delivery_log


def _error(request, exc: ValidationError) -> None:
    messages.error(request, "; ".join(exc.messages))


@login_required
def subscriptions(request):
    require_webhook_admin(request.user)
    rows = Subscription.objects.order_by("partner", "id")
    counts = {}
    for sub_id, status in delivery_log().values_list("subscription_id", "status").order_by():
        counts.setdefault(sub_id, {}).setdefault(status, 0)
        counts[sub_id][status] += 1
    for sub in rows:
        sub.counts = counts.get(sub.pk, {})
    return render(request, "webhooks/subscriptions.html", {"rows": rows})


def _save(request, form: SubscriptionForm, subscription: Subscription | None):
    d = form.cleaned_data
    args = {
        "actor": request.user,
        "partner": d["partner"],
        "target_url": d["target_url"],
        "event_types": d["event_types"],
        "external_source": d["external_source"],
        "note": d["note"],
        "is_active": d["is_active"],
    }
    if subscription is None:
        return services.subscription_create(**args)
    return services.subscription_update(subscription=subscription, **args), None


@login_required
def subscription_create(request):
    require_webhook_admin(request.user)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = _save(request, form, None)
        except ValidationError as exc:
            _error(request, exc)
        else:
            # The secret is shown this once; afterwards only a new one can be made.
            return render(request, "webhooks/secret.html", {"subscription": subscription, "secret": secret})
    return render(request, "webhooks/subscription_form.html", {"form": form, "subscription": None})


@login_required
def subscription_edit(request, subscription_id: int):
    subscription = access_subscription_by_id(request.user, subscription_id)
    initial = {
        "partner": subscription.partner,
        "target_url": subscription.target_url,
        "event_types": subscription.event_types,
        "external_source": subscription.external_source,
        "note": subscription.note,
        "is_active": subscription.is_active,
    }
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            _save(request, form, subscription)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("webhooks:subscriptions")
    return render(request, "webhooks/subscription_form.html", {"form": form, "subscription": subscription})


@login_required
@require_POST
def subscription_rotate(request, subscription_id: int):
    subscription = access_subscription_by_id(request.user, subscription_id)
    secret = services.subscription_rotate_secret(actor=request.user, subscription=subscription)
    return render(
        request, "webhooks/secret.html", {"subscription": subscription, "secret": secret, "rotated": True}
    )


@login_required
@require_POST
def subscription_ping(request, subscription_id: int):
    subscription = access_subscription_by_id(request.user, subscription_id)
    event = services.subscription_ping(actor=request.user, subscription=subscription)
    messages.success(request, _("已发送测试事件 %(id)s") % {"id": event.event_id})
    return redirect(reverse("webhooks:deliveries") + "?" + urlencode({"subscription": subscription.pk}))


def _filtered(data):
    form = DeliveryFilterForm(data or None)
    filters = {"status": "", "subscription_id": None, "event_type": ""}
    if form.is_valid():
        d = form.cleaned_data
        filters = {
            "status": d["status"],
            "subscription_id": d["subscription"].pk if d["subscription"] else None,
            "event_type": d["event_type"],
        }
    return form, filters


@login_required
def deliveries(request):
    require_webhook_admin(request.user)
    form, filters = _filtered(request.GET)
    page = Paginator(delivery_log(**filters), 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "webhooks/deliveries.html",
        {"form": form, "page": page, "querystring": params.urlencode(), "parked": DeliveryStatus.PARKED},
    )


@login_required
@require_POST
def deliveries_replay(request):
    """Replay the ticked deliveries, or every parked one matching the filters (``all_parked``)."""
    require_webhook_admin(request.user)
    querystring = request.POST.get("querystring", "")
    if request.POST.get("all_parked"):
        _form, filters = _filtered(request.POST)  # the page's filters, sent as hidden fields
        filters["status"] = DeliveryStatus.PARKED
        ids = list(delivery_log(**filters).values_list("pk", flat=True)[: services.max_replay()])
    else:
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    if not ids:
        messages.info(request, _("没有需要重放的投递"))
    else:
        try:
            rows = services.deliveries_replay(actor=request.user, delivery_ids=ids)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("已重新排队 %(n)d 条投递") % {"n": len(rows)})
    return redirect(reverse("webhooks:deliveries") + ("?" + querystring if querystring else ""))


@login_required
def delivery(request, delivery_id: int):
    row = access_delivery_by_id(request.user, delivery_id)
    body = json.dumps(row.event.envelope(), ensure_ascii=False, indent=2, sort_keys=True)
    return render(
        request,
        "webhooks/delivery.html",
        {"d": row, "attempts": row.attempt_log.order_by("at", "id"), "body": body},
    )


@login_required
@require_POST
def delivery_replay(request, delivery_id: int):
    row = access_delivery_by_id(request.user, delivery_id)
    try:
        services.delivery_replay(actor=request.user, delivery=row)
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("已重新排队"))
    return redirect("webhooks:delivery", delivery_id=row.pk)
