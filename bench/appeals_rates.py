# ruff: noqa: E501 - report lines read better unwrapped
"""The three rates (``appeals.selectors.appeal_rates``) for the whole district over 1,000,000 cases
on PostgreSQL.

    .venv/bin/python bench/appeals_rates.py [--rows 1000000] [--runs 7] [--write]
        [--database-url postgres://postgres@127.0.0.1:5432/linli_bench_rates]

Its own database (created and migrated if missing); the cases are written by PostgreSQL
(``bench/appeals_data.py``, ``mix="all"``): two years of a district, 70 % closed, three in four
closed cases rated. The statistics copy (``linli/domains/appeals/stats``) is then built in full
(timed) and refreshed once incrementally (timed, as the every-minute task does). Each figure is the
median of ``--runs`` calls of ``appeal_rates`` after one warm-up call; the same question read from
the appeals table alone (the path without the copy, ``--table-runs`` calls) is timed for comparison
and its counts checked equal to the copy's.

Goal (issue 3): < 300 ms for the whole district.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from appeals_data import ROOT, generate, machine, reference_data, use_database  # noqa: E402

SECTION = "## Appeals rates"
CASES = [
    ("by street, all time", {"group_by": "street"}),
    ("by month, all time", {"group_by": "month"}),
    ("by department, all time", {"group_by": "department"}),
    ("by category, last 365 days", {"group_by": "category", "days": 365}),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/linli_bench_rates")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--table-runs", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    use_database(args.database_url)
    from django.db import connection
    from django.utils import timezone

    from linli.domains.appeals.models import Appeal, Rating
    from linli.domains.appeals.selectors import appeal_rate_counts_from_table, appeal_rates
    from linli.domains.appeals.stats.rollup import refresh

    ref = reference_data()
    t0 = time.perf_counter()
    if args.regenerate or Appeal.objects.count() != args.rows:
        generate(args.rows, ref, mix="all")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE appeals_appeal")
        print(f"generation: {time.perf_counter() - t0:.1f} s", flush=True)
    ratings = Rating.objects.count()
    t = time.perf_counter()
    st = refresh(full=True)
    build = time.perf_counter() - t
    t = time.perf_counter()
    st = refresh()
    incremental = time.perf_counter() - t
    print(
        f"copy built in {build:.1f} s ({st.rows:,} facts re-read incrementally in {incremental:.2f} s)",
        flush=True,
    )
    rows, loads = [], []
    for label, kwargs in CASES:
        kwargs = dict(kwargs)
        days = kwargs.pop("days", None)
        if days:
            kwargs["since"] = timezone.localdate() - dt.timedelta(days=days)
        result = appeal_rates(**kwargs)  # warm-up
        loads.append(" / ".join(f"{v:.1f}" for v in os.getloadavg()))
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            result = appeal_rates(**kwargs)
            times.append(time.perf_counter() - t)
        total = sum(r["total"] for r in result)
        table_times = []
        for _ in range(args.table_runs):
            t = time.perf_counter()
            counts = appeal_rate_counts_from_table(now=timezone.now(), **kwargs)
            table_times.append(time.perf_counter() - t)
        names = ("total", "dispatched", "responded", "accepted", "resolved", "rated", "satisfied")
        same = {r["key"]: tuple(r[n] for n in names) for r in result} == {
            k: tuple(c[n] for n in names) for k, c in counts.items()
        }
        table_ms = f"{statistics.median(table_times) * 1000:.0f} ms" if table_times else "—"
        print(
            f"{label}: median {statistics.median(times) * 1000:.0f} ms over {total:,} cases, "
            f"{len(result)} groups (appeals table: {table_ms}, same counts: {same}); load {loads[-1]}",
            flush=True,
        )
        rows.append(
            f"| {label} | **{statistics.median(times) * 1000:.0f} ms** | {min(times) * 1000:.0f}–"
            f"{max(times) * 1000:.0f} ms | {table_ms} | {'yes' if same else '**no**'} | {len(result)} | {total:,} |"
        )
    text = "\n".join(
        [
            SECTION,
            "",
            f"`bench/appeals_rates.py --rows {args.rows} --runs {args.runs}`, {dt.date.today()}, {machine()}, "
            f"PostgreSQL on the same machine ({re.sub(r'//[^@]*@', '//', args.database_url)}); {args.rows:,} "
            f"cases over two years, {ratings:,} ratings; statistics copy built in {build:.0f} s, incremental "
            f"refresh {incremental:.1f} s; `appeal_rates` for the whole district (from the copy), median of "
            f"{args.runs} calls after a warm-up; *appeals table*: the same counts read from the appeals table "
            f"alone (median of {args.table_runs}); load average before each case: {', '.join(loads)}. "
            "Goal (issue 3): < 300 ms.",
            "",
            "| rates | median | range | appeals table | same counts | groups | cases |",
            "|---|---:|---:|---:|---|---:|---:|",
            *rows,
            "",
        ]
    )
    print(text)
    if args.write:
        path = ROOT / "docs" / "benchmarks.md"
        existing = path.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(SECTION) + r"\n.*?(?=\n## |\Z)", re.S)
        if pattern.search(existing):
            existing = pattern.sub(lambda _m: text, existing)
        else:
            existing = existing.rstrip() + "\n\n" + text
        path.write_text(existing, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
