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
The parsers are :mod:`~extractor.records.parsers`'s, and each paper is made by
:mod:`~extractor.records.papers`, whose names are importable from here too.

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

import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import InputError, InputWarning
from ..schema import Paper
from .formats import FORMATS, extensions, format_for
from .identity import unique_copies
from .papers import (  # noqa: F401 - as_paper, too_long_record: importable from here as before
    MAX_ABSTRACT_CHARS,
    _snippet,
    as_paper,
    is_blank,
    paper_from_text,
    too_long_record,
)
from .parsers import Keys, Report, Stats, from_object, read_stream

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

_SNIFF_BYTES = 8192
# A file is binary, not a listing, when it has more than one NUL byte and they are over 1%
# of its first bytes: a stray NUL in a listing only costs its line a warning.
_BINARY_NULS = 1


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


def _read_one(
    item: str | Path, fmt: str | None, keys: Keys, report: Report, stdin: TextIO | None
) -> Iterator[Paper]:
    stats = Stats()

    def counted(err: InputError) -> None:
        stats.errors += 1
        report(err)

    found = 0
    if item == "-":
        label = "-"
        stream: Any = stdin if stdin is not None else getattr(sys.stdin, "buffer", sys.stdin)
        for paper in read_stream(label, stream, fmt or "text", keys, counted, stats, sniff=fmt is None):
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
            for paper in read_stream(label, handle, _format_of(path, fmt), keys, counted, stats, sniff=fmt is None):
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
        elif (paper := from_object(label, n, dict(obj), (title_key, abstract_key), "item", report)) is not None:
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
