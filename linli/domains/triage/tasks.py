"""Background work of smart triage: training a model version. Tasks take ids and may run twice
without harm (the build claims its row)."""

from __future__ import annotations

from django_tasks import task

from .services import triage_corrections_collect, triage_model_build


@task()
def triage_model_train_task(*, model_id: int) -> str:
    """Gather the corrections made outside the dispatcher's page, then train the model of this row."""
    triage_corrections_collect()
    model = triage_model_build(model_id=model_id)
    return "" if model is None else model.status


@task()
def triage_corrections_sweep() -> int:
    """Dispatchers' corrections of the last day, read from the appeals' timelines (periodic)."""
    import datetime as dt

    from django.utils import timezone

    return triage_corrections_collect(since=timezone.now() - dt.timedelta(days=1))
