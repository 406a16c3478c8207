# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
"""The model registry: versions, one active at a time, activation, roll-back, audit, who may."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from linli.core.audit.models import AuditEvent
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - fixture
from linli.domains.triage import services
from linli.domains.triage.choices import ModelStatus
from linli.domains.triage.models import TriageModel
from linli.domains.triage.tests.registry_world import fresh_triage, install_model, make_admin, noise  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_triage")]


def test_activating_a_version_retires_the_one_in_use(world, noise):
    admin = make_admin(world)
    v1 = install_model(world, noise, version=1, actor=admin)
    v2 = install_model(world, noise, version=2, activate=False)
    assert v2.status == ModelStatus.READY

    services.triage_model_activate(actor=admin, model=v2)

    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (ModelStatus.RETIRED, ModelStatus.ACTIVE)
    assert v2.activated_by == admin
    assert list(TriageModel.objects.filter(status=ModelStatus.ACTIVE)) == [v2]
    actions = list(
        AuditEvent.objects.filter(object_type="triage.triagemodel").values_list("action", flat=True)
    )
    assert "triage.model.activate" in actions and "triage.model.retire" in actions


def test_the_database_refuses_a_second_active_version(world, noise):
    install_model(world, noise, version=1)
    v2 = install_model(world, noise, version=2, activate=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        TriageModel.objects.filter(pk=v2.pk).update(status=ModelStatus.ACTIVE)


def test_rollback_returns_to_the_previous_version(world, noise):
    admin = make_admin(world)
    install_model(world, noise, version=1, actor=admin)
    v2 = install_model(world, noise, version=2, actor=admin)
    v3 = install_model(world, noise, version=3, actor=admin)

    back = services.triage_model_rollback(actor=admin)
    assert back.pk == v2.pk
    v3.refresh_from_db()
    assert v3.status == ModelStatus.RETIRED
    assert AuditEvent.objects.filter(action="triage.model.rollback", object_id=str(v2.pk)).exists()

    # once more: back to the one before that, not to v3 again
    back = services.triage_model_rollback(actor=admin)
    assert back.pk == v3.pk  # the version active just before v2 came back
    assert TriageModel.objects.get(status=ModelStatus.ACTIVE).pk == back.pk


def test_rollback_without_an_earlier_version_is_refused(world, noise):
    admin = make_admin(world)
    install_model(world, noise, version=1, actor=admin)
    with pytest.raises(services.TriageError):
        services.triage_model_rollback(actor=admin)


def test_failed_and_training_versions_cannot_be_activated(world, noise):
    admin = make_admin(world)
    failed = TriageModel.objects.create(version=7, status=ModelStatus.FAILED, file="triage/none.bin")
    with pytest.raises(services.TriageError):
        services.triage_model_activate(actor=admin, model=failed)
    v1 = install_model(world, noise, version=1, activate=False)
    TriageModel.objects.filter(pk=v1.pk).update(status=ModelStatus.TRAINING)
    v1.refresh_from_db()
    with pytest.raises(services.TriageError):
        services.triage_model_activate(actor=admin, model=v1)


def test_a_version_whose_file_is_gone_cannot_be_activated(world, noise):
    v1 = install_model(world, noise, version=1, activate=False)
    TriageModel.objects.filter(pk=v1.pk).update(file="triage/gone.bin")
    v1.refresh_from_db()
    with pytest.raises(services.TriageError):
        services.triage_model_activate(actor=make_admin(world), model=v1)


def test_only_administrators_manage_versions(world, noise):
    v1 = install_model(world, noise, version=1, activate=False)
    with pytest.raises(PermissionDenied):
        services.triage_model_activate(actor=world.dispatcher, model=v1)
    with pytest.raises(PermissionDenied):
        services.triage_model_train(actor=world.dispatcher)
    with pytest.raises(PermissionDenied):
        services.triage_model_rollback(actor=world.resident)


def test_retiring_the_active_version_leaves_routing_to_the_rules(world, noise):
    from linli.domains.triage import suggest

    admin = make_admin(world)
    v1 = install_model(world, noise, version=1, actor=admin)
    assert suggest.active() is not None
    services.triage_model_retire(actor=admin, model=v1)
    assert suggest.active() is None


def test_a_version_in_an_older_file_format_is_flagged_and_cannot_be_activated(world, noise, client):
    from linli.domains.triage.classifier import FORMAT_VERSION

    admin = make_admin(world)
    v1 = install_model(world, noise, version=1, actor=admin)
    v2 = install_model(world, noise, version=2, activate=False)
    for model in (v1, v2):
        path = services.model_path(model)
        head, _, rest = path.read_bytes().partition(b"\n")
        path.write_bytes(head.replace(f'"format": {FORMAT_VERSION}'.encode(), b'"format": 0') + b"\n" + rest)
    assert "过时" in services.model_problem(v2)
    with pytest.raises(services.TriageError):
        services.triage_model_activate(actor=admin, model=v2)
    client.force_login(admin)
    html = client.get("/triage/models/").content.decode()
    assert "正在使用的版本无法加载" in html
    assert "/triage/models/2/activate/" not in html
