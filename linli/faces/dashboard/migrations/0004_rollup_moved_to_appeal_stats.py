"""The statistics copy (AppealFact, MonthStat, RollupState) moved down to the appeals domain
(``linli.domains.appeals.stats``, app label ``appeal_stats``), so that ``appeal_rates`` can read it
without a domain importing a face. The copy is derived data: its new tables start empty and the next
refresh (every minute, or ``manage.py dashboard_rollup --full``) rebuilds them in full; until then
every figure is read from the appeals table (exact, slower). The old tables are dropped here.
The dashboard's partial indexes on the appeals table (migration 0002) stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0003_rollup_late_months"),
        ("appeal_stats", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="AppealFact"),
        migrations.DeleteModel(name="MonthStat"),
        migrations.DeleteModel(name="RollupState"),
    ]
