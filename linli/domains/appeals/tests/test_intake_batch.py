"""The intake's hot path with a worker that runs tasks later (the database backend in production):
the request writes the appeal row only, nudges the worker at most once per interval per process, and
one batch finishes every pending intake exactly once."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from django_tasks import default_task_backend

from linli.core.audit.models import AuditEvent
from linli.domains.appeals import intake, services
from linli.domains.appeals.choices import Action
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, AppealEvent

from .conftest import png_bytes
from .helpers import submit

LATER = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def later_worker(settings):
    """A task backend that keeps what is enqueued (and can defer it), as the database one does."""
    settings.TASKS = LATER
    settings.LINLI_APPEALS_INTAKE_BATCH_DELAY = 1.0
    intake._next_nudge[0] = 0.0
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()
    intake._next_nudge[0] = 0.0


def _names(backend):
    return [result.task.name for result in backend.results]


def test_an_intake_writes_only_the_appeal_and_one_nudge_serves_many(
    world, later_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(world, auto_dispatch=None)
    with django_capture_on_commit_callbacks(execute=True):
        second = submit(world, auto_dispatch=None, grid_index=1)
    for appeal in (first, second):
        assert appeal.pk and appeal.status == S.SUBMITTED and appeal.intake_done_at is None
        assert not AppealEvent.objects.filter(appeal=appeal).exists()  # the timeline is the worker's
    assert first.reference != second.reference
    # one batch for both: the second intake committed before the first one's batch is due
    assert _names(later_worker) == ["appeal_intake_batch"]
    due = later_worker.results[0].task.run_after
    assert timezone.now() < due <= timezone.now() + dt.timedelta(seconds=1.5)

    assert intake.finish_pending() == 2
    for appeal in (first, second):
        appeal.refresh_from_db()
        assert appeal.intake_done_at is not None
        events = list(appeal.events.values_list("action", "at", "actor_id"))
        assert events[0] == (Action.SUBMIT, appeal.created_at, world.resident.pk)
        assert [action for action, _, actor in events[1:] if actor is None] == [
            Action.REGISTER,
            Action.DISPATCH,
        ]
        assert AuditEvent.objects.filter(action="appeal.submit", object_id=str(appeal.pk)).count() == 1
    assert intake.finish_pending() == 0  # nothing left, nothing done twice


def test_the_next_nudge_comes_once_the_due_batch_has_started(
    world, later_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(world, auto_dispatch=None)
    intake._next_nudge[0] = 0.0  # as if the interval had passed
    with django_capture_on_commit_callbacks(execute=True):
        submit(world, auto_dispatch=None)
    assert _names(later_worker) == ["appeal_intake_batch", "appeal_intake_batch"]


def test_when_the_bulk_write_fails_each_appeal_is_finished_alone(world, later_worker, monkeypatch):
    a = submit(world, auto_dispatch=None)
    b = submit(world, auto_dispatch=None)
    from linli.domains.appeals import services

    real = services.appeal_intake_complete

    def bulk_fails(ids):
        AppealEvent.objects.create(appeal=a, action=Action.SUBMIT, to_status=S.SUBMITTED)  # half-written
        raise RuntimeError("bulk boom")

    def flaky(*, appeal_id, auto_dispatch=None):
        if appeal_id == a.pk:
            raise RuntimeError("boom")
        return real(appeal_id=appeal_id, auto_dispatch=auto_dispatch)

    monkeypatch.setattr(services, "appeal_intake_complete_many", bulk_fails)
    monkeypatch.setattr(services, "appeal_intake_complete", flaky)
    assert intake.finish_pending() == 1
    assert Appeal.objects.get(pk=a.pk).intake_done_at is None  # left for the sweep
    assert Appeal.objects.get(pk=b.pk).intake_done_at is not None
    assert not AppealEvent.objects.filter(appeal=a).exists()  # its half-done follow-ups rolled back
    assert AppealEvent.objects.filter(appeal=b, action=Action.SUBMIT).count() == 1


def test_a_batch_writes_what_one_follow_up_writes(world, later_worker, settings, clock):
    """The bulk follow-up of a batch and the follow-up of a single appeal leave the same rows. The clock
    stands still: within working hours the handling deadline counts from the very moment of dispatch, so
    appeals dispatched milliseconds apart would differ in it (outside them it starts at the next opening
    hour, which is why a run at night passed without the clock)."""
    from linli.core.webhooks.models import OutboxEvent, Subscription
    from linli.domains.appeals import services

    Subscription.objects.create(
        partner="融媒体",
        target_url="https://partner.example/hook",
        secret="s" * 32,
        event_types=["appeal.created"],
    )
    alone = submit(world, auto_dispatch=None)
    assert services.appeal_intake_complete(appeal_id=alone.pk)
    batch = [submit(world, auto_dispatch=None, grid_index=i) for i in range(3)]
    assert intake.finish_pending() == 3

    def left(appeal):
        appeal.refresh_from_db()
        events = [(e.action, e.actor_id, e.from_status, e.to_status) for e in appeal.events.order_by("id")]
        audit = list(
            AuditEvent.objects.filter(object_id=str(appeal.pk), action__startswith="appeal.")
            .order_by("id")
            .values_list("action", "actor_id", "changes")
        )
        outbox = OutboxEvent.objects.get(event_type="appeal.created", object_id=str(appeal.pk))
        payload = {
            k: v
            for k, v in outbox.payload.items()
            if k not in {"reference", "created_at", "street", "community"}
        }
        return appeal.status, appeal.lead_unit_id, events, audit, payload

    expected = left(alone)
    assert expected[0] == S.DISPATCHED and expected[2][0][0] == Action.SUBMIT  # routed by the rules
    for appeal in batch:
        assert appeal.pk != alone.pk and left(appeal) == expected
        assert appeal.intake_done_at is not None
    assert intake.finish_pending() == 0


def test_automatic_dispatches_in_a_batch_write_their_notices_without_a_task_each(world, later_worker):
    """The register and dispatch events of an automatic dispatch are noticed by the batch itself, as
    ``appeal_notify`` would notice them, instead of two queued tasks per appeal."""
    from linli.core.notifications.models import Notification
    from linli.domains.appeals.tasks import appeal_notify

    batch = [submit(world, auto_dispatch=None, grid_index=i) for i in range(3)]
    later_worker.clear()
    assert intake.finish_pending() == 3
    assert "appeal_notify" not in _names(later_worker)
    for appeal in batch:
        appeal.refresh_from_db()
        assert appeal.status == S.DISPATCHED  # routed by the rules
        dispatch = appeal.events.get(action=Action.DISPATCH)
        key = f"appeal-event:{dispatch.pk}"
        noticed = set(Notification.objects.filter(dedupe_key=key).values_list("recipient_id", flat=True))
        assert world.handler.pk in noticed
        assert appeal_notify.call(event_id=dispatch.pk) == 0  # the task would have added nothing


def test_a_dispatcher_gets_one_notice_for_a_batch_and_the_usual_one_for_a_single_case(
    world, later_worker, settings
):
    from linli.core.notifications.models import Notification
    from linli.domains.appeals.tasks import appeal_notify

    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    one = submit(world, auto_dispatch=None)
    assert intake.finish_pending() == 1
    single = Notification.objects.get(recipient=world.dispatcher)
    submit_event = one.events.get(action=Action.SUBMIT)
    assert single.url.endswith(f"/{one.pk}/") and one.reference in single.title
    assert single.dedupe_key == f"appeal-event:{submit_event.pk}"
    assert appeal_notify.call(event_id=submit_event.pk) == 0  # the same notice as the event's own
    # the street 2 dispatcher sees only cases in street 2
    assert not Notification.objects.filter(recipient=world.street2_dispatcher).exists()

    several = [submit(world, auto_dispatch=None, grid_index=i) for i in range(3)]
    assert intake.finish_pending() == 3
    digest = Notification.objects.exclude(pk=single.pk).get(recipient=world.dispatcher)
    assert digest.title.startswith("3 件新诉求待受理") and digest.url.endswith("/appeals/queue/")
    assert all(a.reference in digest.body for a in several)
    with translation.override("en"):  # each notice says it in the reader's language
        assert digest.shown_title == "3 new appeals to register"
        assert single.shown_title == f"Appeal {one.reference} “{one.title}” — step: Submit; status: Submitted"
        assert "新诉求" not in digest.shown_title + single.shown_title


def test_a_batch_costs_the_same_statements_whatever_its_size(world, later_worker, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    counts = []
    for size in (1, 2, 8):  # the first batch also fills the process's caches
        for i in range(size):
            submit(world, auto_dispatch=None, grid_index=i % 4)
        with CaptureQueriesContext(connection) as queries:
            assert intake.finish_pending() == size
        counts.append(len(queries))
    assert counts[1] == counts[2]


def test_an_intake_with_photos_writes_its_timeline_at_once(world, later_worker):
    appeal = submit(world, auto_dispatch=None, photos=[png_bytes()])
    event = appeal.events.get()
    assert event.action == Action.SUBMIT and appeal.attachments.filter(event=event).count() == 1
    assert intake.finish_pending() == 1
    assert appeal.events.filter(action=Action.SUBMIT).count() == 1  # not written a second time


def test_a_retry_with_the_same_key_is_the_same_case_without_a_second_row(world, later_worker):
    a = submit(world, auto_dispatch=None, idempotency_key="retry-1")
    b = submit(world, auto_dispatch=None, idempotency_key="retry-1")
    assert a.pk == b.pk and a.reference == b.reference
    assert Appeal.objects.filter(idempotency_key="retry-1").count() == 1


def test_the_resident_sees_the_case_received_before_the_worker_has_run(world, later_worker, client):
    from django.urls import reverse

    appeal = submit(world, auto_dispatch=None)
    client.force_login(world.resident)
    page = client.get(reverse("appeals:mine_detail", args=[appeal.pk])).content.decode()
    assert appeal.reference in page and "已收到，正在登记" in page
    intake.finish_pending()
    page = client.get(reverse("appeals:mine_detail", args=[appeal.pk])).content.decode()
    assert "已收到，正在登记" not in page


def test_a_batch_yields_between_chunks_only_while_intakes_keep_arriving(
    world, later_worker, settings, monkeypatch
):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    settings.LINLI_APPEALS_INTAKE_YIELD = 1.0
    for i in range(4):
        submit(world, auto_dispatch=None, grid_index=i)
    slept = []
    monkeypatch.setattr(intake.time, "sleep", slept.append)
    assert intake.finish_pending(chunk=2) == 4
    assert slept == []  # a backlog after the surge is finished at full speed

    real = services.appeal_intake_complete_many

    def and_one_more_arrives(ids):
        done = real(ids)
        if len(slept) < 1:
            submit(world, auto_dispatch=None)
        return done

    for i in range(2):
        submit(world, auto_dispatch=None, grid_index=i)
    monkeypatch.setattr(services, "appeal_intake_complete_many", and_one_more_arrives)
    assert intake.finish_pending(chunk=2) == 3
    assert len(slept) == 1 and 0 <= slept[0] <= 1.0


def test_no_second_batch_is_queued_while_one_waits_for_the_worker(
    world, settings, django_capture_on_commit_callbacks
):
    """With the database queue, a process whose interval has passed does not add a batch while
    one that no worker has started is waiting (it will find the new intake); once a worker has
    claimed that one, the next intake queues the next."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.LINLI_APPEALS_INTAKE_BATCH_DELAY = 1.0
    batches = DBTaskResult.objects.filter(task_path="linli.domains.appeals.tasks.appeal_intake_batch")
    try:
        for grid in range(3):  # three intakes, each after the interval (another process, or later)
            intake._next_nudge[0] = 0.0
            with django_capture_on_commit_callbacks(execute=True):
                submit(world, auto_dispatch=None, grid_index=grid % 2)
        assert batches.filter(status=TaskResultStatus.READY).count() == 1

        batches.update(status=TaskResultStatus.RUNNING)  # a worker has started it
        intake._next_nudge[0] = 0.0
        with django_capture_on_commit_callbacks(execute=True):
            submit(world, auto_dispatch=None)
        assert batches.filter(status=TaskResultStatus.READY).count() == 1
        assert batches.count() == 2
        assert intake.finish_pending() == 4  # the waiting batch finds every intake
    finally:
        intake._next_nudge[0] = 0.0
