from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealStatsConfig(AppConfig):
    """The appeals' statistics copy (``rollup.py``): narrow facts and monthly sums that the three rates,
    the dashboard's figures and the handling-time histogram are counted on. Part of the appeals
    domain (it reads the appeals tables directly); the faces read it through ``appeal_rates`` and
    ``rollup``. Its own app only so that its tables have their own migrations."""

    name = "linli.domains.appeals.stats"
    label = "appeal_stats"
    verbose_name = _("诉求统计")
