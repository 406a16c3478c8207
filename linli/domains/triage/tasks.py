"""Background work of smart triage: training a model version. Tasks take ids and may run twice
without harm (the build claims its row)."""

from __future__ import annotations

from django_tasks import task

from .services import triage_corrections_collect, triage_model_build, triage_training_sweep


@task()
def triage_model_train_task(*, model_id: int) -> str:
    """Gather the corrections made outside the dispatcher's page, then train the model of this row."""
    triage_corrections_collect()
    model = triage_model_build(model_id=model_id)
    return "" if model is None else model.status


@task()
def triage_corrections_sweep() -> int:
    """Dispatchers' corrections of the last day, read from the appeals' timelines (periodic, every 10
    minutes); the same run marks failed the trainings whose worker died (``triage_training_sweep``)."""
    import datetime as dt

    from django.utils import timezone

    triage_training_sweep()
    return triage_corrections_collect(since=timezone.now() - dt.timedelta(days=1))


@task()
def triage_training_sweep_task() -> list[int]:
    """Versions left in "training" without progress for longer than the timeout become failed."""
    return triage_training_sweep()
