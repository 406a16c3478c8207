# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
"""Training: the data (closed cases, imported sets, corrections, the category level), the background
task with its progress, failures, and the commands."""

import pytest
from django.core.management import call_command

from linli.domains.appeals import services as appeal_services
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - fixture
from linli.domains.appeals.tests.helpers import bring_to
from linli.domains.triage import selectors, services
from linli.domains.triage.choices import CorrectionKind, ModelStatus
from linli.domains.triage.models import TrainingSet, TriageCorrection, TriageModel
from linli.domains.triage.tests.registry_world import (  # noqa: F401 - fixtures
    csv_bytes,
    fresh_triage,
    install_model,
    make_admin,
    mapping_for,
    noise,
    rows,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_triage")]


def test_retraining_runs_in_the_background_and_reports_progress(
    world, noise, monkeypatch, django_capture_on_commit_callbacks
):
    admin = make_admin(world)
    services.triage_set_import(
        actor=admin, name="历史留言", raw=csv_bytes(rows()), mapping=mapping_for(world, noise)
    )
    seen = []
    real = services._progress
    monkeypatch.setattr(services, "_progress", lambda pk, p, m: (seen.append((p, m)), real(pk, p, m)))

    with django_capture_on_commit_callbacks(execute=True):
        model = services.triage_model_train(actor=admin, platform=False, folds=2)
        assert model.status == ModelStatus.TRAINING and model.progress == 0

    model.refresh_from_db()
    assert model.status == ModelStatus.READY, model.error
    assert model.progress == 100
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[0] >= 5 and percents[-1] >= 95
    assert any("交叉验证" in m for _, m in seen)
    # quality and provenance are recorded
    assert model.metrics["folds"] == 2
    assert 0.5 < model.macro_f1 <= 1.0
    assert set(model.metrics["per_class"]) == {"SRHJ-01", "SRHJ-02", "CXJS", "HJBH-01"}
    assert len(model.metrics["confusion"]) == 4
    assert model.sources[0]["kind"] == "import" and model.sources[0]["rows"] == 48
    assert model.size_bytes > 0 and model.file.startswith("triage/") and model.train_seconds > 0
    assert model.labels["HJBH-01"] == noise.pk
    assert services.model_path(model).exists()


def test_a_training_without_enough_data_fails_and_says_why(world, noise):
    admin = make_admin(world)
    model = services.triage_model_train(actor=admin, platform=True, set_ids=[], run=False)
    model = services.triage_model_build(model_id=model.pk)
    assert model.status == ModelStatus.FAILED
    assert "训练数据不足" in model.error
    assert model.progress_message


def test_an_error_inside_training_marks_the_version_failed(world, noise, monkeypatch):
    admin = make_admin(world)
    services.triage_set_import(
        actor=admin, name="x", raw=csv_bytes(rows()), mapping=mapping_for(world, noise)
    )

    def boom(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(services, "_cross_validate", boom)
    model = services.triage_model_train(actor=admin, platform=False, run=False)
    model = services.triage_model_build(model_id=model.pk)
    assert model.status == ModelStatus.FAILED
    assert "MemoryError" in model.error
    # a failed version can never be activated, and a second run of the task does nothing
    assert services.triage_model_build(model_id=model.pk) is None


def test_the_build_runs_once(world, noise):
    admin = make_admin(world)
    services.triage_set_import(
        actor=admin, name="x", raw=csv_bytes(rows()), mapping=mapping_for(world, noise)
    )
    model = services.triage_model_train(actor=admin, platform=False, folds=2, run=False)
    assert services.triage_model_build(model_id=model.pk).status == ModelStatus.READY
    assert services.triage_model_build(model_id=model.pk) is None
    assert TriageModel.objects.count() == 1


def test_the_body_cap_setting_reaches_the_trained_classifier(world, noise, settings):
    from linli.domains.triage.classifier import load_model

    settings.LINLI_TRIAGE_BODY_MAX_CHARS = 40
    admin = make_admin(world)
    services.triage_set_import(
        actor=admin, name="x", raw=csv_bytes(rows()), mapping=mapping_for(world, noise)
    )
    model = services.triage_model_train(actor=admin, platform=False, folds=2, run=False)
    model = services.triage_model_build(model_id=model.pk)
    assert model.status == ModelStatus.READY, model.error
    classifier = load_model(services.model_path(model))
    assert classifier.config.body_max_chars == 40
    assert classifier._documents(["t"], ["路" * 100])["body_char"] == ["路" * 40]


def test_second_level_categories_fall_back_to_their_domain_when_they_have_few_messages(world, noise):
    admin = make_admin(world)
    data = rows(["暴露垃圾", "城乡建设"]) + rows(["道路不洁"])[:3]  # 12, 12 and 3 messages
    services.triage_set_import(actor=admin, name="x", raw=csv_bytes(data), mapping=mapping_for(world, noise))
    found = selectors.training_data(platform=False, per_class=8)
    assert found.label_map == {
        "SRHJ-01": world.rubbish.pk,
        "CXJS": world.complaint.pk,
        "SRHJ": world.domain.pk,
    }
    assert found.label_counts == {"SRHJ-01": 12, "CXJS": 12, "SRHJ": 3}
    # with a lower bar, the item is its own class
    assert "SRHJ-02" in selectors.training_data(platform=False, per_class=3).label_map


def test_closed_cases_are_training_data_with_their_final_category(world, noise):
    closed = bring_to(world, "closed")
    bring_to(world, "in_progress")  # open cases are not
    data = selectors.training_data(platform=True, set_ids=[], per_class=1)
    assert data.sources[0] == {"kind": "platform", "name": "已办结诉求", "rows": 1}
    assert len(data) == 0  # a single message is too few for a class
    bring_to(world, "closed")
    data = selectors.training_data(platform=True, set_ids=[], per_class=1)
    assert data.labels == ["SRHJ-01", "SRHJ-01"] and data.titles[0] == closed.title


def test_csv_import_reads_optional_columns_and_guesses_labels_named_like_categories(world, noise):
    admin = make_admin(world)
    data = rows() + [
        {"title": "", "body": "", "label": "城乡建设"},
        {"title": "无标签", "body": "x", "label": ""},
    ]
    training_set = services.triage_set_import(
        actor=admin, name="2020", raw=csv_bytes(data, extra_columns=True)
    )
    assert training_set.rows == 48  # the empty rows are left out
    example = training_set.examples.order_by("pk").first()
    assert example.external_id == "M0001" and example.submitted_at is not None
    # 城乡建设 is a category's name, 噪声扰民 too; the others are not
    assert training_set.mapping == {
        "城乡建设": world.complaint.pk,
        "噪声扰民": noise.pk,
        "暴露垃圾": world.rubbish.pk,
        "道路不洁": world.dirty_road.pk,
    }
    services.triage_set_map(
        actor=admin, training_set=training_set, mapping={"城乡建设": world.complaint.pk}, is_active=True
    )
    training_set.refresh_from_db()
    assert training_set.mapping == {"城乡建设": world.complaint.pk}
    assert training_set.mapped_rows == 12


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"title,body\nx,y\n", "columns"),
        ("label,title\n".encode("gbk") + "城乡建设,标题".encode("gbk"), "encoding"),
        (b"label,title\n,\n", "empty"),
    ],
)
def test_csv_import_refuses_unusable_files(world, raw, code):
    with pytest.raises(services.TriageError) as info:
        services.triage_set_import(actor=make_admin(world), name="bad", raw=raw)
    assert info.value.code == code
    assert not TrainingSet.objects.exists()


