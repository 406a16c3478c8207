# ruff: noqa: E501 - report lines and the check script read better unwrapped
"""Appeals intake over HTTP: new appeals accepted per second through Open311 ``POST requests``
(``/open311/v2/requests.json``, the partner intake; each request files a new appeal through
``appeals.services.appeal_submit``), with p50/p99 latency, and a check that every acknowledged
appeal is stored.

Run against ``make serve`` on PostgreSQL (production settings, Granian with a process per core × 4
threads, the task worker and the scheduler running alongside, all on this machine):

    createdb -h 127.0.0.1 -U postgres linli_bench          # once
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli_bench
    .venv/bin/python manage.py load_demo --if-empty           # or at least categories + geography
    make serve PORT=8077 &
    .venv/bin/python bench/appeals_intake.py --port 8077 --clients 8 --rate 300 [--seconds 30] [--runs 3]

``--rate R`` offers R requests a second whatever the server does (open loop), each latency counted
from when its request was due: the figure the goal is about (≥ 300/s with p99 < 100 ms). Without it,
``--clients`` clients each send their next request when the last is answered (closed loop).

What it does: a partner key with a rate allowance above the load (an administrator sets it per key,
``create_api_key --rate``), then ``--runs`` runs of ``--clients`` concurrent keep-alive clients
(one asyncio loop, hand-written HTTP/1.1, 127.0.0.1 only) posting for ``--seconds`` each. Every request carries
its own ``Idempotency-Key``; one in fifty is sent a second time with the same key and must come back
with the same ``service_request_id``. Afterwards it reads the database: every acknowledged
``service_request_id`` must be an appeal (none lost), no key may have made two appeals, and it
reports how long the background follow-ups (``appeal_intake_batch``: timeline, audit, webhooks, notices,
auto-dispatch) took to catch up. "Sustained" is the slowest 5-second window of each run.

Prints one Markdown table; ``--write`` puts it into docs/benchmarks.md under "Appeals intake".
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
SECTION = "## Appeals intake"
PATH = "/open311/v2/requests.json"


def manage(*args: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    return subprocess.run(  # noqa: S603 - our own manage.py
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def shell(script: str) -> dict:
    return json.loads(manage("shell", "-c", script).splitlines()[-1])


def prepare(*, vacuum: bool = True) -> dict:
    """Categories, geography (the demo, if the database is empty), a partner key, a point; then, as
    pgbench does before its runs, ``VACUUM (ANALYZE)`` of the database, so each session's figures
    start from the same state of the tables whatever the server's autovacuum settings (it is off on
    the PostgreSQL of the machines these figures come from: without it the planner keeps the row
    counts of the demo and scans the pending intakes' index past every finished one)."""
    manage("load_demo", "--if-empty")
    manage("load_appeal_categories")
    if vacuum:
        shell(
            "from django.db import connection\n"
            "if connection.vendor == 'postgresql':\n"
            "    connection.cursor().execute('VACUUM (ANALYZE)')\n"
            "print('{}')\n"
        )
    info = shell(
        "import json\n"
        "from linli.core.places.models import Area\n"
        "from linli.domains.appeals.models import Category\n"
        "grids = list(Area.objects.filter(kind='grid', centroid_lng__isnull=False).order_by('pk')"
        ".values_list('centroid_lng', 'centroid_lat')[:50])\n"
        "cats = list(Category.objects.filter(parent__isnull=False, is_active=True, questions=[])"
        ".order_by('pk').values_list('code', flat=True)[:20])\n"
        "print(json.dumps({'points': grids, 'codes': cats}))\n"
    )
    info["key"] = manage(
        "create_api_key", f"bench intake {dt.datetime.now():%H%M%S}", "--rate", "1000000/m"
    ).splitlines()[-1]
    return info


