"""Record files as a page reads them: :func:`digest_records` reads JSONL record files
tolerantly (fields added later, ``summary_source`` and ``origin``, may be missing; unknown
keys are ignored; a malformed line is reported and skipped; a file of which no line is a
record is reported in one line), one record per paper is kept by the rule of every record
file, and :func:`listing_day` gives the day the listings say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..records.formats import format_for
from ..records.jsonl import first_error, read_jsonl
from ..records.latest import latest_copies
from ..schema import Record

__all__ = ["DigestRecord", "digest_records", "listing_day"]

#: Kept for one release, as a plain alias of :class:`~extractor.schema.Record`: the fields
#: older record files lack (``summary_source``, ``origin``) have defaults on Record itself.
DigestRecord = Record

NOT_RECORDS = "not a record file: the digest reads the JSONL records of `extractor run` (-o results.jsonl)"


def digest_records(
    paths: Iterable[str | Path], on_error: Callable[[InputError], None] | None = None
) -> list[Record]:
    """Read JSONL record files, in order, into :class:`Record` objects.

    An unreadable file, or a line that is not JSON or not a record (a torn last line,
    say), is passed to ``on_error`` as an :class:`InputError` naming the file and line, and
    skipped; without ``on_error`` it is raised. A file that is no record file at all (a CSV
    file; a file none of whose lines is a record) is one error, not one per line.
    """

    def report(err: InputError) -> None:
        if on_error is None:
            raise err
        on_error(err)

    records: list[Record] = []
    for path in paths:
        if format_for("records", path) == "csv":
            report(InputError(str(path), f"a CSV file is {NOT_RECORDS}"))
            continue
        found, problems = _read_one(path)
        if not found and len(problems) > 1:
            first = problems[0]
            report(InputError(str(path), f"{NOT_RECORDS}; none of its {len(problems)} lines is one "
                                         f"(line {first.line}: {first.reason.removeprefix('not a record: ')})"))  # fmt: skip
            continue
        for problem in problems:
            report(problem)
        records += found
    return records


def _read_one(path: str | Path) -> tuple[list[Record], list[InputError]]:
    """The records of one file, and its problems (an unreadable file: one, without a line)."""
    records: list[Record] = []
    problems: list[InputError] = []

    def bad_line(err: InputError) -> None:
        problems.append(InputError(err.path, f"not a record: {err.reason}", err.line) if err.line else err)

    try:
        for lineno, obj in read_jsonl(path, "record", bad_line):
            try:
                records.append(_validate(obj))
            except ValidationError as exc:
                problems.append(InputError(str(path), f"not a record: {first_error(exc)}", lineno))
    except InputError as exc:
        problems.append(exc)
    return records, problems


def _validate(obj: Any) -> Record:
    return obj if isinstance(obj, Record) else Record.model_validate(obj)


def _latest_records(records: Sequence[Record]) -> list[Record]:
    """One record per id, at its first position: its latest success, else its latest
    failure (:func:`~extractor.records.latest.latest_copies`, the rule of the output file
    and the Ray output too)."""
    return [records[i] for i in latest_copies((rec.id, rec.ok) for rec in records).values()]


def listing_day(records: Iterable[Record]) -> str | None:
    """The latest listing day (``YYYY-MM-DD``) the records' listings give, if any."""
    from ..records.dates import day_of

    days = [day_of(rec.meta.listing_date) for rec in records if rec.meta is not None and rec.meta.listing_date]
    found = [d for d in days if d is not None]
    return max(found).isoformat() if found else None
