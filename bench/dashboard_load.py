"""Command dashboard under load: 1,000,000 appeals in PostgreSQL, then every dashboard data request
timed (p95 of N calls each, goal < 300 ms) and a monthly report generated (goal < 30 s).

    createdb -h 127.0.0.1 -U postgres linli_dash_bench   # done by the script when missing
    .venv/bin/python bench/dashboard_load.py [--rows 1000000] [--calls 20] [--reuse]

The Jinniu demo is loaded first (its streets, communities, grids, categories, units and accounts); the
appeals are then generated with INSERT … SELECT generate_series over two years, about 4% open, with
ratings for half the closed ones. ``--reuse`` keeps an already loaded database. The dashboard's rollup
(``linli/domains/appeals/stats/rollup.py``) is then built in full (timed) and refreshed incrementally (timed,
as the every-minute task does) before the requests are measured; the load average is printed with the
figures (the machine is shared). Also timed: the area detail (a street, one of its communities and
grids), the public statistics page and the open-data files — served from the cache as visitors get
them (no task worker runs here, so a request recounts when the minute is up) and, marked ``#cold``,
with the cache off (every call counts).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "linli_dash_bench"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    if not args.reuse:
        pg = ["-h", "127.0.0.1", "-U", "postgres"]
        subprocess.run(["dropdb", *pg, "--if-exists", DB], check=True)  # noqa: S603, S607 — PostgreSQL's client
        subprocess.run(["createdb", *pg, DB], check=True)  # noqa: S603, S607 — PostgreSQL's client
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DJANGO_DEBUG", "0")  # as served: cached templates, no query log
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a reused database gets the migrations added since
    if not args.reuse:
        t = time.monotonic()
        call_command("load_demo", "--residents", "200", verbosity=0)
        print(f"demo loaded in {time.monotonic() - t:.1f}s")
        t = time.monotonic()
        generate(args.rows)
        print(f"{args.rows:,} appeals generated in {time.monotonic() - t:.1f}s")
    from linli.domains.appeals.stats.rollup import refresh, state

    if not args.reuse or state() is None:
        t = time.monotonic()
        st = refresh(full=True)
        print(f"rollup built: {st.rows:,} facts in {time.monotonic() - t:.1f}s")
    t = time.monotonic()
    st = refresh()
    print(f"rollup incremental refresh: {st.rows:,} facts in {time.monotonic() - t:.2f}s")
    print(f"load average before: {os.getloadavg()}", flush=True)
    measure(args.calls)
    print(f"load average after: {os.getloadavg()}")


def generate(rows: int) -> None:
    from django.db import connection

    from linli.core.orgs.choices import OrgKind
    from linli.core.orgs.models import Organisation
    from linli.core.places.choices import AreaKind
    from linli.core.places.models import Area
    from linli.domains.appeals.models import Category, RoutingRule

    grids = list(
        Area.objects.filter(kind=AreaKind.GRID)
        .select_related("parent")
        .values_list("pk", "parent_id", "parent__parent_id", "path", "centroid_lng", "centroid_lat")
    )
    departments = list(Organisation.objects.filter(kind=OrgKind.DEPARTMENT).values_list("pk", flat=True))
    rule_unit = {r.category_id: r.lead_unit_id for r in RoutingRule.objects.filter(area__isnull=True)}
    cats = []
    for c in Category.objects.filter(parent__isnull=False):
        unit = rule_unit.get(c.pk) or rule_unit.get(c.parent_id) or departments[c.pk % len(departments)]
        cats.append((c.pk, unit))
    channels = ["web", "mobile", "hotline", "patrol", "api", "walk_in"]
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bg"
            " (i int, id bigint, community bigint, street bigint, path text, lng float, lat float)"
        )
        cur.executemany(
            "INSERT INTO bg VALUES (%s,%s,%s,%s,%s,%s,%s)", [(i, *g) for i, g in enumerate(grids)]
        )
        cur.execute("CREATE TEMP TABLE bc (i int, id bigint, unit bigint)")
        cur.executemany("INSERT INTO bc VALUES (%s,%s,%s)", [(i, *c) for i, c in enumerate(cats)])
        cur.execute("CREATE TEMP TABLE bch (i int, ch text)")
        cur.executemany("INSERT INTO bch VALUES (%s,%s)", list(enumerate(channels)))
        cur.execute("SELECT setseed(0.42)")
        cur.execute(
            """
            CREATE TEMP TABLE gen AS
            SELECT s AS n,
                   now() - (random() * 730) * interval '1 day' AS created,
                   random() AS r, random() AS r2, random() AS r3,
                   (floor(random() * %(ng)s))::int AS gi,
                   (floor(power(random(), 1.6) * %(nc)s))::int AS ci,
                   (floor(random() * %(nch)s))::int AS chi
            FROM generate_series(1, %(rows)s) s
            """,
            {"ng": len(grids), "nc": len(cats), "nch": len(channels), "rows": rows},
        )
        cur.execute(
            """
            INSERT INTO appeals_appeal (
              reference, title, body, category_id, priority, channel, status, lng, lat, address, grid_id,
              community_id, street_id, path, contact_name, contact_phone, is_private, anonymous_to_public,
              idempotency_key, external_source, external_ref, answers, lead_unit_id, acceptance_due,
              handling_due, handling_warn_at, deadline_epoch, extended_days, round, result,
              status_reason, created_at, registered_at, dispatched_at, signed_at, handled_at, closed_at,
              updated_at, published, public_title, public_body, public_result, public_place)
            SELECT 'BENCH' || lpad(g.n::text, 8, '0'), '压测诉求 ' || g.n, '压测生成的诉求内容',
                   c.id, 'normal', ch.ch, st.status, b.lng, b.lat, '', b.id, b.community, b.street, b.path,
                   '', '', false, true,
                   '', '', '', '{}', c.unit, g.created + interval '4 hours',
                   g.created + interval '5 days', g.created + interval '4 days',
                   1, 0, 1, '', '', g.created, g.created + interval '20 minutes',
                   g.created + interval '30 minutes',
                   CASE WHEN st.status NOT IN ('registered', 'dispatched')
                        THEN g.created + (g.r2 * 6) * interval '1 hour' END,
                   CASE WHEN st.status IN ('handled', 'closed')
                        THEN g.created + (g.r3 * 120) * interval '1 hour' END,
                   CASE WHEN st.status = 'closed' THEN g.created + (1 + g.r3 * 140) * interval '1 hour' END,
                   g.created, false, '', '', '', ''
            FROM gen g
            JOIN bg b ON b.i = g.gi
            JOIN bc c ON c.i = g.ci
            JOIN bch ch ON ch.i = g.chi
            CROSS JOIN LATERAL (
              SELECT CASE
                WHEN g.created > now() - interval '10 days' AND g.r < 0.35 THEN
                  (ARRAY['registered', 'dispatched', 'in_progress', 'handled'])[1 + floor(g.r2 * 4)::int]
                WHEN g.r < 0.015 THEN
                  (ARRAY['dispatched', 'in_progress', 'reopened'])[1 + floor(g.r2 * 3)::int]
                WHEN g.r < 0.03 THEN 'rejected'
                ELSE 'closed' END AS status
            ) st
            """
        )
        cur.execute(
            """
            INSERT INTO appeals_rating (appeal_id, round, value, comment, source, at)
            SELECT id, 1, CASE WHEN random() < 0.82 THEN 'satisfied'
                               WHEN random() < 0.6 THEN 'basically_satisfied'
                               ELSE 'unsatisfied' END, '', 'callback', closed_at + interval '1 day'
            FROM appeals_appeal WHERE status = 'closed' AND reference LIKE 'BENCH%%' AND random() < 0.5
            """
        )
        cur.execute("VACUUM ANALYZE appeals_appeal")  # what autovacuum does after a bulk load
        cur.execute("ANALYZE appeals_rating")


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)]


def measure(calls: int) -> None:
    import datetime as dt

    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client, override_settings

    CACHES = settings.CACHES  # noqa: N806
    NO_CACHE = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # noqa: N806
    from django.test.utils import CaptureQueriesContext

    from linli.core.accounts.models import User
    from linli.domains.appeals.models import Appeal

    print(f"appeals: {Appeal.objects.count():,}")
    requests = [
        "/dashboard/api/summary/",
        "/dashboard/api/rates/?group=street",
        "/dashboard/api/rates/?group=community",
        "/dashboard/api/rates/?group=department",
        "/dashboard/api/rates/?group=category",
        "/dashboard/api/trend/",
        "/dashboard/api/intake/?by=channel",
        "/dashboard/api/intake/?by=category",
        "/dashboard/api/handling/",
        "/dashboard/api/workers/",
        "/dashboard/api/map/?level=grid",
        "/dashboard/api/map/?level=community",
        "/dashboard/api/map/?level=street",
        "/dashboard/overview/",
        "/dashboard/deadlines/",
        # longer periods and filters (whole months from MonthStat, the rest from the facts)
        "/dashboard/api/rates/?group=street&period=365d",
        "/dashboard/api/rates/?group=department&period=90d&channel=hotline",
        "/dashboard/api/intake/?by=category&period=365d",
        "/dashboard/api/handling/?period=365d",
        "/statistics/",  # cached for a minute: after the first call, from the cache
        "/statistics/#cold",  # "#cold": the cache off, every call computes the page
        "/statistics/data.csv",
        "/statistics/data.json",
        "/statistics/data.csv#cold",
    ]
    street_user = User.objects.filter(username__startswith="street_").order_by("username").first()
    from linli.core.orgs.models import Membership
    from linli.core.places.models import Area

    street = Membership.objects.filter(user=street_user, is_active=True).first().jurisdiction
    community = Area.objects.filter(parent=street, kind="community").order_by("path").first()
    grid = Area.objects.filter(parent=community, kind="grid").order_by("path").first()
    requests += [f"/dashboard/api/area/{a.pk}/" for a in (street, community, grid)]
    requests += [f"/dashboard/api/area/{street.pk}/?period=30d"]
    results = []
    for username in ("leader", street_user.username):
        client = Client()
        client.force_login(User.objects.get(username=username))
        for url in requests:
            times = []
            path, _, cold = url.partition("#")
            for _ in range(calls):
                t = time.perf_counter()
                with (
                    CaptureQueriesContext(connection) as q,
                    override_settings(CACHES=NO_CACHE if cold else CACHES),
                ):
                    r = client.get(path, HTTP_HOST="127.0.0.1")
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (url, r.status_code)
            results.append((username, url, statistics.median(times), p95(times), len(q.captured_queries)))
            print(
                f"{username:24} {url:46} median {results[-1][2]:7.1f} ms  p95 {results[-1][3]:7.1f} ms  "
                f"queries {results[-1][4]}",
                flush=True,
            )
        reset_queries()
    from linli.faces.dashboard.models import Report
    from linli.faces.dashboard.reports import previous_month, report_generate

    start, end = previous_month(dt.date.today())
    report = Report.objects.create(
        kind="monthly",
        period_start=start,
        period_end=end,
        scope_key="bench",
        requested_by=User.objects.get(username="leader"),
    )
    t = time.perf_counter()
    report = report_generate(report.pk)
    print(
        f"monthly report {start}–{end}: {report.status} in {time.perf_counter() - t:.2f}s "
        f"(pdf {report.pdf.size // 1024} KiB, xlsx {report.xlsx.size // 1024} KiB)"
    )


if __name__ == "__main__":
    main()