def run(port: int, info: dict, *, clients: int, seconds: float, tag: str, rate: float = 0) -> dict:
    """Concurrent clients for ``seconds``; returns counts, latencies and the acknowledged ids.

    With ``rate`` (open loop) the n-th request is due at ``start + n / rate`` whatever the server
    does, and its latency counts from that moment, so a server that falls behind sees its queue in
    the figures (no coordinated omission); the ``clients`` connections only carry the requests.
    Without it (closed loop) each client sends its next request when the last one is answered.

    The clients are one asyncio loop writing HTTP/1.1 by hand on keep-alive connections: on a
    machine shared with the server the load generator's own CPU is taken from the server, and
    ``http.client`` in threads cost about 1.4 ms of CPU per request, this about a third of it."""
    latencies: list[float] = []
    done_at: list[float] = []
    sent_at: list[float] = []  # when each request was due (open loop) or sent, seconds from the start
    acknowledged: list[str] = []
    statuses: dict[int, int] = {}
    retry_mismatch: list[tuple[str, str]] = []
    slot = iter(range(10**9))
    started = time.perf_counter()
    started_clock = time.strftime("%H:%M:%S")
    started_at = time.time()
    stop_at = started + seconds
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
    )

    async def post(conn, body: bytes, key: str, due: float | None = None):
        """One request on ``conn`` (a [reader, writer] pair, reopened after an error)."""
        t0 = time.perf_counter() if due is None else due
        request = f"{head}Idempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        try:
            if conn[1] is None:
                conn[:] = await asyncio.open_connection("127.0.0.1", port)
            reader, writer = conn
            writer.write(request)
            status_line = await reader.readline()
            code = int(status_line.split()[1])
            length, chunked, close = 0, False, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding":
                    chunked = "chunked" in value
                elif name == "connection":
                    close = value == "close"
            if chunked:
                parts = []
                while size := int((await reader.readline()).split(b";")[0], 16):
                    parts.append(await reader.readexactly(size))
                    await reader.readline()
                await reader.readline()
                payload = b"".join(parts)
            else:
                payload = await reader.readexactly(length)
            if close:
                writer.close()
                conn[:] = [None, None]
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            if conn[1] is not None:
                conn[1].close()
            conn[:] = [None, None]
            code, payload = 0, b""
        return code, payload, time.perf_counter() - t0

    async def client(n: int):
        conn: list = [None, None]
        i = 0
        while rate or time.perf_counter() < stop_at:  # open loop: every slot due in the run is sent
            i += 1
            due = None
            if rate:
                due = started + next(slot) / rate
                if due >= stop_at:
                    break
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            lng, lat = info["points"][(n + i) % len(info["points"])]
            form = {
                "api_key": info["key"],
                "service_code": info["codes"][(n * 7 + i) % len(info["codes"])],
                "description": f"路口垃圾桶满溢，请尽快清运（{tag}-{n}-{i}）",
                "lat": lat,
                "long": lng,
            }
            body = urllib.parse.urlencode(form).encode()
            key = f"{tag}-{n}-{i}-{uuid.uuid4().hex[:8]}"
            sent_at.append((due or time.perf_counter()) - started)
            code, payload, elapsed = await post(conn, body, key, due)
            latencies.append(elapsed)
            done_at.append(time.perf_counter())
            statuses[code] = statuses.get(code, 0) + 1
            if code == 201:
                ref = json.loads(payload)[0]["service_request_id"]
                acknowledged.append(ref)
                if i % 50 == 0:  # a retry with the same key must name the same case
                    again, payload2, _ = await post(conn, body, key)
                    ref2 = json.loads(payload2)[0]["service_request_id"] if 200 <= again < 300 else str(again)
                    if ref2 != ref:
                        retry_mismatch.append((ref, ref2))
        if conn[1] is not None:
            conn[1].close()

    async def main():
        await asyncio.gather(*(client(n) for n in range(clients)))

    asyncio.run(main())
    elapsed = time.perf_counter() - started
    seconds_slowest = _slowest_seconds(sent_at, latencies)
    raw = list(zip(sent_at, latencies, strict=True))  # (due, latency) of each request, for --dump
    latencies.sort()

    def pct(p):
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
        )

    windows = [0] * max(1, int(seconds // 5))
    for end in done_at:
        w = int((end - started) // 5)
        if w < len(windows):
            windows[w] += 1
    return {
        "requests": len(latencies),
        "acknowledged": acknowledged,
        "statuses": statuses,
        "rps": len(acknowledged) / elapsed,
        "sustained": min(windows) / 5 if windows else 0.0,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "max": latencies[-1] * 1000 if latencies else float("nan"),
        "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "retry_mismatch": retry_mismatch,
        "timeline": seconds_slowest,
        "started": started_clock,
        "started_at": started_at,
        "raw": raw,
    }


def _slowest_seconds(sent_at: list[float], latencies: list[float], top: int = 5) -> list[str]:
    """The ``top`` seconds of the run with the slowest requests: ``"second: max ms (n over 100 ms)"``,
    by when the requests were due, so a stall shows where it began."""
    by_second: dict[int, list[float]] = {}
    for at, latency in zip(sent_at, latencies, strict=True):
        by_second.setdefault(int(at), []).append(latency * 1000)
    worst = sorted(by_second.items(), key=lambda kv: -max(kv[1]))[:top]
    return [
        f"{second}s: {max(values):.0f} ms ({sum(v > 100 for v in values)} > 100 ms)"
        for second, values in sorted(worst)
    ]


def check_stored(refs: list[str], tag: str, *, since: float, wait_followups: float) -> dict:
    """Every acknowledged reference is an appeal; how many appeals the run made; follow-up backlog.
    The run's appeals are read by ``created_at`` (indexed) from ``since`` (a Unix time), so the
    check does not scan the whole table while the server is still finishing the run."""
    path = Path(tempfile.gettempdir()) / f"linli-bench-intake-{tag}.json"
    path.write_text(json.dumps(refs), encoding="utf-8")
    script = (
        "import json, time\n"
        "from django.utils import timezone\n"
        "from linli.domains.appeals.models import Appeal\n"
        f"refs = json.load(open({str(path)!r}))\n"
        "found = set()\n"
        "for i in range(0, len(refs), 5000):\n"
        "    found |= set(Appeal.objects.filter(reference__in=refs[i:i + 5000]).values_list('reference', flat=True))\n"
        "import datetime as dt\n"
        f"start = dt.datetime.fromtimestamp({since - 5:.3f}, tz=dt.timezone.utc)\n"
        f"mine = Appeal.objects.filter(created_at__gte=start, idempotency_key__startswith='{tag}-')\n"
        "made = mine.count()\n"
        "keys = mine.values('idempotency_key').distinct().count()\n"
        "t0 = time.time(); pending = mine.filter(intake_done_at__isnull=True).count()\n"
        f"while pending and time.time() - t0 < {wait_followups}:\n"
        "    time.sleep(2); pending = mine.filter(intake_done_at__isnull=True).count()\n"
        "print(json.dumps({'acknowledged': len(set(refs)), 'stored': len(found), 'made': made,"
        " 'distinct_keys': keys, 'followups_pending': pending, 'followup_wait_s': round(time.time() - t0, 1)}))\n"
    )
    result = shell(script)
    path.unlink(missing_ok=True)
    return result


def machine() -> str:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        model = next((line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line), "")
    except OSError:
        pass
    return f"{model or platform.processor()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--clients", type=int, default=16, help="connections (closed loop: clients)")
    parser.add_argument(
        "--rate", type=float, default=0, help="open loop: requests per second offered (0: closed loop)"
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wait-followups", type=float, default=600, help="seconds to wait for the worker")
    parser.add_argument(
        "--settle", type=float, default=10, help="seconds between a run's check and the next run"
    )
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM (ANALYZE) before the runs")
    parser.add_argument("--dump", help="write each run's (due s, latency s) pairs to DUMP-N.json")
    parser.add_argument("--write", action="store_true", help="write the section of docs/benchmarks.md")
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        print(
            "note: DATABASE_URL is not PostgreSQL; the figures are for",
            os.environ.get("DATABASE_URL", "SQLite"),
        )
    info = prepare(vacuum=not args.no_vacuum)
    run(args.port, info, clients=2, seconds=2, tag="warm" + uuid.uuid4().hex[:6])
    rows = []
    for n in range(args.runs):
        tag = f"b{uuid.uuid4().hex[:8]}"
        load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
        r = run(args.port, info, clients=args.clients, seconds=args.seconds, tag=tag, rate=args.rate)
        if args.dump:
            Path(f"{args.dump}-{n + 1}.json").write_text(
                json.dumps({"started": r["started"], "raw": r.pop("raw")})
            )
        stored = check_stored(
            r["acknowledged"], tag, since=r["started_at"], wait_followups=args.wait_followups
        )
        time.sleep(args.settle)  # the check's own queries and the minute's tasks out of the next run
        r.update(stored, load=load)
        lost = stored["acknowledged"] - stored["stored"]
        print(
            f"run {n + 1}: {r['rps']:.1f}/s (slowest 5 s: {r['sustained']:.1f}/s), p50 {r['p50']:.1f} ms, "
            f"p99 {r['p99']:.1f} ms, statuses {r['statuses']}, acknowledged {stored['acknowledged']}, "
            f"stored {stored['stored']}, lost {lost}, appeals made {stored['made']} for {stored['distinct_keys']} keys, "
            f"retry mismatches {len(r['retry_mismatch'])}, follow-ups pending {stored['followups_pending']} "
            f"after {stored['followup_wait_s']} s; load before {load}; "
            f"slowest seconds (run started {r['started']}): " + ", ".join(r["timeline"]),
            flush=True,
        )
        rows.append(r)
    med = {k: statistics.median(r[k] for r in rows) for k in ("rps", "sustained", "p50", "p99")}
    table = [
        "| run | load before | requests | acknowledged (201) | stored | lost | appeals/s | slowest 5 s /s "
        "| p50 ms | p99 ms | follow-ups caught up after |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, r in enumerate(rows, 1):
        catch_up = (
            f"{r['followup_wait_s']:.0f} s"
            if not r["followups_pending"]
            else f"{r['followups_pending']} pending"
        )
        table.append(
            f"| {n} | {r['load']} | {r['requests']} | {r['acknowledged']} | {r['stored']} "
            f"| {r['acknowledged'] - r['stored']} | {r['rps']:.1f} | {r['sustained']:.1f} | {r['p50']:.1f} "
            f"| {r['p99']:.1f} | {catch_up} |"
        )
    table.append(
        f"| **median** | | | | | | **{med['rps']:.1f}** | **{med['sustained']:.1f}** | **{med['p50']:.1f}** "
        f"| **{med['p99']:.1f}** | |"
    )
    db = re.sub(r"//[^@]*@", "//", os.environ.get("DATABASE_URL", "sqlite"))
    rate_arg = f" --rate {args.rate:g}" if args.rate else ""
    load_desc = (
        f"an open-loop load of {args.rate:g} requests/s over {args.clients} keep-alive connections, "
        "each latency counted from the moment its request was due,"
        if args.rate
        else f"{args.clients} concurrent keep-alive clients, each sending when its last request is answered"
    )
    text = "\n".join(
        [
            SECTION,
            "",
            f"`bench/appeals_intake.py --clients {args.clients}{rate_arg} --seconds {args.seconds:.0f} "
            f"--runs {args.runs}`, {dt.date.today()}, {machine()}; `make serve` (Granian, a process per core × 4 "
            f"threads, production settings, the task worker and the scheduler) on {db}; {load_desc} "
            "on 127.0.0.1 posting Open311 `POST requests` (each a new appeal with its own "
            "Idempotency-Key; every 50th sent twice and checked to name the same case). The server, "
            "PostgreSQL, the task worker and the clients share the two cores. "
            + (
                "Before the runs the database was vacuumed and analysed, as pgbench does (this machine's "
                "PostgreSQL runs without autovacuum); the runs themselves add their appeals unvacuumed."
                if not args.no_vacuum
                else "No VACUUM before the runs (--no-vacuum)."
            ),
            "",
            *table,
            "",
            "*stored*: acknowledged `service_request_id`s found in the database afterwards; *lost* must be 0. "
            "*slowest 5 s*: the lowest 5-second window of the run (sustained rate). *follow-ups caught up*: "
            "how long after the run the worker needed to finish every intake (`appeal_intake_batch`: "
            "the timeline's first row, audit row, webhook outbox, notices, automatic dispatch).",
            "",
        ]
    )
    print(text)
    if args.write:
        path = ROOT / "docs" / "benchmarks.md"
        existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
        pattern = re.compile(re.escape(SECTION) + r"\n.*?(?=\n## |\Z)", re.S)
        if pattern.search(existing):
            existing = pattern.sub(lambda _m: text, existing)
        else:
            existing = existing.rstrip() + "\n\n" + text
        path.write_text(existing, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
