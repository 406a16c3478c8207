"""Every transition of the table, from every status: allowed ones succeed and land where the table
says; forbidden ones raise TransitionNotAllowed and change nothing."""

import pytest

from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, AppealEvent, ExtensionRequest

from .helpers import bring_to, submit

CALLS = {
    "register": lambda w, a: svc.appeal_register(actor=w.dispatcher, appeal=a),
    "reject": lambda w, a: svc.appeal_reject(actor=w.dispatcher, appeal=a, reason="重复投诉"),
    "merge": lambda w, a: svc.appeal_merge(actor=w.dispatcher, appeal=a, master=submit(w)),
    "route": lambda w, a: svc.appeal_route(actor=w.dispatcher, appeal=a, lead_unit=w.city_mgmt),
    "dispatch": lambda w, a: svc.appeal_dispatch(actor=w.dispatcher, appeal=a, lead_unit=w.city_mgmt),
    "sign": lambda w, a: svc.appeal_sign(actor=w.handler, appeal=a),
    "sign_assist": lambda w, a: svc.appeal_sign(actor=w.other_handler, appeal=a),
    "handle": lambda w, a: svc.appeal_handle(actor=w.handler, appeal=a, result="已处理"),
    "return": lambda w, a: svc.appeal_return(actor=w.handler, appeal=a, reason="非本单位职责"),
    "extension_request": lambda w, a: svc.appeal_extension_request(
        actor=w.handler, appeal=a, days=2, reason="需协调施工单位"
    ),
    "extension_decide": lambda w, a: svc.appeal_extension_decide(
        actor=w.dispatcher,
        approve=True,
        request=ExtensionRequest.objects.create(
            appeal=a, unit=w.city_mgmt, requested_by=w.handler, days=2, reason="r"
        ),
    ),
    "verify_pass": lambda w, a: svc.appeal_verify(actor=w.dispatcher, appeal=a, passed=True),
    "verify_fail": lambda w, a: svc.appeal_verify(
        actor=w.dispatcher, appeal=a, passed=False, note="未处理完"
    ),
    "close": lambda w, a: svc.appeal_close(actor=w.dispatcher, appeal=a, note="已说明情况"),
    "reopen": lambda w, a: svc.appeal_reopen(actor=w.dispatcher, appeal=a, reason="回访不满意"),
    "withdraw": lambda w, a: svc.appeal_withdraw(actor=w.resident, appeal=a),
    "rate": lambda w, a: svc.appeal_rate(actor=w.resident, appeal=a, value="satisfied"),
    "supervise": lambda w, a: svc.appeal_supervise(actor=w.dispatcher, appeal=a, note="请加快办理"),
    "redact": lambda w, a: svc.appeal_redact(actor=w.dispatcher, appeal=a, public_body="已处理"),
    "supplement": lambda w, a: svc.appeal_supplement(actor=w.resident, appeal=a, note="补充说明"),
    "assist_report": lambda w, a: svc.appeal_assist_report(actor=w.other_handler, appeal=a, result="已配合"),
}


def test_every_transition_has_a_test_call():
    assert set(CALLS) == set(svc.TRANSITIONS) - {"patrol_close"}


CASES = [(name, status) for name in sorted(CALLS) for status in S.values]


@pytest.mark.parametrize(("name", "status"), CASES, ids=[f"{n}-from-{s}" for n, s in CASES])
def test_transition_table(world, name, status):
    appeal = bring_to(world, status)
    assert appeal.status == status
    sources, target = svc.TRANSITIONS[name]
    events_before = AppealEvent.objects.filter(appeal=appeal).count()
    if status in sources:
        CALLS[name](world, appeal)
        appeal.refresh_from_db()
        assert appeal.status == (target or status)
        new_events = AppealEvent.objects.filter(appeal=appeal).order_by("-id")
        assert new_events.count() > events_before
        assert new_events.first().from_status == status
    else:
        with pytest.raises(svc.TransitionNotAllowed):
            CALLS[name](world, appeal)
        assert Appeal.objects.get(pk=appeal.pk).status == status
        assert AppealEvent.objects.filter(appeal=appeal).count() == events_before


