"""Reading listings: turn listing files into :class:`~extractor.schema.Paper` records.

Three input formats, chosen by extension (``.txt``/``.md`` text, ``.jsonl``/``.ndjson``
JSONL, ``.csv`` CSV; anything else is read as text) or forced with ``fmt``:

* **text** -- a Hugging Face Daily Papers page pasted as text. Page chrome ("Subscribe",
  "Mar 14", ...) is dropped, also when glued to a title. What is left is read as
  *title lines* (short, no final ``.``/``,``/``;``/``:``, no URL) each followed by one or
  more *abstract lines*; blank lines do not matter, so both the blank-separated and the
  consecutive-line layouts work.
* **jsonl** -- one JSON object a line, with ``title_key``/``abstract_key`` (and ``id``).
* **csv** -- a header row naming the same columns.

Every file is streamed line by line. A problem (missing file, binary data, bad JSON,
missing keys...) becomes a one-line :class:`~extractor.errors.InputError` passed to
``on_error``; reading goes on with the next line or file. A line that is not UTF-8 is
read as cp1252 (latin-1's superset; a NUL byte in a line becomes U+FFFD), and an
:class:`~extractor.errors.InputWarning` names the file and line: no paper is lost to it.

One rule says which papers are the same (:func:`unique_copies`); ``extractor papers`` and
``extractor run`` both use it, so they count the same unique papers.

Example:
    >>> import io
    >>> [p.title for p in read_papers(["-"], stdin=io.StringIO("Subscribe\\nA Title\\nIt works."))]
    ['A Title']
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .errors import InputError, InputWarning
from .schema import ErrorInfo, Paper, Record, Source

__all__ = [
    "EXTENSIONS",
    "ListingReport",
    "MAX_ABSTRACT_CHARS",
    "dedupe",
    "is_truncated",
    "normalise_title",
    "paper_from_text",
    "paper_id",
    "read_papers",
    "split_text",
    "survey",
    "too_long_record",
    "unique_copies",
]

EXTENSIONS: dict[str, str] = {
    ".txt": "text", ".md": "text", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"
}
"""File extensions read from a directory, and the format each one implies."""

_FORMATS = {"text": "text", "txt": "text", "md": "text", "jsonl": "jsonl", "ndjson": "jsonl", "csv": "csv"}
MAX_TITLE_CHARS = 300  # the longest seed title has 168 characters, the shortest abstract 498
MAX_ABSTRACT_CHARS = 200_000
"""The most one paper may hold; a longer abstract becomes an error record (the longest
seed abstract has about 2,000 characters; a whole paper's text is some 60,000)."""
_SNIFF_BYTES = 8192

# Page chrome of huggingface.co/papers, matched against a whole (stripped) line.
_CHROME = re.compile(
    r"(?:new|subscribe|daily papers|by\s*ak and the research community|\d+"
    r"|get trending papers in your email inbox(?: once a day)?!?"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:,? \d{4})?)",
    re.IGNORECASE,
)
# The same chrome glued to the next line's text ("SubscribeLanguage Model Cascades").
_GLUED = re.compile(
    r"(?:new|Subscribe|Daily Papers|byAK and the research community"
    r"|Get trending papers in your email inbox(?: once a day)?!)(?=[A-Z0-9\"'“(\[])"
)
_ARXIV = re.compile(
    r"(?:\barxiv(?:\.org)?\s*[:/]\s*(?:abs/|pdf/|html/)?|\b(?:huggingface|hf)\.co/papers/)"
    r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?",
    re.IGNORECASE,
)
_CLOSERS = "\"')]}»”’"
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*:\s?)?//\S+|www\.\S+|[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE)
_URL_AT_END = re.compile(rf"(?:{_URL.pattern})$", re.IGNORECASE)
# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "e.g. i.e. cf. vs. v. al. fig. figs. eq. eqs. sec. secs. tab. no. nos. approx. ca. resp. viz. "
    "dr. mr. mrs. ms. prof. st. jr. inc. ltd. co. vol. pp. p. ref. refs. ch. w.r.t. a.k.a.".split()
)
# Those that cannot end an abstract either ("et al." can, unless inside an open bracket).
_NON_FINAL = _ABBREVIATIONS - {"al.", "resp.", "inc.", "ltd.", "co.", "jr.", "st."}
# A run of end punctuation is matched from its start only, so a long run costs its length once.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]+[\"')\]}»”’]*(\s+)")

