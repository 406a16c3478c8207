from django.core.management.base import BaseCommand

from linli.domains.appeals.tasks import appeal_deadline_scan


class Command(BaseCommand):
    help = (
        "Record the 催办/督办 of cases whose 80% point or deadline fell since the last scan and send "
        "each unit its digest (the colours themselves are derived when read; run every few minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="hand it to the task worker instead of running here"
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = appeal_deadline_scan.enqueue()
            self.stdout.write(f"enqueued {result.id}")
        else:
            self.stdout.write(str(appeal_deadline_scan.call()))
