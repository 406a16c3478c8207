"""Import a CSV of past messages as triage training data.

    manage.py triage_import FILE [--name NAME] [--map LABEL=CATEGORY_CODE ...] [--inactive]

Columns: ``title``, ``body``, ``label`` (``title`` or ``body`` may be empty), optional ``id`` and
``submitted_at``. Labels that are the name or code of a category map to it unless ``--map`` says
otherwise; the mapping can be changed later on the import's page (/triage/imports/).
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.domains.appeals.models import Category
from linli.domains.triage import services


class Command(BaseCommand):
    help = "Import a CSV of labelled past messages (title, body, label) as triage training data."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--name", default="")
        parser.add_argument("--map", action="append", default=[], metavar="LABEL=CODE")
        parser.add_argument(
            "--inactive", action="store_true", help="import without using it for training yet"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        mapping = None
        if options["map"]:
            codes = dict(Category.objects.values_list("code", "pk"))
            mapping = {}
            for item in options["map"]:
                label, _, code = item.partition("=")
                if code not in codes:
                    raise CommandError(f"unknown category code: {code}")
                mapping[label] = codes[code]
        try:
            training_set = services.triage_set_import(
                actor=None, name=options["name"] or path.stem, raw=raw, mapping=mapping
            )
            if mapping is not None:
                guessed = services.guess_mapping(training_set.label_counts)
                services.triage_set_map(
                    actor=None,
                    training_set=training_set,
                    mapping={**guessed, **mapping},
                    is_active=not options["inactive"],
                )
            elif options["inactive"]:
                services.triage_set_map(
                    actor=None, training_set=training_set, mapping=training_set.mapping, is_active=False
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        training_set.refresh_from_db()
        self.stdout.write(f"imported set {training_set.pk} '{training_set.name}': {training_set.rows} rows")
        for label, count in sorted(training_set.label_counts.items(), key=lambda x: -x[1]):
            target = training_set.mapping.get(label)
            shown = str(Category.objects.get(pk=target)) if target else "(not mapped)"
            self.stdout.write(f"  {label}: {count} → {shown}")
