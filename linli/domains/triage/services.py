"""Every write of smart triage: training, activating and rolling back model versions, importing
training messages, recording what the model read in an appeal and the dispatchers' corrections.

Training runs in the background (``tasks.triage_model_train_task``); its progress is written to the
model's row as it goes, outside any long transaction, so the page can show it."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from linli.core.audit.services import audit_record
from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import jurisdiction_of
from linli.domains.appeals.models import Appeal, Category

from . import selectors
from .choices import MODEL_TRANSITIONS, CorrectionKind, ModelStatus
from .models import TrainingExample, TrainingSet, TriageCorrection, TriageModel, TriagePrediction

logger = logging.getLogger("linli.triage")

MAX_IMPORT_ROWS = 200_000
MAX_IMPORT_BYTES = 100 * 1024 * 1024


class TriageError(ValidationError):
    """A triage action that cannot be done as asked (shown to the person)."""


# --- who may -----------------------------------------------------------------------------------------


def is_triage_admin(user) -> bool:
    """Administrators manage model versions and training data."""
    j = jurisdiction_of(user)
    return j.is_superuser or j.has_role(Role.ADMIN)


def _require_admin(actor) -> None:
    if actor is not None and not is_triage_admin(actor):
        raise PermissionDenied(_("只有系统管理员可以管理分拨模型 / administrators only"))


# --- the model files ---------------------------------------------------------------------------------


def model_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "triage"
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_path(model: TriageModel) -> Path:
    return Path(settings.MEDIA_ROOT) / model.file


def model_problem(model: TriageModel) -> str:
    """Why this version's file cannot be used by this code ("" when it can): missing, or written in
    an older format (after an upgrade of the classifier, versions must be trained again)."""
    from .classifier import FORMAT_VERSION, ModelFormatError, read_header

    if not model.file:
        return _("没有模型文件")
    try:
        header = read_header(model_path(model))
    except FileNotFoundError:
        return _("模型文件不存在")
    except (OSError, ValueError, ModelFormatError):
        return _("模型文件无法读取")
    if header.get("format") != FORMAT_VERSION:
        return _("模型文件格式已过时，请重新训练")
    return ""


# --- training ----------------------------------------------------------------------------------------


def _folds() -> int:
    return int(getattr(settings, "LINLI_TRIAGE_CV_FOLDS", 5))


@transaction.atomic
def triage_model_train(
    *,
    actor,
    platform: bool = True,
    set_ids: Iterable[int] | None = None,
    use_corrections: bool = True,
    per_class: int | None = None,
    folds: int | None = None,
    run: bool = True,
) -> TriageModel:
    """A new model version, trained in the background (enqueued when this transaction commits).
    ``run=False`` leaves the enqueueing to the caller (``triage_model_build`` at once, for the demo)."""
    _require_admin(actor)
    triage_training_sweep()  # a row left "training" by a dead worker must not block a new one
    stale = timezone.now() - dt.timedelta(hours=1)  # a queued training no worker took (the worker was down)
    if TriageModel.objects.filter(
        status=ModelStatus.TRAINING, started_at__isnull=True, created_at__gte=stale
    ).exists():
        raise TriageError(_("已有一个训练在排队，请稍候 / a training is already waiting to start"))
    options = {
        "platform": platform,
        "set_ids": None if set_ids is None else sorted(int(i) for i in set_ids),
        "corrections": use_corrections,
        "per_class": per_class if per_class is not None else selectors.min_per_class(),
        "folds": folds if folds is not None else _folds(),
    }
    model = None
    for _attempt in range(3):  # two administrators at once: the unique version decides
        version = (TriageModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        try:
            with transaction.atomic():
                model = TriageModel.objects.create(
                    version=version,
                    status=ModelStatus.TRAINING,
                    trained_by=actor if getattr(actor, "pk", None) else None,
                    options=options,
                    progress_message=_("排队等待训练"),
                )
            break
        except IntegrityError:
            continue
    if model is None:
        raise TriageError(_("请稍后重试 / please try again"))
    audit_record(actor=actor, action="triage.model.train", obj=model, changes={"options": options})
    if run:
        model_id = model.pk
        transaction.on_commit(lambda: _enqueue_training(model_id))
    return model


def _enqueue_training(model_id: int) -> None:
    from .tasks import triage_model_train_task

    triage_model_train_task.enqueue(model_id=model_id)


def _progress(model_id: int, percent: int, message: str) -> None:
    """Record progress (and when: ``progress_at`` tells a live training from a dead one). A row the
    sweep has already marked failed stays failed."""
    TriageModel.objects.filter(pk=model_id, status=ModelStatus.TRAINING).update(
        progress=max(0, min(100, percent)), progress_message=message[:200], progress_at=timezone.now()
    )


def training_timeout() -> dt.timedelta:
    """How long a training may go without reporting progress before it counts as dead
    (``LINLI_TRIAGE_TRAINING_TIMEOUT_MINUTES``, default 30; the longest step, one fold or the final
    fit, takes a few minutes on the 2020 data)."""
    return dt.timedelta(minutes=float(getattr(settings, "LINLI_TRIAGE_TRAINING_TIMEOUT_MINUTES", 30)))


def triage_training_sweep(*, timeout: dt.timedelta | None = None) -> list[int]:
    """Mark failed, with the reason, the versions left in "training" that have shown no progress for
    longer than ``timeout`` (the worker was killed or the machine restarted; a queued one no worker
    took counts from when it was queued). Each row is claimed by a conditional update, so a sweep
    and a training that reports progress at that moment cannot both win. Returns the versions."""
    timeout = timeout or training_timeout()
    now = timezone.now()
    cutoff = now - timeout
    stale = Q(status=ModelStatus.TRAINING) & (
        Q(progress_at__lt=cutoff)
        | Q(progress_at__isnull=True, started_at__lt=cutoff)
        | Q(progress_at__isnull=True, started_at__isnull=True, created_at__lt=cutoff)
    )
    minutes = round(timeout.total_seconds() / 60)
    swept = []
    for model in TriageModel.objects.filter(stale).order_by("pk"):
        last = model.progress_at or model.started_at or model.created_at
        reason = _(
            "训练中断：超过 %(m)s 分钟没有进度（停在 %(p)s%%“%(msg)s”，最后更新 %(at)s），"
            "训练进程可能已被终止，请重新训练 / training stopped: no progress for over %(m)s minutes; "
            "the worker was probably killed — train again"
        ) % {
            "m": minutes,
            "p": model.progress,
            "msg": model.progress_message,
            "at": timezone.localtime(last).strftime("%Y-%m-%d %H:%M"),
        }
        with transaction.atomic():
            if not TriageModel.objects.filter(stale, pk=model.pk).update(
                status=ModelStatus.FAILED,
                finished_at=now,
                error=reason,
                progress_message=_("训练中断"),
            ):
                continue  # it moved on (finished, failed or reported progress) in the meantime
            audit_record(
                actor=None,
                action="triage.model.stalled",
                obj=model,
                changes={"status": [ModelStatus.TRAINING, ModelStatus.FAILED]},
                reason=reason[:300],
            )
        logger.warning("triage model v%s marked failed: no progress since %s", model.version, last)
        swept.append(model.version)
    return swept


def triage_model_retrain(*, actor, model: TriageModel) -> TriageModel:
    """Train again with the options of a version that failed (a new version; the failed one stays
    on record)."""
    _require_admin(actor)
    if model.status != ModelStatus.FAILED:
        raise TriageError(
            _("只有训练失败的版本可以按原选项重新训练 / only a failed version can be trained again"),
            code="transition",
        )
    options = model.options or {}
    return triage_model_train(
        actor=actor,
        platform=options.get("platform", True),
        set_ids=options.get("set_ids"),
        use_corrections=options.get("corrections", True),
        per_class=options.get("per_class"),
        folds=options.get("folds"),
    )


def triage_model_build(*, model_id: int) -> TriageModel | None:
    """Train the model of row ``model_id``: gather the data, cross-validate, train on everything,
    store the file, record quality. Runs once (a conditional update claims the row); a failure marks
    the row failed with the error. Called by the background task; not inside a transaction, so each
    progress update is visible at once."""
    now = timezone.now()
    if not TriageModel.objects.filter(
        pk=model_id, status=ModelStatus.TRAINING, started_at__isnull=True
    ).update(started_at=now, progress=1, progress_message=_("准备训练数据"), progress_at=now):
        return None
    model = TriageModel.objects.get(pk=model_id)
    try:
        return _build(model)
    except Exception as exc:  # recorded on the row and in the log; the page shows it
        logger.exception("triage model v%s failed", model.version)
        with transaction.atomic():
            TriageModel.objects.filter(pk=model_id, status=ModelStatus.TRAINING).update(
                status=ModelStatus.FAILED,
                finished_at=timezone.now(),
                error=f"{type(exc).__name__}: {exc}"[:2000],
                progress_message=_("训练失败"),
            )
            model.refresh_from_db()
            audit_record(actor=None, action="triage.model.failed", obj=model, reason=str(exc)[:300])
        return model


def _classifier_config():
    """The classifier's configuration for the platform's training: the defaults, with the body read
    only up to ``LINLI_TRIAGE_BODY_MAX_CHARS`` characters when that is set (bounds the slowest
    predictions at some cost in quality, docs/triage.md)."""
    from .classifier import TriageConfig

    return TriageConfig(body_max_chars=int(getattr(settings, "LINLI_TRIAGE_BODY_MAX_CHARS", 0) or 0))


def _build(model: TriageModel) -> TriageModel:
    from .classifier import TriageClassifier

    options = model.options or {}
    started = time.perf_counter()
    data = selectors.training_data(
        platform=options.get("platform", True),
        set_ids=options.get("set_ids"),
        use_corrections=options.get("corrections", True),
        per_class=options.get("per_class"),
    )
    if len(data.label_map) < 2:
        raise TriageError(_("训练数据不足：至少需要两个类别、每类至少两条 / too little training data"))
    _progress(
        model.pk,
        5,
        _("共 %(n)s 条样本、%(k)s 个类别，开始交叉验证") % {"n": len(data), "k": len(data.label_map)},
    )
    metrics = _cross_validate(model.pk, data, int(options.get("folds") or _folds()))
    _progress(model.pk, 75, _("用全部样本训练最终模型"))
    classifier = TriageClassifier(_classifier_config()).fit(data.titles, data.bodies, data.labels)
    _progress(model.pk, 95, _("保存模型文件"))
    blob = classifier.to_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    relative = f"triage/model-v{model.version}-{digest[:12]}.bin"
    model_dir()
    (Path(settings.MEDIA_ROOT) / relative).write_bytes(blob)
    with transaction.atomic():
        model = TriageModel.objects.select_for_update().get(pk=model.pk)
        _move(model, ModelStatus.READY)
        model.file, model.sha256, model.size_bytes = relative, digest, len(blob)
        model.labels = data.label_map
        model.sources = data.sources + (
            [
                {
                    "kind": "dropped",
                    "name": _("样本过少未参与训练"),
                    "rows": sum(data.dropped.values()),
                    "labels": data.dropped,
                }
            ]
            if data.dropped
            else []
        )
        model.n_train = len(data)
        model.metrics = metrics
        model.macro_f1, model.accuracy = metrics.get("macro_f1"), metrics.get("accuracy")
        model.train_seconds = round(time.perf_counter() - started, 2)
        model.finished_at = timezone.now()
        model.progress, model.progress_message = 100, _("训练完成")
        model.save()
        audit_record(
            actor=None,
            action="triage.model.ready",
            obj=model,
            changes={"macro_f1": model.macro_f1, "n_train": model.n_train, "size": model.size_bytes},
        )
    return model


def _cross_validate(model_id: int, data: selectors.TrainingData, folds: int) -> dict:
    """Stratified k-fold quality of the same training recipe (messages repeated by a weight stay in
    one fold and are scored once). A class with fewer messages than folds is tested in fewer folds."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedGroupKFold

    from .classifier import TriageClassifier

    labels = np.asarray(data.labels)
    groups = np.asarray(data.groups)
    k = max(0, min(folds, len(set(data.groups)) // 2))
    names = sorted(set(data.labels))
    if k < 2:
        return {"folds": 0, "labels": names}
    truth: list[str] = []
    predicted: list[str] = []
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=0)
    titles, bodies = np.asarray(data.titles, dtype=object), np.asarray(data.bodies, dtype=object)
    with warnings.catch_warnings():  # a class smaller than k is spread over fewer folds; that is fine
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(titles, labels, groups))
    for i, (train, test) in enumerate(splits):
        _progress(model_id, 5 + int(70 * i / k), _("交叉验证：第 %(i)s / %(k)s 折") % {"i": i + 1, "k": k})
        if len(set(labels[train])) < 2:
            continue
        # A message repeated for weight is scored once.
        seen, once = set(), []
        for j in test:
            if groups[j] not in seen:
                seen.add(groups[j])
                once.append(j)
        fold = TriageClassifier(_classifier_config()).fit(
            list(titles[train]), list(bodies[train]), list(labels[train])
        )
        predicted += [str(p) for p in fold.predict(list(titles[once]), list(bodies[once]))]
        truth += [str(t) for t in labels[once]]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=names, zero_division=0
    )
    return {
        "folds": k,
        "labels": names,
        "macro_f1": float(f1_score(truth, predicted, labels=names, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support, strict=True)
        },
        "confusion": confusion_matrix(truth, predicted, labels=names).tolist(),
    }


