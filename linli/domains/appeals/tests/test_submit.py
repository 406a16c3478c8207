import re

import pytest
from django.db import connection
from django.test import override_settings

from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, Attachment, RoutingRule

from .conftest import jpeg_with_exif, png_bytes
from .helpers import submit


def test_reference_numbers_count_per_day(world, clock):
    # days no other test files a case on: on PostgreSQL a day's sequence made by a test that
    # commits (threads, live server) outlives it, and would not start at 1 here
    clock.set(2031, 3, 14, 10)
    a, b = submit(world), submit(world)
    assert a.reference == "JN20310314-0001" and b.reference == "JN20310314-0002"
    clock.set(2031, 3, 15, 0, 5)
    assert submit(world).reference == "JN20310315-0001"


def test_retried_submission_returns_the_same_case(world):
    a = submit(world, idempotency_key="k-123")
    b = submit(world, idempotency_key="k-123")
    assert a.pk == b.pk
    assert Appeal.objects.count() == 1
    assert a.events.filter(action="submit").count() == 1
    # the key is per submitter
    c = submit(world, resident=world.other_resident, idempotency_key="k-123")
    assert c.pk != a.pk


def test_external_reference_is_idempotent(world):
    a = svc.appeal_submit(
        actor=world.dispatcher,
        title="12345转办",
        body="噪音扰民",
        category=world.complaint,
        channel="hotline",
        contact_phone="13912345678",
        external_source="12345",
        external_ref="CD2025-1",
        answers={"floor": 3},
        auto_dispatch=False,
    )
    b = svc.appeal_submit(
        actor=world.dispatcher,
        title="12345转办",
        body="噪音扰民",
        category=world.complaint,
        channel="hotline",
        contact_phone="13912345678",
        external_source="12345",
        external_ref="CD2025-1",
        answers={"floor": 3},
        auto_dispatch=False,
    )
    assert a.pk == b.pk


def test_place_is_resolved_to_grid_community_street_compound(world):
    a = submit(world, grid_index=3)
    assert a.grid == world.d.grids[3]
    assert a.community == world.d.communities[1]
    assert a.street == world.d.streets[0]
    assert a.compound == world.d.compounds[3]
    assert a.path == world.d.grids[3].path


def test_outside_the_district_is_refused(world):
    with pytest.raises(svc.AppealError):
        svc.appeal_submit(
            actor=world.resident, title="t", body="b", category=world.rubbish, lng=120.0, lat=31.0
        )


def test_no_place_means_the_whole_district(world):
    a = svc.appeal_submit(
        actor=world.resident, title="t", body="b", category=world.rubbish, auto_dispatch=False
    )
    assert a.path == world.d.district.path and a.grid is None


def test_staff_intake_needs_a_contact_which_is_encrypted(world):
    with pytest.raises(svc.AppealError):
        svc.appeal_submit(
            actor=world.dispatcher, title="t", body="b", channel="hotline", category=world.rubbish
        )
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_submit(
            actor=world.resident, title="t", body="b", channel="hotline", category=world.rubbish
        )
    a = svc.appeal_submit(
        actor=world.dispatcher,
        title="t",
        body="b",
        channel="walk_in",
        category=world.rubbish,
        contact_name="李四",
        contact_phone="139 1234 5678",
        auto_dispatch=False,
    )
    a.refresh_from_db()
    assert a.contact_phone == "13912345678" and a.resident is None
    with connection.cursor() as cur:
        cur.execute("SELECT contact_phone, contact_name FROM appeals_appeal WHERE id = %s", [a.pk])
        raw_phone, raw_name = cur.fetchone()
    assert "13912345678" not in raw_phone and "李四" not in raw_name


def test_answers_to_category_questions_are_checked(world):
    kwargs = dict(actor=world.resident, title="t", body="b", category=world.complaint, auto_dispatch=False)
    with pytest.raises(svc.AppealError):
        svc.appeal_submit(**kwargs)
    with pytest.raises(svc.AppealError):
        svc.appeal_submit(**kwargs, answers={"floor": "高层"})
    a = svc.appeal_submit(**kwargs, answers={"floor": "12", "unknown": "dropped"})
    assert a.answers == {"floor": 12.0}


