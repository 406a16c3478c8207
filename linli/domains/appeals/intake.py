"""The intake's hot path and the follow-up that finishes each intake in the background.

What must be durable before a resident or partner is told "received" is the appeal row itself; on
PostgreSQL that is **one statement**: ``INSERT … ON CONFLICT DO NOTHING RETURNING id, reference``,
with the reference number taken from the day's sequence inside the same statement (no BEGIN, no
savepoint, no second round trip). A conflict on the idempotency key or the external reference
returns no row, and the caller reads the case made the first time.

Everything else an intake sets off — the ``submit`` event on the timeline (unless the intake wrote
it with photos), the audit row, the ``appeal.created`` webhook, the dispatchers' notices, triage and
automatic dispatch — is done by ``services.appeal_intake_complete`` once per appeal, in the task
worker. Intakes do not each enqueue a task: after its commit an intake *nudges* the worker, at most
once per ``LINLI_APPEALS_INTAKE_BATCH_DELAY`` seconds per process, with one
``appeal_intake_batch`` task due that long after, and not while a batch that no worker has started
yet waits in the queue; the batch finishes every intake still pending when it runs (so it also
finishes the ones whose nudge was skipped: they committed before it started).
``appeal_intake_sweep`` in the deadline scan catches whatever a crash left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_tasks import TaskResultStatus, default_task_backend
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from .models import Appeal, ReferenceCounter

logger = logging.getLogger("linli.appeals")


# --- reference numbers -----------------------------------------------------------------------------


def reference_day_key(now) -> str:
    prefix = getattr(settings, "LINLI_APPEALS_REFERENCE_PREFIX", "JN")
    return f"{prefix}{timezone.localtime(now):%Y%m%d}"


def format_reference(key: str, value: int) -> str:
    """``JN20261126-0001``: the prefix, the day, and the count within the day (4 digits or more)."""
    return f"{key}-{value:04d}"


def reference_value(now, using: str):
    """The reference of a new appeal: on PostgreSQL an expression evaluated inside the INSERT (one
    sequence per day, ``appeals_reference_next``, migration 0003: concurrent intakes never wait on
    one another; a number taken by an insert that then conflicts or rolls back is a gap). Elsewhere
    (SQLite serialises writes anyway) the day's ``ReferenceCounter`` row, in one upsert."""
    key = reference_day_key(now)
    connection = connections[using]
    if connection.vendor == "postgresql":
        return RawSQL(
            "(SELECT %s || '-' || CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END"
            " FROM appeals_reference_next(%s) AS n)",
            (key, key),
        )
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, value) VALUES (%s, 1) "  # noqa: S608 - identifier from model metadata
            f"ON CONFLICT (key) DO UPDATE SET value = {table}.value + 1 RETURNING value",
            [key],
        )
        value = cursor.fetchone()[0]
    return format_reference(key, value)


# --- the insert ------------------------------------------------------------------------------------


def insert_appeal(appeal: Appeal, *, now, keyed: bool) -> bool:
    """Write a new ``appeal`` in one statement and fill in its id and reference; False (nothing
    written) when ``keyed`` and a case with the same idempotency key or external reference exists.

    ``QuerySet._insert`` is what ``Model.save`` itself calls; it is used directly to add the
    conflict clause and to get the reference back from the same statement."""
    using = router.db_for_write(Appeal, instance=appeal)
    appeal.reference = reference_value(now, using)
    meta = Appeal._meta
    # Nullable columns left empty are not named: the database writes NULL all the same, and the
    # shorter statement (under psycopg's 50 parameters) is parsed once per process, not per intake.
    fields = [
        f
        for f in meta.local_concrete_fields
        if not f.generated and f is not meta.pk and not (f.null and getattr(appeal, f.attname) is None)
    ]
    returning = [meta.pk, meta.get_field("reference")]
    rows = Appeal._base_manager._insert(
        [appeal],
        fields=fields,
        returning_fields=returning,
        using=using,
        on_conflict=OnConflict.IGNORE if keyed else None,
    )
    row = rows[0] if rows else None
    if not row:  # ON CONFLICT DO NOTHING returned no row
        appeal.reference = ""
        return False
    appeal.pk, appeal.reference = row[0], row[1]
    appeal._state.adding, appeal._state.db = False, using
    return True


# --- nudging the worker ------------------------------------------------------------------------------

_nudge_lock = threading.Lock()
_next_nudge = [0.0]  # monotonic time before which this process has a batch due already


def batch_delay() -> float:
    return float(getattr(settings, "LINLI_APPEALS_INTAKE_BATCH_DELAY", 1.0))


