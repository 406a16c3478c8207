"""Periodic background work. django-tasks runs tasks but does not schedule them; the `scheduler`
command (started by `make run` and `make serve` beside the worker) enqueues each entry of
``settings.LINLI_PERIODIC_TASKS`` on its cron schedule. Tasks are idempotent, so a second scheduler
or a missed tick does no harm."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("linli.scheduling")


@dataclass(frozen=True)
class PeriodicTask:
    task_path: str  # dotted path to a django_tasks task
    cron: str  # crontab expression, in settings.TIME_ZONE

    def trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.cron, timezone=settings.TIME_ZONE)

    def enqueue(self) -> None:
        task = import_string(self.task_path)
        result = task.enqueue()
        logger.info("enqueued %s (%s)", self.task_path, getattr(result, "id", "?"))


def periodic_tasks() -> list[PeriodicTask]:
    entries = getattr(settings, "LINLI_PERIODIC_TASKS", [])
    return [PeriodicTask(task_path=path, cron=cron) for path, cron in entries]
