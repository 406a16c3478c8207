# ruff: noqa: E501 - SQL and report lines read better unwrapped
"""The triage queue's "recently dispatched automatically" list (``triage.selectors.recent_auto_dispatched``)
over a large district's timeline on PostgreSQL, with and without the partial index on automatic
dispatches (``appeal_event_auto_dispatch``).

    .venv/bin/python bench/triage_queue_recent.py [--rows 200000] [--runs 15]
        [--database-url postgres://postgres@127.0.0.1:5432/linli_bench_triage_queue]

Its own database (created and migrated if missing). The cases are written by PostgreSQL
(``bench/appeals_data.py``, ``mix="all"``: two years of a district); each case that reached a unit gets
one dispatch event: 70 % by a dispatcher, 20 % by the routing rules alone, 10 % by triage (the event
records the model version). The list is read for a district dispatcher (cases inside the district's
path) and for a superuser, ``--runs`` times each after a warm-up; the medians are printed, first with
the index, then with it dropped (it is created again at the end).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from appeals_data import generate, machine, reference_data, use_database  # noqa: E402

INDEX = "appeal_event_auto_dispatch"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/linli_bench_triage_queue"
    )
    args = parser.parse_args()
    use_database(args.database_url)
    from django.db import connection

    from linli.core.accounts.models import User
    from linli.core.orgs.models import Membership, Organisation
    from linli.core.places.models import Area
    from linli.domains.appeals.models import Appeal, AppealEvent
    from linli.domains.triage.selectors import recent_auto_dispatched

    ref = reference_data()
    if Appeal.objects.count() != args.rows or not AppealEvent.objects.exists():
        t = time.perf_counter()
        generate(args.rows, ref, mix="all")
        user_id = (
            User.objects.filter(username__startswith="bench-u")
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE appeals_appeal a SET path = c.path FROM places_area c WHERE c.id = a.community_id"
            )
            cursor.execute(
                f"""
                INSERT INTO appeals_appealevent (appeal_id, at, actor_id, unit_id, action, from_status, to_status, note, public, data)
                SELECT id, dispatched_at,
                       CASE WHEN id % 10 < 7 THEN {user_id} END, lead_unit_id, 'dispatch', 'registered', 'dispatched', '', true,
                       CASE WHEN id % 10 = 9 THEN '{{"triage_model": 1, "triage_confidence": 0.95, "confidence": 0.95}}'::jsonb
                            WHEN id % 10 >= 7 THEN '{{"confidence": 1.0}}'::jsonb
                            ELSE '{{}}'::jsonb END
                FROM appeals_appeal WHERE dispatched_at IS NOT NULL
                """  # noqa: S608 - numbers only
            )
            cursor.execute("VACUUM ANALYZE appeals_appealevent")
            cursor.execute("VACUUM ANALYZE appeals_appeal")
        print(f"generation: {time.perf_counter() - t:.1f} s", flush=True)
    district = Area.objects.get(code="B510106")
    centre, _ = Organisation.objects.get_or_create(
        code="BGC", defaults={"kind": "grid_centre", "name": "基准网格中心", "area": district}
    )
    dispatcher, created = User.objects.get_or_create(username="bench-dispatcher", defaults={"kind": "staff"})
    if created:
        Membership.objects.create(
            user=dispatcher, organisation=centre, role="dispatcher", jurisdiction=district
        )
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"kind": "staff", "is_superuser": True}
    )
    events = AppealEvent.objects.count()
    auto = AppealEvent.objects.filter(
        action="dispatch", actor__isnull=True, data__has_key="triage_model"
    ).count()
    print(
        f"{machine()}; {Appeal.objects.count():,} appeals, {events:,} events, {auto:,} dispatched by triage",
        flush=True,
    )

    def timed(user) -> tuple[float, int]:
        listed = recent_auto_dispatched(user, limit=10)  # warm-up
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            listed = recent_auto_dispatched(user, limit=10)
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times), len(listed)

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        row = cursor.fetchone()
    if row is None:
        raise SystemExit(f"index {INDEX} missing: migrate first")
    definition = row[0]
    for label in ("with the index", "without it"):
        for who, user in (("district dispatcher", dispatcher), ("superuser", admin)):
            ms, n = timed(user)
            print(f"{label:15} {who:20} median {ms:7.1f} ms ({n} listed, {args.runs} runs)", flush=True)
        if label == "with the index":
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX {INDEX}")
    with connection.cursor() as cursor:
        cursor.execute(definition)


if __name__ == "__main__":
    main()
