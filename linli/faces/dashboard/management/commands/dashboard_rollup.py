"""Bring the appeals' statistics copy (``linli.domains.appeals.stats``) up to date:
``manage.py dashboard_rollup [--full]``."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Refresh the appeals' statistics copy (facts and monthly sums); --full rebuilds it."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true")

    def handle(self, *args, full=False, **options):
        from linli.domains.appeals.stats.rollup import refresh

        st = refresh(full=full)
        self.stdout.write(
            f"rollup refreshed at {st.refreshed_at:%Y-%m-%d %H:%M:%S}: {st.rows} facts in {st.seconds:.1f}s"
        )
