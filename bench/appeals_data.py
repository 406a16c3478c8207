# ruff: noqa: E501 - SQL text reads better unwrapped
"""Synthetic appeals for the appeals benchmarks (``appeals_deadline_scan.py``, ``appeals_rates.py``),
written by PostgreSQL itself (``INSERT … SELECT generate_series``), a million rows in well under a
minute. Each benchmark uses its own database, created and migrated here if missing; nothing touches
the demo or the intake benchmark's database.

The reference data is small and plain: one district with ``streets`` streets of ``communities``
communities each, ``units`` handling units with five staff each, ten domains of five categories.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


def machine() -> str:
    """The processor, cores and Python of this machine, for the benchmark reports."""
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    model = next((line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line), "")
    return f"{model or platform.processor()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def use_database(url: str) -> None:
    """Point Django at ``url`` (create the database if needed, migrate) and set it up."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    host, port, user = parsed.hostname or "127.0.0.1", str(parsed.port or 5432), parsed.username or "postgres"
    query = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"  # noqa: S608 - our own URL
    exists = subprocess.run(  # noqa: S603 - the PostgreSQL client on PATH, our own arguments
        ["psql", "-h", host, "-p", port, "-U", user, "-Atc", query],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", host, "-p", port, "-U", user, name], check=True)  # noqa: S603,S607
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True, env=os.environ)  # noqa: S603
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def reference_data(*, streets: int = 10, communities: int = 10, units: int = 50) -> dict:
    """Areas, categories, units and their staff (idempotent: reused when present)."""
    from django.contrib.auth.hashers import make_password

    from linli.core.accounts.models import User
    from linli.core.orgs.models import Membership, Organisation
    from linli.core.places.models import Area
    from linli.domains.appeals.models import Category

    district, _ = Area.objects.get_or_create(
        code="B510106", defaults={"kind": "district", "name": "基准区", "path": "B510106/"}
    )
    street_ids, community_ids = [], []
    for s in range(streets):
        code = f"B510106{s:03d}"
        street, _ = Area.objects.get_or_create(
            code=code,
            defaults={"kind": "street", "name": f"街道{s}", "parent": district, "path": f"B510106/{code}/"},
        )
        street_ids.append(street.pk)
        for c in range(communities):
            ccode = f"{code}{c:03d}"
            community, _ = Area.objects.get_or_create(
                code=ccode,
                defaults={
                    "kind": "community",
                    "name": f"社区{s}-{c}",
                    "parent": street,
                    "path": f"{street.path}{ccode}/",
                },
            )
            community_ids.append(community.pk)
    category_ids = []
    for d in range(10):
        domain, _ = Category.objects.get_or_create(code=f"BD{d:02d}", defaults={"name": f"领域{d}"})
        for i in range(5):
            item, _ = Category.objects.get_or_create(
                code=f"BD{d:02d}{i:02d}", defaults={"name": f"类别{d}-{i}", "parent": domain}
            )
            category_ids.append(item.pk)
    unit_ids = []
    password = make_password(None)
    for u in range(units):
        unit, created = Organisation.objects.get_or_create(
            code=f"BU{u:03d}", defaults={"kind": "department", "name": f"承办单位{u}", "area": district}
        )
        unit_ids.append(unit.pk)
        if created:
            for m in range(5):
                user = User.objects.create(username=f"bench-u{u}-{m}", password=password, kind="staff")
                Membership.objects.create(user=user, organisation=unit, role="handler", jurisdiction=district)
    return {
        "street_ids": street_ids,
        "community_ids": community_ids,
        "communities_per_street": communities,
        "category_ids": category_ids,
        "unit_ids": unit_ids,
    }


def _int_array(values) -> str:
    return "ARRAY[" + ",".join(str(int(v)) for v in values) + "]::bigint[]"


