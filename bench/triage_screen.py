"""Screening other kinds of model against the adopted triage classifier, cheaply, fold by fold.

    .venv/bin/python bench/triage_screen.py base [--folds 1,2,3,4,5]  # the adopted model's probabilities
    .venv/bin/python bench/triage_screen.py fasttext [--mode word|char|both]
    PYTHON_WITH_TORCH bench/triage_screen.py encoder --model-dir DIR [--max-length 256] [--C 0.1]
    .venv/bin/python bench/triage_screen.py blend TAG                   # macro-F1 of base + w · TAG per fold
    .venv/bin/python bench/triage_screen.py offsets                     # per-category offsets for macro-F1
    .venv/bin/python bench/triage_screen.py latency                     # one predict call, by body length

The same five splits as ``bench/triage_cv.py`` (extra rows that repeat a test message removed). ``base``
trains the adopted model on each fold and keeps its test probabilities; a candidate (``fasttext``: a
fastText classifier trained on the fold; ``encoder``: a logistic regression over the mean-pooled
embeddings of a frozen BERT-style sentence encoder read from a local directory) keeps its own; ``blend``
prints, for each weight w, the macro-F1 of ``log p_base + w · log p_candidate`` per fold and the
difference to the base. The weight is chosen on the test folds themselves, so the best row is an upper
bound of what the candidate could add as a stack member: a candidate whose best row gains nothing is not
worth building in. ``offsets`` does the same for one additive offset per category on the base's
log-probabilities (tuned for macro-F1 on four folds, applied to the fifth).

The optional packages are not part of the project: ``pip install --target DIR fasttext-numpy2-wheel``
and ``PYTHONPATH=DIR``; the encoder needs torch and transformers in another environment. Everything is
kept under ``--cache`` (default ``/tmp/linli-triage-screen``), outside the repository: the data are read
at run time and nothing derived from them is written into the project.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from triage_cv import DEFAULT_EXTRA, DEFAULT_TRAIN, subset, without_test_messages  # noqa: E402

from linli.domains.triage.datasets import LabelledMessages, read_labelled_csv  # noqa: E402
from linli.domains.triage.evaluation import train  # noqa: E402
from linli.domains.triage.text import normalize, segment  # noqa: E402

WEIGHTS = (0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def splits(cache: Path, folds: set[int]):
    """(k, training, test) for the wanted folds, cached as the fold's two message lists."""
    cache.mkdir(parents=True, exist_ok=True)
    data = extra = None
    for k in sorted(folds):
        path = cache / f"split{k}.pkl"
        if not path.exists():
            if data is None:
                data = read_labelled_csv(DEFAULT_TRAIN)
                extra = LabelledMessages()
                for p in DEFAULT_EXTRA:
                    extra.extend(read_labelled_csv(p))
                folds_all = list(
                    StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(data)), data.labels)
                )
            train_index, test_index = folds_all[k - 1]
            test = subset(data, test_index)
            training = subset(data, train_index)
            training.extend(without_test_messages(extra, test))
            path.write_bytes(pickle.dumps((training, test)))
        training, test = pickle.loads(path.read_bytes())  # noqa: S301 — our own cache file
        yield k, training, test


def classes(cache: Path) -> list[str]:
    return json.loads((cache / "classes.json").read_text())


def save(cache: Path, tag: str, k: int, proba: np.ndarray) -> None:
    np.save(cache / f"{tag}{k}.npy", proba)


def macro_f1(labels, classes_: list[str], scores: np.ndarray) -> float:
    return float(f1_score(labels, np.asarray(classes_)[scores.argmax(1)], average="macro"))


def run_base(args) -> None:
    for k, training, test in splits(args.cache, args.folds):
        model, seconds = train(training)
        save(args.cache, "base", k, model.predict_proba(test.titles, test.bodies))
        model.save(args.cache / f"model{k}.bin")
        (args.cache / "classes.json").write_text(
            json.dumps([str(c) for c in model.classes_], ensure_ascii=False)
        )
        say(f"fold {k}: adopted model trained in {seconds:.0f} s")


def _fasttext_tokens(title: str, body: str, mode: str) -> str:
    title, body = normalize(title or ""), normalize(body or "")
    tokens: list[str] = []
    if mode in ("word", "both"):
        tokens += ["T" + w for w in segment(title)] + segment(body)
    if mode in ("char", "both"):
        tokens += ["t" + c for c in title.replace(" ", "")] + list(body.replace(" ", ""))
    return " ".join(tokens)