def test_full_loop_records_who_when_why(world):
    a = bring_to(world, S.CLOSED)
    actions = list(a.events.values_list("action", "from_status", "to_status", "actor_id"))
    assert actions == [
        ("submit", "", "submitted", world.resident.pk),
        ("register", "submitted", "registered", world.dispatcher.pk),
        ("dispatch", "registered", "dispatched", world.dispatcher.pk),
        ("sign", "dispatched", "in_progress", world.handler.pk),
        ("handle", "in_progress", "handled", world.handler.pk),
        ("verify", "handled", "closed", world.dispatcher.pk),
    ]
    from linli.core.audit.models import AuditEvent

    trail = list(
        AuditEvent.objects.filter(object_type="appeals.appeal", object_id=str(a.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert trail == [
        "appeal.submit",
        "appeal.register",
        "appeal.dispatch",
        "appeal.sign",
        "appeal.handle",
        "appeal.verify",
    ]
    assert a.registered_at and a.dispatched_at and a.signed_at and a.handled_at and a.closed_at


def test_reasons_are_required(world):
    a = bring_to(world, S.SUBMITTED)
    with pytest.raises(svc.AppealError):
        svc.appeal_reject(actor=world.dispatcher, appeal=a, reason="  ")
    d = bring_to(world, S.DISPATCHED)
    with pytest.raises(svc.AppealError):
        svc.appeal_return(actor=world.handler, appeal=d, reason="")
    h = bring_to(world, S.HANDLED)
    with pytest.raises(svc.AppealError):
        svc.appeal_verify(actor=world.dispatcher, appeal=h, passed=False, note="")


def test_return_goes_back_to_the_dispatcher_for_rerouting(world):
    a = bring_to(world, S.RETURNED)
    assert a.lead_unit is None
    assert not a.assignments.filter(is_active=True).exists()
    a = svc.appeal_dispatch(actor=world.dispatcher, appeal=a, lead_unit=world.housing)
    assert a.status == S.DISPATCHED
    assert list(a.assignments.filter(is_active=True).values_list("unit_id", flat=True)) == [world.housing.pk]
    svc.appeal_sign(actor=world.other_handler, appeal=a)
    a.refresh_from_db()
    assert a.status == S.IN_PROGRESS


def test_merged_duplicate_follows_its_master(world):
    from linli.domains.appeals.selectors import resident_status

    master = bring_to(world, S.SUBMITTED)
    dup = submit(world, resident=world.other_resident)
    dup = svc.appeal_merge(actor=world.dispatcher, appeal=dup, master=master)
    assert dup.merged_into == master
    for step in ("register", "dispatch", "sign", "handle", "verify_pass"):
        master.refresh_from_db()
        CALLS[step](world, master)
    dup.refresh_from_db()
    assert resident_status(dup) == S.CLOSED
    assert dup.events.filter(action="close", note__contains=master.reference).exists()


def test_merging_into_a_duplicate_follows_to_the_master(world):
    master = bring_to(world, S.SUBMITTED)
    dup1 = svc.appeal_merge(actor=world.dispatcher, appeal=submit(world), master=master)
    dup2 = svc.appeal_merge(actor=world.dispatcher, appeal=submit(world), master=dup1)
    assert dup2.merged_into_id == master.pk
    with pytest.raises(svc.AppealError):
        svc.appeal_merge(
            actor=world.dispatcher, appeal=bring_to(world, S.SUBMITTED), master=bring_to(world, S.REJECTED)
        )


def test_resident_reopens_only_after_an_unsatisfied_rating(world):
    a = bring_to(world, S.CLOSED)
    with pytest.raises(svc.AppealError):
        svc.appeal_reopen(actor=world.resident, appeal=a, reason="没解决")
    svc.appeal_rate(actor=world.resident, appeal=a, value="unsatisfied", comment="垃圾又堆起来了")
    a = svc.appeal_reopen(actor=world.resident, appeal=a, reason="没解决")
    assert a.status == S.REOPENED and a.round == 2 and not a.published
    # the same unit signs again and handles; a new round can be rated again
    svc.appeal_sign(actor=world.handler, appeal=a)
    a.refresh_from_db()
    a = svc.appeal_handle(actor=world.handler, appeal=a, result="再次清运并加装摄像头")
    a = svc.appeal_close(actor=world.dispatcher, appeal=a)
    rating = svc.appeal_rate(actor=world.resident, appeal=a, value="satisfied")
    assert rating.round == 2
    with pytest.raises(svc.AppealConflict):
        svc.appeal_rate(actor=world.resident, appeal=a, value="satisfied")


def test_callback_rating_recorded_by_staff(world):
    a = bring_to(world, S.CLOSED)
    rating = svc.appeal_rate(
        actor=world.dispatcher, appeal=a, value="basically_satisfied", comment="电话回访"
    )
    assert rating.source == "callback"
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_rate(actor=world.other_resident, appeal=bring_to(world, S.CLOSED), value="satisfied")


def test_extension_approved_moves_the_deadline_and_refused_does_not(world):
    a = bring_to(world, S.IN_PROGRESS)
    due = a.handling_due
    req = svc.appeal_extension_request(actor=world.handler, appeal=a, days=2, reason="需协调")
    with pytest.raises(svc.AppealConflict):
        svc.appeal_extension_request(actor=world.handler, appeal=a, days=1, reason="再申请")
    svc.appeal_extension_decide(actor=world.dispatcher, request=req, approve=True)
    a.refresh_from_db()
    assert a.handling_due > due and a.extended_days == 2
    with pytest.raises(svc.AppealConflict):
        svc.appeal_extension_decide(actor=world.dispatcher, request=req, approve=False)
    req2 = svc.appeal_extension_request(actor=world.handler, appeal=a, days=3, reason="还需时间")
    svc.appeal_extension_decide(actor=world.dispatcher, request=req2, approve=False, note="不予延期")
    due_after = a.handling_due
    a.refresh_from_db()
    assert a.handling_due == due_after and a.extended_days == 2


def test_assisting_unit_signs_its_part_without_moving_the_case(world):
    a = bring_to(world, S.DISPATCHED)
    svc.appeal_sign(actor=world.other_handler, appeal=a)
    a.refresh_from_db()
    assert a.status == S.DISPATCHED
    assert a.assignments.get(unit=world.housing).signed_at is not None
    with pytest.raises(svc.AppealConflict):
        svc.appeal_sign(actor=world.other_handler, appeal=a)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_handle(actor=world.other_handler, appeal=bring_to(world, S.IN_PROGRESS), result="x")


# The loop as PRODUCT.md §3 describes it, written out independently of the code's table.
SPEC = {
    "register": ({"submitted"}, "registered"),
    "reject": ({"submitted", "registered", "returned"}, "rejected"),
    "merge": ({"submitted", "registered", "returned"}, "merged"),
    "route": ({"submitted", "registered", "returned", "reopened"}, None),
    "dispatch": ({"registered", "returned", "reopened"}, "dispatched"),
    "sign": ({"dispatched", "reopened"}, "in_progress"),
    "sign_assist": ({"dispatched", "in_progress", "reopened"}, None),
    "handle": ({"in_progress"}, "handled"),
    "return": ({"dispatched", "in_progress"}, "returned"),
    "extension_request": ({"dispatched", "in_progress"}, None),
    "extension_decide": ({"dispatched", "in_progress"}, None),
    "verify_pass": ({"handled"}, "closed"),
    "verify_fail": ({"handled"}, "reopened"),
    "close": ({"handled", "reopened"}, "closed"),
    "reopen": ({"closed"}, "reopened"),
    "withdraw": ({"submitted", "registered", "dispatched", "returned"}, "withdrawn"),  # before handling
    "rate": ({"closed"}, None),
    "supervise": ({"dispatched", "in_progress", "reopened"}, None),
    "patrol_close": ({"submitted"}, "closed"),
    "redact": ({"closed"}, None),
    # the resident's 补充材料 while the case is open; an assisting unit's own result while it is handled
    "supplement": (
        {"submitted", "registered", "dispatched", "in_progress", "handled", "returned", "reopened"},
        None,
    ),
    "assist_report": ({"dispatched", "in_progress", "reopened"}, None),
}


def test_table_matches_the_product_description():
    assert {k: (set(v[0]), v[1]) for k, v in svc.TRANSITIONS.items()} == SPEC


def test_final_states_allow_nothing_but_reading():
    for final in ("rejected", "merged", "withdrawn"):
        assert svc.allowed_transitions(final) == []
    assert set(svc.allowed_transitions("closed")) == {"reopen", "rate", "redact"}  # no supplement
