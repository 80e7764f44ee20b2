"""The parsers of listing files: bytes to lines (UTF-8, else cp1252; ``\n``, ``\r\n`` or a
lone ``\r``), and lines to papers for JSON Lines, JSON and CSV, with the look at the first
line that tells JSON from a pasted page. Each problem goes to ``report`` as an
:class:`~extractor.errors.InputError` (or an :class:`~extractor.errors.InputWarning` for a
line read with a change) and parsing goes on.

:mod:`~extractor.records.listings` opens the files and picks the parser; a pasted page's
parser is :mod:`~extractor.records.paste`.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, InputWarning
from ..schema import Paper
from .jsonl import json_items, json_lines
from .objects import MissingKeys, object_fields
from .papers import _clean, _snippet, is_blank, paper_from_text
from .paste import parse_page

__all__ = ["Keys", "Lines", "Report", "Stats", "from_object", "read_stream"]

_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # the place after a \r that ends a line on its own
# A CSV field may be as long as the longest abstract (a longer one becomes a ``too_long``
# record): the csv module's own limit, 131,072 characters, would skip the rest of the file.
_CSV_FIELD_LIMIT = 2**26
Report = Callable[[InputError], None]
Lines = Iterable[tuple[int, str]]  # (1-based line number, text)
Keys = tuple[str, str]  # (title key, abstract key)


def from_object(
    label: str, line: int, rec: dict[str, Any], keys: Keys, what: str, report: Report
) -> Paper | None:
    """The paper of one JSON object or CSV row (``what``) at ``line`` of ``label``, or None
    when it lacks the keys or their text (reported)."""
    try:
        found = object_fields(rec, keys)
    except MissingKeys as exc:
        has = ", ".join(repr(k) for k in exc.has) or "none"
        report(InputError(label, f"{what} lacks {exc} (has: {has})", line))
        return None
    values = []
    for k, v in zip(found.keys, (found.title, found.abstract)):
        if not isinstance(v, str):
            report(InputError(label, f"{k!r} is {type(v).__name__}, expected text", line))
            return None
        if is_blank(v):
            report(InputError(label, f"{k!r} is empty", line))
            return None
        values.append(v)
    return paper_from_text(values[1], values[0], path=label, line=line, id=found.id, meta=found.meta)


@dataclass
class Stats:
    """What one input held: its non-blank lines, and the problems reported."""

    lines: int = 0  # non-blank lines seen
    errors: int = 0


def _decode(label: str, n: int, raw: bytes, report: Report) -> str:
    """One line's bytes as text: UTF-8, else cp1252 (what a latin-1 or Windows editor
    wrote; bytes it lacks become U+FFFD), with a warning saying what was changed."""
    if b"\x00" in raw:
        report(InputWarning(label, "NUL byte in line (binary data?); replaced by U+FFFD, line kept", n))
        raw = raw.replace(b"\x00", "\ufffd".encode("utf-8"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("cp1252", errors="replace")
        changed = text[max(0, exc.start - 10) : exc.start + 10]
        msg = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); read as cp1252: {_snippet(changed)}"
        report(InputWarning(label, msg, n))
        return text


def _physical(stream: Iterable[Any]) -> Iterator[Any]:
    """The lines of ``stream`` (bytes or text) ended by ``\n``, ``\r\n`` or a lone ``\r``
    (an old Mac editor's or a pasted page's), each with its end."""
    for raw in stream:
        if isinstance(raw, bytes):
            yield from raw.splitlines(keepends=True) if b"\r" in raw[:-2] else (raw,)
        else:
            yield from (part for part in _LONE_CR.split(raw) if part) if "\r" in raw[:-2] else (raw,)


def _lines(label: str, stream: Iterable[Any], stats: Stats, report: Report) -> Lines:
    """``(line number, text)`` for each line (:func:`_physical`). Bytes are decoded by
    :func:`_decode`; a leading BOM is dropped."""
    it, n = _physical(stream), 0
    while True:
        try:
            raw = next(it)
        except StopIteration:
            return
        except (UnicodeDecodeError, OSError) as exc:
            report(InputError(label, f"read failed ({_clean(str(exc))}); rest of input skipped", n + 1))
            return
        n += 1
        if isinstance(raw, bytes):
            raw = _decode(label, n, raw, report)
        if n == 1:
            raw = raw.lstrip("\ufeff")
        if raw.strip():
            stats.lines += 1
        yield n, raw


def _parse_jsonl(label: str, lines: Lines, keys: Keys, report: Report) -> Iterator[Paper]:
    def skipped(err: InputError) -> None:
        report(InputError(label, f"{err.reason}; line skipped", err.line))

    for n, obj in json_lines(label, lines, skipped):
        if (paper := from_object(label, n, obj, keys, "JSON object", report)) is not None:
            yield paper


def _parse_json(label: str, lines: Lines, keys: Keys, report: Report) -> Iterator[Paper]:
    """A JSON document read whole: an array of objects, or objects one after another."""

    def skipped(err: InputError) -> None:
        report(InputError(label, f"{err.reason}; item skipped", err.line) if err.line and "rest skipped" not in err.reason else err)

    text = "".join(raw for _, raw in lines)
    for n, obj in json_items(label, text, skipped):
        if (paper := from_object(label, n, obj, keys, "JSON object", report)) is not None:
            yield paper


def _sniffed(lines: Lines, fmt: str) -> tuple[str, Lines]:
    """The format of a text or JSONL input by its first non-blank line: ``[`` opens a JSON
    array (read whole), a line that is a JSON object alone is JSON Lines, a ``{`` that is
    not is a pretty-printed JSON object (read whole). The lines come back whole."""
    it = iter(lines)
    head: list[tuple[int, str]] = []
    for item in it:
        head.append(item)
        first = item[1].strip()
        if not first:
            continue
        if first.startswith("["):
            fmt = "json"
        elif first.startswith("{"):
            try:
                complete = isinstance(json.loads(first), dict)
            except ValueError:
                complete = False
            fmt = "jsonl" if complete else "json"
        break
    return fmt, itertools.chain(head, it)


def _parse_csv(label: str, lines: Lines, keys: Keys, report: Report) -> Iterator[Paper]:
    start = {"line": 0, "new": True}

    def feed() -> Iterator[str]:
        for n, raw in lines:
            if start["new"]:
                start.update(line=n, new=False)
            yield raw

    header: list[str] | None = None
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:  # process-wide: raised, never lowered
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        for row in csv.reader(feed()):
            line, start["new"] = start["line"], True
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                if missing := [k for k in keys if k not in header]:
                    has = ", ".join(map(repr, header[:6]))
                    need = " and ".join(map(repr, missing))
                    report(InputError(label, f"CSV header lacks column {need} (has: {has})", line))
                    return
                continue
            if len(row) < len(header) and any(header.index(k) >= len(row) for k in keys):
                msg = f"CSV row has {len(row)} field(s), header has {len(header)}; row skipped"
                report(InputError(label, msg, line))
                continue
            rec = dict(zip(header, row))
            if (paper := from_object(label, line, rec, keys, "CSV row", report)) is not None:
                yield paper
    except csv.Error as exc:
        report(InputError(label, f"malformed CSV ({_clean(str(exc))}); rest of file skipped", start["line"]))


def read_stream(
    label: str, stream: Iterable[Any], fmt: str, keys: Keys, report: Report, stats: Stats, sniff: bool = True
) -> Iterator[Paper]:
    """The papers of one input's ``stream`` (bytes or text) in format ``fmt``; with ``sniff``,
    a text or JSONL input whose first line opens JSON is read as JSON."""
    lines: Lines = _lines(label, stream, stats, report)
    if sniff and fmt in ("text", "jsonl"):
        fmt, lines = _sniffed(lines, fmt)
    if fmt == "jsonl":
        return _parse_jsonl(label, lines, keys, report)
    if fmt == "json":
        return _parse_json(label, lines, keys, report)
    if fmt == "csv":
        return _parse_csv(label, lines, keys, report)
    return parse_page(label, lines, report, paper_from_text)
