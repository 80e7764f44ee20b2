"""A digest people read: one self-contained HTML page, or Markdown, from record files.

The HTML page needs no network: its CSS and JS are inline, and the records travel inside
it as a JSON blob that the page's script renders as cards, 50 to a page, with a search
box, filters and sorting whose state lives in the URL fragment (so a filtered view can be
shared). Counts and inline SVG charts are drawn up front by the template. Every value is
escaped: Jinja2 autoescaping for the template, ``textContent`` in the script, and only
``http(s)`` URLs ever become links; a Content-Security-Policy with a per-page nonce
stops anything else from running or loading.

The Markdown (for email, Slack or a GitHub issue) holds the same content: counts, then
one compact entry per paper grouped by contribution kind, then the failed papers.

What the listing said about a paper (``Record.meta``: authors, organisation, upvotes,
comments, GitHub repo and stars, arXiv, PDF and Hugging Face links, the listing day) is
shown on its card. Given ``first_seen`` (``{paper id: first day seen}``, as the library
knows it), each card also says whether the paper is new on the digest's day or was seen
before, and since when (the card data's ``seen``: ``{"first": "2024-10-25", "new": false}``).

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
from urllib.parse import quote, urlsplit

from pydantic import ValidationError, create_model

from ..errors import InputError
from ..records.files import atomic_write, check_target
from ..records.formats import format_for
from ..records.jsonl import first_error, read_jsonl
from ..schema import ClaimedGain, Contribution, Record
from ..records.identity import ARXIV_ID
from ..records.latest import latest_copies

__all__ = [
    "DigestFormat",
    "DigestRecord",
    "DigestSummary",
    "digest",
    "digest_files",
    "digest_format_for",
    "digest_records",
    "meta_card",
    "paper_href",
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
    Contribution.other: "Other",
}
CODE_LABELS = {"linked": "code linked", "promised": "code promised", "none": "no code"}
NOT_RECORDS = "not a record file: the digest reads the JSONL records of `extractor run` (-o results.jsonl)"
_ARXIV_ID = re.compile(rf"^{ARXIV_ID}(?:v\d+)?$", re.IGNORECASE)


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
            seen = [_seen(rec.id, first_seen, date) for rec in records]
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
        self.kinds[rec.extraction.contribution.value] += 1
        self.code[rec.code_status] += 1
        self.summary_sources[getattr(rec, "summary_source", None) or "unknown"] += 1
        gains = rec.extraction.claimed_gains
        self.with_gains += bool(gains)
        self.metrics.update({g.metric.strip().lower() for g in gains if g.metric.strip()})

    def charts(self) -> list[Chart]:
        """The charts drawn at the top of the HTML page."""
        kinds = [(KIND_LABELS[k], self.kinds[k.value]) for k in Contribution if self.kinds[k.value]]
        code = [(CODE_LABELS[c], self.code[c]) for c in CODE_LABELS]
        charts = [Chart("Contribution kinds", kinds), Chart("Code", code)]
        if self.metrics:
            charts.append(Chart("Most claimed metrics", self.metrics.most_common(8)))
        return charts


@dataclass
class Chart:
    """A horizontal bar chart: labelled counts, drawn as inline SVG by the template."""

    title: str
    rows: list[tuple[str, int]]

    @property
    def bars(self) -> list[dict[str, Any]]:
        """Each row with its bar's share of the largest count (0..1)."""
        top = max((n for _, n in self.rows), default=0) or 1
        return [{"label": label, "short": _shorten(label, 24), "count": n, "share": n / top} for label, n in self.rows]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ------------------------------------------------------------------------- cards


