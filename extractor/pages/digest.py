"""A digest people read: one self-contained HTML page, or Markdown, from record files.

The HTML page needs no network: its CSS and JS are inline, and the records travel inside
it as a JSON blob that the page's script renders as cards, 50 to a page. At its top is the
day (:mod:`~extractor.pages.day`): a short summary built from facts, the themes of the day
(:mod:`~extractor.pages.themes`) with their papers, and counts and charts that follow the
active filters. Then the cards (:mod:`~extractor.pages.cards`): "new today" first, then
"still listed" with the day each was first seen, the reader's watchlist
(:mod:`~extractor.pages.watch`) ranked first in each; search (abstracts and authors too,
matches highlighted), filters and sorting whose state lives in the URL fragment (so a
filtered view can be shared); stars kept in the browser and exported as Markdown or BibTeX.

Every value is escaped: Jinja2 autoescaping for the template, ``textContent`` in the
script, and only ``http(s)`` URLs ever become links; every value sits in its own
direction-isolated element (``<bdi>``), so a right-to-left override in one cannot reverse
the labels around it; a Content-Security-Policy with a per-page nonce stops anything else
from running or loading.

The Markdown (for email, Slack or a GitHub issue) holds the same content: the summary of
the day and its themes, then one compact entry per paper grouped by contribution kind,
then the failed papers.

The heading's day is the listing's: the ``date`` given (``extractor daily`` gives the day it
fetched), else the latest listing day the records carry, else today.

Records from older files are read tolerantly: fields added later (``summary_source``,
``origin``) may be missing, unknown keys are ignored, and a malformed line is reported and
skipped; a file of which no line is a record (a CSV file, a listing) is reported in one line.

The module is ``digests`` so that ``extractor.digest`` is always the function (importing a
submodule named ``digest`` would replace it on the package).

Example:
    >>> import extractor
    >>> from extractor.pages.digest import digest_records
    >>> extractor.digest(digest_records(["results.jsonl"]), "digest.html")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as date_
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Literal
from urllib.parse import quote

from pydantic import ValidationError, create_model

from ..errors import InputError
from ..records.files import atomic_write, check_target
from ..records.formats import format_for
from ..records.jsonl import first_error, read_jsonl
from ..records.latest import latest_copies
from ..schema import Contribution, Record
from .cards import (
    arxiv_href,
    card,
    evidence_span,
    failed_card,
    meta_card,
    paper_href,
    safe_href,
    seen_of,
)
from .day import day_facts, day_label, day_themes
from .themes import Theme
from .watch import Watchlist

__all__ = [
    "DigestFormat",
    "DigestRecord",
    "DigestSummary",
    "Page",
    "arxiv_href",
    "digest",
    "digest_files",
    "digest_format_for",
    "digest_records",
    "evidence_span",
    "meta_card",
    "paper_href",
    "safe_href",
]

DigestFormat = Literal["html", "md"]
PAGE_SIZE = 50

# Fields newer than some record files: absent ones read as None / {}. Declared here too so
# their values survive reading even where Record does not declare them (yet).
_NEWER_FIELDS: dict[str, Any] = {"summary_source": (str | None, None), "origin": (dict[str, str], {})}
DigestRecord: type[Record] = create_model(  # type: ignore[call-overload]
    "DigestRecord",
    __base__=Record,
    __doc__="A record as the digest reads it: tolerant of fields older files lack.",
    **{name: spec for name, spec in _NEWER_FIELDS.items() if name not in Record.model_fields},
)

KIND_LABELS = {
    Contribution.method: "Methods",
    Contribution.dataset_or_benchmark: "Datasets and benchmarks",
    Contribution.survey: "Surveys",
    Contribution.analysis: "Analyses",
    Contribution.system_or_tool: "Systems and tools",
    Contribution.theory: "Theory",
    Contribution.other: "Other, or kind not sure",
}
CODE_LABELS = {"linked": "code linked", "promised": "code promised", "none": "no code"}
NOT_RECORDS = "not a record file: the digest reads the JSONL records of `extractor run` (-o results.jsonl)"


# ------------------------------------------------------------------------- reading


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
    if isinstance(obj, DigestRecord):
        return obj
    if isinstance(obj, Record):
        return DigestRecord.model_validate(obj, from_attributes=True)
    return DigestRecord.model_validate(obj)


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


# ------------------------------------------------------------------------- counting


@dataclass
class DigestSummary:
    """The counts at the top of a digest (and what :func:`digest` returns)."""

    papers: int = 0
    unique: int = 0
    failed: int = 0
    with_gains: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    code: Counter[str] = field(default_factory=Counter)
    summary_sources: Counter[str] = field(default_factory=Counter)
    metrics: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)
    prompt_versions: Counter[str] = field(default_factory=Counter)
    date: str = ""
    new: int | None = None  # papers first seen on ``date`` (None: not known)
    seen_before: int | None = None  # papers first seen before ``date``
    watched: int = 0  # papers on the reader's watchlist
    themes: int = 0

    @classmethod
    def of(
        cls, read: int, records: Sequence[Record], date: str, first_seen: Mapping[str, str] | None = None
    ) -> DigestSummary:
        """Count ``records`` (already one per id) out of ``read`` records read; with
        ``first_seen``, how many are new on ``date`` and how many were seen before."""
        s = cls(papers=read, unique=len(records), date=date)
        for rec in records:
            s._add(rec)
        if first_seen is not None:
            seen = [seen_of(rec.id, first_seen, date) for rec in records]
            s.new = sum(1 for x in seen if x is None or x["new"])
            s.seen_before = len(seen) - s.new
        return s

    def _add(self, rec: Record) -> None:
        if rec.provenance:
            self.models[rec.provenance.model] += 1
            self.prompt_versions[rec.provenance.prompt_version] += 1
        if not rec.ok or rec.extraction is None:
            self.failed += 1
            self.errors[rec.error.kind if rec.error else "no extraction"] += 1
            return
        self.kinds[(rec.kind or Contribution.other).value] += 1
        self.code[rec.code_status] += 1
        self.summary_sources[getattr(rec, "summary_source", None) or "unknown"] += 1
        gains = rec.extraction.claimed_gains
        self.with_gains += bool(gains)
        self.metrics.update({g.metric.strip().lower() for g in gains if g.metric.strip()})


# ------------------------------------------------------------------------- a page


@dataclass
class Page:
    """Everything one page shows, before it is rendered: the counts, the cards, the
    failed papers, the themes and the summary of the day."""

    summary: DigestSummary
    cards: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    themes: list[Theme]
    facts: list[list[dict[str, Any]]]
    records: list[Record]

    @classmethod
    def of(
        cls,
        records: Iterable[Record | Mapping[str, Any]],
        *,
        day: str | None = None,
        first_seen: Mapping[str, str] | None = None,
        watch: Watchlist | None = None,
    ) -> Page:
        """The page of ``records`` (a paper present more than once is shown once) on ``day``
        (default: the latest listing day of the records, else today)."""
        read = [_validate(r) for r in records]
        unique = _latest_records(read)
        day = day or listing_day(unique) or datetime.now().strftime("%Y-%m-%d")
        summary = DigestSummary.of(len(read), unique, day, first_seen)
        ok = [rec for rec in unique if rec.ok]
        cards = [card(i, rec, first_seen, day) for i, rec in enumerate(ok)]
        found = day_themes(ok)
        theme_of = {pid: i for i, theme in enumerate(found) for pid in theme.ids}
        for c, rec in zip(cards, ok, strict=True):
            c["theme"] = theme_of.get(c["id"])
            c["watch"] = watch.match(rec) if watch else []
        summary.watched = sum(1 for c in cards if c["watch"])
        summary.themes = len(found)
        failed = [failed_card(rec) for rec in unique if not rec.ok]
        facts = day_facts(cards, {rec.id: rec for rec in ok}, found, day=day, failed=summary.failed)
        return cls(summary, cards, failed, found, facts, unique)

    def theme_list(self) -> list[dict[str, Any]]:
        """Each theme with its papers' titles and ids, for the template."""
        by_id = {c["id"]: c for c in self.cards}
        return [{"name": t.name, "n": len(t.ids), "papers": [{"id": pid, "title": " ".join(by_id[pid]["title"].split())}
                                                              for pid in t.ids]}
                for t in self.themes]  # fmt: skip


