# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
"""The model-backed route suggester: auto-dispatch above the threshold, the triage queue below it,
the rules alone without a model, and a new active version reaching the process."""

import pytest

from linli.domains.appeals import services as appeal_services
from linli.domains.appeals.choices import Action
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.routing import appeal_suggest_route
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - fixture
from linli.domains.triage import services, suggest
from linli.domains.triage.models import TriageModel
from linli.domains.triage.tests.registry_world import fresh_triage, install_model, make_admin, noise  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_triage")]

RUBBISH = ("小区门口垃圾堆积", "门口的垃圾桶满了，垃圾堆在地上好几天没人清运，天热有异味。")
NOISE = ("楼下酒吧夜间噪声扰民", "每天夜里音响声音很大，老人孩子睡不着觉。")


def submit(w, text, category, **extra):
    lng, lat = w.point()
    return appeal_services.appeal_submit(
        actor=w.resident, title=text[0], body=text[1], category=category, lng=lng, lat=lat, **extra
    )


def test_it_is_the_configured_suggester(settings):
    assert settings.LINLI_APPEALS_ROUTE_SUGGESTER == "linli.domains.triage.suggest.suggest_route"


def test_a_case_the_model_is_sure_of_is_routed_and_dispatched_by_the_rules(world, noise, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    install_model(world, noise)
    appeal = submit(world, RUBBISH, world.rubbish, auto_dispatch=True)
    assert appeal.status == S.DISPATCHED
    assert appeal.lead_unit == world.city_mgmt  # the routing rule's unit
    event = appeal.events.get(action=Action.DISPATCH)
    assert event.actor is None and event.data["confidence"] >= 0.8
    prediction = appeal.triage_predictions.get()
    assert prediction.category == world.rubbish and prediction.confidence >= 0.8
    assert [e["category"] for e in prediction.top][0] == world.rubbish.pk and len(prediction.top) == 3
    assert prediction.unit == world.city_mgmt


def test_below_the_threshold_the_case_waits_for_a_person(world, noise, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    install_model(world, noise)
    appeal = submit(world, NOISE, world.rubbish, auto_dispatch=True)  # text and category disagree
    assert appeal.status == S.SUBMITTED
    assert not appeal.events.filter(action=Action.DISPATCH).exists()
    prediction = appeal.triage_predictions.get()
    assert prediction.category == noise and prediction.confidence < 0.8
    # the dispatcher still sees the rule's unit, with the model's (low) confidence
    (best,) = appeal_suggest_route(appeal)
    assert best.lead_unit_id == world.city_mgmt.pk and best.confidence < 0.8
    assert "智能分拨 v1" in best.reason


def test_the_threshold_is_the_setting(world, noise, settings):
    install_model(world, noise)
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 1.01  # nothing is that sure
    assert submit(world, RUBBISH, world.rubbish, auto_dispatch=True).status == S.SUBMITTED


def test_without_an_active_model_the_rules_decide(world, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.9
    assert suggest.active() is None
    appeal = submit(world, NOISE, world.rubbish, auto_dispatch=True)  # rules do not read the text
    assert appeal.status == S.DISPATCHED
    assert appeal.events.get(action=Action.DISPATCH).data["confidence"] == 1.0
    assert not appeal.triage_predictions.exists()


def test_a_second_level_category_counts_with_a_first_level_class(world, noise):
    install_model(world, noise)
    model = suggest.active()
    reading = suggest.read(*RUBBISH, model)
    assert reading.of(world.rubbish) == pytest.approx(reading.probabilities[world.rubbish.pk])
    # the domain holds both of its items' probability
    assert reading.of(world.domain) == pytest.approx(
        reading.probabilities[world.rubbish.pk] + reading.probabilities[world.dirty_road.pk]
    )
    assert sum(reading.probabilities.values()) == pytest.approx(1.0)


def test_the_process_follows_the_active_version(world, noise, django_assert_max_num_queries):
    admin = make_admin(world)
    v1 = install_model(world, noise, version=1, actor=admin)
    first = suggest.active()
    assert first.version == 1
    with django_assert_max_num_queries(0):
        assert suggest.active() is first  # loaded once; the cache says it is still current
    install_model(world, noise, version=2, actor=admin)
    assert suggest.active().version == 2
    services.triage_model_rollback(actor=admin)
    assert suggest.active().model_id == v1.pk


def test_a_damaged_model_file_falls_back_to_the_rules(world, noise):
    model = install_model(world, noise)
    services.model_path(model).write_bytes(b"LINLI-TRIAGE-MODEL {}\nnot a model")
    suggest.reset()
    assert suggest.active() is None
    appeal = submit(world, RUBBISH, world.rubbish, auto_dispatch=True)
    assert appeal.status == S.DISPATCHED  # by the rule alone


def test_suggest_categories_for_the_form(world, noise):
    install_model(world, noise)
    model, found = suggest.suggest_categories(*NOISE)
    assert model.version == 1
    assert [f["id"] for f in found][0] == noise.pk
    assert found[0]["domain"] == "环境保护" and found[0]["choosable"] is True
    assert len(found) == 3 and found[0]["probability"] >= found[1]["probability"] >= found[2]["probability"]


def test_a_batch_of_intakes_is_read_in_one_call_and_routed_as_one_by_one(world, noise, settings, monkeypatch):
    """The worker's batch (``intake.finish_pending``) asks the classifier once for all its appeals and
    keeps the same readings, predictions and automatic dispatches as single follow-ups."""
    from django_tasks import default_task_backend

    from linli.domains.appeals import intake

    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    install_model(world, noise)
    model = suggest.active()
    single = {text: suggest.read(*text).probabilities for text in (RUBBISH, NOISE)}
    calls = []
    real = type(model.classifier).predict_proba

    def counted(self, titles, bodies):
        calls.append(len(titles))
        return real(self, titles, bodies)

    monkeypatch.setattr(type(model.classifier), "predict_proba", counted)
    sure = submit(world, RUBBISH, world.rubbish, auto_dispatch=None)
    unsure = submit(world, NOISE, world.rubbish, auto_dispatch=None)
    assert sure.intake_done_at is None and unsure.intake_done_at is None
    assert intake.finish_pending() == 2
    default_task_backend.clear()
    assert calls == [2]  # one prediction for the batch
    sure.refresh_from_db()
    unsure.refresh_from_db()
    assert sure.status == S.DISPATCHED and sure.lead_unit == world.city_mgmt
    assert unsure.status == S.SUBMITTED
    for appeal, text in ((sure, RUBBISH), (unsure, NOISE)):
        prediction = appeal.triage_predictions.get()
        best = max(single[text].items(), key=lambda item: item[1])
        assert prediction.category_id == best[0] and prediction.probability == pytest.approx(
            best[1], abs=1e-9
        )


@pytest.mark.django_db(transaction=True)  # the loading thread reads the committed model row
def test_the_server_loads_the_active_model_in_the_background(world, noise):
    install_model(world, noise)
    thread = suggest.load_in_background()
    thread.join(timeout=120)
    assert not thread.is_alive()
    loaded = suggest._loaded
    assert loaded is not None and loaded.version == 1
    assert suggest.active() is loaded  # a request afterwards finds it loaded: no second load
    assert loaded.classifier._char_analyzer is not None  # warmed up too


@pytest.mark.django_db(transaction=True)
def test_a_background_load_without_an_active_model_loads_nothing(world):
    thread = suggest.load_in_background()
    thread.join(timeout=60)
    assert not thread.is_alive() and suggest._loaded is None


@pytest.mark.django_db(transaction=True)  # the switching thread reads the committed model rows
def test_a_new_version_loads_in_the_background_while_the_old_one_answers(world, noise, settings):
    settings.LINLI_TRIAGE_SWITCH_IN_BACKGROUND = True
    admin = make_admin(world)
    install_model(world, noise, version=1, actor=admin)
    first = suggest.active()  # the first model of a process is loaded in place: there is none to answer
    assert first.version == 1
    install_model(world, noise, version=2, actor=admin)
    assert suggest.active() is first  # no request waits for the load
    marker, thread = suggest._switching
    assert thread is not None and suggest._switch_in_background(marker) is thread
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert suggest.active().version == 2
    assert suggest.read(*RUBBISH).model.version == 2
    services.triage_model_retire(actor=admin, model=TriageModel.objects.get(version=2))
    assert suggest.active() is None  # no version left: at once, nothing to load