def safe_href(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL fit for an ``href``, else None
    (``javascript:``, ``data:``, relative or malformed URLs are shown as text only)."""
    if not url or any(c.isspace() or ord(c) < 32 for c in url) or '"' in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def arxiv_href(paper_id: str) -> str | None:
    """The arXiv abstract page of an arXiv id (``2401.01234``, ``cs/0112017``), else None."""
    return f"https://arxiv.org/abs/{paper_id}" if _ARXIV_ID.match(paper_id) else None


def evidence_span(abstract: str, evidence: str) -> list[int] | None:
    """Where ``evidence`` sits in ``abstract`` as ``[start, end]``: verbatim, ignoring case,
    or as a near-verbatim match (rapidfuzz partial ratio >= 90); None when it is not there."""
    evidence = evidence.strip()
    if not evidence:
        return None
    start = abstract.find(evidence)
    if start < 0 and len(abstract.lower()) == len(abstract):
        start = abstract.lower().find(evidence.lower())
    if start >= 0:
        return [start, start + len(evidence)]
    if len(evidence) > len(abstract):
        return None
    from rapidfuzz import fuzz

    found = fuzz.partial_ratio_alignment(evidence, abstract, score_cutoff=90)
    return [found.dest_start, found.dest_end] if found else None


def _seen(paper_id: str, first_seen: Mapping[str, str], day: str) -> dict[str, Any] | None:
    """``{"first": day first seen, "new": first seen on the digest's day or later}``; None
    when the paper's first day is not known."""
    first = first_seen.get(paper_id)
    return {"first": first, "new": first >= day} if first else None


def paper_href(rec: Record) -> str | None:
    """The paper's arXiv page: of the arXiv id the listing gave, else of its id."""
    meta = getattr(rec, "meta", None)
    return arxiv_href(meta.arxiv_id) if meta is not None and meta.arxiv_id else arxiv_href(rec.id)


def meta_card(rec: Record) -> dict[str, Any] | None:
    """What a card shows of the listing's metadata: a by-line (authors, organisation,
    submitter, upvotes, comments, listing day) and its links (arXiv, PDF, Hugging Face,
    GitHub with stars, project page); only http(s) URLs become links. None without any."""
    meta = getattr(rec, "meta", None)
    if meta is None:
        return None
    arxiv = meta.arxiv_id
    links = []
    for kind, url, label in (
        ("arXiv", f"https://arxiv.org/abs/{arxiv}" if arxiv else None, arxiv),
        ("PDF", meta.pdf_url, "pdf"),
        ("Hugging Face", meta.url if meta.url and "huggingface.co/" in meta.url else None, "paper page"),
        ("GitHub", meta.github_repo, _short_url(meta.github_repo) if meta.github_repo else None),
        ("project page", meta.project_page, _short_url(meta.project_page) if meta.project_page else None),
    ):
        if url and safe_href(url):
            links.append({"kind": kind, "href": url, "label": label or url})
    if meta.github_stars is not None:
        gh = next((link for link in links if link["kind"] == "GitHub"), None)
        if gh is not None:
            gh["label"] += f" ★ {meta.github_stars:,}"
    card = {
        "authors": meta.authors[:8],
        "more": max(0, len(meta.authors) - 8),
        "org": meta.organization,
        "by": meta.submitted_by,
        "upvotes": meta.upvotes,
        "comments": meta.comments,
        "stars": meta.github_stars,
        "listed": meta.listing_date,
        "categories": meta.categories[:4],
        "links": links,
    }
    return card if any(v not in (None, [], 0) for v in card.values()) else None


def _short_url(url: str) -> str:
    return _shorten(re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE).rstrip("/"), 60)


def _card(index: int, rec: Record, first_seen: Mapping[str, str] | None = None, day: str = "") -> dict[str, Any]:
    """What the page's script needs to draw one paper's card."""
    ex = rec.extraction
    assert ex is not None
    code = ex.code_link
    return {
        "n": index,
        "title": rec.title,
        "href": paper_href(rec),
        "meta": meta_card(rec),
        "seen": _seen(rec.id, first_seen, day) if first_seen is not None else None,
        "kind": ex.contribution.value,
        "task": ex.task,
        "method": ex.method,
        "name": ex.method_name,
        "summary": ex.summary,
        "ssrc": getattr(rec, "summary_source", None),
        "origin": getattr(rec, "origin", None) or {},
        "gains": [_gain(rec.abstract, g) for g in ex.claimed_gains],
        "code": {"text": code, "href": safe_href(code)} if code else None,
        "status": rec.code_status,
        "links": [_link(link.url, link.kind.value) for link in rec.links if link.url != code],
        "dropped": [d.model_dump() for d in rec.dropped],
        "truncated": rec.truncated,
        "abstract": rec.abstract,
    }


def _gain(abstract: str, gain: ClaimedGain) -> dict[str, Any]:
    fields = gain.model_dump(include={"value", "metric", "baseline", "dataset", "evidence"})
    return {**fields, "span": evidence_span(abstract, gain.evidence)}


def _link(url: str, kind: str) -> dict[str, Any]:
    short = re.sub(r"^https?://", "", url, flags=re.IGNORECASE).rstrip("/")
    return {"text": url, "label": _shorten(short, 60), "href": safe_href(url), "kind": kind.replace("_", " ")}


def _failed(rec: Record) -> dict[str, Any]:
    return {
        "title": rec.title,
        "href": paper_href(rec),
        "kind": rec.error.kind if rec.error else "no extraction",
        "message": rec.error.message if rec.error else "",
    }


def script_json(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ASCII only (so no line
    separators JavaScript chokes on), and no ``<``, ``>`` or ``&`` (so no ``</script>``
    or ``<!--``)."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ------------------------------------------------------------------------- writing


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
) -> DigestSummary:
    """Write a digest of ``records`` to ``path``: a self-contained HTML page, or Markdown
    when ``path`` ends in ``.md`` (or ``fmt="md"``; another extension than ``.html``,
    ``.htm`` or ``.md`` needs ``fmt``). Returns the counts shown at its top.
    The file is written whole (:func:`~extractor.records.files.atomic_write`: a symlink is
    followed, a device written through, a directory refused in one
    :class:`~extractor.errors.InputError`).

    ``records`` are :class:`Record` objects or their JSON dicts (e.g. from
    :func:`digest_records`); a paper present more than once is shown once. ``date`` is
    the run's date shown on the page (default: now). ``first_seen`` maps paper ids to the
    day (``YYYY-MM-DD``) each was first seen (``extractor.Library.first_seen``): each card
    then says "new" (first seen on ``date``) or "seen before" with that day.
    """
    kind = digest_format_for(path, fmt)
    read = [_validate(r) for r in records]
    unique = _latest_records(read)
    day = date if isinstance(date, str) else (date or datetime.now()).strftime("%Y-%m-%d")
    summary = DigestSummary.of(len(read), unique, day, first_seen)
    context = {"summary": summary, "title": title or f"Paper digest · {day}"}
    if kind == "md":
        text = _render_markdown(unique, context, first_seen)
    else:
        text = _render_html(unique, context, first_seen)
    atomic_write(path, text, "the digest")
    return summary


def digest_files(
    paths: Sequence[str | Path],
    path: str | Path,
    *,
    title: str | None = None,
    fmt: str | None = None,
    on_error: Callable[[InputError], None] | None = None,
) -> DigestSummary:
    """Write a digest of the JSONL record files ``paths`` to ``path`` (see :func:`digest`).
    The date shown is the newest file's modification time. Raises :class:`InputError`
    when no record could be read (when the one file given is no record file, that is the
    error, in one line)."""
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
    newest = max(Path(p).stat().st_mtime for p in paths)
    return digest(records, path, title=title, fmt=fmt, date=datetime.fromtimestamp(newest))


def _render_html(records: Sequence[Record], context: dict[str, Any], first_seen: Mapping[str, str] | None = None) -> str:
    from markupsafe import Markup

    ok = [rec for rec in records if rec.ok]
    day = context["summary"].date
    data = {
        "cards": [_card(i, rec, first_seen, day) for i, rec in enumerate(ok)],
        "failed": [_failed(rec) for rec in records if not rec.ok],
        "pageSize": PAGE_SIZE,
        "labels": {kind.value: label for kind, label in KIND_LABELS.items()},
    }
    assets = {name: Markup(_asset(f"digest.{name}")) for name in ("css", "js")}
    template = _environment("html").get_template("digest.html.j2")
    return template.render(**context, **assets, data_json=Markup(script_json(data)), nonce=secrets.token_urlsafe(18))


def _render_markdown(records: Sequence[Record], context: dict[str, Any], first_seen: Mapping[str, str] | None = None) -> str:
    day = context["summary"].date
    groups = {label: [md_entry(r, first_seen, day) for r in records
                      if r.ok and r.extraction and r.extraction.contribution == kind]
              for kind, label in KIND_LABELS.items()}  # fmt: skip
    template = _environment("md").get_template("digest.md.j2")
    failed = [_failed(rec) for rec in records if not rec.ok]
    return template.render(**context, groups={k: v for k, v in groups.items() if v}, failed=failed)


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
                       kind_label=lambda k: KIND_LABELS[Contribution(k)])
    return env


def md_entry(rec: Record, first_seen: Mapping[str, str] | None = None, day: str = "") -> dict[str, Any]:
    """One paper's Markdown entry fields; the template escapes every value."""
    card = _card(0, rec, first_seen, day)
    return {**card, "links": [link for link in card["links"] if link["href"]]}


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
