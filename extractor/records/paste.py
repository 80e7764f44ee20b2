"""Pasted pages: a Hugging Face Daily Papers page copied as text, read into papers.

Page chrome ("Subscribe", "Get trending papers in your email inbox!", ...) is dropped, also
when glued to a title. What is left is read as *title lines* (short, no final
``.``/``,``/``;``/``:``, no URL) each followed by one or more *abstract lines*; blank lines
do not matter, so both the blank-separated and the consecutive-line layouts work.

What the page says about a paper besides is kept in its :class:`~extractor.schema.PaperMeta`,
never taken for a title or glued into an abstract:

* the page's date header (``Mar 14``; the latest such day, see
  :func:`~extractor.records.dates.page_day`) is the ``listing_date`` of the papers after it;
* card lines: ``Submitted by NAME`` (or ``Submitted by`` then the name on its own line),
  an upvote count (a bare number such as ``64`` or ``1.2k``), ``· 5 authors``, ``GitHub
  1.2k``, ``Published on Oct 22, 2024``, ``3 comments``, button labels (``Upvote``, ``arXiv``,
  ``Project page``...);
* an arXiv id wherever the paste shows one: a line ``arXiv:2410.16251``, an
  ``arxiv.org/abs/...`` or ``huggingface.co/papers/...`` link on its own line or as a
  Markdown link title ``[Title](https://huggingface.co/papers/2410.16251)`` (an id inside an
  abstract is found by :func:`~extractor.records.identity.paper_id`).

The submitter and the upvote count sit above a card's title: after a paper's abstract they
go to the next paper. The other card lines go to the paper whose title came last (an arXiv
id to the next one when that paper has one already).

Example:
    >>> from extractor.records.paste import parse_page
    >>> page = ["Mar 14", "Submitted by akhaliq", "64", "A Title", "· 5 authors", "It works."]
    >>> [(p.title, p.meta.submitted_by, p.meta.upvotes) for p in parse_page("-", enumerate(page, 1), print)]
    [('A Title', 'akhaliq', 64)]
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import InputError
from .identity import ARXIV_ID
from ..schema import Paper
from .dates import page_day
from .objects import arxiv_id_of, build_meta

__all__ = ["MAX_TITLE_CHARS", "parse_page"]

MAX_TITLE_CHARS = 300  # the longest seed title has 168 characters, the shortest abstract 498
Report = Callable[[InputError], None]
Lines = Iterable[tuple[int, str]]  # (1-based line number, text)
MakePaper = Callable[..., Paper]

# Page chrome of huggingface.co/papers, matched against a whole (stripped) line.
_CHROME = re.compile(
    r"(?:new|subscribe|daily papers|by\s*ak and the research community"
    r"|get trending papers in your email inbox(?: once a day)?!?"
    r"|upvotes?|comments?|project page|view arxiv page|view pdf|add to collection|arxiv|papers?)",
    re.IGNORECASE,
)
# The same chrome glued to the next line's text ("SubscribeLanguage Model Cascades").
_GLUED = re.compile(
    r"(?:new|Subscribe|Daily Papers|byAK and the research community"
    r"|Get trending papers in your email inbox(?: once a day)?!)(?=[A-Z0-9\"'“(\[])"
)
_DATE = re.compile(r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:,? \d{4})?", re.IGNORECASE)
_COUNT = r"(\d+(?:[.,]\d+)?\s*[kK]?)"
_SUBMITTED = re.compile(r"submitted\s*by\s*:?\s*(\S.*)?", re.IGNORECASE)
_USERNAME = re.compile(r"[\w][\w.-]{0,63}")
_UPVOTES = re.compile(rf"(?:▲|⬆|👍|upvotes?:?)?\s*{_COUNT}(?:\s*upvotes?)?", re.IGNORECASE)
_AUTHORS = re.compile(r"[·•]?\s*(\d+)\s+authors?", re.IGNORECASE)
_GITHUB = re.compile(rf"(?:github|★|⭐)\s*{_COUNT}?", re.IGNORECASE)
_COMMENTS = re.compile(r"(?:💬\s*(\d+)|(\d+)\s+comments?)", re.IGNORECASE)
_PUBLISHED = re.compile(r"[·•]?\s*published\s+on\s+(.+)", re.IGNORECASE)
_ARXIV_LINE = re.compile(
    rf"(?:arxiv\s*:?\s*{ARXIV_ID}(?:v\d+)?|(?:https?://)?(?:www\.)?(?:arxiv\.org/(?:abs|pdf)|(?:huggingface|hf)\.co/papers)/\S+)",
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")
_HEADING = re.compile(r"#{1,6}\s+|[-*]\s+(?=\[)")

#: Card fields that sit above a card's title: after an abstract they belong to the next paper.
_ABOVE_TITLE = frozenset({"submitted_by", "upvotes"})


def _count(text: str) -> int:
    """``1.2k`` as 1200, ``1,234`` as 1234, ``64`` as 64."""
    text = text.strip().lower().replace(" ", "")
    scale = 1000 if text.endswith("k") else 1
    number = float(text.rstrip("k").replace(",", "." if scale > 1 else ""))
    return int(round(number * scale))


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


def card_fields(line: str) -> dict[str, Any] | None:
    """The card metadata one line holds (``{"upvotes": 64}``, ``{"submitted_by": None}``
    for a bare "Submitted by"...); None when the line is not card metadata.

    Example:
        >>> card_fields("GitHub 1.2k"), card_fields("· 5 authors"), card_fields("arXiv:2410.16251v2")
        ({'github_stars': 1200}, {'authors_shown': 5}, {'arxiv_id': '2410.16251'})
    """
    if m := _SUBMITTED.fullmatch(line):
        return {"submitted_by": m[1].strip() if m[1] else None}
    if m := _AUTHORS.fullmatch(line):
        return {"authors_shown": int(m[1])}
    if m := _COMMENTS.fullmatch(line):
        return {"comments": int(m[1] or m[2])}
    if m := _GITHUB.fullmatch(line):
        return {"github_stars": _count(m[1])} if m[1] else {}
    if m := _UPVOTES.fullmatch(line):
        return {"upvotes": _count(m[1])}
    if m := _PUBLISHED.fullmatch(line):
        day = page_day(m[1].strip())
        return {"published": day.isoformat()} if day else {"published": m[1].strip()}
    if _ARXIV_LINE.fullmatch(line):
        found = arxiv_id_of(re.sub(r"^arxiv\s*:?\s*", "", line, flags=re.IGNORECASE))
        return {"arxiv_id": found} if found else {"url": line}
    return None


class _Card:
    """The metadata gathered for one paper of the page."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}

    def add(self, found: dict[str, Any]) -> None:
        for key, value in found.items():
            self.fields.setdefault(key, value)

    def meta(self, listed: str | None) -> Any:
        fields = dict(self.fields)
        extra = {"authors_shown": fields.pop("authors_shown")} if "authors_shown" in fields else {}
        if listed:
            fields.setdefault("listing_date", listed)
        arxiv = fields.get("arxiv_id")
        if arxiv:
            fields.setdefault("url", "https://huggingface.co/papers/" + arxiv)
            fields.setdefault("pdf_url", "https://arxiv.org/pdf/" + arxiv)
        return build_meta(fields, extra)