# --- activation --------------------------------------------------------------------------------------


def _move(model: TriageModel, target: str) -> None:
    if target not in MODEL_TRANSITIONS.get(model.status, frozenset()):
        raise TriageError(
            _("版本 %(v)s 当前为「%(s)s」，不能这样操作 / not allowed in this status")
            % {"v": model.version, "s": model.get_status_display()},
            code="transition",
        )
    model.status = target


def _forget_active() -> None:
    from .suggest import forget_active

    forget_active()
    transaction.on_commit(forget_active)


@transaction.atomic
def triage_model_activate(*, actor, model: TriageModel) -> TriageModel:
    """Make ``model`` the one in use; the version in use before is retired."""
    _require_admin(actor)
    model = TriageModel.objects.select_for_update().get(pk=model.pk)
    if model.status == ModelStatus.ACTIVE:
        return model
    problem = model_problem(model)
    if problem:
        raise TriageError(problem, code="file_unusable")
    current = TriageModel.objects.select_for_update().filter(status=ModelStatus.ACTIVE).first()
    _move(model, ModelStatus.ACTIVE)  # checks before anything changes
    if current is not None:
        _move(current, ModelStatus.RETIRED)
        current.save(update_fields=["status"])
        audit_record(
            actor=actor, action="triage.model.retire", obj=current, changes={"status": ["active", "retired"]}
        )
    model.activated_at, model.activated_by = timezone.now(), actor if getattr(actor, "pk", None) else None
    model.save(update_fields=["status", "activated_at", "activated_by"])
    audit_record(
        actor=actor,
        action="triage.model.activate",
        obj=model,
        changes={"status": ["ready/retired", "active"], "replaces": current.version if current else None},
    )
    _forget_active()
    return model


