"""Memory of one process serving a triage model: after loading it, after ``warm()`` and after
``compact()`` (what the platform's loader, ``suggest._load``, does).

    .venv/bin/python bench/triage_memory.py MODEL_FILE

MODEL_FILE is any saved model, for instance the fold-1 model that
``bench/triage_screen.py --folds 1 base`` keeps in ``/tmp/linli-triage-screen/model1.bin`` (trained on
the 2020 files) or a version under the platform's media folder. Prints the resident set size (VmRSS)
at each step and the time each step took; the model is then asked for one message, to show that it
still answers. Each step is measured in a fresh process, so the figures do not depend on what an
earlier step left in the allocator.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEPS = ("load", "warm", "compact")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(path: str, step: str) -> dict:
    from linli.domains.triage.classifier import load_model

    base = rss_mb()
    started = time.perf_counter()
    model = load_model(path)
    if step == "warm":
        model.warm()
    elif step == "compact":
        model.compact()
    seconds = time.perf_counter() - started
    gc.collect()
    after = rss_mb()  # before asking: one message would warm a model that is only loaded
    top = model.top_k("小区门口垃圾堆积", "垃圾桶满了好几天没人清运", k=1)
    return {
        "step": step,
        "rss_mb": round(after, 1),
        "before_mb": round(base, 1),
        "seconds": round(seconds, 2),
        "top": top,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)  # one step, in a child process
    args = parser.parse_args()
    if args.step:
        print(json.dumps(measure(args.model, args.step), ensure_ascii=False))
        return
    size = Path(args.model).stat().st_size / 1e6
    print(f"model file {args.model}: {size:.1f} MB")
    for step in STEPS:
        command = [sys.executable, __file__, args.model, "--step", step]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
        result = json.loads(out.strip().splitlines()[-1])
        print(
            f"{step:8} VmRSS {result['rss_mb']:7.1f} MB (before loading {result['before_mb']:.1f} MB), "
            f"{result['seconds']:.1f} s; then answers {result['top']}"
        )


if __name__ == "__main__":
    main()