def _content(lines: Lines, links: dict[int, dict[str, Any]]) -> Iterator[tuple[int, str, dict[str, Any] | None]]:
    """Non-blank lines with chrome removed: ``(line, text, None)`` for text, ``(line, "",
    fields)`` for card metadata and date headers (``{"listing_date": "2024-03-14"}``).
    A Markdown link line gives its text; its URL's fields go to ``links[line]``, for the
    paper whose title it is."""
    awaiting_user = False
    for n, raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        line = _HEADING.sub("", line, count=1) if line[0] in "#-*" else line
        if awaiting_user:
            awaiting_user = False
            if _USERNAME.fullmatch(line):
                yield n, "", {"submitted_by": line}
                continue
        if (link := _MD_LINK.fullmatch(line)) is not None:
            links[n] = {"arxiv_id": arxiv_id_of(link[2])} if arxiv_id_of(link[2]) else {"url": link[2]}
            line = link[1].strip()
        if _DATE.fullmatch(line):
            day = page_day(line)
            yield n, "", {"listing_date": day.isoformat()} if day else {}
            continue
        if (found := card_fields(line)) is not None:
            if found.get("submitted_by", "") is None:
                awaiting_user = True
                continue
            yield n, "", found
            continue
        if line := _strip_chrome(line):
            yield n, line, None


def _snippet(text: str, width: int = 40) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def parse_page(label: str, lines: Lines, report: Report, make: MakePaper | None = None) -> Iterator[Paper]:
    """The papers of a pasted page: title lines paired with the abstract lines after them,
    card metadata kept (see the module docstring). One line of look-ahead (past card
    lines): a title-like line right after a bare title is that title's (short,
    unfinished) abstract when no abstract-like line follows it. ``make(abstract, title,
    path=, line=, meta=)`` builds each paper (default:
    :func:`~extractor.records.papers.paper_from_text`)."""
    if make is None:
        from .papers import paper_from_text

        make = paper_from_text
    links: dict[int, dict[str, Any]] = {}
    stream = iter(_content(lines, links))
    pending: deque[tuple[int, str, dict[str, Any] | None]] = deque()

    def pull() -> tuple[int, str, dict[str, Any] | None] | None:
        return pending.popleft() if pending else next(stream, None)

    def next_text() -> tuple[int, str, dict[str, Any] | None] | None:
        """The next text line, card lines before it kept for :func:`pull`."""
        for item in pending:
            if item[2] is None:
                return item
        for item in stream:
            pending.append(item)
            if item[2] is None:
                return item
        return None

    title: tuple[int, str, str | None] | None = None  # line, text, the page's date then
    parts: list[str] = []
    card, upcoming = _Card(), _Card()
    listed: str | None = None
    orphan = False  # text with no title before it was reported: not again for its next lines

    def flush() -> Iterator[Paper]:
        if title is None:
            return
        if parts:
            yield make(" ".join(parts), title[1], path=label, line=title[0], meta=card.meta(title[2]))
        else:
            report(InputError(label, f"title {_snippet(title[1])} has no abstract; skipped", title[0]))

    while (item := pull()) is not None:
        n, line, found = item
        if found is not None:
            if "listing_date" in found:
                listed = found["listing_date"]
            elif title is None or (parts and _ABOVE_TITLE.issuperset(found)):
                upcoming.add(found)
            elif "arxiv_id" in found and "arxiv_id" in card.fields:
                upcoming.add(found)
            else:
                card.add(found)
            continue
        bare = title is not None and not parts
        if _is_title(line) and not (bare and ((ahead := next_text()) is None or _is_title(ahead[1]))):
            yield from flush()
            title, parts, orphan = (n, line, listed), [], False
            card, upcoming = upcoming, _Card()
            card.add(links.pop(n, {}))
        elif title is not None:
            parts.append(line)
        elif not orphan:
            report(InputError(label, f"text {_snippet(line)} has no title before it; skipped", n))
            orphan = True
    yield from flush()