def test_triage_import_command_with_a_mapping(world, noise, tmp_path, capsys):
    path = tmp_path / "past.csv"
    path.write_bytes(csv_bytes([{**r, "label": "L-" + r["label"]} for r in rows()]))
    call_command("triage_import", str(path), "--map", "L-暴露垃圾=SRHJ-01", "--map", "L-噪声扰民=HJBH-01")
    training_set = TrainingSet.objects.get()
    assert training_set.name == "past"
    assert training_set.mapping == {"L-暴露垃圾": world.rubbish.pk, "L-噪声扰民": noise.pk}
    assert "L-城乡建设: 12 → (not mapped)" in capsys.readouterr().out


def test_triage_train_command_trains_and_activates(world, noise, tmp_path, capsys, settings):
    admin = make_admin(world)
    services.triage_set_import(
        actor=admin, name="x", raw=csv_bytes(rows()), mapping=mapping_for(world, noise)
    )
    call_command("triage_train", "--no-platform", "--folds", "2", "--activate")
    model = TriageModel.objects.get()
    assert model.status == ModelStatus.ACTIVE
    assert "is now active" in capsys.readouterr().out


# --- corrections -------------------------------------------------------------------------------------


def test_a_dispatcher_choosing_another_category_is_recorded_and_weighted_up(world, noise):
    install_model(world, noise)
    appeal = appeal_services.appeal_submit(
        actor=world.resident,
        title="楼下酒吧夜间噪声扰民",
        body="每天夜里音响声音很大，老人孩子睡不着觉。",
        category=world.rubbish,  # the resident chose the wrong category
        lng=world.point()[0],
        lat=world.point()[1],
        auto_dispatch=True,
    )
    assert appeal.status == "submitted"  # the model did not believe it
    prediction = appeal.triage_predictions.get()
    assert prediction.category == noise and prediction.confidence < 0.5

    # the dispatcher registers it under 城乡建设 (not what the model said either)
    appeal_services.appeal_register(actor=world.dispatcher, appeal=appeal, category=world.complaint)
    assert services.triage_corrections_collect() == 1
    correction = TriageCorrection.objects.get()
    assert (correction.kind, correction.predicted_category, correction.chosen_category) == (
        CorrectionKind.CATEGORY,
        noise,
        world.complaint,
    )
    assert correction.by == world.dispatcher
    assert services.triage_corrections_collect() == 1  # idempotent: still one row
    assert TriageCorrection.objects.count() == 1

    services.triage_set_import(
        actor=make_admin(world), name="x", raw=csv_bytes(rows()), mapping=mapping_for(world, noise)
    )
    data = selectors.training_data(platform=True)
    assert data.labels.count("CXJS") == 12 + selectors.correction_weight()
    assert data.titles.count(appeal.title) == selectors.correction_weight()
    assert {"kind": "corrections", "name": "调度员纠正", "rows": 1, "weight": 3} in data.sources


