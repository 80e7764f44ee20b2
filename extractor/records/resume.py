"""Reading back an existing output file, so that a run resumes it instead of starting over.

:class:`OutputScan` reads a JSONL or CSV record file as a stream (memory stays flat on
big files) and says which records it holds, each with its byte span, and where its
complete part ends: what follows is a torn last line left by a kill mid-write. A file
that is not a record file raises :class:`~extractor.errors.InputError` naming the file
and the line, and is never touched. :func:`latest` picks the one record to keep per
paper; :func:`rewrite` and :func:`cut_tail` change the file accordingly, durably.
:class:`~extractor.records.output.RecordWriter` decides which of them to use.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from ..errors import InputError
from .files import replacing
from .jsonl import json_lines
from .latest import latest_copies

__all__ = ["OutputFormat", "OutputScan", "Row", "cut_tail", "latest", "rewrite"]

#: The formats of an output file (:mod:`extractor.records.output` writes them, this module reads them).
OutputFormat = Literal["jsonl", "csv"]

# Keys every JSONL record has (Record.model_dump_json writes all fields): a line without
# them is not ours, and the file is left alone.
_RECORD_KEYS = frozenset({"id", "extraction", "error"})


@dataclass
class Row:
    """One record (or the CSV header) of an existing output file: its byte span, and
    its id and whether it failed (None for the header)."""

    start: int
    end: int
    id: str | None
    failed: bool


class OutputScan:
    """The records already in an output file, for resuming it: :meth:`rows` lists them
    and finds a torn tail, and refuses a file that is not a record file of this format
    (a JSONL line that is not a record, CSV columns of another version)."""

    def __init__(self, path: Path, fmt: OutputFormat, csv_columns: list[str]) -> None:
        self.path = path
        self.format = fmt
        self.csv_columns = csv_columns

    def rows(self) -> tuple[list[Row], int]:
        """The complete rows of the file and the offset where its complete part ends
        (anything after it is a torn tail)."""
        with self.path.open("rb") as fh:
            if self.format == "jsonl":
                return self._scan_jsonl(fh)
            return self._scan_csv(fh)

    def _not_ours(self, line: int, why: str) -> InputError:
        return InputError(
            str(self.path), f"existing output is not a {self.format} record file ({why}); give another -o", line
        )

    def _scan_jsonl(self, fh: IO[bytes]) -> tuple[list[Row], int]:
        span = (0, 0)  # the byte span of the last complete line read

        def complete() -> Iterator[tuple[int, bytes]]:
            nonlocal span
            for number, raw in enumerate(fh, 1):
                if not raw.endswith(b"\n"):  # the last line, torn by a kill mid-write
                    return
                span = (span[1], span[1] + len(raw))
                yield number, raw

        def not_ours(err: InputError) -> None:
            raise self._not_ours(err.line, err.reason)

        rows: list[Row] = []
        for number, data in json_lines(str(self.path), complete(), not_ours):
            if not _RECORD_KEYS <= data.keys() or not isinstance(data["id"], str):
                raise self._not_ours(number, "a line is not a record")
            rows.append(Row(*span, data["id"], data["error"] is not None))
        return rows, span[1]

    def _scan_csv(self, fh: IO[bytes]) -> tuple[list[Row], int]:
        # csv.reader pulls physical lines from `lines`; counting their bytes gives each
        # row's span even when a quoted field holds newlines.
        consumed = 0

        def lines() -> Iterator[str]:
            nonlocal consumed
            for raw in fh:
                consumed += len(raw)
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise self._not_ours(0, f"bad UTF-8: {exc}") from exc

        size = os.fstat(fh.fileno()).st_size
        torn_end = not _ends_with_newline(fh)  # the last row's line end never reached the disk
        fh.seek(0)
        rows: list[Row] = []
        reader = csv.reader(lines(), strict=True)
        start = 0
        header: list[str] | None = None
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if consumed == size:  # a quoted field cut off by a kill: the torn tail
                    return rows, start
                raise self._not_ours(reader.line_num, f"bad CSV: {exc}") from exc
            end = consumed
            if end == size and torn_end:
                return rows, start
            if header is None:
                header = fields
                if header != self.csv_columns:
                    raise self._not_ours(1, "its columns differ from this version's")
                rows.append(Row(start, end, None, False))
            elif not fields:
                pass  # a blank line
            elif len(fields) != len(header):
                if end == size:  # the last row, cut off by a kill
                    return rows, start
                raise self._not_ours(reader.line_num, f"a row has {len(fields)} fields, not {len(header)}")
            else:
                row = dict(zip(header, fields, strict=True))
                rows.append(Row(start, end, row["id"], bool(row["error"])))
            start = end
        return rows, start


def latest(rows: list[Row]) -> list[Row]:
    """The rows to keep, in file order: per paper its latest success, else its latest
    failure (:func:`~extractor.records.latest.latest_copies`), and the CSV header."""
    wanted = set(latest_copies((row.id, not row.failed) for row in rows).values())
    return [row for index, row in enumerate(rows) if row.id is None or index in wanted]


def rewrite(path: Path, keep: list[Row]) -> None:
    """Replace the file by these rows of it, whole (:func:`~extractor.records.files.replacing`:
    a symlink is followed, the link kept)."""
    with path.open("rb") as src, replacing(path, "records") as dst:
        for row in keep:
            src.seek(row.start)
            dst.write(src.read(row.end - row.start))


def cut_tail(path: Path, at: int) -> None:
    """Cut a torn tail off the file in place (truncated, not rewritten)."""
    with path.open("r+b") as fh:
        fh.truncate(at)
        fh.flush()
        os.fsync(fh.fileno())


def _ends_with_newline(fh: IO[bytes]) -> bool:
    fh.seek(0, os.SEEK_END)
    if fh.tell() == 0:
        return True
    fh.seek(-1, os.SEEK_END)
    return fh.read(1) == b"\n"
