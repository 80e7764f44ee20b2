"""Dataset rows as papers: the paper a row holds (:func:`paper_of_row`, read as ``extractor
run`` reads a JSONL line: the same id, text clean-up and truncation flag), and a batch's rows
whatever its form (a pandas DataFrame, a pyarrow Table or a dict of columns). A row that is
not a paper becomes an error record of kind ``input``, so no row is lost.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..records.identity import paper_id
from ..records.papers import is_blank, paper_from_text
from ..schema import ErrorInfo, Paper, PaperMeta, Record, Source
from .recorddir import plain

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow

__all__ = ["paper_of_row", "papers_batch", "rows_of"]


def _text(value: Any) -> str | None:
    value = plain(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else None


def _source(row: Mapping[str, Any]) -> Source:
    source = plain(row.get("source"))
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except ValueError:
            source = None
    if isinstance(source, Mapping) and isinstance(source.get("path"), str):
        return Source(path=source["path"], line=int(plain(source.get("line")) or 0))
    return Source(path=_text(row.get("path")) or "ray", line=0)


def _meta(row: Mapping[str, Any]) -> PaperMeta | None:
    """What the listing said of the paper (``meta``: JSON text or a mapping), if the row holds it."""
    meta = plain(row.get("meta"))
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return None
    if not isinstance(meta, Mapping):
        return None
    try:
        return PaperMeta.model_validate(meta)
    except ValidationError:
        return None  # not what extractor writes: the paper is read without it


def paper_of_row(row: Mapping[str, Any], title_key: str = "title", abstract_key: str = "abstract") -> Paper | Record:
    """The paper a dataset row holds, as ``extractor run`` reads a JSONL line (the same id,
    text clean-up and truncation flag); a row that is not a paper becomes an error record
    of kind ``input`` (so it is not lost). ``source`` is the row's ``source`` (``path`` and
    ``line``), else its ``path`` at line 0."""
    raw_id = plain(row.get("id"))
    given = str(raw_id).strip() if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else ""
    source = _source(row)
    values = {key: _text(row.get(key)) for key in (title_key, abstract_key)}
    problems = [f"{key!r} is missing or not text" for key, v in values.items() if v is None]
    problems += [f"{key!r} is empty" for key, v in values.items() if v is not None and is_blank(v)]
    if problems:
        title, abstract = values[title_key] or "", values[abstract_key] or ""
        paper = Paper(id=given or paper_id(title, abstract), title=title, abstract=abstract, source=source)
        message = f"{source.path}:{source.line}: row {paper.id} skipped: {'; '.join(problems)}"
        return Record.for_paper(paper, error=ErrorInfo(kind="input", message=message))
    paper = paper_from_text(
        values[abstract_key] or "", values[title_key], path=source.path, line=source.line, id=given or None
    )
    meta = _meta(row)
    return paper.model_copy(update={"meta": meta}) if meta is not None else paper


def rows_of(batch: Any) -> Iterator[dict[str, Any]]:
    """The rows of a batch: a pandas DataFrame, a pyarrow Table or a dict of columns."""
    if hasattr(batch, "to_pylist"):  # pyarrow
        yield from batch.to_pylist()
    elif hasattr(batch, "to_dict") and hasattr(batch, "columns"):  # pandas
        yield from batch.to_dict("records")
    else:
        columns = {name: list(values) for name, values in batch.items()}
        for i in range(len(next(iter(columns.values()), []))):
            yield {name: values[i] for name, values in columns.items()}


def papers_batch(batch: Any, title_key: str, abstract_key: str) -> pyarrow.Table:
    """Rows as paper columns (``id``, ``title``, ``abstract``, ``source``, ``meta``), ids computed as
    ``extractor run`` computes them; a row that is not a paper keeps its text (the
    extraction stage turns it into an error record)."""
    import pyarrow as pa

    out: dict[str, list[Any]] = {"id": [], "title": [], "abstract": [], "source": [], "meta": []}
    for row in rows_of(batch):
        read = paper_of_row(row, title_key, abstract_key)
        if isinstance(read, Record):
            title, abstract = _text(row.get(title_key)), _text(row.get(abstract_key))
        else:
            title, abstract = read.title, read.abstract
        out["id"].append(read.id)
        out["title"].append(title)
        out["abstract"].append(abstract)
        out["source"].append(read.source.model_dump_json())
        meta = read.meta if isinstance(read, Paper) else None
        out["meta"].append(meta.model_dump_json() if meta is not None else None)
    return pa.table({name: pa.array(values, type=pa.string()) for name, values in out.items()})
