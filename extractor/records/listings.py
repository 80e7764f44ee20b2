"""Reading listings: turn listing files into :class:`~extractor.schema.Paper` records.

Four input formats, chosen by extension (``.txt``/``.md`` text, ``.jsonl``/``.ndjson``
JSONL, ``.json`` JSON, ``.csv`` CSV; anything else is read as text: the table of
:mod:`~extractor.records.formats`) or forced with ``fmt``:

* **text** -- a Hugging Face Daily Papers page pasted as text (:mod:`~extractor.records.paste`):
  title lines each followed by abstract lines; page chrome dropped; the page's date, the
  cards' upvotes, submitter and arXiv ids kept in each paper's ``meta``.
* **jsonl** -- one JSON object a line, with ``title_key``/``abstract_key`` (and ``id``).
* **json** -- a JSON array of such objects, as an API answers (the Hugging Face Daily
  Papers API's own answer is read as it is), or objects one after another. A text or
  JSONL input whose first line opens a JSON array or object is read as JSON too, unless
  ``fmt="text"`` was asked for; an array is read whole, JSON Lines are streamed.
* **csv** -- a header row naming the same columns.

What a JSON object or CSV row gives is read by :mod:`~extractor.records.objects`: keys may
be dotted paths (``paper.summary``), the Hub's items need no keys at all, and every field
besides title and abstract is kept in the paper's :class:`~extractor.schema.PaperMeta`.

Every file is streamed line by line; a line ends with ``\n``, ``\r\n`` or a lone ``\r``.
A problem (missing file, binary data, bad JSON, missing keys...) becomes a one-line
:class:`~extractor.errors.InputError` passed to ``on_error``; reading goes on with the
next line or file. A line that is not UTF-8 is read as cp1252 (latin-1's superset), a NUL
byte in a line becomes U+FFFD, and an :class:`~extractor.errors.InputWarning` names the
file and line: no paper is lost to it (only a file whose first 8 KB hold NUL bytes,
more than one and over 1% of them, is skipped whole, as binary). A CSV field may be as
long as any abstract (the csv module's process-wide field limit is raised to 64 Mi
characters): one over :data:`MAX_ABSTRACT_CHARS` becomes a ``too_long`` record and the rest
of the file is read.

One rule says which papers are the same (:func:`~extractor.records.identity.unique_copies`);
``extractor papers`` and ``extractor run`` both use it, so they count the same unique papers.

Example:
    >>> import io
    >>> [p.title for p in read_papers(["-"], stdin=io.StringIO("Subscribe\\nA Title\\nIt works."))]
    ['A Title']
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import InputError, InputWarning
from ..evidence.text import is_truncated
from ..schema import ErrorInfo, Paper, PaperMeta, Record, Source
from .formats import FORMATS, extensions, format_for
from .identity import paper_id, unique_copies
from .jsonl import json_items, json_lines
from .objects import MissingKeys, arxiv_id_of, object_fields
from .paste import parse_page

__all__ = [
    "EXTENSIONS",
    "ListingReport",
    "MAX_ABSTRACT_CHARS",
    "as_paper",
    "dedupe",
    "is_blank",
    "paper_from_text",
    "read_objects",
    "read_papers",
    "survey",
    "too_long_record",
]

EXTENSIONS: dict[str, str] = {ext: FORMATS[ext]["listing"] for ext in extensions("listing")}
"""File extensions read from a directory, and the format each one implies
(:data:`~extractor.records.formats.FORMATS`)."""

MAX_ABSTRACT_CHARS = 200_000
"""The most one paper may hold; a longer abstract becomes an error record (the longest
seed abstract has about 2,000 characters; a whole paper's text is some 60,000)."""
_SNIFF_BYTES = 8192

_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # the place after a \r that ends a line on its own
# A CSV field may be as long as the longest abstract (a longer one becomes a ``too_long``
# record): the csv module's own limit, 131,072 characters, would skip the rest of the file.
_CSV_FIELD_LIMIT = 2**26
# A file is binary, not a listing, when it has more than one NUL byte and they are over 1%
# of its first bytes: a stray NUL in a listing only costs its line a warning.
_BINARY_NULS = 1
Report = Callable[[InputError], None]
Lines = Iterable[tuple[int, str]]  # (1-based line number, text)
Keys = tuple[str, str]  # (title key, abstract key)


# --------------------------------------------------------------------------- records


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only whitespace and invisible format characters
    (zero-width spaces and joiners, a byte order mark...), so there is nothing to extract.

    Example:
        >>> is_blank(" \u200b\u200d\ufeff "), is_blank("\u200bA")
        (True, False)
    """
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def _clean(text: str) -> str:
    """Whitespace collapsed to single spaces. A text over :data:`MAX_ABSTRACT_CHARS` is
    only stripped: it becomes an error record, and collapsing 50 MB takes seconds."""
    if len(text) > MAX_ABSTRACT_CHARS:
        return text.strip()
    return " ".join(text.split())


def _snippet(text: str, width: int = 40) -> str:
    text = _clean(text[: width * 8])
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def paper_from_text(
    abstract: str,
    title: str | None = None,
    *,
    path: str = "-",
    line: int = 1,
    id: str | None = None,
    meta: PaperMeta | None = None,
) -> Paper:
    """A :class:`Paper` from one abstract (and optional title) given directly. ``id``
    defaults to the arXiv id of ``meta``, else :func:`~extractor.records.identity.paper_id`
    of the text; an arXiv id found in the text is also set in ``meta``."""
    title, abstract = _clean(title or ""), _clean(abstract)
    pid = id or (meta.arxiv_id if meta is not None else None) or paper_id(title, abstract)
    found = arxiv_id_of(pid)
    if found and (meta is None or meta.arxiv_id is None):
        update = {"arxiv_id": found}
        if meta is None:
            update |= {"url": f"https://arxiv.org/abs/{found}", "pdf_url": f"https://arxiv.org/pdf/{found}"}
        meta = (meta or PaperMeta()).model_copy(update=update)
    return Paper(
        id=pid,
        title=title,
        abstract=abstract,
        source=Source(path=path, line=line),
        truncated=is_truncated(abstract),
        meta=meta,
    )


def as_paper(item: object, where: str = "paper") -> Paper:
    """``item`` as a :class:`Paper`: a Paper as it is, or a mapping with ``abstract`` (and
    ``title``, ``id`` if known) read as :func:`paper_from_text` reads them. Anything else,
    or a mapping without text, raises :class:`~extractor.errors.InputError` naming
    ``where`` (``papers[3]``).

    Example:
        >>> as_paper({"title": "A Title", "abstract": "It works."}).title
        'A Title'
    """
    if isinstance(item, Paper):
        return item
    if not isinstance(item, Mapping):
        raise InputError(where, f"is {type(item).__name__}; give a Paper or a mapping with 'title' and 'abstract'")
    abstract, title, given = item.get("abstract"), item.get("title"), item.get("id")
    if not isinstance(abstract, str) or is_blank(abstract):
        raise InputError(where, "has no 'abstract' text; give a mapping with 'title' and 'abstract'")
    if title is not None and not isinstance(title, str):
        raise InputError(where, f"'title' is {type(title).__name__}, expected text")
    pid = str(given).strip() if isinstance(given, (str, int)) and not isinstance(given, bool) else None
    return paper_from_text(abstract, title, id=pid or None)


def too_long_record(paper: Paper) -> Record | None:
    """The error record (kind ``too_long``) of a paper whose abstract is over
    :data:`MAX_ABSTRACT_CHARS` characters, holding only the abstract's first 1,000
    characters; None for a paper within the limit."""
    size = len(paper.abstract)
    if size <= MAX_ABSTRACT_CHARS:
        return None
    message = (
        f"abstract of {paper.id} has {size:,} characters, over the limit of {MAX_ABSTRACT_CHARS:,}; "
        f"check {paper.source.path}:{paper.source.line} (a whole file read as one abstract?)"
    )
    head = paper.model_copy(update={"abstract": paper.abstract[:1000]})
    return Record.for_paper(head, error=ErrorInfo(kind="too_long", message=message))


def _from_record(
    label: str, line: int, rec: dict[str, Any], keys: Keys, what: str, report: Report
) -> Paper | None:
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


# --------------------------------------------------------------------------- parsers


@dataclass
class _Stats:
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


def _lines(label: str, stream: Iterable[Any], stats: _Stats, report: Report) -> Lines:
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
        if (paper := _from_record(label, n, obj, keys, "JSON object", report)) is not None:
            yield paper


def _parse_json(label: str, lines: Lines, keys: Keys, report: Report) -> Iterator[Paper]:
    """A JSON document read whole: an array of objects, or objects one after another."""

    def skipped(err: InputError) -> None:
        report(InputError(label, f"{err.reason}; item skipped", err.line) if err.line and "rest skipped" not in err.reason else err)

    text = "".join(raw for _, raw in lines)
    for n, obj in json_items(label, text, skipped):
        if (paper := _from_record(label, n, obj, keys, "JSON object", report)) is not None:
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
            if (paper := _from_record(label, line, rec, keys, "CSV row", report)) is not None:
                yield paper
    except csv.Error as exc:
        report(InputError(label, f"malformed CSV ({_clean(str(exc))}); rest of file skipped", start["line"]))


# --------------------------------------------------------------------------- inputs


def _format_of(path: Path, fmt: str | None) -> str:
    return fmt or format_for("listing", path) or "text"


def _expand(inputs: Iterable[str | Path], report: Report) -> Iterator[str | Path]:
    for item in inputs:
        if str(item) == "-":
            yield "-"
            continue
        path = Path(item)
        if not path.is_dir():
            yield item  # as given, so messages name it as the user wrote it
            continue
        try:
            files = sorted(
                (p for p in path.iterdir() if p.suffix.lower() in EXTENSIONS and not p.name.startswith(".")),
                key=lambda p: p.name,
            )
            files = [p for p in files if p.is_file()]
        except OSError as exc:
            report(InputError(str(item), f"cannot list directory ({exc.strerror or exc})"))
            continue
        if not files:
            report(InputError(str(item), f"directory holds no {'/'.join(EXTENSIONS)} files"))
        yield from files


def _read_stream(
    label: str, stream: Iterable[Any], fmt: str, keys: Keys, report: Report, stats: _Stats, sniff: bool = True
) -> Iterator[Paper]:
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


def _read_one(
    item: str | Path, fmt: str | None, keys: Keys, report: Report, stdin: TextIO | None
) -> Iterator[Paper]:
    stats = _Stats()

    def counted(err: InputError) -> None:
        stats.errors += 1
        report(err)

    found = 0
    if item == "-":
        label = "-"
        stream: Any = stdin if stdin is not None else getattr(sys.stdin, "buffer", sys.stdin)
        for paper in _read_stream(label, stream, fmt or "text", keys, counted, stats, sniff=fmt is None):
            found += 1
            yield paper
    else:
        path = Path(item)
        label = str(item)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            report(InputError(label, "no such file"))
            return
        except OSError as exc:
            report(InputError(label, f"cannot open ({exc.strerror or exc})"))
            return
        with handle:
            head = handle.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                report(InputError(label, "UTF-16 text; save it as UTF-8"))
                return
            nuls = head.count(b"\x00")
            if nuls > _BINARY_NULS and nuls * 100 > len(head):
                report(InputError(label, "binary file (NUL bytes), not a listing; skipped"))
                return
            for paper in _read_stream(label, handle, _format_of(path, fmt), keys, counted, stats, sniff=fmt is None):
                found += 1
                yield paper
    if not found and not stats.errors:
        empty = "empty input" if label == "-" else "empty file"
        report(InputError(label, empty if not stats.lines else "no papers found"))


def read_papers(
    inputs: Iterable[str | Path],
    *,
    fmt: str | None = None,
    title_key: str = "title",
    abstract_key: str = "abstract",
    on_error: Callable[[InputError], None] | None = None,
    stdin: TextIO | None = None,
) -> Iterator[Paper]:
    """Stream the papers of ``inputs`` (files, directories, ``-`` for standard input).

    ``fmt`` ("text", "jsonl", "json" or "csv") overrides the format implied by each
    extension (and the look at the first line that tells JSON from a pasted page).
    ``title_key`` and ``abstract_key`` may be dotted paths into nested objects
    (``paper.summary``); the Hugging Face Daily Papers API's items need neither.
    Each problem is passed to ``on_error`` as an :class:`InputError` and reading goes on;
    with no ``on_error`` the first problem is raised (an :class:`InputWarning`, a line
    read with a change, is issued as a Python warning instead).
    """
    fmt = format_for("listing", "", fmt) if fmt else None  # ValueError for an unknown one
    if title_key == abstract_key:
        raise ValueError(f"title_key and abstract_key are both {title_key!r}")
    if isinstance(inputs, (str, Path)):  # one input given bare, not as a list
        inputs = [inputs]

    def report(err: InputError) -> None:
        if on_error is not None:
            on_error(err)
        elif isinstance(err, InputWarning):
            warnings.warn(str(err), stacklevel=2)
        else:
            raise err

    def generate() -> Iterator[Paper]:
        for item in _expand(inputs, report):
            yield from _read_one(item, fmt, (title_key, abstract_key), report, stdin)

    return generate()


def read_objects(
    objects: Iterable[Mapping[str, Any]],
    *,
    label: str = "-",
    title_key: str = "title",
    abstract_key: str = "abstract",
    on_error: Callable[[InputError], None] | None = None,
) -> Iterator[Paper]:
    """The papers of listing objects already in memory (a fetched listing's items), read
    as a JSON listing file's are; ``line`` is the object's position. A problem is passed to
    ``on_error``, else raised."""

    def report(err: InputError) -> None:
        if on_error is None:
            raise err
        on_error(err)

    for n, obj in enumerate(objects, 1):
        if not isinstance(obj, Mapping):
            report(InputError(label, f"expected a JSON object, got {type(obj).__name__}", n))
        elif (paper := _from_record(label, n, dict(obj), (title_key, abstract_key), "item", report)) is not None:
            yield paper


# --------------------------------------------------------------------------- summary


def dedupe(papers: Iterable[Paper]) -> tuple[list[Paper], int]:
    """The unique papers by :func:`~extractor.records.identity.unique_copies`, and how many were dropped. Holds
    every paper read, duplicates included, until it returns."""
    everything = list(papers)
    kept, read = unique_copies(everything)
    return [everything[position - 1] for position, _ in kept], read - len(kept)


@dataclass
class ListingReport:
    """What reading some listings gave: counts, the unique papers and the problems."""

    read: int = 0  # papers read, duplicates included
    papers: list[Paper] = field(default_factory=list)  # unique papers, first-occurrence order
    duplicates: int = 0  # papers dropped as duplicates
    truncated: int = 0  # unique papers whose abstract looks cut off
    errors: list[InputError] = field(default_factory=list)

    def describe(self) -> str:
        """The counts, one per line, for a terminal."""
        rows = [
            ("papers read", self.read),
            ("unique papers", len(self.papers)),
            ("duplicates dropped", self.duplicates),
            ("truncated abstracts", self.truncated),
            ("input errors", len(self.errors)),
        ]
        lines = [f"{name + ':':<21}{value:>7}" for name, value in rows]
        cut = [p for p in self.papers if p.truncated]
        if cut:
            lines.append("abstracts that look cut off mid-sentence:")
            lines += [f"  {p.source.path}:{p.source.line}  {p.id}  {_snippet(p.title, 60)}" for p in cut[:20]]
            if len(cut) > 20:
                lines.append(f"  ... and {len(cut) - 20} more (--json lists every paper with its flag)")
        return "\n".join(lines)


def survey(
    inputs: Iterable[str | Path], *, on_error: Callable[[InputError], None] | None = None, **options: Any
) -> ListingReport:
    """Read and de-duplicate ``inputs``; collect every :class:`InputError` (also passed
    to ``on_error`` when given) instead of raising. ``options`` are those of
    :func:`read_papers` (``fmt``, ``title_key``, ``abstract_key``, ``stdin``)."""
    report = ListingReport()

    def collect(err: InputError) -> None:
        report.errors.append(err)
        if on_error is not None:
            on_error(err)

    def counted() -> Iterator[Paper]:
        for paper in read_papers(inputs, on_error=collect, **options):
            report.read += 1
            yield paper

    report.papers, report.duplicates = dedupe(counted())
    report.truncated = sum(p.truncated for p in report.papers)
    return report
