from pathlib import Path

from django.core.management.base import BaseCommand

from linli.domains.appeals.catalogue import DEFAULT_FILE, appeal_categories_load


class Command(BaseCommand):
    help = "Load (or update) the appeal category tree from a JSON file (default: the demo tree)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DEFAULT_FILE)

    def handle(self, *args, **options):
        counts = appeal_categories_load(path=options["file"])
        self.stdout.write(f"categories created: {counts['created']}, updated: {counts['updated']}")
