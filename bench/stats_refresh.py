# ruff: noqa: E501, S608 - SQL text built from fixed table and column names reads better unwrapped
"""Time of one incremental refresh of the statistics copy (``rollup.refresh()``) at 300 changes/s.

    createdb -h 127.0.0.1 -U postgres linli_stats_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli_stats_bench
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py load_demo --residents 200
    nice -n 19 .venv/bin/python bench/stats_refresh.py populate   # 200,000 appeals in the current month
    nice -n 19 .venv/bin/python bench/stats_refresh.py measure    # the rollup of the current directory

(``measure`` from another checkout, e.g. ``git archive <commit> | tar -x -C /tmp/old``, run there with
this venv, times that version's rollup on the same database.)

``measure``: a full refresh, then eleven minutes of changes as a steady 300/s would leave them — 18,000
appeals changed in each minute (status changes, signings, closings; a third of them new appeals) —
with a refresh after the first ten minutes; then the refresh after the eleventh minute is timed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linli_stats_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("DJANGO_DEBUG", "0")
if "bench" not in os.environ["DATABASE_URL"]:  # it writes hundreds of thousands of appeals
    sys.exit("DATABASE_URL must name a benchmark database (…bench…)")

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

PER_MINUTE = 18_000


def populate(rows: int = 200_000) -> None:
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate().replace(day=1), dt.time.min))
    end = timezone.now() - dt.timedelta(hours=2)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'appeals_appeal'"
            " AND column_name <> 'id' ORDER BY ordinal_position"
        )
        cols = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT setseed(0.42)")
        cur.execute(
            "CREATE TEMP TABLE tpl AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, * FROM appeals_appeal"
        )
        cur.execute("SELECT count(*) FROM tpl")
        ntpl = cur.fetchone()[0]
        cur.execute(
            "CREATE TEMP TABLE bg AS SELECT row_number() OVER (ORDER BY g.id) - 1 AS i, g.id, g.path,"
            " c.id AS community, c.parent_id AS street FROM places_area g JOIN places_area c ON c.id = g.parent_id"
            " WHERE g.kind = 'grid'"
        )
        cur.execute("SELECT count(*) FROM bg")
        ngrid = cur.fetchone()[0]
        cur.execute(
            """CREATE TEMP TABLE gen AS SELECT s AS n, %s::timestamptz + random() * (%s::timestamptz - %s::timestamptz)
               AS created, random() AS r, random() AS r2, floor(random() * %s)::int AS ti,
               floor(random() * %s)::int AS gi FROM generate_series(1, %s) s""",
            [start, end, start, ntpl, ngrid, rows],
        )
        over = {
            "reference": "'SB' || lpad(g.n::text, 8, '0')",
            "idempotency_key": "''",
            "external_ref": "''",
            "created_at": "g.created",
            "updated_at": "g.created",
            "registered_at": "g.created + interval '20 minutes'",
            "acceptance_due": "CASE WHEN g.r2 < 0.9 THEN g.created + interval '4 hours' END",
            "signed_at": "CASE WHEN g.r2 < 0.75 THEN g.created + g.r2 * interval '5 hours' END",
            "status": "CASE WHEN g.r < 0.7 THEN 'closed' WHEN g.r < 0.75 THEN 'rejected' WHEN g.r < 0.77 THEN 'merged'"
            " ELSE 'in_progress' END",
            "closed_at": "CASE WHEN g.r < 0.7 THEN g.created + (1 + g.r2 * 140) * interval '1 hour' END",
            "grid_id": "b.id",
            "community_id": "b.community",
            "street_id": "b.street",
            "path": "b.path",
            "merged_into_id": "NULL",
            "intake_done_at": "g.created",
        }
        select = ", ".join(over.get(c, f"t.{c}") for c in cols)
        cur.execute(
            f"INSERT INTO appeals_appeal ({', '.join(cols)}) SELECT {select} FROM gen g"
            " JOIN tpl t ON t.i = g.ti JOIN bg b ON b.i = g.gi"
        )
        print(f"{cur.rowcount:,} appeals inserted")
        cur.execute("ANALYZE appeals_appeal")


def change_minute(minute_end: dt.datetime, serial: int) -> None:
    """18,000 appeals changed in the minute before ``minute_end``: a third new, a third signed or
    closed, a third moved to another status; updated_at spread over the minute."""
    third = PER_MINUTE // 3
    with connection.cursor() as cur:
        cur.execute(
            """WITH pick AS (
                 SELECT id FROM appeals_appeal WHERE reference LIKE 'SB%%' ORDER BY random() LIMIT %s)
               UPDATE appeals_appeal a SET
                 status = CASE WHEN random() < 0.5 THEN 'closed' ELSE 'handled' END,
                 signed_at = COALESCE(a.signed_at, a.created_at + interval '1 hour'),
                 closed_at = CASE WHEN random() < 0.5 THEN a.created_at + interval '30 hours' END,
                 updated_at = %s - random() * interval '1 minute'
               FROM pick WHERE a.id = pick.id""",
            [2 * third, minute_end],
        )
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'appeals_appeal'"
            " AND column_name <> 'id' ORDER BY ordinal_position"
        )
        cols = [r[0] for r in cur.fetchall()]
        over = {
            "reference": f"'SN{serial:05d}-' || t.id",
            "idempotency_key": "''",
            "external_ref": "''",
            "created_at": "%(t)s - random() * interval '1 minute'",
            "updated_at": "%(t)s - random() * interval '1 minute'",
            "status": "'submitted'",
            "signed_at": "NULL",
            "closed_at": "NULL",
            "registered_at": "NULL",
            "acceptance_due": "NULL",
        }
        select = ", ".join(over.get(c, f"t.{c}") for c in cols)
        cur.execute(
            f"INSERT INTO appeals_appeal ({', '.join(cols)}) SELECT {select} FROM (SELECT * FROM appeals_appeal"
            " WHERE reference LIKE 'SB%%' ORDER BY random() LIMIT %(n)s) t",
            {"t": minute_end, "n": third},
        )


def measure() -> None:
    from linli.domains.appeals.stats import rollup

    now = timezone.now()
    t = time.monotonic()
    rollup.refresh(full=True, now=now - dt.timedelta(minutes=11))
    print(f"full refresh: {time.monotonic() - t:.1f}s")
    serial = int(time.time()) % 1000
    for k in range(10, 0, -1):
        change_minute(now - dt.timedelta(minutes=k), serial * 20 + k)
    t = time.monotonic()
    st = rollup.refresh(now=now - dt.timedelta(minutes=1))
    print(f"refresh after ten minutes of changes: {st.rows:,} facts rewritten in {time.monotonic() - t:.2f}s")
    change_minute(now, serial * 20)
    t = time.monotonic()
    st = rollup.refresh(now=now)
    print(f"refresh after the eleventh minute: {st.rows:,} facts rewritten in {time.monotonic() - t:.2f}s")
    t = time.monotonic()
    st = rollup.refresh(now=now + dt.timedelta(seconds=5))
    print(f"refresh with nothing changed: {st.rows:,} facts rewritten in {time.monotonic() - t:.2f}s")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    {"populate": populate, "measure": measure}[sys.argv[1]]()