def test_photos_are_checked_by_content_and_published_copy_loses_exif(world):
    a = submit(world, photos=[jpeg_with_exif("GPS-SECRET"), png_bytes("my phone 13800001111")])
    jpg, png = Attachment.objects.filter(appeal=a).order_by("id")
    assert jpg.content_type == "image/jpeg" and png.content_type == "image/png"
    assert b"GPS-SECRET" in jpg.file.read()
    public_jpg = jpg.public_file.read()
    assert (
        b"GPS-SECRET" not in public_jpg
        and public_jpg.startswith(b"\xff\xd8")
        and public_jpg.endswith(b"\xff\xd9")
    )
    assert b"13800001111" not in png.public_file.read()
    from PIL import Image

    jpg.public_file.seek(0)
    with Image.open(jpg.public_file) as image:
        assert dict(image.getexif()) == {}
        assert image.size == (8, 8)
    with pytest.raises(svc.AppealError):  # right magic, wrong body
        submit(world, photos=[jpeg_with_exif()[:40]])
    with pytest.raises(svc.AppealError):
        submit(world, photos=[b"GIF89a not really"])
    with pytest.raises(svc.AppealError):
        submit(world, photos=[b"\x89PNG\r\n\x1a\n broken"])
    with pytest.raises(svc.AppealError):
        submit(world, photos=[png_bytes()] * 10)
    with override_settings(LINLI_APPEAL_PHOTO_MAX_BYTES=10):
        with pytest.raises(svc.AppealError):
            submit(world, photos=[png_bytes()])


def test_unambiguous_rule_dispatches_by_itself(world):
    a = submit(world, auto_dispatch=None)
    assert a.status == S.DISPATCHED
    assert a.lead_unit == world.city_mgmt and a.routing_rule == world.rule
    assert list(a.events.values_list("action", "actor")) == [
        ("submit", world.resident.pk),
        ("register", None),
        ("dispatch", None),
    ]
    assert a.handling_due is not None


@override_settings(LINLI_APPEALS_AUTO_DISPATCH=False)
def test_auto_dispatch_can_be_switched_off(world):
    assert submit(world, auto_dispatch=None).status == S.SUBMITTED


def test_tied_rules_leave_the_case_for_the_dispatcher(world):
    RoutingRule.objects.create(category=world.domain, area=None, lead_unit=world.housing)
    a = submit(world, auto_dispatch=None)
    assert a.status == S.SUBMITTED


def test_more_specific_rule_wins(world):
    from linli.domains.appeals.routing import appeal_suggest_route

    street_rule = RoutingRule.objects.create(
        category=world.domain, area=world.d.streets[0], lead_unit=world.street_office
    )
    child_rule = RoutingRule.objects.create(category=world.rubbish, area=None, lead_unit=world.housing)
    a = submit(world, grid_index=0)
    best = appeal_suggest_route(a)[0]
    assert best.rule_id == child_rule.pk and best.confidence == 1.0  # child category beats a smaller area
    child_in_street = RoutingRule.objects.create(
        category=world.rubbish, area=world.d.streets[0], lead_unit=world.street_office, priority=0
    )
    child_in_street.assisting_units.add(world.housing)
    best = appeal_suggest_route(a)[0]
    assert best.rule_id == child_in_street.pk and best.assisting_unit_ids == (world.housing.pk,)
    other_street = submit(world, grid_index=4)
    assert appeal_suggest_route(other_street)[0].rule_id == child_rule.pk
    assert street_rule.pk not in [s.rule_id for s in appeal_suggest_route(other_street)]


def test_reference_format(world):
    assert re.fullmatch(r"JN\d{8}-\d{4}", submit(world).reference)


def test_intake_follow_up_runs_once_and_the_sweep_requeues_stragglers(world, clock):
    from linli.core.audit.models import AuditEvent
    from linli.domains.appeals.choices import Action

    clock.set(2026, 11, 26, 10)
    a = submit(world)
    assert a.intake_done_at is not None  # the immediate backend ran the follow-up during the submit
    assert svc.appeal_intake_complete(appeal_id=a.pk) is False  # a second run does nothing
    assert AuditEvent.objects.filter(action="appeal.submit", object_id=str(a.pk)).count() == 1
    # a follow-up that never finished: the sweep enqueues it again after ten minutes, and it runs once
    Appeal.objects.filter(pk=a.pk).update(intake_done_at=None)
    assert svc.appeal_intake_sweep() == 0
    clock.advance(minutes=11)
    assert svc.appeal_intake_sweep() == 1
    a.refresh_from_db()
    assert a.intake_done_at is not None
    assert a.events.filter(action=Action.SUBMIT).count() == 1


