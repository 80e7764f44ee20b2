"""Reading JSON Lines: one object a line, each problem a one-line error naming file and line.

The listing reader, the gold and record loaders of ``extractor eval``, the digest and the
output file's resume scan read their lines here, so a bad line is told the same way
everywhere: ``file:line: not valid JSON (Expecting value, column 1)`` or ``file:line:
expected a JSON object, got list``. Each caller says what happens next (skipped, or
raised). Like :mod:`~extractor.evidence.text`, it imports nothing from the package but
:mod:`~extractor.errors`.

Example:
    >>> rows = [(1, '{"id": "a"}'), (2, ""), (3, "[1]"), (4, b'{"id": "b"}')]
    >>> list(json_lines("x.jsonl", rows, on_error=lambda err: print(err)))
    x.jsonl:3: expected a JSON object, got list
    [(1, {'id': 'a'}), (4, {'id': 'b'})]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError

__all__ = ["first_error", "json_items", "json_lines", "read_jsonl"]

Report = Callable[[InputError], None]


def _raise(err: InputError) -> None:
    raise err


def _reason(exc: ValueError) -> str:
    """One line saying why a line is not JSON."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg}, column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    return f"not valid JSON ({exc})"


def json_lines(
    label: str, lines: Iterable[tuple[int, str | bytes]], on_error: Report | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of ``lines`` (``(number, text or
    bytes)`` pairs) that holds a JSON object. A line that does not is passed to
    ``on_error`` as an :class:`InputError` naming ``label`` and the line, and skipped;
    without ``on_error`` it is raised."""
    report = on_error or _raise
    for number, raw in lines:
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:  # bad JSON, or bytes that are not UTF-8
            report(InputError(label, _reason(exc), number))
            continue
        if not isinstance(obj, dict):
            report(InputError(label, f"expected a JSON object, got {type(obj).__name__}", number))
            continue
        yield number, obj


def json_items(
    label: str, text: str, on_error: Report | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each JSON object in ``text``: the items of a JSON
    array (what an API answers, e.g. the Hugging Face Daily Papers), objects one after
    another (JSON Lines, or pretty-printed), or both. The line is where the object starts.
    An item that is not an object is reported and skipped; JSON that does not parse is
    reported once and ends the reading (nothing after it can be trusted).

    Example:
        >>> list(json_items("x.json", '[\\n  {"id": "a"},\\n  3,\\n  {"id": "b"}\\n]', print))
        x.json:3: expected a JSON object, got int
        [(2, {'id': 'a'}), (4, {'id': 'b'})]
    """
    report = on_error or _raise
    decoder = json.JSONDecoder()
    pos, line, counted = 0, 1, 0  # newlines are counted up to ``counted``

    def line_at(offset: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, offset)
        counted = offset
        return line

    def skip(offset: int) -> int:
        while offset < len(text) and text[offset] in " \t\r\n\ufeff":
            offset += 1
        return offset

    def value(offset: int) -> tuple[Any, int] | None:
        try:
            return decoder.raw_decode(text, offset)
        except json.JSONDecodeError as exc:
            report(InputError(label, f"not valid JSON ({exc.msg}, column {exc.colno}); rest skipped", exc.lineno))
            return None

    def checked(offset: int, obj: Any) -> Iterator[tuple[int, dict[str, Any]]]:
        if isinstance(obj, dict):
            yield line_at(offset), obj
        else:
            report(InputError(label, f"expected a JSON object, got {type(obj).__name__}", line_at(offset)))

    while (pos := skip(pos)) < len(text):
        if text[pos] != "[":
            if (found := value(pos)) is None:
                return
            yield from checked(pos, found[0])
            pos = found[1]
            continue
        pos = skip(pos + 1)
        while pos < len(text) and text[pos] != "]":
            if (found := value(pos)) is None:
                return
            yield from checked(pos, found[0])
            pos = skip(found[1])
            if pos < len(text) and text[pos] == ",":
                pos = skip(pos + 1)
            elif pos < len(text) and text[pos] != "]":
                report(InputError(label, "not valid JSON (expected ',' or ']' in the array); rest skipped", line_at(pos)))
                return
        if pos >= len(text):
            report(InputError(label, "not valid JSON (the array is not closed); rest skipped", line_at(pos)))
            return
        pos += 1


def read_jsonl(
    path: str | Path, what: str = "JSONL", on_error: Report | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """:func:`json_lines` of the file at ``path``, streamed. A file that cannot be read is
    reported as ``cannot read {what} file: ...`` (to ``on_error``, else raised); a UTF-8
    byte order mark is allowed."""
    name = str(path)
    try:
        with Path(path).open("rb") as fh:
            yield from json_lines(name, enumerate(fh, 1), on_error)
    except OSError as exc:
        (on_error or _raise)(InputError(name, f"cannot read {what} file: {exc}"))


def first_error(exc: ValidationError) -> str:
    """The first problem pydantic found, in one line: ``where: what (+N more)``."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "line"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {err['msg']}{more}"