def request_followup(appeal_id: int, *, auto_dispatch: bool | None) -> bool:
    """Have the worker finish this intake. Returns True when it is already done (a backend that runs
    tasks at once, as the tests use, has run it before this returns).

    An explicit ``auto_dispatch`` (the demo, patrol reports, tests), a backend that cannot defer
    a task (the immediate one) or ``LINLI_APPEALS_INTAKE_BATCH_DELAY = 0`` gets the appeal its own
    ``appeal_intake_followup``, enqueued in the intake's transaction; every other intake is finished
    by the next ``appeal_intake_batch``."""
    from .tasks import appeal_intake_followup

    if auto_dispatch is not None or batch_delay() <= 0 or not default_task_backend.supports_defer:
        return appeal_intake_followup.enqueue(appeal_id=appeal_id, auto_dispatch=auto_dispatch).is_finished
    transaction.on_commit(_nudge, robust=True)
    return False


def _nudge() -> None:
    """After the intake's commit: one batch due ``delay`` seconds from now, unless this process has
    one due later than now already, or any process has queued one that no worker has started yet
    (either finds this intake: it starts after this commit). Without the second check every server
    process would add a batch each interval while a long batch runs, and during a surge the worker
    would then meet a row of batches that each find nothing."""
    from .tasks import appeal_intake_batch

    delay = batch_delay()
    now = time.monotonic()
    with _nudge_lock:
        if now < _next_nudge[0]:
            return
        _next_nudge[0] = now + delay
    try:
        if _batch_waiting(appeal_intake_batch):
            return
        appeal_intake_batch.using(run_after=timezone.now() + dt.timedelta(seconds=delay)).enqueue()
    except Exception:  # the appeal is stored; the sweep finishes it if no batch was queued
        with _nudge_lock:
            _next_nudge[0] = 0.0
        logger.exception("could not queue the intake batch; the sweep will finish these intakes")


def _batch_waiting(task) -> bool:
    """Whether the database task queue holds ``task`` not yet claimed by a worker (other backends:
    never known, so False). One read of the few ready rows, through the queue's partial index."""
    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    rows = DBTaskResult.objects.using(router.db_for_read(DBTaskResult))
    return rows.filter(status=TaskResultStatus.READY, task_path=task.module_path).exists()


def finish_pending(*, limit: int = 5000, chunk: int = 100) -> int:
    """Finish every intake still pending (oldest first), at most ``limit``; returns how many this
    call finished. Rows another batch is finishing are skipped (``SKIP LOCKED``).

    Each chunk is finished in bulk (``services.appeal_intake_complete_many``: timeline rows, audit
    rows, webhook events and the dispatchers' notices in a few statements), then routed
    (``appeal_intake_route_many``: one classifier call for the chunk). Should the bulk write fail,
    the chunk's appeals are finished one by one, and one whose follow-up fails again is left for
    the sweep, after the ones behind it.

    While intakes keep arriving (a newer appeal than at the last chunk), the batch yields between
    chunks (``_yield_to_intakes``): its database work runs at the priority of the requests', and on a
    small server a surge is answered faster when the follow-ups wait for it to pass."""
    from .services import appeal_intake_complete, appeal_intake_complete_many, appeal_intake_route_many

    done = 0
    after = 0
    ratio = settings.LINLI_APPEALS_INTAKE_YIELD
    newest = _newest_appeal() if ratio > 0 else 0
    while done < limit:
        started = time.monotonic()
        with transaction.atomic():
            ids = list(
                Appeal.objects.filter(intake_done_at__isnull=True, pk__gt=after)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            after = ids[-1]
            try:
                with transaction.atomic():
                    submitted = appeal_intake_complete_many(ids)
            except Exception:
                logger.exception(
                    "intake follow-ups of %s appeals failed in bulk; finishing them one by one", len(ids)
                )
            else:
                done += len(submitted)
                appeal_intake_route_many(submitted)
                ids = []
            for appeal_id in ids:
                try:
                    with transaction.atomic():
                        done += bool(appeal_intake_complete(appeal_id=appeal_id))
                except Exception:
                    logger.exception("intake follow-up of appeal %s failed; left for the sweep", appeal_id)
        if ratio > 0 and done < limit:
            newest = _yield_to_intakes(newest, ratio, time.monotonic() - started)
    return done


def _newest_appeal() -> int:
    return Appeal.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _yield_to_intakes(newest: int, ratio: float, worked: float) -> int:
    """Sleep ``ratio`` × the time the chunk took (at most a second) if appeals arrived while it ran
    (a surge is under way); after a surge the backlog is finished at full speed. Returns the newest
    appeal's id."""
    now_newest = _newest_appeal()
    if now_newest != newest:
        time.sleep(min(1.0, worked * ratio))
    return now_newest
