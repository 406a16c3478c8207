"""The public statistics page's figures and the open data, the same for everyone: counted at most once a
minute and kept in the cache. ``dashboard_public_warm`` (every minute, queued just after the statistics
refresh) recounts the default period (the last 365 days) in the background, so a visitor is served
from the cache; other periods are counted on the first request and kept for a minute. Both count from
the statistics copy as of its last refresh, today included (``selectors.as_of_refresh``): a case
submitted or changed in the last minute shows at the next refresh, as the page says ("每分钟更新")."""

from __future__ import annotations

import csv
import io
import json

from django.core.cache import cache
from django.utils import timezone

from . import selectors

CACHE_SECONDS = 60  # how long a visitor may see the same figures (HTTP max-age too)
KEEP_SECONDS = 150  # how long the cache keeps them: the warm-up task replaces them every minute


def _key(kind: str, f: selectors.Filters) -> str:
    return f"dashboard:public:{kind}:{f.since.isoformat()}:{f.until.isoformat()}"


def public_figures(f: selectors.Filters, *, recount: bool = False) -> dict:
    """Headline, rates by street and by category, 12-month trend for the district, and when counted."""
    key = _key("stats", f)
    figures = None if recount else cache.get(key)
    if figures is None or (timezone.now() - figures["at"]).total_seconds() > CACHE_SECONDS:
        from .scope import Scope

        everything = Scope(everything=True)
        with selectors.as_of_refresh():
            figures = {
                "figures": selectors.headline(everything, f),
                "by_street": selectors.rates(everything, f, group_by="street"),
                "by_category": selectors.rates(everything, f, group_by="category"),
                "trend": selectors.rate_trend(everything, f),
                "at": timezone.now(),
            }
        cache.set(key, figures, KEEP_SECONDS)
    return figures


def open_data(f: selectors.Filters, *, recount: bool = False) -> dict:
    """The open-data rows of a period, and when counted."""
    key = _key("open-data", f)
    data = None if recount else cache.get(key)
    if data is None or (timezone.now() - data["at"]).total_seconds() > CACHE_SECONDS:
        with selectors.as_of_refresh():
            data = {"rows": selectors.open_data_rows(since=f.since, until=f.until), "at": timezone.now()}
        cache.set(key, data, KEEP_SECONDS)
    return data


OPEN_DATA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


def _render(f: selectors.Filters, rows: list[dict], fmt: str) -> bytes:
    if fmt == "json":
        data = {
            "since": f.since.isoformat(),
            "until": f.until.isoformat(),
            "fields": list(selectors.OPEN_DATA_FIELDS),
            "rows": rows,
        }
        return json.dumps(data, ensure_ascii=False).encode()
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
    writer = csv.DictWriter(out, fieldnames=selectors.OPEN_DATA_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def open_data_file(f: selectors.Filters, fmt: str, *, recount: bool = False) -> bytes:
    """The open data of a period as a CSV or JSON file, written at most once a minute."""
    key = _key(f"open-data-{fmt}", f)
    counted = open_data(f, recount=recount)
    data = cache.get(key)
    if data is None or data["at"] != counted["at"]:  # written from this minute's counts only
        data = {"body": _render(f, counted["rows"], fmt), "at": counted["at"]}
        cache.set(key, data, KEEP_SECONDS)
    return data["body"]


def warm() -> None:
    """Recount the default period of the public page and the open data (both files)."""
    f = selectors.filters_from({}, default_period="365d")
    public_figures(f, recount=True)
    open_data(f, recount=True)
    for fmt in OPEN_DATA_TYPES:
        open_data_file(f, fmt)
