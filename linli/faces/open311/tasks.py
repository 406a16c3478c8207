"""Background work of the Open311 face. Tasks take ids and may run twice without harm."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def open311_pending_process(pending_id: int) -> str:
    """Fetch the picture of one deferred request and file its case (``services``)."""
    pending = services.pending_request_process(pending_id=pending_id)
    return pending.status if pending is not None else "missing"


@task()
def open311_pending_sweep() -> int:
    """Periodic: deferred requests whose worker never finished are enqueued again."""
    return services.pending_request_sweep()
