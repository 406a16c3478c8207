"""Hot-issue groups on the 2020 message-board sample (issue 5, item 4).

    .venv/bin/python bench/triage_hotspots.py [CSV] [--top 10] [--min-count 2]
                                              [--same-place 0.30] [--text-only 0.60] [--window 30]

The messages have no coordinates, so each message's place keys are the place names found in its title
and body (``hotspots.place_mentions``: "xx小区", "xx路" … after the anonymised city and district
prefix). Groups, heat and labels come from the same functions the platform uses
(``cluster_items``, ``summarise``); "supports" are the messages' likes (点赞数).
Growth is measured at the end of the data.

Prints the top groups (label, count, likes, heat, date range) and a few figures about the grouping,
plus a purity check: the share of linked pairs whose titles share a place name or a content word.
The data are read at run time and never written anywhere; labels are short generated phrases.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from linli.domains.triage import hotspots  # noqa: E402
from linli.domains.triage.text import pos_segment  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "appeals-2020" / "hot_issue_messages.csv"


def parse_time(value: str) -> dt.datetime:
    value = value.strip().replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise ValueError(value)


# Columns by position, in the order the data set's README documents them:
# id, user, subject, time, detail, against, likes.
ID, SUBJECT, TIME, DETAIL, LIKES = 0, 2, 3, 4, 6


def read_items(path: Path) -> list[hotspots.HotItem]:
    items = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        next(rows)  # header
        for row in rows:
            title, body = row[SUBJECT], row[DETAIL]
            in_title = hotspots.place_mentions(title)
            mentions = in_title + [m for m in hotspots.place_mentions(body) if m not in in_title]
            items.append(
                hotspots.HotItem(
                    id=row[ID],
                    title=title,
                    body=body,
                    at=parse_time(row[TIME]),
                    places=tuple(mentions[:4]),
                    place_name=(in_title or mentions or [""])[0],
                    supports=int((row[LIKES] if len(row) > LIKES else "") or 0),
                )
            )
    return items


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--same-place", type=float, default=hotspots.LINK_SAME_PLACE)
    parser.add_argument("--text-only", type=float, default=hotspots.LINK_TEXT_ONLY)
    parser.add_argument("--window", type=float, default=hotspots.WINDOW_DAYS)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    items = read_items(args.csv)
    read_s = time.perf_counter() - started
    t0 = time.perf_counter()
    matrix = hotspots._vectors(items)
    groups = hotspots.cluster_items(
        items,
        link_same_place=args.same_place,
        link_text_only=args.text_only,
        window_days=args.window,
        min_count=args.min_count,
        matrix=matrix,
    )
    cluster_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pos_segment("载入词典")  # jieba's dictionary and part-of-speech table, loaded once per process
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = hotspots.summarise(items, groups, matrix=matrix)
    summary_s = time.perf_counter() - t0

    with_place = sum(1 for i in items if i.places)
    grouped = sum(g.count for g in summary)
    print(f"messages {len(items)}; with a place name {with_place} ({with_place / len(items):.0%})")
    print(
        f"groups (≥{args.min_count}) {len(summary)}; messages in groups {grouped} "
        f"({grouped / len(items):.0%}); largest {max((g.count for g in summary), default=0)}"
    )
    sizes = sorted((g.count for g in summary), reverse=True)
    print("group sizes, top 20:", sizes[:20])
    print(
        f"time: read+places {read_s:.1f}s, vectors+links {cluster_s:.1f}s, "
        f"jieba dictionaries {load_s:.1f}s, labels+heat {summary_s:.2f}s"
    )
    print()
    print("| # | label | messages | likes | heat | first – last |")
    print("|---|---|---|---|---|---|")
    for n, g in enumerate(summary[: args.top], 1):
        print(
            f"| {n} | {g.label} | {g.count} | {g.supports} | {g.heat:.1f} | "
            f"{g.first_seen:%Y-%m-%d} – {g.last_seen:%Y-%m-%d} |"
        )
    print()
    by_count = sorted(summary, key=lambda g: (-g.count, -g.heat))[: args.top]
    print("largest groups:")
    for g in by_count:
        print(
            f"  {g.label} · {g.count} · likes {g.supports} · {g.first_seen:%Y-%m-%d} – {g.last_seen:%Y-%m-%d}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
