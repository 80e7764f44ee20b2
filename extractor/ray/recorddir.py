"""Records as table rows, and directories of record files: what a Ray Data job writes.

A :class:`~extractor.schema.Record` becomes a row of :data:`RECORD_COLUMNS` (its fields,
in order; the nested ones — ``source``, ``extraction``, ``links``, ``grounding``,
``dropped``, ``origin``, ``provenance``, ``error`` — as JSON text, null when None), which
Arrow, Parquet and Ray hold without a schema per record; :func:`row_record` gives the
record back and :func:`record_json` the exact line ``extractor run`` writes for it.

A *record directory* (local, or an object storage URI through pyarrow's filesystems) holds
``*.jsonl`` files of those lines or ``*.parquet`` files of those rows, added by each run;
other files are left alone. :func:`output_ids` says which papers it holds (resume);
:func:`tidy_output` keeps one record per paper, by the rule of every record file
(:mod:`extractor.records.latest`: the latest success, else the latest record), rewriting
only the files that hold another record (or a torn line left by a killed writer). pyarrow (which comes with ``ray[data]``) is imported on first use.

Example:
    >>> from extractor.records.listings import paper_from_text
    >>> record = Record.for_paper(paper_from_text("It works.", "A title", id="p1"))
    >>> row = record_row(record)
    >>> row["id"], row["source"], row["extraction"]
    ('p1', '{"path": "-", "line": 1}', None)
    >>> record_json(row) == record.model_dump_json()
    True
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..records.files import replacing
from ..records.latest import latest_copies
from ..schema import Record

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow

__all__ = [
    "RECORD_COLUMNS", "output_ids", "plain", "record_json", "record_row", "record_table", "row_record", "tidy_output",
]  # fmt: skip

#: The columns of a record row, in the order of :class:`~extractor.schema.Record`'s
#: fields; the nested ones hold JSON text (null when the field is None).
RECORD_COLUMNS: tuple[str, ...] = tuple(Record.model_fields)
_SCALAR = frozenset({"id", "title", "abstract", "truncated", "code_status", "summary_source"})
#: Every other field of a record (and any field a later release adds) is nested: JSON text.
_NESTED = frozenset(RECORD_COLUMNS) - _SCALAR


def record_row(record: Record) -> dict[str, Any]:
    """A record as a row of :data:`RECORD_COLUMNS` (nested fields as JSON text)."""
    data = record.model_dump(mode="json")
    return {
        name: (json.dumps(data[name], ensure_ascii=False) if data[name] is not None else None)
        if name in _NESTED
        else data[name]
        for name in RECORD_COLUMNS
    }


def row_record(row: Mapping[str, Any]) -> Record:
    """The record a row of :data:`RECORD_COLUMNS` holds (the inverse of :func:`record_row`)."""
    data = {}
    for name in RECORD_COLUMNS:
        value = row.get(name)
        if name in _NESTED and isinstance(value, str):
            value = json.loads(value)
        if value is not None:
            data[name] = plain(value)
    return Record.model_validate(data)


def record_json(row: Mapping[str, Any]) -> str:
    """The JSONL line (without its newline) ``extractor run`` writes for this record row."""
    return row_record(row).model_dump_json()


def plain(value: Any) -> Any:
    """numpy scalars (as Ray's batches hold them) as Python values."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


def record_table(records: list[Record]) -> pyarrow.Table:
    """Records as a pyarrow table of :data:`RECORD_COLUMNS`."""
    import pyarrow as pa

    rows = [record_row(r) for r in records]
    types = {"truncated": pa.bool_()}
    return pa.table(
        {name: pa.array([row[name] for row in rows], type=types.get(name, pa.string())) for name in RECORD_COLUMNS}
    )



# -- record directories -------------------------------------------------------------------


def _filesystem(output: str) -> tuple[Any, str]:
    import pyarrow.fs as pafs

    if "://" in output:
        return pafs.FileSystem.from_uri(output)
    return pafs.LocalFileSystem(), str(Path(output).resolve())


def _record_files(output: str) -> tuple[Any, list[Any]]:
    import pyarrow.fs as pafs

    fs, root = _filesystem(output)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        return fs, []
    if info.type != pafs.FileType.Directory:
        raise InputError(output, "not a directory: the Ray path writes a directory of record files; give another -o")
    files = [
        f for f in fs.get_file_info(pafs.FileSelector(root, recursive=False))
        if f.type == pafs.FileType.File and Path(f.path).suffix in (".jsonl", ".parquet")
    ]  # fmt: skip
    return fs, sorted(files, key=lambda f: (f.mtime_ns or 0, f.path))


def _file_ids(fs: Any, info: Any) -> list[tuple[str | None, bool]]:
    """``(id, succeeded)`` of each record of a file, in order; ``(None, False)`` for a line
    that is not a record (a torn last line)."""
    if info.path.endswith(".parquet"):
        import pyarrow.parquet as pq

        with fs.open_input_file(info.path) as fh:
            table = pq.read_table(fh, columns=["id", "error"])
        ids, errors = table.column("id").to_pylist(), table.column("error").to_pylist()
        return [(pid, err is None) for pid, err in zip(ids, errors)]
    out: list[tuple[str | None, bool]] = []
    with fs.open_input_stream(info.path) as fh:
        for line in fh.read().decode("utf-8", "replace").splitlines():
            try:
                obj = json.loads(line)
                out.append((str(obj["id"]), obj.get("error") is None))
            except (ValueError, KeyError, TypeError):
                out.append((None, False))
    return out


def output_ids(output: str) -> tuple[set[str], set[str]]:
    """The ids in the output directory whose record succeeded, and those with only failed
    records (empty sets when it does not exist yet)."""
    fs, files = _record_files(output)
    done: set[str] = set()
    seen: set[str] = set()
    for info in files:
        for pid, ok in _file_ids(fs, info):
            if pid is not None:
                seen.add(pid)
                if ok:
                    done.add(pid)
    return done, seen - done


def tidy_output(output: str) -> int:
    """Keep one record per paper in the output directory, the one
    :func:`~extractor.records.latest.latest_copies` picks (the latest success, else the
    latest record; files oldest first). Rewrites only the files holding another record
    (or a torn line) and returns how many records it removed."""
    fs, files = _record_files(output)
    ids = [_file_ids(fs, info) for info in files]
    places = [(f, r) for f, rows in enumerate(ids) for r in range(len(rows))]
    keep = {places[i] for i in latest_copies(copy for rows in ids for copy in rows).values()}
    removed = 0
    for f, (info, rows) in enumerate(zip(files, ids)):
        mask = [(f, r) in keep for r in range(len(rows))]
        if all(mask):
            continue
        removed += mask.count(False)
        _rewrite(fs, info.path, mask)
    return removed


def _rewrite(fs: Any, path: str, mask: list[bool]) -> None:
    """Write ``path`` anew with only the records ``mask`` keeps (a file left empty goes).
    A local file is replaced whole (:func:`~extractor.records.files.replacing`); object
    storage replaces an object whole by itself."""
    if not any(mask):
        fs.delete_file(path)
        return
    if path.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        with fs.open_input_file(path) as fh:
            table = pq.read_table(fh).filter(pa.array(mask))
        with _output(fs, path) as out:
            pq.write_table(table, out)
        return
    with fs.open_input_stream(path) as fh:
        lines = fh.read().decode("utf-8", "replace").splitlines()
    kept = "".join(line + "\n" for line, keep in zip(lines, mask) if keep)
    with _output(fs, path) as out:
        out.write(kept.encode("utf-8"))


def _output(fs: Any, path: str) -> contextlib.AbstractContextManager[Any]:
    import pyarrow.fs as pafs

    if isinstance(fs, pafs.LocalFileSystem):
        return replacing(path, "records")
    return fs.open_output_stream(path)  # type: ignore[no-any-return]
