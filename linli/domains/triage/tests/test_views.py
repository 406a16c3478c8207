# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
"""The triage pages through HTTP: the suggest endpoint, the triage queue, the registry pages, imports,
and the panels on the appeals pages."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from linli.domains.appeals import services as appeal_services
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - fixture
from linli.domains.triage.choices import ModelStatus
from linli.domains.triage.models import TrainingSet, TriageModel
from linli.domains.triage.tests.registry_world import (  # noqa: F401 - fixtures
    csv_bytes,
    fresh_triage,
    install_model,
    make_admin,
    noise,
    rows,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_triage")]


def submit(w, title, body, category, **extra):
    lng, lat = w.point()
    return appeal_services.appeal_submit(
        actor=w.resident, title=title, body=body, category=category, lng=lng, lat=lat, **extra
    )


# --- suggest ---------------------------------------------------------------------------------------


def test_suggest_returns_the_top_three_for_a_resident(client, world, noise):
    install_model(world, noise)
    client.force_login(world.resident)
    r = client.post(
        reverse("triage:suggest"), {"title": "楼下夜里很吵", "body": "酒吧音响噪声扰民，睡不着觉"}
    )
    assert r.status_code == 200
    data = r.json()
    assert data["model"] == 1
    assert [s["id"] for s in data["suggestions"]][0] == noise.pk
    assert len(data["suggestions"]) == 3
    assert 0 < data["suggestions"][0]["probability"] <= 1


def test_suggest_with_too_little_text_or_no_model_suggests_nothing(client, world, noise):
    client.force_login(world.resident)
    assert client.post(reverse("triage:suggest"), {"title": "垃圾很多", "body": ""}).json() == {
        "model": None,
        "suggestions": [],
    }
    install_model(world, noise)
    assert client.post(reverse("triage:suggest"), {"title": "垃圾", "body": ""}).json()["suggestions"] == []


def test_suggest_needs_a_signed_in_person_and_a_post(client, world):
    r = client.post(reverse("triage:suggest"), {"title": "门口垃圾堆积", "body": "没人清运"})
    assert r.status_code == 302 and "/accounts/login" in r["Location"]
    client.force_login(world.resident)
    assert client.get(reverse("triage:suggest")).status_code == 405


# --- the triage queue ------------------------------------------------------------------------------


def test_the_queue_lists_waiting_cases_by_confidence_and_the_auto_dispatched(client, world, noise, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    install_model(world, noise)
    unsure = submit(
        world, "楼下酒吧夜间噪声扰民", "每天夜里音响声音很大。", world.rubbish, auto_dispatch=True
    )
    fairly = submit(
        world,
        "路面很脏",
        "人行道上泥土和落叶很多，清扫不及时，门口垃圾也多。",
        world.dirty_road,
        auto_dispatch=False,
    )
    auto = submit(
        world,
        "小区门口垃圾堆积",
        "垃圾桶满了，垃圾堆在地上好几天没人清运。",
        world.rubbish,
        auto_dispatch=True,
    )
    assert auto.status == "dispatched" and unsure.status == "submitted"
    client.force_login(world.dispatcher)
    r = client.get(reverse("triage:queue"))
    assert r.status_code == 200
    html = r.content.decode()
    assert html.index(fairly.reference) < html.index(unsure.reference)  # the surer first
    assert auto.reference in html[html.index('id="triage-auto"') :]  # recently dispatched automatically
    r = client.get(reverse("triage:queue") + "?order=unsure")
    html = r.content.decode()
    assert html.index(unsure.reference) < html.index(fairly.reference)


def test_only_dispatches_the_model_decided_count_as_triage_s_and_keep_where_they_went(
    client, world, noise, settings
):
    """A case the routing rules dispatched with no model active is not triage's, even once the model
    has read it (the queue reads returned cases); one triage dispatched keeps, in the list of recent
    automatic dispatches, the unit it went to after that unit sends it back."""
    from linli.domains.triage import selectors

    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    by_rules = submit(world, "小区门口垃圾堆积", "垃圾桶满了没人清运。", world.rubbish, auto_dispatch=True)
    assert by_rules.status == "dispatched"  # the rules alone: no model yet
    install_model(world, noise)
    by_triage = submit(
        world,
        "小区门口垃圾堆积",
        "垃圾桶满了，垃圾堆在地上好几天没人清运。",
        world.rubbish,
        auto_dispatch=True,
    )
    assert by_triage.status == "dispatched"
    unit = by_triage.lead_unit
    for appeal in (by_rules, by_triage):
        appeal_services.appeal_return(actor=world.handler, appeal=appeal, reason="不属于本单位职责")
    client.force_login(world.dispatcher)
    html = client.get(reverse("triage:queue")).content.decode()  # reads both returned cases
    assert by_rules.triage_predictions.exists()
    auto = selectors.auto_dispatches([by_rules.pk, by_triage.pk])
    assert set(auto) == {by_triage.pk} and 0.8 <= auto[by_triage.pk] <= 1
    recent = selectors.recent_auto_dispatched(world.dispatcher)
    assert [(d.appeal.pk, d.unit) for d in recent] == [(by_triage.pk, unit)]
    listed = html[html.index('id="triage-auto"') :]
    assert by_triage.reference in listed and by_rules.reference not in listed
    assert unit.name in listed or (unit.short_name and unit.short_name in listed)


@pytest.mark.parametrize(
    ("p", "shown"),
    [(0, "<1"), (0.001, "<1"), (0.005, "1"), (0.42, "42"), (0.994, "99"), (0.9951, ">99"), (1, ">99")],
)
def test_a_probability_is_never_rounded_to_a_flat_0_or_100_percent(p, shown):
    from linli.domains.triage.templatetags.triage_tags import triage_percent

    assert triage_percent(p) == shown


def test_the_queue_reads_cases_that_came_without_a_category(client, world, noise, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 1.01  # not sure enough to fill the category
    install_model(world, noise)
    appeal = appeal_services.appeal_submit(
        actor=world.dispatcher,
        title="门口垃圾堆积",
        body="垃圾桶满了，垃圾堆在地上没人清运。",
        channel="hotline",
        contact_name="李阿姨",
        lng=world.point()[0],
        lat=world.point()[1],
    )
    assert appeal.category_id is None and not appeal.triage_predictions.exists()
    client.force_login(world.dispatcher)
    assert client.get(reverse("triage:queue")).status_code == 200
    assert appeal.triage_predictions.get().category == world.rubbish


def test_the_queue_is_for_dispatchers(client, world):
    client.force_login(world.handler)
    assert client.get(reverse("triage:queue")).status_code == 403
    client.force_login(world.resident)
    assert client.get(reverse("triage:queue")).status_code == 403


def test_the_navigation_links_to_the_triage_queue(client, world):
    client.force_login(world.dispatcher)
    assert reverse("triage:queue") in client.get(reverse("appeals:queue")).content.decode()


# --- the registry ----------------------------------------------------------------------------------


def test_models_page_lists_versions_with_quality_and_actions(client, world, noise):
    admin = make_admin(world)
    install_model(world, noise, version=1, actor=admin)
    install_model(world, noise, version=2, actor=admin)
    client.force_login(admin)
    html = client.get(reverse("triage:models")).content.decode()
    assert "v1" in html and "v2" in html and "0.958" in html  # registry_world.CONFUSION
    assert reverse("triage:model_rollback") in html
    assert reverse("triage:model_act", args=[1, "activate"]) in html


def test_a_versions_training_sources_are_named_in_the_readers_language(client, world, noise):
    from linli.domains.triage.models import TriageModel

    admin = make_admin(world)
    install_model(world, noise, version=1, actor=admin)
    TriageModel.objects.filter(version=1).update(
        sources=[
            {"kind": "platform", "name": "已办结诉求", "rows": 330},
            {"kind": "import", "name": "2019年留言", "rows": 600, "id": 1},
            {"kind": "corrections", "name": "调度员纠正", "rows": 5, "weight": 3},
        ]
    )
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    pages = {reverse("triage:models"): " ", reverse("triage:model_detail", args=[1]): "："}
    for page, sep in pages.items():
        html = client.get(page).content.decode()
        assert f"Closed appeals{sep}330" in html and f"Dispatcher corrections{sep}5" in html, page
        assert "已办结诉求" not in html and f"2019年留言{sep}600" in html  # an import keeps its own name


def test_model_detail_shows_per_category_quality_and_the_confusion_matrix(client, world, noise):
    admin = make_admin(world)
    install_model(world, noise, actor=admin)
    client.force_login(admin)
    r = client.get(reverse("triage:model_detail", args=[1]))
    html = r.content.decode()
    assert "噪声扰民" in html and 'id="triage-per-class"' in html and 'id="triage-heat"' in html
    assert "heat-5 heat-diag" in html
    if r.context["echarts"]:
        assert 'id="triage-confusion-data"' in html and "echarts.min.js" in html


def test_activate_and_roll_back_through_the_page(client, world, noise):
    admin = make_admin(world)
    install_model(world, noise, version=1, actor=admin)
    install_model(world, noise, version=2, activate=False)
    client.force_login(admin)
    r = client.post(reverse("triage:model_act", args=[2, "activate"]))
    assert r.status_code == 302
    assert TriageModel.objects.get(status=ModelStatus.ACTIVE).version == 2
    client.post(reverse("triage:model_rollback"))
    assert TriageModel.objects.get(status=ModelStatus.ACTIVE).version == 1
    r = client.post(reverse("triage:model_rollback"), follow=True)
    assert TriageModel.objects.get(status=ModelStatus.ACTIVE).version == 2


def test_retrain_now_starts_a_version_and_its_progress_is_json(
    client, world, noise, django_capture_on_commit_callbacks, settings
):
    settings.LINLI_TRIAGE_CV_FOLDS = 2
    admin = make_admin(world)
    client.force_login(admin)
    client.post(
        reverse("triage:imports"),
        {"name": "过往留言", "file": SimpleUploadedFile("a.csv", csv_bytes(rows()))},
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = client.post(
            reverse("triage:models"),
            {"platform": "on", "sets": [TrainingSet.objects.get().pk], "corrections": "on"},
        )
    assert r.status_code == 302
    model = TriageModel.objects.get()
    data = client.get(reverse("triage:model_progress", args=[model.version])).json()
    assert data == {**data, "status": "training", "progress": 0, "done": False}
    html = client.get(reverse("triage:models")).content.decode()
    assert "triage-progress" in html and reverse("triage:model_progress", args=[1]) in html
    for callback in callbacks:  # the worker picks the task up
        callback()
    data = client.get(reverse("triage:model_progress", args=[1])).json()
    assert data["status"] == "ready" and data["progress"] == 100 and data["done"] is True


def test_registry_pages_are_for_administrators(client, world):
    client.force_login(world.dispatcher)
    for name, args in (("triage:models", []), ("triage:imports", []), ("triage:model_detail", [1])):
        assert client.get(reverse(name, args=args)).status_code == 403
    assert client.post(reverse("triage:model_rollback")).status_code == 403


# --- imports ---------------------------------------------------------------------------------------


def test_upload_a_csv_then_map_its_labels(client, world, noise):
    admin = make_admin(world)
    client.force_login(admin)
    data = [{**r, "label": "类" + r["label"]} for r in rows()]
    r = client.post(
        reverse("triage:imports"),
        {"name": "2020年留言", "file": SimpleUploadedFile("a.csv", csv_bytes(data))},
    )
    training_set = TrainingSet.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("triage:import_detail", args=[training_set.pk])
    assert training_set.mapping == {}  # no label is a category's name
    page = client.get(r["Location"])
    form = page.context["form"]
    fields = {label: name for name, label in form.label_fields}
    r = client.post(
        r["Location"],
        {fields["类噪声扰民"]: noise.pk, fields["类暴露垃圾"]: world.rubbish.pk, "is_active": "on"},
    )
    assert r.status_code == 302
    training_set.refresh_from_db()
    assert training_set.mapping == {"类噪声扰民": noise.pk, "类暴露垃圾": world.rubbish.pk}
    assert training_set.mapped_rows == 24


def test_a_bad_upload_is_explained(client, world):
    admin = make_admin(world)
    client.force_login(admin)
    r = client.post(
        reverse("triage:imports"), {"name": "x", "file": SimpleUploadedFile("a.csv", b"a,b\n1,2\n")}
    )
    assert r.status_code == 400
    assert "label" in r.content.decode()


# --- on the appeals pages --------------------------------------------------------------------------


def test_case_page_shows_the_top_three_and_the_auto_dispatch_badge(client, world, noise, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    install_model(world, noise)
    appeal = submit(
        world,
        "小区门口垃圾堆积",
        "垃圾桶满了，垃圾堆在地上好几天没人清运。",
        world.rubbish,
        auto_dispatch=True,
    )
    client.force_login(world.dispatcher)
    html = client.get(reverse("appeals:case", args=[appeal.pk])).content.decode()
    assert 'id="triage-panel"' in html and 'id="triage-auto-badge"' in html
    assert "智能分拨自动派遣（置信度" in html
    html = client.get(reverse("appeals:queue")).content.decode()
    assert "智能分拨自动派遣（置信度" in html
    # the handling unit does not see the panel
    client.force_login(world.handler)
    assert 'id="triage-panel"' not in client.get(reverse("appeals:case", args=[appeal.pk])).content.decode()


def test_the_resident_form_has_the_suggestion_box_only_with_a_model(client, world, noise):
    client.force_login(world.resident)
    assert 'id="triage-suggest"' not in client.get(reverse("appeals:submit")).content.decode()
    install_model(world, noise)
    html = client.get(reverse("appeals:submit")).content.decode()
    assert 'id="triage-suggest"' in html and "triage/suggest.js" in html
    assert json.dumps(reverse("triage:suggest"))[1:-1] in html
    # and on the form staff fill in for a caller
    client.force_login(world.dispatcher)
    assert 'id="triage-suggest"' in client.get(reverse("appeals:intake")).content.decode()


def test_suggest_is_rate_limited_per_person(client, world, noise, settings, monkeypatch):
    install_model(world, noise)
    # one fixed window for the whole test: 125 posts must not straddle a minute boundary
    monkeypatch.setattr("django_ratelimit.core._get_window", lambda value, period: 1_800_000_000)
    client.force_login(world.resident)
    statuses = {
        client.post(reverse("triage:suggest"), {"title": "门口垃圾堆积", "body": f"第{i}次"}).status_code
        for i in range(125)
    }
    assert statuses == {200, 429}
