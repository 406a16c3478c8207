import pytest
from django.http import Http404

from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.permissions import access_appeal_by_id, appeals_visible_to

from .helpers import bring_to, submit


def test_resident_sees_only_their_own(world):
    mine = submit(world)
    theirs = submit(world, resident=world.other_resident)
    assert access_appeal_by_id(world.resident, mine.pk) == mine
    with pytest.raises(Http404):
        access_appeal_by_id(world.resident, theirs.pk)
    assert list(appeals_visible_to(world.resident)) == [mine]


def test_dispatcher_by_jurisdiction(world):
    in_street1 = submit(world, grid_index=0)
    in_street2 = submit(world, grid_index=4)
    assert in_street1.street == world.d.streets[0] and in_street2.street == world.d.streets[1]
    assert access_appeal_by_id(world.dispatcher, in_street1.pk)
    assert access_appeal_by_id(world.street2_dispatcher, in_street2.pk)
    with pytest.raises(Http404):
        access_appeal_by_id(world.street2_dispatcher, in_street1.pk)
    assert set(appeals_visible_to(world.street2_dispatcher)) == {in_street2}
    assert set(appeals_visible_to(world.dispatcher)) == {in_street1, in_street2}


def test_grid_worker_sees_their_grid_only(world):
    here = submit(world, grid_index=0)
    elsewhere = submit(world, grid_index=1)
    assert access_appeal_by_id(world.grid_worker, here.pk)
    with pytest.raises(Http404):
        access_appeal_by_id(world.grid_worker, elsewhere.pk)


def test_department_sees_what_was_assigned_to_it(world):
    a = bring_to(world, "dispatched")
    b = submit(world)
    assert access_appeal_by_id(world.handler, a.pk)
    assert access_appeal_by_id(world.other_handler, a.pk)  # assisting unit
    with pytest.raises(Http404):
        access_appeal_by_id(world.handler, b.pk)
    assert list(appeals_visible_to(world.handler)) == [a]
    # after a return the unit keeps read access to what it once held
    svc.appeal_return(actor=world.handler, appeal=a, reason="不属于本单位")
    assert access_appeal_by_id(world.handler, a.pk)


def test_missing_and_malformed_ids_are_404(world):
    with pytest.raises(Http404):
        access_appeal_by_id(world.dispatcher, 999999)
    with pytest.raises(Http404):
        access_appeal_by_id(world.dispatcher, "abc")


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    a = submit(world)
    with pytest.raises(Http404):
        access_appeal_by_id(AnonymousUser(), a.pk)
    assert not appeals_visible_to(AnonymousUser()).exists()


def test_dispatcher_outside_jurisdiction_cannot_act(world):
    a = submit(world, grid_index=0)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_register(actor=world.street2_dispatcher, appeal=a)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_register(actor=world.handler, appeal=a)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_reject(actor=world.resident, appeal=a, reason="x")
    a.refresh_from_db()
    assert a.status == S.SUBMITTED


def test_only_the_lead_unit_signs_handles_returns(world):
    a = bring_to(
        world,
        "dispatched",
    )
    for actor in (world.street_staff, world.dispatcher, world.resident, world.grid_worker):
        with pytest.raises(svc.ActorNotAllowed):
            svc.appeal_sign(actor=actor, appeal=a)
        with pytest.raises(svc.ActorNotAllowed):
            svc.appeal_return(actor=actor, appeal=a, reason="x")
    svc.appeal_sign(actor=world.handler_leader, appeal=a)  # any staff of the unit


def test_only_the_resident_withdraws_their_own(world):
    a = submit(world)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_withdraw(actor=world.other_resident, appeal=a)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_withdraw(actor=world.handler, appeal=a)
    assert svc.appeal_withdraw(actor=world.resident, appeal=a).status == S.WITHDRAWN


def test_grid_worker_may_verify_in_their_grid_only(world):
    a = bring_to(world, "handled", grid_index=0)
    b = bring_to(world, "handled", grid_index=1)
    assert svc.appeal_verify(actor=world.grid_worker, appeal=a, passed=True).status == S.CLOSED
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_verify(actor=world.grid_worker, appeal=b, passed=True)