# ------------------------------------------------------------------------- writing


def script_json(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ASCII only (so no line
    separators JavaScript chokes on), and no ``<``, ``>`` or ``&`` (so no ``</script>``
    or ``<!--``)."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def digest_format_for(path: str | Path, explicit: str | None = None) -> DigestFormat:
    """``explicit`` if given, else by extension: ``.md`` / ``.markdown`` is Markdown,
    ``.html`` / ``.htm`` (or no extension, as ``/dev/stdout``) a page
    (:mod:`~extractor.records.formats`). Any other extension is refused with an
    :class:`InputError`: nobody gets HTML in ``x.txt`` by surprise."""
    found = format_for("digest", path, explicit)
    if found is None:
        suffix = PurePath(str(path)).suffix
        raise InputError(str(path), f"a digest is a page (.html) or Markdown (.md), not {suffix}: "
                                    "name the file so, or say which with --format html or --format md")  # fmt: skip
    return "md" if found == "md" else "html"


def digest(
    records: Iterable[Record | Mapping[str, Any]],
    path: str | Path,
    *,
    title: str | None = None,
    date: datetime | date_ | str | None = None,
    fmt: str | None = None,
    first_seen: Mapping[str, str] | None = None,
    watch: Watchlist | None = None,
) -> DigestSummary:
    """Write a digest of ``records`` to ``path``: a self-contained HTML page, or Markdown
    when ``path`` ends in ``.md`` (or ``fmt="md"``; another extension than ``.html``,
    ``.htm`` or ``.md`` needs ``fmt``). Returns the counts shown at its top.
    The file is written whole (:func:`~extractor.records.files.atomic_write`: a symlink is
    followed, a device written through, a directory refused in one
    :class:`~extractor.errors.InputError`).

    ``records`` are :class:`Record` objects or their JSON dicts (e.g. from
    :func:`digest_records`); a paper present more than once is shown once. ``date`` is
    the listing's day shown on the page (default: the latest listing day of the records,
    else today). ``first_seen`` maps paper ids to the day (``YYYY-MM-DD``) each was first
    seen (``extractor.Library.first_seen``): the page then shows "new today" first, then
    "still listed" with that day. ``watch`` marks and ranks first the papers of the
    reader's watchlist.
    """
    kind = digest_format_for(path, fmt)
    day = date if isinstance(date, str) or date is None else date.strftime("%Y-%m-%d")
    page = Page.of(records, day=day, first_seen=first_seen, watch=watch)
    title = title or f"Paper digest · {page.summary.date}"
    text = render_markdown(page, title) if kind == "md" else render_html(page, title)
    atomic_write(path, text, "the digest")
    return page.summary


def digest_files(
    paths: Sequence[str | Path],
    path: str | Path,
    *,
    title: str | None = None,
    fmt: str | None = None,
    on_error: Callable[[InputError], None] | None = None,
    watch: Watchlist | None = None,
) -> DigestSummary:
    """Write a digest of the JSONL record files ``paths`` to ``path`` (see :func:`digest`).
    The day shown is the records' latest listing day, else the newest file's modification
    time. Raises :class:`InputError` when no record could be read (when the one file given
    is no record file, that is the error, in one line)."""
    digest_format_for(path, fmt)
    check_target(path, "the digest")
    told: list[InputError] = []
    records = digest_records(paths, told.append)
    if not records and len(paths) == 1 and len(told) == 1 and not told[0].line:
        raise told[0]
    for problem in told:
        if on_error is None:
            raise problem
        on_error(problem)
    if not records:
        raise InputError(", ".join(str(p) for p in paths), "no records to digest")
    day = listing_day(records)
    if day is None:
        day = datetime.fromtimestamp(max(Path(p).stat().st_mtime for p in paths)).strftime("%Y-%m-%d")
    return digest(records, path, title=title, fmt=fmt, date=day, watch=watch)


def render_html(page: Page, title: str, nav: Mapping[str, Any] | None = None) -> str:
    """The page as one self-contained HTML document; ``nav`` adds the links of a site
    (``{"prev", "next", "index", "feed"}``: relative hrefs and their labels)."""
    from markupsafe import Markup

    data = {
        "cards": page.cards,
        "failed": page.failed,
        "themes": [t.name for t in page.themes],
        "pageSize": PAGE_SIZE,
        "labels": {kind.value: label for kind, label in KIND_LABELS.items()},
        "day": page.summary.date,
        "seen": page.summary.new is not None,
        "watch": page.summary.watched > 0,
        "pages": (nav or {}).get("pages", {}),
    }
    assets = {name: Markup(_asset(f"digest.{name}")) for name in ("css", "js")}
    template = _environment("html").get_template("digest.html.j2")
    context = {"summary": page.summary, "title": title, "facts": page.facts, "themes": page.theme_list(),
               "day": day_label(page.summary.date), "nav": nav}  # fmt: skip
    return template.render(**context, **assets, data_json=Markup(script_json(data)), nonce=secrets.token_urlsafe(18))


def render_markdown(page: Page, title: str) -> str:
    """The page as Markdown (every value escaped)."""
    by_id = {c["id"]: c for c in page.cards}
    groups = {label: [_md_entry(by_id[r.id]) for r in page.records
                      if r.ok and r.extraction and (r.kind or Contribution.other) == kind]
              for kind, label in KIND_LABELS.items()}  # fmt: skip
    template = _environment("md").get_template("digest.md.j2")
    return template.render(summary=page.summary, title=title, facts=page.facts, themes=page.theme_list(),
                           groups={k: v for k, v in groups.items() if v}, failed=page.failed)  # fmt: skip


def _asset(name: str) -> str:
    from importlib.resources import files

    return files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


@functools.cache
def _environment(kind: DigestFormat) -> Any:
    """The Jinja2 environment: autoescaping HTML, or Markdown with ``md``/``mdurl`` filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=kind == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_escape, mdcode=md_code, mdurl=md_url, code_label=CODE_LABELS.get,
                       kind_label=lambda k: KIND_LABELS[Contribution(k)])  # fmt: skip
    return env


def _md_entry(c: dict[str, Any]) -> dict[str, Any]:
    """One paper's Markdown entry fields; the template escapes every value."""
    return {**c, "links": [link for link in c["links"] if link["href"]]}


def md_entry(rec: Record, first_seen: Mapping[str, str] | None = None, day: str = "") -> dict[str, Any]:
    """One paper's Markdown entry fields; the template escapes every value."""
    return _md_entry(card(0, rec, first_seen, day))


def md_escape(text: object) -> str:
    """Text shown literally by GitHub Markdown: HTML special characters as entities,
    Markdown punctuation backslash-escaped, line breaks as spaces."""
    s = " ".join(str(text).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]{}()#+!|~])", r"\\\1", s)


def md_code(text: str) -> str:
    """Text as a Markdown code span (shown literally): one line, backticks as quotes."""
    return "`" + " ".join(text.replace("`", "'").split()) + "`"


def md_url(url: str) -> str:
    """An http(s) URL as a Markdown link destination (spaces, brackets and quotes encoded)."""
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