def generate(rows: int, ref: dict, *, mix: str, as_of_sql: str = "now()") -> None:
    """Replace all appeals with ``rows`` synthetic ones.

    ``mix="open"``: every case open and being handled (dispatched, in progress or reopened), the
    handling deadline spread from 10 days ago to 20 days ahead (the colours are derived from the
    deadlines when read; ``as_of_sql`` is no longer used). ``mix="all"``: the life of a district over two years: 70 % closed (most signed for in
    time, three in four rated), the rest spread over the other states."""
    from django.db import connection

    from linli.domains.appeals.models import Appeal

    communities = _int_array(ref["community_ids"])
    streets = _int_array(ref["street_ids"])
    categories = _int_array(ref["category_ids"])
    units = _int_array(ref["unit_ids"])
    per_street = int(ref["communities_per_street"])
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        for table in ("appeals_rating", "appeals_supervision", "appeals_appealevent", "appeals_assignment"):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        cursor.execute("DELETE FROM notifications_notification WHERE kind = 'appeal_deadline'")
        cursor.execute("TRUNCATE appeals_appeal CASCADE")
        if mix == "open":
            status = "(ARRAY['dispatched','in_progress','in_progress','in_progress','reopened'])[1 + (g % 5)]"
        else:
            status = (
                "CASE WHEN r < 0.70 THEN 'closed' WHEN r < 0.74 THEN 'rejected' WHEN r < 0.76 THEN 'merged' "
                "WHEN r < 0.78 THEN 'withdrawn' WHEN r < 0.80 THEN 'submitted' WHEN r < 0.82 THEN 'registered' "
                "WHEN r < 0.86 THEN 'dispatched' WHEN r < 0.93 THEN 'in_progress' WHEN r < 0.97 THEN 'handled' "
                "WHEN r < 0.985 THEN 'returned' ELSE 'reopened' END"
            )
        span = "interval '30 days'" if mix == "open" else "interval '730 days'"
        cursor.execute(
            f"""
            INSERT INTO appeals_appeal (
                reference, title, body, priority, channel, status, address, path, contact_name, contact_phone,
                is_private, anonymous_to_public, idempotency_key, external_source, external_ref, answers,
                deadline_epoch, extended_days, round, result, status_reason,
                created_at, updated_at, published, public_title, public_body, public_result, public_place,
                community_id, street_id, category_id, lead_unit_id,
                registered_at, dispatched_at, acceptance_due, acceptance_warn_at, signed_at,
                handling_due, handling_warn_at, closed_at, intake_done_at
            )
            SELECT 'BN' || lpad(g::text, 9, '0'), 'bench', 'bench', 'normal', 'web', status, '', '', '', '',
                   false, true, '', '', '', '{{}}'::jsonb,
                   1, 0, 1, '', '',
                   created, created, false, '', '', '', '',
                   ({communities})[1 + (g % {len(ref["community_ids"])})],
                   ({streets})[1 + ((g % {len(ref["community_ids"])}) / {per_street})],
                   ({categories})[1 + (g / 7 % {len(ref["category_ids"])})],
                   CASE WHEN status IN ('submitted', 'registered', 'rejected', 'merged', 'withdrawn') THEN NULL
                        ELSE ({units})[1 + (g / 3 % {len(ref["unit_ids"])})] END,
                   CASE WHEN status IN ('submitted', 'rejected', 'merged', 'withdrawn') THEN NULL
                        ELSE created + interval '1 hour' END,
                   CASE WHEN status IN ('submitted', 'registered', 'rejected', 'merged', 'withdrawn') THEN NULL
                        ELSE created + interval '2 hours' END,
                   CASE WHEN status IN ('submitted', 'registered', 'rejected', 'merged', 'withdrawn') THEN NULL
                        ELSE acc_due END,
                   CASE WHEN status IN ('submitted', 'registered', 'rejected', 'merged', 'withdrawn') THEN NULL
                        ELSE acc_warn END,
                   CASE WHEN status IN ('in_progress', 'handled', 'closed', 'reopened') THEN
                        created + interval '2 hours' + (CASE WHEN g % 10 = 0 THEN interval '30 hours'
                                                             ELSE interval '1 hour' END) END,
                   CASE WHEN status IN ('dispatched', 'in_progress', 'reopened', 'handled', 'closed') THEN due END,
                   CASE WHEN status IN ('dispatched', 'in_progress', 'reopened', 'handled', 'closed') THEN warn END,
                   CASE WHEN status IN ('closed', 'rejected', 'withdrawn') THEN created + interval '3 days' END,
                   created
            FROM (
                SELECT g, r, status, created,
                       created + interval '26 hours' AS acc_due, created + interval '25 hours' AS acc_warn,
                       created + limit_days AS due, created + limit_days * 0.8 AS warn
                FROM (
                    SELECT g, r, {status} AS status, now() - {span} * frac AS created,
                           interval '1 day' * (1 + g % 30) AS limit_days
                    FROM (SELECT g, ((g * 2654435761) % 1000003)::float8 / 1000003 AS r,
                                 ((g * 7919) % {rows})::float8 / {rows} AS frac
                          FROM generate_series(1::bigint, {rows}::bigint) AS g) AS s
                ) AS t
            ) AS x
            """  # noqa: S608 - numbers and fixed names only
        )
        if mix == "all":
            cursor.execute(
                """
                INSERT INTO appeals_rating (appeal_id, round, value, comment, source, at)
                SELECT id, 1,
                       (ARRAY['satisfied','satisfied','satisfied','basically_satisfied','unsatisfied'])[1 + id % 5],
                       '', 'resident', closed_at
                FROM appeals_appeal WHERE status = 'closed' AND id % 4 <> 0
                """
            )
        cursor.execute("ANALYZE appeals_appeal")
        cursor.execute("ANALYZE appeals_rating")
    print(f"generated {Appeal.objects.count():,} appeals ({mix})", flush=True)