@transaction.atomic
def triage_model_rollback(*, actor) -> TriageModel:
    """Go back to the version that was in use before the current one."""
    _require_admin(actor)
    current = TriageModel.objects.select_for_update().filter(status=ModelStatus.ACTIVE).first()
    previous = selectors.rollback_target(current)
    if previous is None:
        raise TriageError(_("没有可以回退的旧版本 / no earlier version to go back to"), code="no_previous")
    model = triage_model_activate(actor=actor, model=previous)
    audit_record(
        actor=actor,
        action="triage.model.rollback",
        obj=model,
        changes={"from": current.version if current else None, "to": model.version},
    )
    return model


@transaction.atomic
def triage_model_retire(*, actor, model: TriageModel) -> TriageModel:
    """Stop using the active version without replacing it: routing falls back to the rules."""
    _require_admin(actor)
    model = TriageModel.objects.select_for_update().get(pk=model.pk)
    _move(model, ModelStatus.RETIRED)
    model.save(update_fields=["status"])
    audit_record(
        actor=actor, action="triage.model.retire", obj=model, changes={"status": ["active", "retired"]}
    )
    _forget_active()
    return model


# --- imported training messages ----------------------------------------------------------------------


def _parse_time(value: str):
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = parse_datetime(value.replace("/", "-"))
        if parsed is None:
            day = parse_date(value.replace("/", "-")[:10])
            parsed = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def read_import(raw: bytes) -> list[dict]:
    """Rows of a CSV of past messages: UTF-8 (with or without BOM), header naming ``label`` and at least
    one of ``title`` and ``body``; optional ``id`` and ``submitted_at``. Rows with no label or no text
    are left out."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise TriageError(_("文件过大 / the file is too large"), code="too_large")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TriageError(_("文件不是 UTF-8 编码 / the file is not UTF-8"), code="encoding") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip().lower() for c in (reader.fieldnames or [])]
    if "label" not in columns or not ({"title", "body"} & set(columns)):
        raise TriageError(
            _("需要 label 列，以及 title 或 body 列；文件中的列：%(c)s") % {"c": ", ".join(columns) or "—"},
            code="columns",
        )
    reader.fieldnames = columns
    rows = []
    try:
        for row in reader:
            title, body = (row.get("title") or "").strip(), (row.get("body") or "").strip()
            label = (row.get("label") or "").strip()[:60]
            if not label or not (title or body):
                continue
            rows.append(
                {
                    "title": title[:200],
                    "body": body,
                    "label": label,
                    "external_id": (row.get("id") or "").strip()[:64],
                    "submitted_at": _parse_time(row.get("submitted_at") or ""),
                }
            )
            if len(rows) > MAX_IMPORT_ROWS:
                raise TriageError(_("行数过多 / too many rows"), code="too_many")
    except csv.Error as exc:
        raise TriageError(_("CSV 格式错误：%(e)s") % {"e": exc}, code="csv") from exc
    if not rows:
        raise TriageError(_("文件中没有带标签的留言 / no labelled messages"), code="empty")
    return rows


def guess_mapping(labels: Iterable[str]) -> dict[str, int]:
    """Labels that are the name or code of a category map to it (first-level names first)."""
    by_name: dict[str, int] = {}
    for pk, name, code, parent in Category.objects.filter(is_active=True).values_list(
        "pk", "name", "code", "parent_id"
    ):
        by_name.setdefault(code, pk)
        if parent is None or name not in by_name:
            by_name[name] = pk
    return {label: by_name[label] for label in labels if label in by_name}


@transaction.atomic
def triage_set_import(*, actor, name: str, raw: bytes, mapping: dict[str, int] | None = None) -> TrainingSet:
    """Store an imported CSV's messages as a training set; labels are mapped to categories by
    ``mapping`` (or guessed from category names and codes) and can be remapped later."""
    _require_admin(actor)
    rows = read_import(raw)
    counts = Counter(r["label"] for r in rows)
    training_set = TrainingSet.objects.create(
        name=(name or "").strip()[:120] or _("导入数据"),
        uploaded_by=actor if getattr(actor, "pk", None) else None,
        rows=len(rows),
        label_counts=dict(counts),
        mapping={},
    )
    TrainingExample.objects.bulk_create(
        [TrainingExample(training_set=training_set, **row) for row in rows], batch_size=2000
    )
    _set_mapping(training_set, mapping if mapping is not None else guess_mapping(counts))
    training_set.save(update_fields=["mapping"])
    audit_record(
        actor=actor,
        action="triage.set.import",
        obj=training_set,
        changes={"rows": len(rows), "labels": dict(counts), "mapping": training_set.mapping},
    )
    return training_set


def _set_mapping(training_set: TrainingSet, mapping: dict[str, int | None]) -> None:
    valid = set(
        Category.objects.filter(pk__in=[v for v in mapping.values() if v]).values_list("pk", flat=True)
    )
    clean = {}
    for label in training_set.label_counts:
        value = mapping.get(label)
        if value:
            if int(value) not in valid:
                raise TriageError(_("类别不存在 / unknown category"), code="category")
            clean[label] = int(value)
    training_set.mapping = clean


@transaction.atomic
def triage_set_map(
    *, actor, training_set: TrainingSet, mapping: dict[str, int | None], is_active: bool | None = None
) -> TrainingSet:
    _require_admin(actor)
    training_set = TrainingSet.objects.select_for_update().get(pk=training_set.pk)
    before = dict(training_set.mapping), training_set.is_active
    _set_mapping(training_set, mapping)
    if is_active is not None:
        training_set.is_active = is_active
    training_set.save(update_fields=["mapping", "is_active"])
    audit_record(
        actor=actor,
        action="triage.set.map",
        obj=training_set,
        changes={
            "mapping": [before[0], training_set.mapping],
            "is_active": [before[1], training_set.is_active],
        },
    )
    return training_set


# --- predictions and corrections ---------------------------------------------------------------------


_written_together: ContextVar[list[TriagePrediction] | None] = ContextVar("linli_predictions", default=None)


@contextmanager
def predictions_written_together() -> Iterator[None]:
    """Inside the block ``triage_prediction_record`` collects the rows; they are written in one
    statement when it ends (one already kept for the same appeal and version is left as it is)."""
    rows: list[TriagePrediction] = []
    token = _written_together.set(rows)
    try:
        yield
    finally:
        _written_together.reset(token)
    if rows:
        TriagePrediction.objects.bulk_create(rows, ignore_conflicts=True)


def triage_prediction_record(
    *, appeal: Appeal, model_id: int, top: list[tuple[int, float]], confidence: float, unit_id: int | None
) -> TriagePrediction | None:
    """Keep what the model read in ``appeal`` (once per appeal and model version). Inside
    ``predictions_written_together`` the row is written with the others when the block ends."""
    if not top:
        return None
    together = _written_together.get()
    if together is not None:
        prediction = TriagePrediction(
            appeal=appeal,
            model_id=model_id,
            category_id=top[0][0],
            probability=top[0][1],
            top=[{"category": c, "p": round(p, 4)} for c, p in top],
            confidence=confidence,
            unit_id=unit_id,
        )
        together.append(prediction)
        return prediction
    try:
        with transaction.atomic():
            prediction, _created = TriagePrediction.objects.get_or_create(
                appeal=appeal,
                model_id=model_id,
                defaults={
                    "category_id": top[0][0],
                    "probability": top[0][1],
                    "top": [{"category": c, "p": round(p, 4)} for c, p in top],
                    "confidence": confidence,
                    "unit_id": unit_id,
                },
            )
    except IntegrityError:  # recorded at the same moment by another process
        return TriagePrediction.objects.filter(appeal=appeal, model_id=model_id).first()
    return prediction


@transaction.atomic
def triage_correction_record(
    *,
    actor,
    appeal: Appeal,
    kind: str,
    predicted_category: Category | None = None,
    chosen_category: Category | None = None,
    predicted_unit=None,
    chosen_unit=None,
    model: TriageModel | None = None,
) -> TriageCorrection:
    correction, created = TriageCorrection.objects.get_or_create(
        appeal=appeal,
        kind=kind,
        chosen_category=chosen_category,
        chosen_unit=chosen_unit,
        defaults={
            "predicted_category": predicted_category,
            "predicted_unit": predicted_unit,
            "model": model,
            "by": actor if getattr(actor, "pk", None) else None,
        },
    )
    if created:
        audit_record(
            actor=actor,
            action=f"triage.correction.{kind}",
            obj=correction,
            changes={
                "appeal": appeal.reference,
                "predicted": str(predicted_category or predicted_unit or ""),
                "chosen": str(chosen_category or chosen_unit or ""),
            },
        )
    return correction


def triage_decision_observe(*, actor, appeal_id: int) -> list[TriageCorrection]:
    """Called after a dispatcher registers, routes or dispatches an appeal: where their category or
    lead unit differs from what the model predicted, a correction is recorded. Never raises (a
    dispatcher's action must not fail because of triage)."""
    try:
        return _observe(actor, appeal_id)
    except Exception:
        logger.exception("triage: could not record the decision on appeal %s", appeal_id)
        return []


def _observe(actor, appeal_id: int) -> list[TriageCorrection]:
    prediction = selectors.latest_predictions([appeal_id]).get(appeal_id)
    if prediction is None or actor is None:
        return []
    appeal = Appeal.objects.select_related("category", "lead_unit").get(pk=appeal_id)
    found = []
    if appeal.category_id and not _predicted(prediction, appeal.category):
        found.append(
            triage_correction_record(
                actor=actor,
                appeal=appeal,
                kind=CorrectionKind.CATEGORY,
                predicted_category=prediction.category,
                chosen_category=appeal.category,
                model=prediction.model,
            )
        )
    if appeal.lead_unit_id and prediction.unit_id and appeal.lead_unit_id != prediction.unit_id:
        found.append(
            triage_correction_record(
                actor=actor,
                appeal=appeal,
                kind=CorrectionKind.UNIT,
                predicted_unit=prediction.unit,
                chosen_unit=appeal.lead_unit,
                predicted_category=prediction.category,
                chosen_category=appeal.category,
                model=prediction.model,
            )
        )
    return found


def _predicted(prediction: TriagePrediction, category: Category) -> bool:
    """The chosen category agrees with the prediction at the level the model predicts (a
    first-level prediction agrees with any of its items)."""
    predicted = prediction.category
    return category.pk == predicted.pk or (predicted.parent_id is None and category.parent_id == predicted.pk)


def triage_corrections_collect(*, since: dt.datetime | None = None) -> int:
    """Corrections read from the appeals' timelines, for decisions taken outside the dispatcher's
    page (the API, the admin): every predicted appeal a person registered, routed or dispatched."""
    from linli.domains.appeals.choices import Action
    from linli.domains.appeals.models import AppealEvent

    events = AppealEvent.objects.filter(
        action__in=[Action.REGISTER, Action.ROUTE, Action.DISPATCH],
        actor__isnull=False,
        appeal__triage_predictions__isnull=False,
    )
    if since is not None:
        events = events.filter(at__gte=since)
    latest: dict[int, object] = {}
    for appeal_id, actor in events.order_by("at", "id").values_list("appeal_id", "actor"):
        latest[appeal_id] = actor
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk(set(latest.values()))
    n = 0
    for appeal_id, actor_id in latest.items():
        n += len(triage_decision_observe(actor=users.get(actor_id), appeal_id=appeal_id))
    return n
