"""Synthetic, obviously separable messages for the appeals test world's categories, and helpers that
import them and train a tiny model (a few seconds). Invented text only."""

from __future__ import annotations

import csv
import io
import itertools

import pytest

from linli.domains.appeals.models import Category, RoutingRule

PLACES = ["幸福小区", "抚琴西路", "新桥社区", "枣子巷", "力作苑", "金沙路"]

TEMPLATES = {
    "暴露垃圾": [
        ("{p}门口垃圾堆积", "{p}门口的垃圾桶满了，垃圾堆在地上好几天没人清运，天热有异味。"),
        ("{p}垃圾没人清运", "{p}旁边生活垃圾乱扔，苍蝇很多，垃圾桶溢出来了。"),
    ],
    "道路不洁": [
        ("{p}路面很脏", "{p}人行道上泥土和落叶很多，道路不洁，清扫不及时，下雨一片泥泞。"),
        ("{p}道路没人清扫", "{p}马路上撒满了渣土和油污，环卫工人很久没来清扫路面。"),
    ],
    "城乡建设": [
        ("{p}物业服务差", "{p}物业公司不作为，电梯经常坏，楼道灯不亮，物业费却照收。"),
        ("{p}老旧小区改造", "{p}是老旧小区，外墙脱落、管网老化，什么时候进行老旧小区改造加装电梯。"),
    ],
    "噪声扰民": [
        ("{p}夜间噪声扰民", "{p}楼下酒吧每天夜里音响声音很大，噪声扰民，老人孩子睡不着觉。"),
        ("{p}广场舞噪音", "{p}广场舞音响开得太大，晚上十点还不停，噪音严重影响休息。"),
    ],
}


def rows(labels=None):
    out = []
    for label, templates in TEMPLATES.items():
        if labels is not None and label not in labels:
            continue
        for (title, body), place in itertools.product(templates, PLACES):
            out.append({"title": title.format(p=place), "body": body.format(p=place), "label": label})
    return out


def csv_bytes(data, *, extra_columns=False) -> bytes:
    buffer = io.StringIO()
    fields = ["id", "title", "body", "label", "submitted_at"] if extra_columns else ["title", "body", "label"]
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for n, row in enumerate(data, start=1):
        if extra_columns:
            row = {**row, "id": f"M{n:04d}", "submitted_at": f"2020-03-0{n % 9 + 1} 10:00:00"}
        writer.writerow(row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@pytest.fixture
def noise(world):
    """A fourth category with its own rule, so the model has three first-level classes."""
    domain = Category.objects.create(code="HJBH", name="环境保护")
    leaf = Category.objects.create(parent=domain, code="HJBH-01", name="噪声扰民")
    RoutingRule.objects.create(category=domain, lead_unit=world.housing)
    return leaf


@pytest.fixture
def fresh_triage():
    from linli.domains.triage import suggest

    suggest.reset()
    yield
    suggest.reset()


def mapping_for(world, noise):
    return {
        "暴露垃圾": world.rubbish.pk,
        "道路不洁": world.dirty_road.pk,
        "城乡建设": world.complaint.pk,
        "噪声扰民": noise.pk,
    }


def train_active(world, noise, *, actor=None, folds=2, activate=True):
    """Import the synthetic set, train a model at once (no queue), and activate it."""
    from linli.domains.triage import services

    admin = actor or make_admin(world)
    services.triage_set_import(
        actor=admin, name="synthetic", raw=csv_bytes(rows()), mapping=mapping_for(world, noise)
    )
    model = services.triage_model_train(actor=admin, platform=False, folds=folds, run=False)
    model = services.triage_model_build(model_id=model.pk)
    if activate:
        model = services.triage_model_activate(actor=admin, model=model)
    return model


def make_admin(world):
    from linli.core.orgs.choices import Role
    from linli.domains.appeals.tests.conftest import grant, make_user

    return grant(make_user(), world.centre, Role.ADMIN, world.d.district)


_CACHED: dict[str, bytes] = {}
CODES = {"暴露垃圾": "SRHJ-01", "道路不洁": "SRHJ-02", "城乡建设": "CXJS", "噪声扰民": "HJBH-01"}


def cached_model_bytes() -> bytes:
    """One tiny classifier per test process, labelled with the world's category codes."""
    if "model" not in _CACHED:
        from linli.domains.triage.classifier import TriageClassifier

        data = rows()
        classifier = TriageClassifier().fit(
            [r["title"] for r in data], [r["body"] for r in data], [CODES[r["label"]] for r in data]
        )
        _CACHED["model"] = classifier.to_bytes()
    return _CACHED["model"]


# A cross-validation result for the installed model: 48 messages, two of them confused.
CONFUSION = [[12, 0, 0, 0], [0, 11, 1, 0], [0, 0, 12, 0], [0, 1, 0, 11]]


def _metrics_of(labels: list[str], confusion: list[list[int]]) -> dict:
    """The figures a training records (``services._cross_validate``), consistent with ``confusion``."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    truth = [labels[i] for i, row in enumerate(confusion) for j, n in enumerate(row) for _ in range(n)]
    predicted = [labels[j] for row in confusion for j, n in enumerate(row) for _ in range(n)]
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels)
    return {
        "folds": 2,
        "labels": labels,
        "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro")),
        "accuracy": float(accuracy_score(truth, predicted)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
            for name, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion": confusion,
    }


def install_model(world, noise, *, version=1, activate=True, actor=None):
    """A ready model version made from the cached classifier (no training), optionally active."""
    import hashlib
    from pathlib import Path

    from django.conf import settings

    from linli.domains.triage import services
    from linli.domains.triage.choices import ModelStatus
    from linli.domains.triage.models import TriageModel

    blob = cached_model_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    relative = f"triage/test-v{version}-{digest[:12]}.bin"
    services.model_dir()
    (Path(settings.MEDIA_ROOT) / relative).write_bytes(blob)
    categories = {c.code: c.pk for c in (world.rubbish, world.dirty_road, world.complaint, noise)}
    metrics = _metrics_of(sorted(categories), CONFUSION)
    model = TriageModel.objects.create(
        version=version,
        status=ModelStatus.READY,
        file=relative,
        sha256=digest,
        size_bytes=len(blob),
        labels=categories,
        n_train=48,
        macro_f1=metrics["macro_f1"],
        accuracy=metrics["accuracy"],
        metrics=metrics,
        progress=100,
    )
    if activate:
        model = services.triage_model_activate(actor=actor, model=model)
    return model
