"""``manage.py load_demo [--if-empty] [--reset] [--residents N] [--seed S]``: load the Jinniu demo."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.demo.data.jinniu import DISTRICT_CODE
from linli.demo.generator import DEFAULT_RESIDENTS, DEFAULT_SEED, JinniuDemo
from linli.demo.purge import remove_demo


class Command(BaseCommand):
    help = "Load the Jinniu District demo: geography, residents, organisations, staff and resident accounts."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="load only when no district exists yet")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo district and everything hanging on it first (accounts are kept and reused)",
        )
        parser.add_argument("--residents", type=int, default=DEFAULT_RESIDENTS, help="how many residents")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
        parser.add_argument(
            "--core-only",
            action="store_true",
            help="only the core demo (places, people, organisations, accounts), not the modules' demo data",
        )

    def handle(
        self,
        *args,
        if_empty=False,
        reset=False,
        residents=DEFAULT_RESIDENTS,
        seed=DEFAULT_SEED,
        core_only=False,
        **options,
    ):
        if residents < 1:
            raise CommandError("--residents must be at least 1")
        if if_empty and Area.objects.filter(kind=AreaKind.DISTRICT).exists():
            self.stdout.write("A district is already loaded; nothing to do (--if-empty).")
            return
        exists = Area.objects.filter(code=DISTRICT_CODE).exists()
        if exists and not reset:
            raise CommandError(f"District {DISTRICT_CODE} already exists; use --reset to reload the demo.")
        started = time.monotonic()
        with transaction.atomic():
            if exists:
                self.stdout.write("Deleting the previous demo …")
                removed = remove_demo(DISTRICT_CODE)
                self.stdout.write(f"  {removed} rows deleted ({time.monotonic() - started:.1f}s)")
            self.stdout.write(f"Loading the Jinniu demo (seed {seed}, {residents} residents) …")
            ctx = JinniuDemo(
                residents=residents, seed=seed, log=self.stdout.write, modules=not core_only
            ).load()
        elapsed = time.monotonic() - started
        width = max(len(k) for k in ctx.counts)
        self.stdout.write(self.style.SUCCESS(f"Jinniu demo loaded in {elapsed:.1f}s:"))
        for key, value in ctx.counts.items():
            self.stdout.write(f"  {key:<{width}}  {value}")
        self.stdout.write("Sign-in accounts: manage.py demo_logins")