def test_automatic_notes_are_said_in_the_readers_language(world, client):
    """The platform's own timeline notes are stored in Chinese (the record's language) and shown in the
    reader's: not both languages in one string."""
    from django.urls import reverse
    from django.utils import translation

    a = submit(world, auto_dispatch=None)
    dispatch = a.events.get(action="dispatch")
    assert a.events.get(action="register").note == "系统自动登记"
    assert dispatch.note == "系统按派遣规则自动派遣"
    assert dispatch.data["note_key"] == "auto_dispatch" and dispatch.data["lead_unit"]
    with translation.override("en"):
        assert dispatch.shown_note == "Dispatched automatically by routing rule"
    client.force_login(world.resident)
    for language, shown, hidden in (
        ("zh-hans", "系统按派遣规则自动派遣", "Dispatched automatically"),
        ("en", "Dispatched automatically by routing rule", "系统按派遣规则自动派遣"),
    ):
        client.cookies["django_language"] = language
        html = client.get(reverse("appeals:mine_detail", args=[a.pk])).content.decode()
        assert shown in html and hidden not in html


def test_a_note_a_person_wrote_is_shown_as_written(world):
    from django.utils import translation

    a = submit(world)
    svc.appeal_register(actor=world.dispatcher, appeal=a, note="系统按派遣规则自动派遣")
    event = a.events.get(action="register")
    with translation.override("en"):
        assert event.shown_note == "系统按派遣规则自动派遣"  # no key: a person's words, not translated


def test_the_migration_splits_the_bilingual_notes_written_before(world):
    import importlib

    from django.apps import apps
    from django.utils import translation

    from linli.domains.appeals.models import AppealEvent

    split_notes = importlib.import_module("linli.domains.appeals.migrations.0008_system_notes").split_notes
    a = submit(world)
    old = [
        "系统按派遣规则自动派遣 / dispatched automatically by routing rule",
        "主件 JN20260101-0001 已办结 / the case it was merged into is closed",
        "智能分拨按内容确定类别“垃圾 / 清运”（置信度 93%）/ category chosen by smart triage",
        "现场复核问题仍存在 / 请再看",  # a person's note that happens to hold a slash
    ]
    events = [
        AppealEvent.objects.create(appeal=a, action="dispatch", note=note, data={"x": 1}) for note in old
    ]
    events.append(AppealEvent.objects.create(appeal=a, action="register", note=old[0]))
    split_notes(apps, None)
    for event in events:
        event.refresh_from_db()
    assert [e.note for e in events] == [
        "系统按派遣规则自动派遣",
        "主件 JN20260101-0001 已办结",
        "智能分拨按内容确定类别“垃圾 / 清运”（置信度 93%）",
        "现场复核问题仍存在 / 请再看",
        "系统自动登记",  # the registration that came with an automatic dispatch
    ]
    assert events[4].data == {"note_key": "auto_register", "note_args": {}}
    assert events[2].data == {
        "x": 1,
        "note_key": "triage_category",
        "note_args": {"c": "垃圾 / 清运", "p": 93},
    }
    assert "note_key" not in events[3].data
    with translation.override("en"):
        assert events[1].shown_note == "The case it was merged into, JN20260101-0001, is already closed"
        assert events[2].shown_note == (
            "Category “垃圾 / 清运” chosen by smart triage from the content (confidence 93%)"
        )


def test_an_appeal_cannot_be_deleted(world):
    """Its timeline protects it: the record stays whole, and the statistics' incremental refresh, which
    follows ``updated_at``, never misses a case that vanished."""
    from django.db.models import ProtectedError

    a = submit(world)
    with pytest.raises(ProtectedError):
        a.delete()
    assert Appeal.objects.filter(pk=a.pk).exists()
