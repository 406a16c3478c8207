import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.core.places.selectors import areas_feature_collection, compounds_feature_collection


class Command(BaseCommand):
    help = "Export area boundaries (and optionally compounds) as a GeoJSON FeatureCollection."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=AreaKind.values, help="only areas of this kind")
        parser.add_argument("--under", metavar="CODE", help="only what lies under the area with this code")
        parser.add_argument("--compounds", action="store_true", help="include compounds")
        parser.add_argument("--no-areas", action="store_true", help="leave the areas out (compounds only)")
        parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")

    def handle(self, *args, kind=None, under=None, compounds=False, no_areas=False, output=None, **options):
        area = None
        if under:
            try:
                area = Area.objects.get(code=under)
            except Area.DoesNotExist:
                raise CommandError(f"没有编码为 {under} 的区域 / no area with code {under}") from None
        features = [] if no_areas else areas_feature_collection(kind=kind, under=area)["features"]
        if compounds:
            features += compounds_feature_collection(under=area)["features"]
        text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(features)} features → {output}")
        else:
            self.stdout.write(text)
