"""The archive: a static site of every day in the library, to open from a folder or publish.

``write_site(library, "site/")`` writes, from the library (:mod:`extractor.library`):

* ``YYYY-MM-DD.html``: one page per day a listing was seen, the digest of the papers listed
  that day (:mod:`~extractor.pages.digest`: "new today" first, then "still listed" with the
  day each was first seen, linked to that day's page), with links to the day before, the
  day after, the index and the feed;
* ``index.html``: the days, newest first, each with its counts, themes and most upvoted paper;
* ``feed.xml``: an Atom feed of the papers first seen in the last ``feed_days`` days
  (at most :data:`FEED_LIMIT`), newest first;
* ``days.json``: what the index shows of each day (the index is rebuilt from it when only
  some days are written);
* ``.nojekyll``: GitHub Pages serves the files as they are.

Every link between the files is relative and nothing is fetched, so the site works from
``file://`` and from GitHub Pages (or any static host) alike. Each page is self-contained,
with its Content-Security-Policy. A file whose content did not change (its random CSP nonce
aside) is not rewritten, so publishing a refreshed site only changes what changed. Files
are written with :func:`~extractor.records.files.atomic_write` (a symlink is followed, a
device written through); the folder is made when missing, a file in its place is refused.

A day's page shows each paper's latest record: its upvotes are those of the last listing
it was seen in. ``only`` writes some days (and their neighbours, whose links change), the
index, the feed and the manifest: what ``extractor daily`` does after each day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..records.files import atomic_write
from ..schema import Record
from .cards import paper_href, safe_href, visible
from .day import day_label
from .page import Page
from .render import _asset, _environment, render_html
from .watch import Watchlist

__all__ = ["FEED_LIMIT", "SiteReport", "write_site"]

FEED_LIMIT = 500
MANIFEST = "days.json"
_SOURCES = {"hf": "Hugging Face Daily Papers", "arxiv": "arXiv"}
_NONCE = re.compile(r"nonce-[A-Za-z0-9_-]+|nonce=\"[A-Za-z0-9_-]+\"")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class SiteReport:
    """What :func:`write_site` did."""

    folder: Path
    days: int = 0  # days in the library
    pages: int = 0  # day pages made
    written: list[str] = field(default_factory=list)  # files written (the others were unchanged)
    feed_entries: int = 0

    def describe(self) -> str:
        return (f"{self.folder}: {self.days} days, {self.pages} pages made, {len(self.written)} files written "
                f"(the rest unchanged), {self.feed_entries} papers in the feed")  # fmt: skip


def _days(conn: Any) -> list[tuple[str, list[str]]]:
    """Every day a listing was seen, oldest first, with the listings seen that day."""
    rows = conn.execute("SELECT seen, listing FROM listings GROUP BY seen, listing ORDER BY seen, listing").fetchall()
    days: dict[str, list[str]] = {}
    for seen, listing in rows:
        days.setdefault(seen, []).append(listing)
    return list(days.items())


def _day_records(conn: Any, day: str) -> tuple[list[Record], dict[str, str]]:
    """The latest record of each paper listed on ``day``, in listing order, and the day
    each was first seen."""
    rows = conn.execute(
        "SELECT p.record, p.first_seen FROM listings l JOIN papers p ON p.id = l.paper_id WHERE l.seen = ? "
        "GROUP BY p.id ORDER BY min(l.rowid)",
        (day,),
    ).fetchall()
    records = [Record.model_validate_json(row[0]) for row in rows]
    return records, {rec.id: row[1] for rec, row in zip(records, rows, strict=True)}


def _sources(listings: list[str]) -> str:
    """``Hugging Face Daily Papers`` (or ``arXiv cs.CL``, joined by "+") from the listings seen on a day."""
    sources = []
    for listing in listings:
        head = listing.split(" ", 1)[0]
        label = _SOURCES.get(head, "Papers")
        if head == "arxiv" and len(listing.split(" ")) > 2:
            label = f"arXiv {listing.split(' ')[1]}"
        if label not in sources:
            sources.append(label)
    return " + ".join(sources) or "Papers"


def _write(path: Path, text: str, report: SiteReport) -> None:
    """Write ``text`` to ``path`` unless the file holds it already (nonces aside)."""
    try:
        old = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        old = None
    if old is not None and _NONCE.sub("", old) == _NONCE.sub("", text):
        return
    atomic_write(path, text, f"the site's {path.name}")
    report.written.append(path.name)


def _folder(out: str | Path) -> Path:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(str(folder), "cannot write the site here (not a folder); give a folder path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(folder), f"cannot make the site's folder ({exc.strerror or exc})") from None
    return folder


def _manifest(folder: Path) -> dict[str, dict[str, Any]]:
    try:
        items = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return {item["day"]: item for item in items if isinstance(item, dict) and "day" in item}
    except (OSError, ValueError, TypeError):
        return {}


def _day_entry(day: str, sources: str, page: Page) -> dict[str, Any]:
    """What the index shows of a day."""
    top = max(page.cards, key=lambda c: ((c.get("meta") or {}).get("upvotes") or 0, -c["n"]), default=None)
    upvotes = ((top or {}).get("meta") or {}).get("upvotes")
    return {
        "day": day,
        "sources": sources,
        "papers": len(page.cards) + page.summary.failed,
        "new": page.summary.new if page.summary.new is not None else len(page.cards),
        "themes": [t.name for t in page.themes[:5]],
        "top": {"title": " ".join(top["title"].split()), "href": top["href"], "upvotes": upvotes} if top and upvotes else None,
    }


def write_site(
    library: Any,
    out: str | Path,
    *,
    only: Iterable[str] | None = None,
    watch: Watchlist | None = None,
    base_url: str | None = None,
    feed_days: int = 30,
) -> SiteReport:
    """Write the static site of ``library`` (an open :class:`~extractor.library.Library`)
    to the folder ``out`` (see the module docstring). ``only``: the days to write (with
    their neighbours); default all. ``base_url``: where the site will be published
    (``https://you.github.io/papers/``), for absolute links in the feed (without it they are
    relative to the feed, which Atom allows)."""
    folder = _folder(out)
    report = SiteReport(folder=folder)
    conn = library.conn
    days = _days(conn)
    report.days = len(days)
    names = [day for day, _ in days]
    pages = {day: f"{day}.html" for day in names}
    manifest = _manifest(folder)
    wanted = set(names) if only is None else {str(d) for d in only} & set(names)
    wanted |= {d for d in names if d not in manifest or not (folder / pages[d]).exists()}  # never written yet
    write = {names[j] for i, d in enumerate(names) if d in wanted for j in (i - 1, i, i + 1) if 0 <= j < len(names)}
    for i, (day, listings) in enumerate(days):  # a written day's neighbours change their links too
        if day not in write:
            continue
        records, first_seen = _day_records(conn, day)
        page = Page.of(records, day=day, first_seen=first_seen, watch=watch)
        title = f"{_sources(listings)} · {day}"
        nav = {
            "prev": {"href": pages[names[i - 1]], "label": names[i - 1]} if i else None,
            "next": {"href": pages[names[i + 1]], "label": names[i + 1]} if i + 1 < len(names) else None,
            "index": "index.html",
            "feed": "feed.xml",
            "pages": {d: href for d, href in pages.items() if d < day},
        }
        _write(folder / pages[day], render_html(page, title, nav), report)
        manifest[day] = _day_entry(day, _sources(listings), page)
        report.pages += 1
    entries = [manifest[day] for day in reversed(names) if day in manifest]
    _write(folder / MANIFEST, json.dumps(entries, indent=1, ensure_ascii=False) + "\n", report)
    _write(folder / "index.html", _index(entries, pages), report)
    feed, report.feed_entries = _feed(conn, names, pages, base_url, feed_days)
    _write(folder / "feed.xml", feed, report)
    if not (folder / ".nojekyll").exists():
        _write(folder / ".nojekyll", "", report)
    return report


def _index(entries: list[dict[str, Any]], pages: Mapping[str, str]) -> str:
    """The index page: the days, newest first."""
    from markupsafe import Markup

    days = [{**e, "href": pages[e["day"]], "label": day_label(e["day"]),
             "top": {**e["top"], "href": safe_href(e["top"].get("href"))} if e.get("top") else None}
            for e in entries if e["day"] in pages]  # fmt: skip
    template = _environment("html").get_template("site_index.html.j2")
    return template.render(days=days, css=Markup(_asset("digest.css")), nonce=secrets.token_urlsafe(18))


def _xml_text(text: str | None) -> str:
    """``text`` as XML 1.0 allows it (control characters dropped)."""
    return _NOT_XML.sub("", text or "")


def _feed(conn: Any, days: list[str], pages: Mapping[str, str], base_url: str | None, feed_days: int) -> tuple[str, int]:
    """The Atom feed of the papers first seen in the last ``feed_days`` days, and how many."""
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    base = base_url.rstrip("/") + "/" if base_url and safe_href(base_url) else ""
    last = days[-1] if days else dt.date.today().isoformat()
    since = (dt.date.fromisoformat(last) - dt.timedelta(days=feed_days - 1)).isoformat() if days else last
    rows = conn.execute(
        "SELECT record, first_seen FROM papers WHERE ok AND first_seen >= ? ORDER BY first_seen DESC, upvotes DESC, id "
        "LIMIT ?", (since, FEED_LIMIT),
    ).fetchall()  # fmt: skip
    created = conn.execute("SELECT value FROM library_info WHERE key = 'created_at'").fetchone()
    feed = ET.Element(f"{{{ns}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
        if text is not None:
            node.text = _xml_text(text)
        return node

    sub(feed, "title", "New papers")
    sub(feed, "subtitle", "Papers first seen in the listings, as extractor read them")
    sub(feed, "id", f"{base}feed.xml" if base else uuid.uuid5(uuid.NAMESPACE_URL, f"extractor-site:{created[0] if created else ''}").urn)
    sub(feed, "updated", f"{last}T00:00:00Z")
    sub(feed, "link", href=f"{base}index.html", rel="alternate", type="text/html")
    sub(feed, "link", href=f"{base}feed.xml", rel="self", type="application/atom+xml")
    sub(sub(feed, "author"), "name", "extractor")
    sub(feed, "generator", "extractor")
    for record_json, first in rows:
        rec = Record.model_validate_json(record_json)
        entry = sub(feed, "entry")
        sub(entry, "title", " ".join(rec.title.split()))
        href = paper_href(rec)
        sub(entry, "id", href or f"urn:extractor:paper:{rec.id}")
        sub(entry, "updated", f"{first}T00:00:00Z")
        sub(entry, "published", f"{first}T00:00:00Z")
        if href:
            sub(entry, "link", href=href, rel="alternate", type="text/html")
        if first in pages:
            sub(entry, "link", href=f"{base}{pages[first]}", rel="related", type="text/html", title=f"the page of {first}")
        for name in (rec.meta.authors[:10] if rec.meta else []):
            sub(sub(entry, "author"), "name", name)
        shown = visible(rec)
        lines = [shown["summary"] or ""]
        if shown["task"]:
            lines.append(f"Task: {shown['task']}")
        if shown["method_name"]:
            lines.append(f"Method: {shown['method_name']}")
        code = shown["code_link"] or (rec.meta.github_repo if rec.meta else None)
        if code and safe_href(code):
            lines.append(f"Code: {code}")
        sub(entry, "summary", "\n".join(line for line in lines if line), type="text")
    text = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n", len(rows)
