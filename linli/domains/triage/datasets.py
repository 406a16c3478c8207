"""Labelled appeal messages read from CSV files (`title`, `body`, `label`; other columns ignored)."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DatasetError", "LabelledMessages", "read_labelled_csv"]


class DatasetError(ValueError):
    """A CSV file that cannot be used as labelled messages."""


@dataclass
class LabelledMessages:
    titles: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def extend(self, other: LabelledMessages) -> None:
        self.titles += other.titles
        self.bodies += other.bodies
        self.labels += other.labels


def read_labelled_csv(path: str | Path, *, skipped: list[str] | None = None) -> LabelledMessages:
    """Read one UTF-8 CSV (with or without BOM) of labelled messages.

    The header must name `label` and at least one of `title` and `body` (a missing one counts as empty
    in every row). Rows without a label, or with neither title nor body, are left out; a note on each
    is appended to ``skipped`` when given.
    """
    path = Path(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip().lower() for c in (reader.fieldnames or [])]
            if "label" not in columns or not ({"title", "body"} & set(columns)):
                found = ", ".join(columns) or "no header"
                needed = "the columns 'label' and 'title' and/or 'body'"
                raise DatasetError(f"{path}: needs {needed}; found: {found}")
            reader.fieldnames = columns
            data = LabelledMessages()
            for line, row in enumerate(reader, start=2):
                title = (row.get("title") or "").strip()
                body = (row.get("body") or "").strip()
                label = (row.get("label") or "").strip()
                if not label or not (title or body):
                    if skipped is not None:
                        skipped.append(f"{path}:{line}: {'no label' if not label else 'no text'}")
                    continue
                data.titles.append(title)
                data.bodies.append(body)
                data.labels.append(label)
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from error
    except OSError as error:
        raise DatasetError(f"{path}: {error.strerror or error}") from error
    except csv.Error as error:
        raise DatasetError(f"{path}: malformed CSV ({error})") from error
    if not data.labels:
        raise DatasetError(f"{path}: no labelled messages")
    return data
