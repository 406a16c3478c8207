"""Cross-validated quality, latency, training time and size of the triage classifier.

    .venv/bin/python bench/triage_cv.py [TRAIN_CSV] [--extra FILE ...] [--no-extra] [--folds 5]
                                        [--set KEY=VALUE ...] [--only-folds 1,2,3] [--no-write]

Stratified k-fold on TRAIN_CSV (default: the 2020 appeals sample in ../shared/data). The extra files
(default: the labelled bodies-only and titles-only files next to it) are added to every fold's training
part, after removing any extra row that repeats a message of the fold's test part (same normalised title,
same normalised body, or a body sharing several 20-character passages with a test body), so nothing
leaks. The figures go to stdout and to the "Triage" section of docs/benchmarks.md. ``--only-folds`` runs
some of the folds (the same splits) for screening; it implies ``--no-write``.

The data are read at run time and never written anywhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.model_selection import StratifiedKFold  # noqa: E402

from linli.domains.triage.classifier import TriageConfig  # noqa: E402
from linli.domains.triage.datasets import LabelledMessages, read_labelled_csv  # noqa: E402
from linli.domains.triage.evaluation import evaluate, train  # noqa: E402
from linli.domains.triage.text import dedup_key  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "appeals-2020"
DEFAULT_TRAIN = DATA / "appeals_train.csv"
DEFAULT_EXTRA = [DATA / "appeal_bodies_train.csv", DATA / "appeal_titles_train.csv"]
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- triage-cv:begin -->", "<!-- triage-cv:end -->"

SHINGLE, STEP, NEAR = 20, 10, 3


def shingles(key: str) -> set[str]:
    return {key[i : i + SHINGLE] for i in range(0, max(1, len(key) - SHINGLE), STEP)}


def without_test_messages(extra: LabelledMessages, test: LabelledMessages) -> LabelledMessages:
    """The rows of ``extra`` that do not repeat (exactly or nearly) a message of ``test``."""
    test_titles = {dedup_key(t) for t in test.titles} - {""}
    test_bodies = {dedup_key(b) for b in test.bodies} - {""}
    test_shingles: set[str] = set()
    for key in test_bodies:
        test_shingles |= shingles(key)
    kept = LabelledMessages()
    for title, body, label in zip(extra.titles, extra.bodies, extra.labels, strict=True):
        title_key, body_key = dedup_key(title), dedup_key(body)
        if title_key in test_titles or body_key in test_bodies:
            continue
        if body_key and sum(s in test_shingles for s in shingles(body_key)) >= NEAR:
            continue
        kept.titles.append(title)
        kept.bodies.append(body)
        kept.labels.append(label)
    return kept


def subset(data: LabelledMessages, index) -> LabelledMessages:
    return LabelledMessages(
        [data.titles[i] for i in index], [data.bodies[i] for i in index], [data.labels[i] for i in index]
    )


def _sample(rng: np.random.Generator, n: int, fraction: float) -> np.ndarray:
    return np.sort(rng.choice(n, size=round(n * fraction), replace=False))


def parse_settings(pairs: list[str]) -> TriageConfig:
    fields = {f.name: f for f in dataclasses.fields(TriageConfig)}
    values = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        if key not in fields:
            raise SystemExit(f"unknown setting {key!r}; known: {', '.join(fields)}")
        values[key] = tuple(json.loads(raw)) if raw.startswith("[") else json.loads(raw)
    return TriageConfig(**values)


def machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        model = next(
            line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train", nargs="?", default=str(DEFAULT_TRAIN))
    parser.add_argument(
        "--extra",
        action="append",
        default=None,
        metavar="FILE",
        help="extra labelled CSV added to each fold's training part (repeatable)",
    )
    parser.add_argument("--no-extra", action="store_true", help="train on the folds of TRAIN only")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a TriageConfig field, e.g. C=0.3 or char_ngram_range=[1,4]",
    )
    parser.add_argument(
        "--only-folds",
        default="",
        metavar="1,2,3",
        help="run only these folds (numbered from 1; same splits as the full run); implies --no-write",
    )
    parser.add_argument(
        "--markdown", metavar="FILE", help="also write the markdown block (as in docs/benchmarks.md) to FILE"
    )
    parser.add_argument(
        "--train-fraction",
        type=float,
        default=1.0,
        metavar="F",
        help="train each fold on a random fraction F of its training part (full messages and extra rows "
        "alike; seeded, so each fold's subset is the same from run to run): a learning curve; implies "
        "--no-write",
    )
    parser.add_argument("--no-write", action="store_true", help=f"do not update {DOCS.relative_to(ROOT)}")
    args = parser.parse_args()
    config = parse_settings(args.set)
    only = {int(k) for k in args.only_folds.split(",") if k.strip()}
    if only or args.train_fraction < 1:
        args.no_write = True

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    data = read_labelled_csv(args.train)
    extra_paths = [] if args.no_extra else [Path(p) for p in (args.extra or DEFAULT_EXTRA)]
    extra = LabelledMessages()
    for path in extra_paths:
        extra.extend(read_labelled_csv(path))
    say(f"{len(data)} messages, {len(extra)} extra training rows; {args.folds}-fold CV; {config}")

    folds = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
    results = []
    started = time.perf_counter()
    load_at_start = os.getloadavg()
    for k, (train_index, test_index) in enumerate(folds.split(np.zeros(len(data)), data.labels), start=1):
        if only and k not in only:
            continue
        test = subset(data, test_index)
        training = subset(data, train_index)
        added = without_test_messages(extra, test)
        dropped = len(extra) - len(added)
        if args.train_fraction < 1:
            rng = np.random.default_rng([args.seed, k])
            training = subset(training, _sample(rng, len(training), args.train_fraction))
            added = subset(added, _sample(rng, len(added), args.train_fraction))
        training.extend(added)
        cpu = time.process_time()
        model, seconds = train(training, config=config)
        cpu = time.process_time() - cpu
        result = evaluate(model, test)
        result.update(
            fold=k,
            train_seconds=seconds,
            train_cpu_seconds=cpu,
            model_bytes=len(model.to_bytes()),
            n_train=len(training),
            n_extra=len(added),
            n_extra_dropped=dropped,
        )
        results.append(result)
        say(
            f"fold {k}: macro-F1 {result['macro_f1']:.4f} accuracy {result['accuracy']:.4f} "
            f"train {seconds:.0f}s wall, {cpu:.0f}s CPU ({len(training)} rows, "
            f"{dropped} extra rows dropped as repeats of test messages) "
            f"p50 {result['ms_per_appeal_p50']:.2f} ms "
            f"model {result['model_bytes'] / 1e6:.1f} MB"
        )

    def mean_sd(key):
        values = np.array([r[key] for r in results])
        return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0

    labels = results[0]["labels"]
    summary = {
        "macro_f1": mean_sd("macro_f1"),
        "accuracy": mean_sd("accuracy"),
        "per_class_f1": {label: mean_sd_of(results, label) for label in labels},
        "ms_per_appeal_p50": float(np.median([r["ms_per_appeal_p50"] for r in results])),
        "ms_per_appeal_p99": float(np.max([r["ms_per_appeal_p99"] for r in results])),
        "fold_macro_f1": {r["fold"]: round(r["macro_f1"], 4) for r in results},
        "fold_ms_per_appeal_p50": {r["fold"]: round(r["ms_per_appeal_p50"], 2) for r in results},
        "train_seconds": mean_sd("train_seconds"),
        "train_cpu_seconds": mean_sd("train_cpu_seconds"),
        "model_bytes": int(np.max([r["model_bytes"] for r in results])),
        "n_train": int(np.mean([r["n_train"] for r in results])),
        "folds": args.folds,
        "only_folds": sorted(only),
        "train_fraction": args.train_fraction,
        "extra": [p.name for p in extra_paths],
        "config": dataclasses.asdict(config),
        "wall_seconds": time.perf_counter() - started,
        "load_average": [load_at_start, os.getloadavg()],
    }
    print(json.dumps(summary, ensure_ascii=False))
    if args.markdown:
        block = markdown_block(summary, Path(args.train).name)
        Path(args.markdown).write_text(block + "\n", encoding="utf-8")
        say(f"wrote {args.markdown}")
    if not args.no_write:
        write_docs(summary, Path(args.train).name)
        say(f"updated {DOCS}")


def mean_sd_of(results, label):
    values = np.array([r["per_class_f1"].get(label, 0.0) for r in results])
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def markdown_block(summary: dict, train_name: str) -> str:
    m, s = summary["macro_f1"]
    a, sa = summary["accuracy"]
    t, st = summary["train_seconds"]
    extra = ", ".join(f"`{name}`" for name in summary["extra"]) or "none"
    lines = [
        BEGIN,
        f"Measured {datetime.date.today().isoformat()} on {machine()}; load average (1/5/15 min) "
        f"{'/'.join(f'{x:.1f}' for x in summary['load_average'][0])} at the start and "
        f"{'/'.join(f'{x:.1f}' for x in summary['load_average'][1])} at the end: other processes share the "
        "machine, so latency and training time vary by a factor of two or more between runs.",
        "",
        f"Command: `.venv/bin/python bench/triage_cv.py{'' if summary['extra'] else ' --no-extra'}`"
        f" — stratified {summary['folds']}-fold cross-validation on `{train_name}`;"
        f" extra training rows added to each fold: "
        f"{extra} (rows repeating a test message removed). Model: "
        f"`{json.dumps({k: v for k, v in summary['config'].items() if k != 'extra'}, ensure_ascii=False)}`.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| macro-F1 | **{m:.4f} ± {s:.4f}** |",
        f"| accuracy | {a:.4f} ± {sa:.4f} |",
        f"| latency per appeal (one predict call), p50 / p99 | {summary['ms_per_appeal_p50']:.2f} ms / "
        f"{summary['ms_per_appeal_p99']:.2f} ms |",
        f"| training time (≈{summary['n_train']} rows, incl. calibration) | {t:.0f} s ± {st:.0f} s |",
        f"| model file | {summary['model_bytes'] / 1e6:.1f} MB |",
        "",
        "| category | F1 (mean ± sd over folds) |",
        "|---|---|",
        *(f"| {label} | {v:.4f} ± {sd:.4f} |" for label, (v, sd) in summary["per_class_f1"].items()),
        END,
    ]
    return "\n".join(lines)


def write_docs(summary: dict, train_name: str) -> None:
    block = markdown_block(summary, train_name)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    elif "## Triage" in text:
        text = text.replace("## Triage\n", "## Triage\n\n" + block + "\n", 1)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + "## Triage\n\n" + block + "\n"
    DOCS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
