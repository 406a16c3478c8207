from apscheduler.schedulers.blocking import BlockingScheduler
from django.core.management.base import BaseCommand

from linli.core.scheduling.schedule import periodic_tasks


class Command(BaseCommand):
    help = "Enqueue the periodic background tasks (settings.LINLI_PERIODIC_TASKS) on their schedules."

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="print the schedule and exit")

    def handle(self, *args, list=False, **options):
        tasks = periodic_tasks()
        for entry in tasks:
            entry.trigger()  # a bad crontab fails here, before anything runs
            self.stdout.write(f"{entry.cron:<16} {entry.task_path}")
        if list or not tasks:
            return
        scheduler = BlockingScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
        )
        for entry in tasks:
            scheduler.add_job(entry.enqueue, entry.trigger(), id=entry.task_path)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=False)
