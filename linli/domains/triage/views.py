"""Pages of smart triage: category suggestions for the appeal forms (JSON), the dispatchers' triage
queue, and the administrators' model registry (quality, activation, roll-back, retraining with
progress) and training-data imports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import is_ratelimited

from linli.core.orgs.jurisdiction import is_staff_member
from linli.domains.appeals import permissions as appeal_permissions

from . import selectors, services, suggest
from .choices import ModelStatus
from .forms import ImportForm, MappingForm, TrainForm
from .models import TrainingSet, TriageModel, TriagePrediction

PAGE_SIZE = 30
USABLE_STATUSES = (ModelStatus.READY, ModelStatus.ACTIVE, ModelStatus.RETIRED)
QUEUE_LIMIT = 300  # waiting cases read (and predicted) for one queue page
SUGGEST_MIN_CHARS = 4


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _require_admin(request) -> None:
    if not services.is_triage_admin(request.user):
        raise PermissionDenied(_("只有系统管理员可以管理分拨模型 / administrators only"))


def _require_dispatcher(request) -> None:
    if not appeal_permissions.is_dispatcher(request.user):
        raise PermissionDenied(_("只有调度员可以查看分拨队列 / dispatchers only"))


# --- suggestions while typing ----------------------------------------------------------------------


@login_required
@require_POST
def suggest_view(request):
    """The three likeliest categories of the title and body typed so far (residents and staff)."""
    user = request.user
    if not (getattr(user, "is_resident", False) or is_staff_member(user)):
        raise PermissionDenied
    if is_ratelimited(
        request, group="triage-suggest", key="user", rate="120/m", method="POST", increment=True
    ):
        return JsonResponse({"error": "rate_limited"}, status=429)
    title = request.POST.get("title", "")[:120]
    body = request.POST.get("body", "")[:4000]
    if len((title + body).strip()) < SUGGEST_MIN_CHARS:
        return JsonResponse({"model": None, "suggestions": []})
    model, found = suggest.suggest_categories(title, body, k=3)
    return JsonResponse({"model": model.version if model else None, "suggestions": found})


# --- the dispatchers' queue ------------------------------------------------------------------------


def _ensure_predictions(appeals) -> None:
    """Read the appeals the active model has not read yet (those without a category never reach
    the suggester at intake)."""
    model = suggest.active()
    if model is None:
        return
    done = set(
        TriagePrediction.objects.filter(
            appeal_id__in=[a.pk for a in appeals], model_id=model.model_id
        ).values_list("appeal_id", flat=True)
    )
    for appeal in appeals:
        if appeal.pk not in done:
            suggest.suggest_route(appeal)


def _rows(appeals) -> list[dict]:
    predictions = selectors.latest_predictions(a.pk for a in appeals)
    names = selectors.category_names(
        entry["category"] for p in predictions.values() for entry in (p.top or [])
    )
    rows = []
    for appeal in appeals:
        p = predictions.get(appeal.pk)
        top = []
        if p is not None:
            for entry in p.top or []:
                category = names.get(entry["category"])
                if category is not None:
                    top.append({"category": category, "p": entry["p"]})
        rows.append(
            {
                "appeal": appeal,
                "prediction": p,
                "confidence": None if p is None else round(p.confidence * 100),
                "p": None if p is None else p.confidence,
                "top": top,
            }
        )
    return rows


@login_required
@require_GET
def queue(request):
    """Cases waiting for a person, the surest first (or the least sure first), with the model's top
    three; and the latest cases the model dispatched by itself."""
    _require_dispatcher(request)
    order = request.GET.get("order", "sure")
    appeals = list(selectors.waiting_appeals(request.user)[:QUEUE_LIMIT])
    _ensure_predictions(appeals)
    rows = _rows(appeals)
    unread = [r for r in rows if r["confidence"] is None]
    read = sorted(
        (r for r in rows if r["confidence"] is not None),
        key=lambda r: (r["prediction"].confidence, r["appeal"].created_at),
        reverse=order != "unsure",
    )
    page = Paginator(read + unread, PAGE_SIZE).get_page(request.GET.get("page"))
    auto = selectors.recent_auto_dispatched(request.user, limit=10)
    model = selectors.active_model()
    return render(
        request,
        "triage/queue.html",
        {
            "problem": services.model_problem(model) if model else "",
            "page": page,
            "order": "unsure" if order == "unsure" else "sure",
            "model": model,
            "auto": auto,
            "total": len(rows),
            "is_admin": services.is_triage_admin(request.user),
        },
    )


# --- the model registry (administrators) -----------------------------------------------------------


def _echarts() -> bool:
    return bool(finders.find("vendor/echarts/echarts.min.js"))


@login_required
def models_view(request):
    _require_admin(request)
    form = TrainForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                model = services.triage_model_train(
                    actor=request.user,
                    platform=d["platform"],
                    set_ids=[s.pk for s in d["sets"]],
                    use_corrections=d["corrections"],
                )
            except ValidationError as exc:
                messages.error(request, _message(exc))
            else:
                messages.success(request, _("已开始训练版本 %(v)s。") % {"v": model.version})
                return redirect("triage:models")
        else:
            for error in form.non_field_errors():
                messages.error(request, error)
    for version in services.triage_training_sweep():
        messages.warning(
            request,
            _("版本 %(v)s 长时间没有进度，已标记为训练失败，可以重新训练。") % {"v": version},
        )
    models = list(selectors.model_list()[:50])
    for m in models:
        m.problem = services.model_problem(m) if m.status in USABLE_STATUSES else ""
    active = next((m for m in models if m.status == ModelStatus.ACTIVE), None)
    return render(
        request,
        "triage/models.html",
        {
            "models": models,
            "active": active,
            "rollback_to": selectors.rollback_target(active),
            "running": [m for m in models if m.status == ModelStatus.TRAINING],
            "form": form,
            "sets": TrainingSet.objects.order_by("-uploaded_at")[:20],
            "corrections": selectors.corrections(limit=10),
        },
    )


def _quality(model: TriageModel) -> dict:
    metrics = model.metrics or {}
    labels = metrics.get("labels") or []
    names = selectors.category_names(model.labels.get(label) for label in labels if model.labels.get(label))
    display = [str(names.get(model.labels.get(label), label)) for label in labels]
    per_class = metrics.get("per_class") or {}
    table = [
        {"label": label, "name": name, **per_class.get(label, {})}
        for label, name in zip(labels, display, strict=True)
    ]
    matrix = metrics.get("confusion") or []
    heat = []
    for name, row in zip(display, matrix, strict=False):
        total = sum(row) or 1
        heat.append(
            {
                "name": name,
                "cells": [{"n": n, "level": min(5, round(5 * n / total)) if n else 0} for n in row],
            }
        )
    return {
        "table": table,
        "heat": heat,
        "names": display,
        "chart": {"names": display, "matrix": matrix},
    }


@login_required
def model_detail(request, version: int):
    _require_admin(request)
    model = get_object_or_404(
        TriageModel.objects.select_related("trained_by", "activated_by"), version=version
    )
    problem = services.model_problem(model) if model.status in USABLE_STATUSES else ""
    return render(
        request,
        "triage/model_detail.html",
        {"model": model, "q": _quality(model), "echarts": _echarts(), "problem": problem},
    )


@login_required
@require_GET
def model_progress(request, version: int):
    _require_admin(request)
    model = get_object_or_404(TriageModel, version=version)
    if model.status == ModelStatus.TRAINING and services.triage_training_sweep():
        model.refresh_from_db()
    return JsonResponse(
        {
            "version": model.version,
            "status": model.status,
            "status_display": model.get_status_display(),
            "progress": model.progress,
            "message": model.progress_message,
            "error": model.error[:300],
            "macro_f1": model.macro_f1,
            "done": model.status != ModelStatus.TRAINING,
        }
    )


@login_required
@require_POST
def model_act(request, version: int, action: str):
    _require_admin(request)
    model = get_object_or_404(TriageModel, version=version)
    try:
        if action == "activate":
            services.triage_model_activate(actor=request.user, model=model)
            messages.success(request, _("已启用版本 %(v)s。") % {"v": model.version})
        elif action == "retire":
            services.triage_model_retire(actor=request.user, model=model)
            messages.success(request, _("已停用版本 %(v)s，暂按派遣规则分拨。") % {"v": model.version})
        elif action == "retrain":
            new = services.triage_model_retrain(actor=request.user, model=model)
            messages.success(
                request,
                _("已按版本 %(old)s 的选项开始训练版本 %(v)s。") % {"old": model.version, "v": new.version},
            )
        else:
            raise PermissionDenied
    except ValidationError as exc:
        messages.error(request, _message(exc))
    return redirect("triage:models")


@login_required
@require_POST
def model_rollback(request):
    _require_admin(request)
    try:
        model = services.triage_model_rollback(actor=request.user)
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, _("已回退到版本 %(v)s。") % {"v": model.version})
    return redirect("triage:models")


# --- imported training data ------------------------------------------------------------------------


@login_required
def imports(request):
    _require_admin(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > services.MAX_IMPORT_BYTES:
            form.add_error("file", _("文件过大"))
        else:
            try:
                training_set = services.triage_set_import(
                    actor=request.user, name=form.cleaned_data["name"], raw=upload.read()
                )
            except ValidationError as exc:
                form.add_error("file", _message(exc))
            else:
                messages.success(
                    request,
                    _("已导入 %(n)s 条留言，请确认标签对应的类别。") % {"n": training_set.rows},
                )
                return redirect("triage:import_detail", training_set.pk)
    return render(
        request,
        "triage/imports.html",
        {"form": form, "sets": TrainingSet.objects.select_related("uploaded_by").order_by("-uploaded_at")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def import_detail(request, set_id: int):
    _require_admin(request)
    training_set = get_object_or_404(TrainingSet, pk=set_id)
    form = MappingForm(request.POST or None, training_set=training_set)
    if request.method == "POST" and form.is_valid():
        try:
            services.triage_set_map(
                actor=request.user,
                training_set=training_set,
                mapping=form.mapping(),
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as exc:
            messages.error(request, _message(exc))
        else:
            messages.success(request, _("标签对应关系已保存，下次训练时生效。"))
            return redirect("triage:import_detail", training_set.pk)
    samples = training_set.examples.order_by("pk")[:5]
    return render(
        request,
        "triage/import_detail.html",
        {"set": training_set, "form": form, "samples": samples},
    )
