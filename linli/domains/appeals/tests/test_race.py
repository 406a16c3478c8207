"""Two staff acting on the same case at once: exactly one wins, the other gets AppealConflict."""

import threading

import pytest
from django.db import connection

from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, Assignment

from .helpers import bring_to


def test_second_dispatcher_with_a_stale_view_is_told_clearly(world):
    a = bring_to(world, S.REGISTERED)
    seen_by_first = Appeal.objects.get(pk=a.pk)
    seen_by_second = Appeal.objects.get(pk=a.pk)
    svc.appeal_dispatch(actor=world.dispatcher, appeal=seen_by_first, lead_unit=world.city_mgmt)
    with pytest.raises(svc.AppealConflict) as info:
        svc.appeal_dispatch(actor=world.dispatcher, appeal=seen_by_second, lead_unit=world.housing)
    assert "/" in info.value.messages[0] and "已派遣" in info.value.messages[0]
    assert Assignment.objects.filter(appeal=a, is_active=True).get().unit == world.city_mgmt


def test_return_after_the_dispatcher_rejected_conflicts(world):
    a = bring_to(world, S.RETURNED)
    stale = Appeal.objects.get(pk=a.pk)
    svc.appeal_reject(actor=world.dispatcher, appeal=a, reason="不予受理")
    with pytest.raises(svc.AppealConflict):
        svc.appeal_dispatch(actor=world.dispatcher, appeal=stale, lead_unit=world.housing)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatch_threads(world):
    """Real concurrency needs row locks (PostgreSQL); SQLite serialises whole transactions."""
    from conftest import require_service

    require_service(connection.vendor == "postgresql", "PostgreSQL needed for row-lock races")
    a = bring_to(world, S.REGISTERED)
    barrier = threading.Barrier(2)
    outcomes = []

    def act(unit):
        from django.db import connections

        stale = Appeal.objects.get(pk=a.pk)
        barrier.wait()
        try:
            svc.appeal_dispatch(actor=world.dispatcher, appeal=stale, lead_unit=unit)
            outcomes.append("won")
        except svc.AppealConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(u,)) for u in (world.city_mgmt, world.housing)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert Assignment.objects.filter(appeal=a, is_active=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_idempotency_key_make_one_case(world):
    """The unique constraint decides: every thread gets the same case, and only one exists."""
    from conftest import require_service

    require_service(connection.vendor == "postgresql", "PostgreSQL needed for concurrent inserts")
    from .helpers import submit

    barrier = threading.Barrier(4)
    pks, errors = [], []

    def send():
        from django.db import connections

        try:
            barrier.wait()
            pks.append(submit(world, idempotency_key="same-key-twice").pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(pks)) == 1 and len(pks) == 4
    assert Appeal.objects.filter(idempotency_key="same-key-twice").count() == 1
    assert Appeal.objects.get().events.filter(action="submit").count() == 1
