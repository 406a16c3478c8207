"""Background work of the statistics copy. Tasks take ids and may run twice."""

from __future__ import annotations

from django_tasks import task


@task()
def appeal_stats_refresh() -> None:
    """Every minute: the facts and monthly sums catch up with the appeals (``rollup.refresh``)."""
    from .rollup import refresh

    refresh()