Report = Callable[[InputError], None]
Lines = Iterable[tuple[int, str]]  # (1-based line number, text)
Keys = tuple[str, str]  # (title key, abstract key)


# --------------------------------------------------------------------------- ids, flags


def normalise_title(title: str) -> str:
    """NFKC-normalised, casefolded title with punctuation and symbols removed and
    whitespace collapsed: the key for ids and de-duplication."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def paper_id(title: str, abstract: str = "") -> str:
    """The arXiv id the text holds (when it holds exactly one), else the first 12 hex of
    the sha1 of the normalised title (of the abstract when the title is empty)."""
    texts = [t for t in (title, abstract) if "arxiv" in t.lower() or "co/papers/" in t]  # fast path
    found = {m.group(1) for text in texts for m in _ARXIV.finditer(text)}
    if len(found) == 1:
        return found.pop()
    key = normalise_title(title) or normalise_title(abstract)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def _abbreviation(word: str) -> str:
    """``word`` lowercased without leading brackets/quotes, or "" for an acronym ("DR.")."""
    word = word.lstrip("([{\"'“")
    stem = word[:-1]
    return "" if len(stem) > 1 and stem.isalnum() and stem.isupper() else word.lower()


def is_truncated(abstract: str) -> bool:
    """True when the abstract looks cut off: it does not end with ``.``, ``!`` or ``?``
    (optionally followed by a closing quote or bracket) nor with a URL, or it ends with
    an ellipsis or an abbreviation that cannot end a sentence ("e.g.", "Fig.")."""
    text = abstract.rstrip()
    core = text.rstrip(_CLOSERS)
    if not core or core.endswith(("...", "…")):
        return True
    if core.endswith(("!", "?")):
        return False
    if core.endswith("."):
        last = _abbreviation(core.rsplit(None, 1)[-1])
        if last in _NON_FINAL:
            return True
        return last == "al." and text.rfind("(") > text.rfind(")")
    tokens = text.rsplit(None, 2)[-2:]
    if _URL_AT_END.search(tokens[-1].rstrip(_CLOSERS + ".,;:>")):
        return False
    # a URL broken by a space after a hyphen: "github.com/x/efficient- NLP-training"
    return not (len(tokens) > 1 and tokens[-2].endswith("-") and _URL.search(tokens[-2]) is not None)


# --------------------------------------------------------------------------- splitting


def _sentence_ends(text: str) -> Iterator[int]:
    """Offsets where sentences end (just after their punctuation and closers). Linear in
    the text: the word before each boundary is looked for only back to the previous one."""
    previous = 0  # end of the previous boundary's whitespace: no word reaches back past it
    for m in _BOUNDARY.finditer(text):
        since, previous = previous, m.end()
        nxt = text[m.end() : m.end() + 1]
        if not nxt or nxt.islower():
            continue
        word = _abbreviation(text[since : m.start(1)].rsplit(None, 1)[-1])
        if word in _ABBREVIATIONS or re.fullmatch(r"[a-z]\.|(?:[a-z]\.){2,}", word):
            continue
        yield m.start(1)


def _pack(spans: Iterable[tuple[int, int]], max_chars: int) -> Iterator[tuple[int, int]]:
    """Merge consecutive ``(start, end)`` spans greedily while they fit in ``max_chars``."""
    cur: tuple[int, int] | None = None
    for s, e in spans:
        if cur is not None and e - cur[0] <= max_chars:
            cur = (cur[0], e)
            continue
        if cur is not None:
            yield cur
        cur = (s, e)
    if cur is not None:
        yield cur


def split_text(text: str, max_chars: int) -> list[str]:
    """Split ``text`` on sentence boundaries into parts of at most ``max_chars``.

    Sentences are packed greedily; a sentence longer than ``max_chars`` is split on
    whitespace (a single word longer than that stays whole). Boundaries are never placed
    after abbreviations ("e.g.", "et al.", "Fig."), inside numbers ("4.5") or URLs.
    Parts are slices of ``text``, so ``" ".join(parts).split() == text.split()``.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    sentences, begin = [], 0
    for end in [*_sentence_ends(text), len(text)]:
        chunk = text[begin:end]
        if chunk.strip():
            start = begin + len(chunk) - len(chunk.lstrip())
            sentences.append((start, start + len(chunk.strip())))
        begin = end
    parts: list[str] = []
    for s, e in _pack(sentences, max_chars):
        if e - s <= max_chars:
            parts.append(text[s:e])
        else:
            words = ((s + m.start(), s + m.end()) for m in re.finditer(r"\S+", text[s:e]))
            parts.extend(text[a:b] for a, b in _pack(words, max_chars))
    return parts


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, on the same boundaries as :func:`split_text`
    (never after "e.g.", "et al.", inside numbers or URLs).

    Example:
        >>> sentences("We use e.g. BERT. It works. 4.5x faster.")
        ['We use e.g. BERT.', 'It works.', '4.5x faster.']
    """
    out, begin = [], 0
    for end in [*_sentence_ends(text), len(text)]:
        if chunk := text[begin:end].strip():
            out.append(chunk)
        begin = end
    return out


# --------------------------------------------------------------------------- records


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
    abstract: str, title: str | None = None, *, path: str = "-", line: int = 1, id: str | None = None
) -> Paper:
    """A :class:`Paper` from one abstract (and optional title) given directly; ``id``
    defaults to :func:`paper_id`."""
    title, abstract = _clean(title or ""), _clean(abstract)
    return Paper(
        id=id or paper_id(title, abstract),
        title=title,
        abstract=abstract,
        source=Source(path=path, line=line),
        truncated=is_truncated(abstract),
    )


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
    missing = [k for k in keys if k not in rec]
    if missing:
        has = ", ".join(repr(k) for k in list(rec)[:6]) or "none"
        report(InputError(label, f"{what} lacks {' and '.join(map(repr, missing))} (has: {has})", line))
        return None
    values = []
    for k in keys:
        v = rec[k]
        if not isinstance(v, str):
            report(InputError(label, f"{k!r} is {type(v).__name__}, expected text", line))
            return None
        if not v.strip():
            report(InputError(label, f"{k!r} is empty", line))
            return None
        values.append(v)
    raw_id = rec.get("id")
    given = str(raw_id).strip() if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else ""
    return paper_from_text(values[1], values[0], path=label, line=line, id=given or None)


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


def _lines(label: str, stream: Iterable[Any], stats: _Stats, report: Report) -> Lines:
    """``(line number, text)`` for each line. Bytes are decoded by :func:`_decode`; a
    leading BOM is dropped."""
    it, n = iter(stream), 0
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


def _strip_chrome(line: str) -> str:
    while True:
        if not line or _CHROME.fullmatch(line):
            return ""
        m = _GLUED.match(line)
        if m is None:
            return line
        line = line[m.end() :].strip()


def _is_title(line: str) -> bool:
    return len(line) <= MAX_TITLE_CHARS and line[-1] not in ".,;:" and "://" not in line


def _content(lines: Lines) -> Iterator[tuple[int, str]]:
    """Non-blank lines with chrome removed."""
    for n, raw in lines:
        if line := _strip_chrome(_clean(raw)):
            yield n, line


def _parse_text(label: str, lines: Lines, report: Report) -> Iterator[Paper]:
    """Pair title lines with the abstract lines after them. One line of look-ahead: a
    title-like line right after a bare title is that title's (short, unfinished)
    abstract when no abstract-like line follows it."""
    title: tuple[int, str] | None = None
    parts: list[str] = []
    orphan = False  # text with no title before it was reported: not again for its next lines

    def flush() -> Iterator[Paper]:
        if title is None:
            return
        if parts:
            yield paper_from_text(" ".join(parts), title[1], path=label, line=title[0])
        else:
            report(InputError(label, f"title {_snippet(title[1])} has no abstract; skipped", title[0]))

    items = _content(lines)
    ahead = next(items, None)
    while ahead is not None:
        (n, line), ahead = ahead, next(items, None)
        bare = title is not None and not parts
        if _is_title(line) and not (bare and (ahead is None or _is_title(ahead[1]))):
            yield from flush()
            title, parts, orphan = (n, line), [], False
        elif title is not None:
            parts.append(line)
        elif not orphan:
            report(InputError(label, f"text {_snippet(line)} has no title before it; skipped", n))
            orphan = True
    yield from flush()


def _parse_jsonl(label: str, lines: Lines, keys: Keys, report: Report) -> Iterator[Paper]:
    for n, raw in lines:
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            report(InputError(label, f"malformed JSON ({exc.msg} at column {exc.colno}); line skipped", n))
            continue
        if not isinstance(obj, dict):
            report(InputError(label, f"expected a JSON object, got {type(obj).__name__}; line skipped", n))
            continue
        if (paper := _from_record(label, n, obj, keys, "JSON object", report)) is not None:
            yield paper


def _parse_csv(label: str, lines: Lines, keys: Keys, report: Report) -> Iterator[Paper]:
    start = {"line": 0, "new": True}

    def feed() -> Iterator[str]:
        for n, raw in lines:
            if start["new"]:
                start.update(line=n, new=False)
            yield raw

    header: list[str] | None = None
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
    return fmt or EXTENSIONS.get(path.suffix.lower(), "text")


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
    label: str, stream: Iterable[Any], fmt: str, keys: Keys, report: Report, stats: _Stats
) -> Iterator[Paper]:
    lines = _lines(label, stream, stats, report)
    if fmt == "jsonl":
        return _parse_jsonl(label, lines, keys, report)
    if fmt == "csv":
        return _parse_csv(label, lines, keys, report)
    return _parse_text(label, lines, report)


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
        for paper in _read_stream(label, stream, fmt or "text", keys, counted, stats):
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
            if b"\x00" in head:
                report(InputError(label, "binary file (NUL bytes), not a listing; skipped"))
                return
            for paper in _read_stream(label, handle, _format_of(path, fmt), keys, counted, stats):
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

    ``fmt`` ("text", "jsonl" or "csv") overrides the format implied by each extension.
    Each problem is passed to ``on_error`` as an :class:`InputError` and reading goes on;
    with no ``on_error`` the first problem is raised (an :class:`InputWarning`, a line
    read with a change, is issued as a Python warning instead).
    """
    if fmt is not None and fmt.lower() not in _FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of: text, jsonl, csv")
    if title_key == abstract_key:
        raise ValueError(f"title_key and abstract_key are both {title_key!r}")
    fmt = _FORMATS[fmt.lower()] if fmt else None
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