def run_fasttext(args) -> None:
    import fasttext  # optional, see the module's docstring

    options = {"epoch": 25, "lr": 0.5, "wordNgrams": 2, "dim": 100, "bucket": 2_000_000}
    if args.mode == "word":
        options.update(minn=1, maxn=2)
    labels = classes(args.cache)
    for k, training, test in splits(args.cache, args.folds):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
            for title, body, label in zip(training.titles, training.bodies, training.labels, strict=True):
                f.write(f"__label__{label} {_fasttext_tokens(title, body, args.mode)}\n")
        started = time.perf_counter()
        model = fasttext.train_supervised(f.name, verbose=0, thread=1, **options)
        Path(f.name).unlink()
        proba = np.zeros((len(test), len(labels)))
        for i, (title, body) in enumerate(zip(test.titles, test.bodies, strict=True)):
            names, values = model.predict(_fasttext_tokens(title, body, args.mode), k=-1)
            for name, value in zip(names, values, strict=True):
                proba[i, labels.index(name.removeprefix("__label__"))] = value
        save(args.cache, f"fasttext-{args.mode}", k, proba)
        say(
            f"fold {k}: fastText ({args.mode}) alone macro-F1 {macro_f1(test.labels, labels, proba):.4f}, "
            f"trained in {time.perf_counter() - started:.0f} s"
        )


def _message(title: str, body: str) -> str:
    return f"{(title or '').strip()}\n{(body or '').strip()}".strip()


