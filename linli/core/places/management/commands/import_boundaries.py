from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.core.places.services import boundaries_import


class Command(BaseCommand):
    help = "Import areas (district/street/community/grid) and compounds from a GeoJSON FeatureCollection."

    def add_arguments(self, parser):
        parser.add_argument("file", help="GeoJSON file ('-' reads standard input)")

    def handle(self, *args, file, **options):
        if file == "-":
            import sys

            data = sys.stdin.buffer.read()
        else:
            try:
                data = Path(file).read_bytes()
            except OSError as exc:
                raise CommandError(f"无法读取文件 / cannot read {file}: {exc}") from exc
        try:
            summary = boundaries_import(actor=None, data=data)
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(str(summary)))