# --------------------------------------------------------------------------- summary


def unique_copies(papers: Iterable[Paper]) -> tuple[list[tuple[int, str]], int]:
    """The duplicate rule of ``extractor papers`` and ``extractor run``.

    Papers are the same when their normalised titles are equal (the id stands in for an
    empty title), or when the copies kept per title carry the same id (an arXiv id, or an
    ``id`` column). Of each group the copy with the longest abstract is kept (the first on
    a tie), at the place of the group's first copy. Returns the kept copies as
    ``(position, id)`` (1-based positions in ``papers``) in that order, and the number of
    papers read. Only a few numbers per distinct title are held, not the papers.
    """
    by_title: dict[str, tuple[int, int, str, int]] = {}  # title -> (length, position, id, first position)
    read = 0
    for read, paper in enumerate(papers, 1):
        key = normalise_title(paper.title) or paper.id
        length = len(paper.abstract)
        seen = by_title.get(key)
        if seen is None:
            by_title[key] = (length, read, paper.id, read)
        elif length > seen[0]:
            by_title[key] = (length, read, paper.id, seen[3])
    by_id: dict[str, tuple[int, int, int]] = {}  # id -> (length, position, first position)
    for length, position, pid, first in by_title.values():
        seen_id = by_id.get(pid)
        if seen_id is None:
            by_id[pid] = (length, position, first)
        else:
            best = max((length, -position), (seen_id[0], -seen_id[1]))
            by_id[pid] = (best[0], -best[1], min(first, seen_id[2]))
    kept = sorted((first, position, pid) for pid, (_, position, first) in by_id.items())
    return [(position, pid) for _, position, pid in kept], read


def dedupe(papers: Iterable[Paper]) -> tuple[list[Paper], int]:
    """The unique papers by :func:`unique_copies`, and how many were dropped. Holds
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
    inputs: Iterable[str | Path],
    *,
    fmt: str | None = None,
    title_key: str = "title",
    abstract_key: str = "abstract",
    on_error: Callable[[InputError], None] | None = None,
    stdin: TextIO | None = None,
) -> ListingReport:
    """Read and de-duplicate ``inputs``; collect every :class:`InputError` (also passed
    to ``on_error`` when given) instead of raising."""
    report = ListingReport()

    def collect(err: InputError) -> None:
        report.errors.append(err)
        if on_error is not None:
            on_error(err)

    def counted() -> Iterator[Paper]:
        for paper in read_papers(
            inputs, fmt=fmt, title_key=title_key, abstract_key=abstract_key, on_error=collect, stdin=stdin
        ):
            report.read += 1
            yield paper

    report.papers, report.duplicates = dedupe(counted())
    report.truncated = sum(p.truncated for p in report.papers)
    return report