def test_a_dispatcher_agreeing_with_the_model_is_not_a_correction(world, noise):
    install_model(world, noise)
    appeal = appeal_services.appeal_submit(
        actor=world.resident,
        title="门口垃圾没人清运",
        body="垃圾桶满了，垃圾堆在地上，天热有异味。",
        category=world.dirty_road,
        lng=world.point()[0],
        lat=world.point()[1],
        auto_dispatch=True,
    )
    appeal_services.appeal_register(actor=world.dispatcher, appeal=appeal, category=world.rubbish)
    assert services.triage_corrections_collect() == 0


def test_re_routing_to_another_unit_is_recorded(world, noise):
    install_model(world, noise)
    appeal = appeal_services.appeal_submit(
        actor=world.resident,
        title="门口垃圾没人清运",
        body="垃圾桶满了，垃圾堆在地上，天热有异味。",
        category=world.rubbish,
        lng=world.point()[0],
        lat=world.point()[1],
        auto_dispatch=False,
    )
    appeal_services.appeal_suggest_route(appeal)  # the dispatcher opens the case: the model reads it
    appeal = appeal_services.appeal_register(actor=world.dispatcher, appeal=appeal)
    appeal_services.appeal_dispatch(actor=world.dispatcher, appeal=appeal, lead_unit=world.housing)
    services.triage_corrections_collect()
    correction = TriageCorrection.objects.get(kind=CorrectionKind.UNIT)
    assert (correction.predicted_unit, correction.chosen_unit) == (world.city_mgmt, world.housing)


def test_a_small_class_does_not_reduce_the_folds(world, noise):
    admin = make_admin(world)
    data = rows(["暴露垃圾", "城乡建设", "噪声扰民"]) + rows(["道路不洁"])[:2]
    services.triage_set_import(actor=admin, name="x", raw=csv_bytes(data), mapping=mapping_for(world, noise))
    model = services.triage_model_train(actor=admin, platform=False, folds=3, per_class=2, run=False)
    model = services.triage_model_build(model_id=model.pk)
    assert model.status == ModelStatus.READY, model.error
    assert model.metrics["folds"] == 3
    assert model.metrics["per_class"]["SRHJ-02"]["support"] == 2  # each of its messages scored once


def test_the_periodic_sweep_records_the_last_days_corrections(world, noise):
    from linli.domains.triage.tasks import triage_corrections_sweep

    install_model(world, noise)
    lng, lat = world.point()
    appeal = appeal_services.appeal_submit(
        actor=world.resident,
        title="楼下酒吧夜间噪声扰民",
        body="每天夜里音响声音很大。",
        category=world.rubbish,
        lng=lng,
        lat=lat,
        auto_dispatch=True,
    )
    appeal_services.appeal_register(actor=world.dispatcher, appeal=appeal)  # keeps the resident's category
    result = triage_corrections_sweep.enqueue()
    assert result.return_value == 1
    assert TriageCorrection.objects.get().chosen_category == world.rubbish
