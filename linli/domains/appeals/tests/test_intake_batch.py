"""The intake's hot path with a worker that runs tasks later (the database backend in production):
the request writes the appeal row only, nudges the worker at most once per interval per process, and
one batch finishes every pending intake exactly once."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks import default_task_backend

from linli.core.audit.models import AuditEvent
from linli.domains.appeals import intake
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


def test_a_failing_follow_up_does_not_block_the_others(world, later_worker, monkeypatch):
    a = submit(world, auto_dispatch=None)
    b = submit(world, auto_dispatch=None)
    from linli.domains.appeals import services

    real = services.appeal_intake_complete

    def flaky(*, appeal_id, auto_dispatch=None):
        if appeal_id == a.pk:
            raise RuntimeError("boom")
        return real(appeal_id=appeal_id, auto_dispatch=auto_dispatch)

    monkeypatch.setattr(services, "appeal_intake_complete", flaky)
    assert intake.finish_pending() == 1
    assert Appeal.objects.get(pk=a.pk).intake_done_at is None  # left for the sweep
    assert Appeal.objects.get(pk=b.pk).intake_done_at is not None
    assert not AppealEvent.objects.filter(appeal=a).exists()  # its half-done follow-up rolled back


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
