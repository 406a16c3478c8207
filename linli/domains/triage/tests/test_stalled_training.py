# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
"""A training whose worker died stays "training" with no progress: the sweep marks it failed with a
reason after the timeout, a live one is left alone, and the administrator can train again."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.core.audit.models import AuditEvent
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - fixture
from linli.domains.triage import services, tasks
from linli.domains.triage.choices import ModelStatus
from linli.domains.triage.models import TriageModel
from linli.domains.triage.tests.registry_world import fresh_triage, make_admin, noise  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_triage")]


def training_row(version, *, started=None, progress_at=None, created=None, progress=40):
    now = timezone.now()
    return TriageModel.objects.create(
        version=version,
        status=ModelStatus.TRAINING,
        created_at=created or now,
        started_at=started,
        progress_at=progress_at,
        progress=progress,
        progress_message="第 2/5 折交叉验证",
        options={"platform": False, "set_ids": [], "corrections": False, "per_class": 8, "folds": 2},
    )


def test_a_training_without_progress_for_longer_than_the_timeout_is_marked_failed(world, settings):
    settings.LINLI_TRIAGE_TRAINING_TIMEOUT_MINUTES = 30
    now = timezone.now()
    dead = training_row(1, started=now - dt.timedelta(hours=2), progress_at=now - dt.timedelta(minutes=31))
    alive = training_row(2, started=now - dt.timedelta(hours=2), progress_at=now - dt.timedelta(minutes=29))
    never_taken = training_row(3, created=now - dt.timedelta(minutes=45), progress=0)
    just_queued = training_row(4, created=now - dt.timedelta(minutes=5), progress=0)

    assert services.triage_training_sweep() == [1, 3]

    for row in (dead, alive, never_taken, just_queued):
        row.refresh_from_db()
    assert (dead.status, never_taken.status) == (ModelStatus.FAILED, ModelStatus.FAILED)
    assert (alive.status, just_queued.status) == (ModelStatus.TRAINING, ModelStatus.TRAINING)
    assert "超过 30 分钟没有进度" in dead.error and "40%" in dead.error and "第 2/5 折" in dead.error
    assert "no progress for over 30 minutes" in dead.error
    assert dead.finished_at is not None and dead.progress_message == "训练中断"
    assert AuditEvent.objects.filter(action="triage.model.stalled", object_id=str(dead.pk)).exists()
    assert services.triage_training_sweep() == []  # nothing twice


def test_a_swept_row_is_not_revived_by_a_late_worker(world):
    now = timezone.now()
    row = training_row(1, started=now - dt.timedelta(hours=3), progress_at=now - dt.timedelta(hours=2))
    services.triage_training_sweep()
    services._progress(row.pk, 80, "用全部样本训练最终模型")  # the worker was only slow after all
    row.refresh_from_db()
    assert row.status == ModelStatus.FAILED and row.progress == 40
    queued = training_row(2, created=now - dt.timedelta(hours=2), progress=0)
    services.triage_training_sweep()
    assert services.triage_model_build(model_id=queued.pk) is None  # the claim fails: nothing runs
    queued.refresh_from_db()
    assert queued.status == ModelStatus.FAILED and queued.started_at is None


def test_progress_keeps_a_training_alive(world):
    now = timezone.now()
    row = training_row(1, started=now - dt.timedelta(hours=3), progress_at=now - dt.timedelta(hours=2))
    services._progress(row.pk, 60, "第 3/5 折交叉验证")
    assert services.triage_training_sweep() == []
    row.refresh_from_db()
    assert row.status == ModelStatus.TRAINING and row.progress_at > now - dt.timedelta(minutes=1)


def test_the_periodic_task_sweeps(world):
    now = timezone.now()
    training_row(1, started=now - dt.timedelta(hours=3), progress_at=now - dt.timedelta(hours=2))
    tasks.triage_corrections_sweep.call()
    assert TriageModel.objects.get(version=1).status == ModelStatus.FAILED
    training_row(2, created=now - dt.timedelta(hours=2), progress=0)
    assert tasks.triage_training_sweep_task.call() == [2]


def test_a_stuck_queued_row_no_longer_blocks_training_and_a_failed_one_can_be_retrained(world, noise):
    admin = make_admin(world)
    stuck = training_row(1, created=timezone.now() - dt.timedelta(minutes=50), progress=0)
    new = services.triage_model_train(actor=admin, platform=False, run=False)  # sweeps first
    stuck.refresh_from_db()
    assert stuck.status == ModelStatus.FAILED and new.version == 2
    TriageModel.objects.filter(pk=new.pk).update(status=ModelStatus.FAILED)

    again = services.triage_model_retrain(actor=admin, model=stuck)
    assert again.version == 3 and again.status == ModelStatus.TRAINING
    assert again.options["platform"] is False and again.options["folds"] == 2
    ready = services.triage_model_build(model_id=again.pk)  # too little data: fails, with the reason
    assert ready.status == ModelStatus.FAILED and "训练数据不足" in ready.error
    with pytest.raises(services.TriageError):
        services.triage_model_retrain(
            actor=admin, model=TriageModel.objects.create(version=9, status="ready")
        )


def test_the_registry_page_sweeps_and_offers_retraining(client, world):
    admin = make_admin(world)
    now = timezone.now()
    training_row(1, started=now - dt.timedelta(hours=3), progress_at=now - dt.timedelta(hours=2))
    client.force_login(admin)
    page = client.get(reverse("triage:models")).content.decode()
    assert "长时间没有进度" in page and "训练中断" in page
    assert reverse("triage:model_act", args=[1, "retrain"]) in page
    response = client.post(reverse("triage:model_act", args=[1, "retrain"]))
    assert response.status_code == 302
    assert TriageModel.objects.get(version=2).status == ModelStatus.TRAINING
    page = client.get(reverse("triage:models")).content.decode()
    assert reverse("triage:model_act", args=[1, "retrain"]) not in page  # one training at a time


def test_the_progress_endpoint_reports_a_dead_training_as_done(client, world):
    admin = make_admin(world)
    now = timezone.now()
    training_row(1, started=now - dt.timedelta(hours=3), progress_at=now - dt.timedelta(hours=2))
    client.force_login(admin)
    data = client.get(reverse("triage:model_progress", args=[1])).json()
    assert data["done"] and data["status"] == ModelStatus.FAILED and "训练中断" in data["error"]
