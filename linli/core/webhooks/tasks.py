"""Background delivery. Tasks take ids and may run twice without harm: a delivery is claimed with a
conditional update before it is sent, so a duplicate task finds nothing to do."""

from __future__ import annotations

import logging

from django_tasks import task

from . import services

logger = logging.getLogger("linli.webhooks")


@task()
def webhook_deliver(delivery_id: int) -> str:
    """One try of one delivery (enqueued when the change commits, or by a replay)."""
    delivery = services.delivery_send(delivery_id)
    return delivery.status if delivery is not None else "skipped"


@task()
def webhook_sweep() -> dict[str, int]:
    """Periodic: every delivery whose retry is due, or whose worker died (lease expired). Sends a
    bounded batch in this worker; what is left waits for the next tick."""
    counts = {"sent": 0, "delivered": 0, "failed": 0}
    for delivery_id in services.due_delivery_ids():
        delivery = services.delivery_send(delivery_id)
        if delivery is None:
            continue
        counts["sent"] += 1
        counts["delivered" if delivery.status == "delivered" else "failed"] += 1
    if counts["sent"]:
        logger.info("webhook sweep: %s", counts)
    return counts
