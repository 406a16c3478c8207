"""Calibrate the result quality check and measure reply delays on the 2020 replies sample.

    .venv/bin/python bench/triage_replies.py [CSV] [--flag 0.12]

For every message with an official reply: the reply's content length and its relevance to the message
(``quality.content_length``, ``quality.relevance``), whether it explains (``has_explanation``); the
distribution of each (percentiles) and the thresholds that flag the worst ``--flag`` share; the share of
replies each finding of ``check_result``'s current thresholds flags. Then reply delays (reply time −
message time): median, p90, and the share answered within 15 calendar days and within 15 working days
(Chinese calendar, ``chinese_calendar``). Only aggregate numbers are printed; nothing is written.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

import chinese_calendar  # noqa: E402

from linli.domains.triage import quality  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "appeals-2020" / "messages_with_replies.csv"


def parse_time(value: str) -> dt.datetime | None:
    value = (value or "").strip().replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def working_days_between(start: dt.datetime, end: dt.datetime) -> int | None:
    """Working days after the message day up to and including the reply day."""
    try:
        return len(chinese_calendar.get_workdays(start.date() + dt.timedelta(days=1), end.date()))
    except NotImplementedError:  # a year the calendar does not cover
        return None


def pct(values, qs=(5, 10, 15, 25, 50, 75, 90)) -> str:
    arr = np.asarray(values, dtype=float)
    return ", ".join(f"p{q} {np.percentile(arr, q):.3g}" for q in qs)


class _Appeal:
    def __init__(self, title, body):
        self.title, self.body, self.category = title, body, None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--flag", type=float, default=0.12, help="share of replies a threshold should flag")
    args = parser.parse_args(argv)

    lengths, rels, explains, delays, workdays = [], [], [], [], []
    flagged = {"too_short": 0, "off_topic": 0, "no_explanation": 0, "any": 0}
    bad_dates = 0
    n = 0
    # Columns by position, in the order the data set's README documents them:
    # id, user, subject, time, detail, reply, reply time.
    subject, time_, detail, reply_col, reply_time = 2, 3, 4, 5, 6
    with args.csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        next(rows)  # header
        for row in rows:
            reply = row[reply_col] or ""
            title, body = row[subject] or "", row[detail] or ""
            n += 1
            lengths.append(quality.content_length(reply))
            rels.append(quality.relevance(f"{title} {body}", reply))
            explains.append(quality.has_explanation(reply))
            found = {f.code for f in quality.check_result(_Appeal(title, body), reply, photos=1)}
            for code in ("too_short", "off_topic", "no_explanation"):
                flagged[code] += code in found
            flagged["any"] += bool(found)
            asked, answered = parse_time(row[time_]), parse_time(row[reply_time])
            if asked is None or answered is None or answered < asked:
                bad_dates += 1
                continue
            delays.append((answered - asked).total_seconds() / 86400.0)
            wd = working_days_between(asked, answered)
            if wd is not None:
                workdays.append(wd)

    print(f"replies {n}")
    print(f"content length (chars): {pct(lengths)}")
    print(f"relevance to the message: {pct(rels)}")
    print(f"replies with an action/reason cue: {np.mean(explains):.1%}")
    worst = args.flag * 100
    print(
        f"thresholds flagging the worst {args.flag:.0%}: length < {np.percentile(lengths, worst):.0f}, "
        f"relevance < {np.percentile(rels, worst):.3f}"
    )
    print(
        f"current thresholds (MIN_CHARS={quality.MIN_CHARS}, MIN_RELEVANCE={quality.MIN_RELEVANCE}) flag: "
        + ", ".join(f"{k} {v / n:.1%}" for k, v in flagged.items())
    )
    d = np.asarray(delays)
    print()
    print(f"reply delays over {len(d)} replies ({bad_dates} with a missing or inverted date left out)")
    print(f"  median {np.median(d):.1f} days, p90 {np.percentile(d, 90):.1f} days, mean {d.mean():.1f} days")
    print(f"  within 15 calendar days {np.mean(d <= 15):.1%}")
    w = np.asarray(workdays)
    print(
        f"  within 15 working days {np.mean(w <= 15):.1%} (of {len(w)} replies the holiday calendar covers); "
        f"median {np.median(w):.0f} working days, p90 {np.percentile(w, 90):.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
