from django.core.management.base import BaseCommand

from linli.domains.appeals.tasks import appeal_deadline_scan


class Command(BaseCommand):
    help = "Colour open appeals by their deadlines and send 催办/督办 notices (run every few minutes)."

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