def run_encoder(args) -> None:
    import torch  # optional, see the module's docstring
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    encoder = AutoModel.from_pretrained(args.model_dir).eval()
    folds = list(splits(args.cache, args.folds))
    texts = sorted(
        {
            _message(t, b)
            for _, tr, te in folds
            for d in (tr, te)
            for t, b in zip(d.titles, d.bodies, strict=True)
        },
        key=len,
    )
    say(f"{len(texts)} distinct messages to encode")
    vectors: dict[str, np.ndarray] = {}
    started = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(texts), 32):
            batch = texts[i : i + 32]
            encoded = tokenizer(
                batch, padding=True, truncation=True, max_length=args.max_length, return_tensors="pt"
            )
            hidden = encoder(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).float()
            for text, vector in zip(batch, ((hidden * mask).sum(1) / mask.sum(1)).numpy(), strict=True):
                vectors[text] = vector
        latencies = []
        for text in texts[:: max(1, len(texts) // 80)]:
            t0 = time.perf_counter()
            encoder(**tokenizer([text], truncation=True, max_length=args.max_length, return_tensors="pt"))
            latencies.append((time.perf_counter() - t0) * 1000)
    say(
        f"encoded in {time.perf_counter() - started:.0f} s; one message alone "
        f"p50 {np.percentile(latencies, 50):.1f} ms, p99 {np.percentile(latencies, 99):.1f} ms"
    )
    labels = classes(args.cache)
    for k, training, test in folds:
        x_train = np.array(
            [vectors[_message(t, b)] for t, b in zip(training.titles, training.bodies, strict=True)]
        )
        x_test = np.array([vectors[_message(t, b)] for t, b in zip(test.titles, test.bodies, strict=True)])
        mean, sd = x_train.mean(0), x_train.std(0) + 1e-6
        regression = LogisticRegression(C=args.C, max_iter=3000).fit((x_train - mean) / sd, training.labels)
        proba = np.zeros((len(test), len(labels)))
        proba[:, [labels.index(c) for c in regression.classes_]] = regression.predict_proba(
            (x_test - mean) / sd
        )
        save(args.cache, "encoder", k, proba)
        say(
            f"fold {k}: encoder + logistic regression alone macro-F1 "
            f"{macro_f1(test.labels, labels, proba):.4f}"
        )


def run_latency(args) -> None:
    """One predict call per test message of each fold (best of three), with the adopted model that
    ``base`` saved, by body length: the latency tail and where it comes from."""
    from linli.domains.triage.classifier import load_model

    buckets = ((0, 200), (200, 400), (400, 600), (600, 1000), (1000, 2000), (2000, 10**6))
    for k, _, test in splits(args.cache, args.folds):
        model = load_model(args.cache / f"model{k}.bin")
        model.predict_proba([test.titles[0]], [test.bodies[0]])  # warm: the first call builds the analyser
        ms, lengths = [], []
        for title, body in zip(test.titles, test.bodies, strict=True):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                model.predict_proba([title], [body])
                best = min(best, (time.perf_counter() - started) * 1000)
            ms.append(best)
            lengths.append(len(body or ""))
        ms, lengths = np.asarray(ms), np.asarray(lengths)
        print(
            f"fold {k}: p50 {np.percentile(ms, 50):.2f} p90 {np.percentile(ms, 90):.2f} "
            f"p99 {np.percentile(ms, 99):.2f} max {ms.max():.2f} ms; within 5 ms: {np.mean(ms <= 5):.1%}"
        )
        for low, high in buckets:
            inside = (lengths >= low) & (lengths < high)
            if inside.any():
                median = np.median(ms[inside])
                print(f"  body {low}–{high} chars: {inside.sum()} messages, median {median:.2f} ms")


def _load(cache: Path, tag: str, folds: set[int]):
    for k, _, test in splits(cache, folds):
        yield k, np.asarray(test.labels), np.log(np.clip(np.load(cache / f"{tag}{k}.npy"), 1e-9, 1))


def run_blend(args) -> None:
    labels = classes(args.cache)
    base = {k: (y, p) for k, y, p in _load(args.cache, "base", args.folds)}
    other = {k: p for k, _, p in _load(args.cache, args.tag, args.folds)}
    rows = {w: [macro_f1(y, labels, p + w * other[k]) for k, (y, p) in base.items()] for w in WEIGHTS}
    for w, values in rows.items():
        diffs = " ".join(f"{v - b:+.4f}" for v, b in zip(values, rows[0], strict=True))
        print(
            f"w {w}: {' '.join(f'{v:.4f}' for v in values)}  mean {np.mean(values):.4f}  difference {diffs}"
        )


def run_offsets(args) -> None:
    labels = classes(args.cache)
    folds = {k: (y, p) for k, y, p in _load(args.cache, "base", args.folds)}

    def tune(keys):
        y = np.concatenate([folds[k][0] for k in keys])
        p = np.vstack([folds[k][1] for k in keys])
        offsets = np.zeros(len(labels))
        best = macro_f1(y, labels, p)
        for _ in range(3):
            for j in range(len(labels)):
                for value in np.linspace(-1, 1, 21):
                    trial = offsets.copy()
                    trial[j] = value
                    score = macro_f1(y, labels, p + trial)
                    if score > best + 1e-9:
                        best, offsets = score, trial
        return offsets, best

    offsets, best = tune(list(folds))
    everything = macro_f1(
        np.concatenate([y for y, _ in folds.values()]), labels, np.vstack([p for _, p in folds.values()])
    )
    print(
        f"all folds pooled, tuned on themselves: {everything:.4f} -> {best:.4f} "
        f"(offsets {np.round(offsets, 2).tolist()})"
    )
    for k, (y, p) in folds.items():
        offsets, _ = tune([j for j in folds if j != k])
        print(
            f"fold {k}: {macro_f1(y, labels, p):.4f} -> {macro_f1(y, labels, p + offsets):.4f} "
            "with the offsets tuned on the other folds"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "linli-triage-screen")
    parser.add_argument("--folds", default="1,2,3,4,5", type=lambda s: {int(k) for k in s.split(",")})
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("base")
    fast = commands.add_parser("fasttext")
    fast.add_argument("--mode", choices=("word", "char", "both"), default="word")
    encoder = commands.add_parser("encoder")
    encoder.add_argument("--model-dir", required=True)
    encoder.add_argument("--max-length", type=int, default=256)
    encoder.add_argument("--C", type=float, default=0.1)
    blend = commands.add_parser("blend")
    blend.add_argument("tag", help="base, fasttext-word, fasttext-both, encoder …")
    commands.add_parser("offsets")
    commands.add_parser("latency")
    args = parser.parse_args()
    {
        "base": run_base,
        "fasttext": run_fasttext,
        "encoder": run_encoder,
        "blend": run_blend,
        "offsets": run_offsets,
        "latency": run_latency,
    }[args.command](args)


if __name__ == "__main__":
    main()
