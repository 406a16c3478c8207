"""Train a new triage model version now, in this process, and optionally activate it.

    manage.py triage_train [--no-platform] [--set ID ...] [--no-corrections] [--folds K] [--activate]

The same training as "retrain now" on /triage/models/ (which runs it as a background task): the
platform's closed appeals, the imported sets (all active ones unless --set is given) and the
dispatchers' corrections. Prints the cross-validated figures.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.domains.triage import services
from linli.domains.triage.choices import ModelStatus


class Command(BaseCommand):
    help = "Train (and optionally activate) a new triage model version."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-platform", action="store_true", help="leave out the platform's closed appeals"
        )
        parser.add_argument("--set", action="append", type=int, dest="sets", metavar="ID")
        parser.add_argument("--no-corrections", action="store_true")
        parser.add_argument("--folds", type=int, default=None)
        parser.add_argument("--per-class", type=int, default=None)
        parser.add_argument("--activate", action="store_true")

    def handle(self, *args, **options):
        try:
            services.triage_corrections_collect()
            model = services.triage_model_train(
                actor=None,
                platform=not options["no_platform"],
                set_ids=options["sets"],
                use_corrections=not options["no_corrections"],
                per_class=options["per_class"],
                folds=options["folds"],
                run=False,
            )
            model = services.triage_model_build(model_id=model.pk)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if model.status == ModelStatus.FAILED:
            raise CommandError(f"v{model.version} failed: {model.error}")
        self.stdout.write(
            f"v{model.version}: {model.n_train} examples, {len(model.labels)} classes, "
            f"macro-F1 {model.macro_f1}, accuracy {model.accuracy}, "
            f"{model.train_seconds}s, {model.size_bytes} bytes"
        )
        if options["activate"]:
            services.triage_model_activate(actor=None, model=model)
            self.stdout.write(f"v{model.version} is now active")
