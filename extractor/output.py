"""Writing records: JSONL (one record per line) or CSV (flattened), append-only.

Every record is written and flushed the moment it completes, so a crash, a kill or
Ctrl-C never loses finished work. Opening an existing output file *resumes* it:

* a torn last line (left by a SIGKILL mid-write) is cut off;
* records that carry an ``error`` are removed (the file is rewritten atomically) so the
  run retries exactly those papers and no paper is ever in the file twice;
* the ids of the remaining records are returned so the runner skips them.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> w = RecordWriter(out)
    >>> sorted(w.done)
    []
    >>> w.close()
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import IO, Any, Literal

from .errors import InputError
from .schema import Record

__all__ = ["CSV_COLUMNS", "OutputFormat", "RecordWriter", "output_format_for"]

OutputFormat = Literal["jsonl", "csv"]

CSV_COLUMNS = [
    "id",
    "title",
    "task",
    "method",
    "method_name",
    "contribution",
    "code_link",
    "code_status",
    "claimed_gains",
    "summary",
    "truncated",
    "model",
    "mode",
    "prompt_version",
    "error",
    "source",
]


def output_format_for(path: Path, explicit: str | None = None) -> OutputFormat:
    """``explicit`` if given, else by extension (``.csv`` is CSV, anything else JSONL)."""
    if explicit:
        return "csv" if explicit == "csv" else "jsonl"
    return "csv" if path.suffix.lower() == ".csv" else "jsonl"


def _csv_row(record: Record) -> dict[str, Any]:
    ex, prov = record.extraction, record.provenance
    return {
        "id": record.id,
        "title": record.title,
        "task": ex.task if ex else "",
        "method": ex.method if ex else "",
        "method_name": (ex.method_name or "") if ex else "",
        "contribution": ex.contribution.value if ex else "",
        "code_link": (ex.code_link or "") if ex else "",
        "code_status": record.code_status,
        "claimed_gains": json.dumps([g.model_dump(mode="json") for g in ex.claimed_gains], ensure_ascii=False)
        if ex
        else "",
        "summary": ex.summary if ex else "",
        "truncated": record.truncated,
        "model": prov.model if prov else "",
        "mode": prov.mode if prov else "",
        "prompt_version": prov.prompt_version if prov else "",
        "error": f"{record.error.kind}: {record.error.message}" if record.error else "",
        "source": f"{record.source.path}:{record.source.line}",
    }


class RecordWriter:
    """Append records to ``path``; see the module docstring for what resuming does.

    ``done`` holds the ids already in the file (successful records only)."""

    def __init__(self, path: str | Path, fmt: str | None = None) -> None:
        self.path = Path(path)
        self.format: OutputFormat = output_format_for(self.path, fmt)
        self.repaired_bytes = 0
        self.removed_failed = 0
        self.done: set[str] = set()
        if self.path.exists():
            self._resume()
        self._fh: IO[str] = self.path.open("a", encoding="utf-8", newline="")
        self._csv: csv.DictWriter[str] | None = None
        if self.format == "csv":
            self._csv = csv.DictWriter(self._fh, fieldnames=CSV_COLUMNS)
            if self._fh.tell() == 0:
                self._csv.writeheader()
                self._fh.flush()

    def _resume(self) -> None:
        raw = self.path.read_bytes()
        cut = len(raw) if raw.endswith(b"\n") or not raw else raw.rfind(b"\n") + 1
        self.repaired_bytes = len(raw) - cut
        text = raw[:cut].decode("utf-8", errors="replace")
        lines = text.splitlines(keepends=True)
        kept: list[str] = []
        if self.format == "jsonl":
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    rid, failed = data["id"], data.get("error") is not None
                except (ValueError, KeyError, TypeError) as exc:
                    raise InputError(str(self.path), f"existing output is not a record file ({exc})", number) from exc
                if failed:
                    self.removed_failed += 1
                elif rid not in self.done:
                    self.done.add(rid)
                    kept.append(line)
        else:
            reader = csv.DictReader(lines)
            if lines and (reader.fieldnames is None or "id" not in reader.fieldnames):
                raise InputError(str(self.path), "existing output is not a record CSV (no id column)", 1)
            kept.append(lines[0] if lines else "")
            for row, line in zip(reader, lines[1:], strict=False):
                if row.get("error"):
                    self.removed_failed += 1
                elif row["id"] not in self.done:
                    self.done.add(row["id"])
                    kept.append(line)
        if self.repaired_bytes or self.removed_failed or len(kept) != len([ln for ln in lines if ln.strip()]):
            tmp = self.path.with_name(self.path.name + ".tmp")
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                fh.writelines(kept)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)

    def write(self, record: Record) -> None:
        """Append one record and flush it to the OS (it survives a kill of this process)."""
        if self._csv is not None:
            self._csv.writerow(_csv_row(record))
        else:
            self._fh.write(record.model_dump_json() + "\n")
        self._fh.flush()
        if record.error is None:
            self.done.add(record.id)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
