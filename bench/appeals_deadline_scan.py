# ruff: noqa: E501 - report lines read better unwrapped
"""The deadline scan (``appeals.tasks.appeal_deadline_scan``) over 1,000,000 open cases on PostgreSQL.

    .venv/bin/python bench/appeals_deadline_scan.py [--rows 1000000] [--runs 5] [--write]
        [--database-url postgres://postgres@127.0.0.1:5432/linli_bench_scan]

Its own database (created and migrated if missing). The cases are written by PostgreSQL
(``bench/appeals_data.py``): all being handled, deadlines from a month ago to a month ahead, colours
as a scan one day earlier left them, 50 units of five staff. Two figures, each the median of
``--runs``:

- *catch-up*: the first scan after a day without one: every case whose 80 % point or deadline fell
  in that day changes colour, with its 催办/督办 row and a notice to each of its unit's staff;
  between runs the changed rows are put back and the notices and supervisions removed;
- *steady*: the scan right after another (every five minutes in ``LINLI_PERIODIC_TASKS``): almost
  nothing changes; what it costs is finding that out.

Goal (issue 3): < 5 s over 1,000,000 open cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from appeals_data import ROOT, generate, reference_data, use_database  # noqa: E402

SECTION = "## Appeals deadline scan"
# (label, how long before the scan the previous one ran, runs)
SCENARIOS = [
    ("5 minutes before (the schedule)", "5 minutes", 5),
    ("1 hour before", "1 hour", 3),
    ("1 day before (catch-up)", "1 day", 2),
]


def reset(cursor, as_of: str) -> None:
    """Colours back to what a scan at ``as_of`` left; the catch-up scan's rows gone."""
    cursor.execute("DELETE FROM appeals_supervision")
    cursor.execute("DELETE FROM notifications_notification WHERE kind = 'appeal_deadline'")
    handling = (
        f"CASE WHEN handling_due <= {as_of} THEN 'red' WHEN handling_warn_at <= {as_of} THEN 'yellow' "
        "ELSE 'green' END"
    )
    accept = (
        f"CASE WHEN acceptance_due <= {as_of} THEN 'red' WHEN acceptance_warn_at <= {as_of} THEN 'yellow' "
        "ELSE 'green' END"
    )
    cursor.execute(
        f"UPDATE appeals_appeal SET deadline_state = {handling} "  # noqa: S608 - fixed SQL
        f"WHERE status IN ('dispatched', 'in_progress', 'reopened') AND deadline_state <> {handling}"
    )
    cursor.execute(
        f"UPDATE appeals_appeal SET acceptance_state = {accept} "  # noqa: S608 - fixed SQL
        f"WHERE status = 'dispatched' AND acceptance_state <> {accept}"
    )


def machine() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    model = next((line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line), "")
    return f"{model or platform.processor()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/linli_bench_scan")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    use_database(args.database_url)
    from django.db import connection

    from linli.domains.appeals.models import Appeal
    from linli.domains.appeals.tasks import appeal_deadline_scan

    ref = reference_data()
    as_of = "now() - interval '1 day'"
    t0 = time.perf_counter()
    if args.regenerate or Appeal.objects.count() != args.rows:
        generate(args.rows, ref, mix="open", as_of_sql=as_of)
        print(f"generation: {time.perf_counter() - t0:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('appeals_appeal'))")
        size = cursor.fetchone()[0]
    open_cases = Appeal.objects.filter(status__in=["dispatched", "in_progress", "reopened"]).count()
    rows, loads = [], []
    for label, behind, runs in SCENARIOS:
        times, counts = [], {}
        for _ in range(min(runs, args.runs)):
            with connection.cursor() as cursor:
                reset(cursor, f"now() - interval '{behind}'")
                cursor.execute("VACUUM ANALYZE appeals_appeal")  # what autovacuum does between scans
            loads.append(" / ".join(f"{v:.1f}" for v in os.getloadavg()))
            t = time.perf_counter()
            counts = appeal_deadline_scan.call()
            times.append(time.perf_counter() - t)
            print(f"{label}: {times[-1]:.3f} s {counts}; load {loads[-1]}", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM notifications_notification WHERE kind = 'appeal_deadline'")
            notices = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM appeals_supervision")
            supervisions = cursor.fetchone()[0]
        rows.append(
            f"| {label} | **{statistics.median(times):.2f} s** | {', '.join(f'{v:.2f}' for v in times)} "
            f"| {sum(counts.values()):,} colours, {supervisions:,} 催办/督办, {notices:,} notices |"
        )
    text = "\n".join(
        [
            SECTION,
            "",
            f"`bench/appeals_deadline_scan.py --rows {args.rows} --runs {args.runs}`, {dt.date.today()}, "
            f"{machine()}, PostgreSQL on the same machine "
            f"({re.sub(r'//[^@]*@', '//', args.database_url)}, appeals table {size}); {open_cases:,} open cases "
            f"being handled (deadlines from a month ago to a month ahead), 50 units of five staff; before "
            f"each run the colours are put back to what a scan at the given time before left and the table "
            f"vacuumed (as autovacuum does). Load average at the start of the runs: {', '.join(loads)}. "
            "Goal (issue 3): < 5 s over 1,000,000 open cases.",
            "",
            "| last scan | median | runs (s) | changed by the scan |",
            "|---|---:|---|---:|",
            *rows,
            "",
            "The scan runs every five minutes (`LINLI_PERIODIC_TASKS`), so the first row is the usual case. "
            "It is set-based: per colour change one INSERT … SELECT of 催办/督办 rows, one of notices joined "
            "to the unit's staff (deduplicated per deadline epoch), one UPDATE, each finding its rows through "
            "a partial index (`appeal_scan_yellow`, `appeal_scan_red`, `appeal_scan_accept`); no row is read "
            "into Python. What a long gap costs is the colour UPDATE itself: it cannot be a HOT update (the "
            "colour is in the partial indexes' predicates), so each changed row writes an entry into every "
            "index of the appeals table (29 here).",
            "",
        ]
    )
    print(text)
    if args.write:
        path = ROOT / "docs" / "benchmarks.md"
        existing = path.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(SECTION) + r"\n.*?(?=\n## |\Z)", re.S)
        existing = (
            pattern.sub(lambda _m: text, existing)
            if pattern.search(existing)
            else (existing.rstrip() + "\n\n" + text)
        )
        path.write_text(existing, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
