"""Train a fresh triage model on labelled CSV files and evaluate it on another.

    manage.py triage_evaluate --train FILE [--train FILE ...] --test FILE

Prints progress on stderr and, as its last line on stdout, one JSON object with the figures. Reads
nothing but the files named: no stored model, no other data.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from linli.domains.triage.datasets import DatasetError, LabelledMessages, read_labelled_csv
from linli.domains.triage.evaluation import evaluate
from linli.domains.triage.evaluation import train as train_model


class Command(BaseCommand):
    help = "Train a fresh triage model on --train CSV files and print its scores on --test as JSON."

    def add_arguments(self, parser):
        parser.add_argument(
            "--train",
            action="append",
            required=True,
            metavar="FILE",
            help="CSV with columns title, body, label (repeatable)",
        )
        parser.add_argument("--test", required=True, metavar="FILE", help="CSV with the same columns")

    def handle(self, *args, train: list[str], test: str, **options):
        def say(message: str) -> None:
            print(f"[triage_evaluate] {message}", file=sys.stderr, flush=True)

        skipped: list[str] = []
        try:
            training = LabelledMessages()
            for path in train:
                part = read_labelled_csv(path, skipped=skipped)
                say(f"{path}: {len(part)} messages")
                training.extend(part)
            testing = read_labelled_csv(test, skipped=skipped)
            say(f"{test}: {len(testing)} test messages")
        except DatasetError as error:
            raise CommandError(str(error)) from error
        if skipped:
            say(f"left out {len(skipped)} rows without label or text (first: {skipped[0]})")
        if len(set(training.labels)) < 2:
            raise CommandError("the training files need at least two different labels")

        model, train_seconds = train_model(training, progress=say)
        model_bytes = len(model.to_bytes())
        say(f"model {model_bytes / 1e6:.1f} MB; evaluating one message at a time …")
        result = evaluate(model, testing)
        result.pop("_predicted")
        result.update(
            train_seconds=round(train_seconds, 3),
            model_bytes=model_bytes,
            n_train=len(training),
            model=model.header()["config"],
        )
        say(f"macro-F1 {result['macro_f1']:.4f}, accuracy {result['accuracy']:.4f}")
        self.stdout.write(json.dumps(result, ensure_ascii=False))
