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

Every file is streamed line by line. A problem (missing file, binary data, bad UTF-8, bad
JSON, missing keys...) becomes a one-line :class:`~extractor.errors.InputError` passed to
``on_error``; reading goes on with the next line or file.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .errors import InputError
from .schema import Paper, Source

__all__ = [
    "EXTENSIONS",
    "ListingReport",
    "dedupe",
    "is_truncated",
    "normalise_title",
    "paper_from_text",
    "paper_id",
    "read_papers",
    "split_text",
    "survey",
]

EXTENSIONS: dict[str, str] = {
    ".txt": "text", ".md": "text", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"
}
"""File extensions read from a directory, and the format each one implies."""

_FORMATS = {"text": "text", "txt": "text", "md": "text", "jsonl": "jsonl", "ndjson": "jsonl", "csv": "csv"}
MAX_TITLE_CHARS = 300  # the longest seed title has 168 characters, the shortest abstract 498
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
_BOUNDARY = re.compile(r"[.!?…]+[\"')\]}»”’]*(\s+)")

Report = Callable[[InputError], None]
Lines = Iterable[tuple[int, str | None]]  # (1-based line number, text or None if undecodable)
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
    tokens = text.split()
    if _URL_AT_END.search(tokens[-1].rstrip(_CLOSERS + ".,;:>")):
        return False
    # a URL broken by a space after a hyphen: "github.com/x/efficient- NLP-training"
    return not (len(tokens) > 1 and tokens[-2].endswith("-") and _URL.search(tokens[-2]) is not None)


# --------------------------------------------------------------------------- splitting


def _sentence_ends(text: str) -> Iterator[int]:
    """Offsets where sentences end (just after their punctuation and closers)."""
    for m in _BOUNDARY.finditer(text):
        nxt = text[m.end() : m.end() + 1]
        if not nxt or nxt.islower():
            continue
        word = _abbreviation(text[: m.start(1)].rsplit(None, 1)[-1])
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


# --------------------------------------------------------------------------- records


def _clean(text: str) -> str:
    return " ".join(text.split())


def _snippet(text: str, width: int = 40) -> str:
    text = _clean(text)
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


def _lines(label: str, stream: Iterable[Any], stats: _Stats, report: Report) -> Lines:
    """``(line number, text)`` for each line; ``None`` for a line that could not be decoded
    (reported). Bytes are decoded as UTF-8; a leading BOM is dropped."""
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
            if b"\x00" in raw:
                report(InputError(label, "NUL byte in line (binary data?); line skipped", n))
                yield n, None
                continue
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                msg = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); line skipped"
                report(InputError(label, msg, n))
                yield n, None
                continue
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


def _content(lines: Lines) -> Iterator[tuple[int, str | None]]:
    """Non-blank lines with chrome removed (``None`` stays: an undecodable line)."""
    for n, raw in lines:
        line = raw if raw is None else _strip_chrome(_clean(raw))
        if line != "":
            yield n, line


def _parse_text(label: str, lines: Lines, report: Report) -> Iterator[Paper]:
    """Pair title lines with the abstract lines after them. One line of look-ahead: a
    title-like line right after a bare title is that title's (short, unfinished)
    abstract when no abstract-like line follows it."""
    title: tuple[int, str] | None = None
    parts: list[str] = []
    lost = False  # the paper in progress lost a line (already reported): drop it quietly

    def flush() -> Iterator[Paper]:
        if title is None or lost:
            return
        if parts:
            yield paper_from_text(" ".join(parts), title[1], path=label, line=title[0])
        else:
            report(InputError(label, f"title {_snippet(title[1])} has no abstract; skipped", title[0]))

    items = _content(lines)
    ahead = next(items, None)
    while ahead is not None:
        (n, line), ahead = ahead, next(items, None)
        if line is None:
            lost = True
            continue
        bare = title is not None and not parts and not lost
        if _is_title(line) and not (bare and (ahead is None or (ahead[1] is not None and _is_title(ahead[1])))):
            yield from flush()
            title, parts, lost = (n, line), [], False
        elif title is not None:
            parts.append(line)
        elif not lost:
            report(InputError(label, f"text {_snippet(line)} has no title before it; skipped", n))
            lost = True
    yield from flush()


def _parse_jsonl(label: str, lines: Lines, keys: Keys, report: Report) -> Iterator[Paper]:
    for n, raw in lines:
        if raw is None or not raw.strip():
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
            if raw is not None:
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
    with no ``on_error`` the first problem is raised.
    """
    if fmt is not None and fmt.lower() not in _FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of: text, jsonl, csv")
    if title_key == abstract_key:
        raise ValueError(f"title_key and abstract_key are both {title_key!r}")
    fmt = _FORMATS[fmt.lower()] if fmt else None
    if isinstance(inputs, (str, Path)):  # one input given bare, not as a list
        inputs = [inputs]

    def report(err: InputError) -> None:
        if on_error is None:
            raise err
        on_error(err)

    def generate() -> Iterator[Paper]:
        for item in _expand(inputs, report):
            yield from _read_one(item, fmt, (title_key, abstract_key), report, stdin)

    return generate()


# --------------------------------------------------------------------------- summary


def dedupe(papers: Iterable[Paper]) -> tuple[list[Paper], int]:
    """Drop papers whose normalised title was seen before, keeping the one with the
    longest abstract at the place of the first occurrence. Returns ``(papers, dropped)``.
    Only a 20-byte digest per distinct title is kept besides the papers themselves."""
    index: dict[bytes, int] = {}
    kept: list[Paper] = []
    dropped = 0
    for paper in papers:
        key = hashlib.sha1(normalise_title(paper.title).encode("utf-8")).digest()
        at = index.get(key)
        if at is None:
            index[key] = len(kept)
            kept.append(paper)
            continue
        dropped += 1
        if len(paper.abstract) > len(kept[at].abstract):
            kept[at] = paper
    return kept, dropped


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
