import pytest
from django.core.management import call_command
from django_tasks import task

from linli.core.scheduling.schedule import PeriodicTask, periodic_tasks

CALLS: list[int] = []


@task()
def sample_task():
    CALLS.append(1)


SAMPLE = "linli.core.scheduling.tests.test_schedule.sample_task"


def test_schedule_comes_from_settings(settings):
    settings.LINLI_PERIODIC_TASKS = [(SAMPLE, "*/5 * * * *")]
    assert periodic_tasks() == [PeriodicTask(SAMPLE, "*/5 * * * *")]


def test_bad_crontab_is_refused_before_running(settings):
    settings.LINLI_PERIODIC_TASKS = [(SAMPLE, "every minute")]
    with pytest.raises(ValueError):
        call_command("scheduler", "--list")


def test_enqueue_runs_the_task():
    CALLS.clear()
    PeriodicTask(SAMPLE, "* * * * *").enqueue()
    assert CALLS == [1]  # the test settings run tasks immediately
