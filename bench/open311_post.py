# ruff: noqa: E501 - report lines read better unwrapped
"""Open311 intake benchmark: ``POST /open311/v2/requests.json`` against a running server, side by
side with a bare Django view that inserts one row (``/api/v1/_bench/insert``, mounted with
LINLI_BENCH_VIEWS=1): the ceiling for a write on the same machine, database and server.

Run (PostgreSQL, production settings, Granian as `make serve` starts it):

    createdb -h 127.0.0.1 -U postgres linli_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli_bench LINLI_BENCH_VIEWS=1
    make serve PORT=8077 &            # migrates, then serves
    .venv/bin/python bench/open311_post.py --port 8077 [--clients 8] [--seconds 15] [--runs 3] [--no-write]

The script prepares the database itself (categories, geography if empty, a partner key) through
manage.py with the same DATABASE_URL, then runs a bounded loop of concurrent HTTP clients (threads,
http.client, keep-alive) on 127.0.0.1 only. Prints throughput and latency percentiles and writes an
"Open311 intake" section to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
SECTION = "## Open311 intake"


def manage(*args: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    return subprocess.run(  # noqa: S603 - our own manage.py
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def prepare() -> dict:
    """A partner key, a service code and a point inside the district."""
    manage("load_appeal_categories")
    script = (
        "import json\n"
        "from linli.core.places.models import Area\n"
        "from linli.domains.appeals.models import Category\n"
        "grid = Area.objects.filter(kind='grid').order_by('pk').first()\n"
        "cat = Category.objects.filter(parent__isnull=False, is_active=True).order_by('pk').first()\n"
        "print(json.dumps({'code': cat.code, 'lng': grid.centroid_lng if grid else None,"
        " 'lat': grid.centroid_lat if grid else None}))\n"
    )
    info = json.loads(manage("shell", "-c", script).splitlines()[-1])
    # the key's rate allowance (default 1,200/min) must not be what the benchmark measures
    info["key"] = manage(
        "create_api_key", f"bench {dt.datetime.now():%H%M%S}", "--rate", "1000000/m"
    ).splitlines()[-1]
    return info


def run(port: int, path: str, body: bytes, *, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "keep-alive"}

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, codes = [], {}
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                code = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                code = 0
            mine.append(time.perf_counter() - t0)
            codes[code] = codes.get(code, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)
    latencies.sort()

    def pct(p):
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
        )

    return {
        "requests": len(latencies),
        "ok": ok,
        "statuses": statuses,
        "rps": ok / elapsed,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "mean": statistics.fmean(latencies) * 1000 if latencies else 0,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--runs", type=int, default=3, help="pairs of runs (ceiling, intake)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        print(
            "note: DATABASE_URL is not PostgreSQL; the figures are for",
            os.environ.get("DATABASE_URL", "SQLite"),
        )
    info = prepare()
    form = {"api_key": info["key"], "service_code": info["code"], "description": "路口垃圾桶满溢，请尽快清运"}
    if info["lng"] is not None:
        form.update({"lat": info["lat"], "long": info["lng"]})
    else:
        form["address_string"] = "金牛区测试路 1 号"
    open311 = urllib.parse.urlencode(form).encode()
    # warm up both paths (connections, caches)
    run(args.port, "/api/v1/_bench/insert", b"", clients=2, seconds=1)
    run(args.port, "/open311/v2/requests.json", open311, clients=2, seconds=1)
    # Pairs run back to back (ceiling, then intake), so each ratio compares the two under the same
    # conditions; the figure is the median of the pairs' ratios.
    pairs = []
    for _ in range(args.runs):
        ceiling = run(args.port, "/api/v1/_bench/insert", b"", clients=args.clients, seconds=args.seconds)
        intake = run(
            args.port, "/open311/v2/requests.json", open311, clients=args.clients, seconds=args.seconds
        )
        pairs.append((ceiling, intake, intake["rps"] / ceiling["rps"] if ceiling["rps"] else float("nan")))
    ratio = statistics.median(r for _c, _i, r in pairs)
    table = [
        "| run | path | requests | ok | req/s | p50 ms | p99 ms | ratio |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, (ceiling, intake, r) in enumerate(pairs, 1):
        for label, x, shown in (
            ("bare view, one INSERT (ceiling)", ceiling, ""),
            ("Open311 POST requests (appeal_submit)", intake, f"{r:.2f}"),
        ):
            table.append(
                f"| {n} | {label} | {x['requests']} | {x['ok']} | {x['rps']:.1f} | {x['p50']:.1f} "
                f"| {x['p99']:.1f} | {shown} |"
            )
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    db = re.sub(r"//[^@]*@", "//", os.environ.get("DATABASE_URL", "sqlite"))
    text = "\n".join(
        [
            SECTION,
            "",
            f"{dt.date.today()}, {platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load {load}; Granian as in `make serve` (a process per core × 4 threads, production settings) on {db}; "
            f"{args.clients} concurrent keep-alive clients on 127.0.0.1 for {args.seconds:.0f} s each, "
            f"{args.runs} pairs of runs; "
            f"the server, the database and the clients share the machine.",
            "",
            *table,
            "",
            f"Open311 intake reaches **{ratio:.2f} ×** the ceiling (median of the pairs; goal ≥ 0.5 ×). "
            "On the request path each "
            "intake checks the key and the service (process cache), counts its rate (shared cache), places "
            "the point (in memory) and writes the appeal in one statement, its reference number from the "
            "day's sequence inside it (`appeals.intake`); the timeline's first row, the audit row, webhook "
            "outbox, notices and automatic dispatch follow in the task worker (`appeal_intake_batch`, "
            "nudged at most once a second per server process), which shares the machine during the run.",
            "",
        ]
    )
    print(text)
    if not args.no_write:
        path = ROOT / "docs" / "benchmarks.md"
        existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
        pattern = re.compile(re.escape(SECTION) + r"\n.*?(?=\n## |\Z)", re.S)
        existing = pattern.sub("", existing).rstrip() + "\n\n"
        path.write_text(existing + text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
