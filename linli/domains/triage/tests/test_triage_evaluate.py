import csv
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .synthetic import split

KEYS = {
    "macro_f1",
    "accuracy",
    "per_class_f1",
    "ms_per_appeal_p50",
    "ms_per_appeal_p99",
    "train_seconds",
    "model_bytes",
}


def write_csv(path, rows, header=("id", "title", "body", "label"), bom=False):
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i, row in enumerate(rows):
            writer.writerow((i, *row) if header[0] == "id" else row)
    return path


def test_prints_the_figures_as_the_last_line(tmp_path, capsys):
    train, test = split()
    # Split the training rows over two files: one with BOM, one titles-only with a missing body column.
    first = write_csv(tmp_path / "train.csv", train[::2], bom=True)
    second = write_csv(
        tmp_path / "titles.csv", [(t, label) for t, _, label in train[1::2]], header=("title", "label")
    )
    held_out = write_csv(tmp_path / "test.csv", test)

    call_command("triage_evaluate", "--train", str(first), "--train", str(second), "--test", str(held_out))

    out = capsys.readouterr()
    result = json.loads(out.out.strip().splitlines()[-1])
    assert KEYS <= result.keys()
    assert result["macro_f1"] == 1.0
    assert result["accuracy"] == 1.0
    assert set(result["per_class_f1"]) == {"环境保护", "交通运输", "教育文体"}
    assert result["model_bytes"] > 0
    assert 0 < result["ms_per_appeal_p50"] <= result["ms_per_appeal_p99"]
    assert result["n_train"] == len(train)
    assert "triage_evaluate" in out.err


def test_labels_come_from_the_training_files(tmp_path, capsys):
    train, test = split()
    relabel = {"环境保护": "env", "交通运输": "transport", "教育文体": "school"}
    first = write_csv(tmp_path / "train.csv", [(t, b, relabel[label]) for t, b, label in train])
    held_out = write_csv(tmp_path / "test.csv", [(t, b, relabel[label]) for t, b, label in test])
    call_command("triage_evaluate", "--train", str(first), "--test", str(held_out))
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result["per_class_f1"]) == {"env", "transport", "school"}


def test_missing_label_column_is_a_clear_error(tmp_path):
    train, test = split()
    bad = write_csv(tmp_path / "bad.csv", [(t, b) for t, b, _ in train], header=("title", "body"))
    held_out = write_csv(tmp_path / "test.csv", test)
    with pytest.raises(CommandError, match="needs the columns 'label'"):
        call_command("triage_evaluate", "--train", str(bad), "--test", str(held_out))


def test_missing_text_columns_in_the_test_file_is_a_clear_error(tmp_path):
    train, _ = split()
    good = write_csv(tmp_path / "train.csv", train)
    bad = write_csv(tmp_path / "test.csv", [("x", "环境保护")], header=("text", "label"))
    with pytest.raises(CommandError, match="'title' and/or 'body'"):
        call_command("triage_evaluate", "--train", str(good), "--test", str(bad))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="nope.csv"):
        call_command(
            "triage_evaluate", "--train", str(tmp_path / "nope.csv"), "--test", str(tmp_path / "t.csv")
        )


def test_bad_csv_exits_non_zero_from_the_command_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    bad = write_csv(tmp_path / "bad.csv", [("a", "b")], header=("foo", "bar"))
    manage = Path(__file__).resolve().parents[4] / "manage.py"
    completed = subprocess.run(  # noqa: S603 — our own manage.py with fixed arguments
        [sys.executable, str(manage), "triage_evaluate", "--train", str(bad), "--test", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "needs the columns" in completed.stderr
