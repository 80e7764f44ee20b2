"""What one paper's card holds: the record's shown values, the listing's people and links,
where each value came from, and nothing that was held back.

A card is a plain dict (JSON inside the page, the fields of a Markdown entry). Its rules:

* **Links a reader recognises.** The title links to the arXiv abstract; with an arXiv id the
  PDF and the Hugging Face paper page are linked too (the listing's own URLs when it gave
  them). Only absolute http(s) URLs ever become links (:func:`safe_href`).
* **People.** All the authors (the page shows the first three and a count; search covers
  all), the organisation, upvotes, comments, the GitHub repo and its stars.
* **Right or silent.** A value the correctness pass held back (``Record.unsure``) is never a
  card's value: a field whose value equals one held back for it is left empty, and the card
  only says how many values were held back and why (:func:`held_back`), never what they were.
* **Where values came from** (``origin``, ``found_by``, the summary's source, values dropped
  by grounding) goes in ``prov``, shown behind the card's "details" toggle.

Example:
    >>> arxiv_href("2401.01234"), arxiv_href("8237d2d00841")
    ('https://arxiv.org/abs/2401.01234', None)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..records.identity import ARXIV_ID
from ..schema import ClaimedGain, Contribution, PaperMeta, Record

__all__ = [
    "arxiv_href", "card", "evidence_span", "failed_card", "held_back", "meta_card", "paper_href", "safe_href", "seen_of",
    "shorten", "visible",
]  # fmt: skip

_ARXIV_ID = re.compile(rf"^{ARXIV_ID}(?:v\d+)?$", re.IGNORECASE)
_NOT_IN_HREF = re.compile(r'[\s\x00-\x1f\x7f"]')  # white space (Unicode's too), control characters, quotes
#: How the "details" toggle names where a value came from.
SUMMARY_SOURCES = {
    "extractive": "a sentence of the abstract (the model's summary did not pass the check, or no model was asked)",
    "model": "written by the model, checked against the abstract",
}


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_href(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL fit for an ``href``, else None
    (``javascript:``, ``data:``, relative or malformed URLs are shown as text only)."""
    if not url or _NOT_IN_HREF.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def arxiv_href(paper_id: str) -> str | None:
    """The arXiv abstract page of an arXiv id (``2401.01234``, ``cs/0112017``), else None."""
    return f"https://arxiv.org/abs/{paper_id}" if _ARXIV_ID.match(paper_id) else None


def arxiv_id_of(rec: Record) -> str | None:
    """The paper's arXiv id: the listing's, else its own id when it is one."""
    meta = rec.meta
    for candidate in (meta.arxiv_id if meta else None, rec.id):
        if candidate and _ARXIV_ID.match(candidate):
            return candidate
    return None


def paper_href(rec: Record) -> str | None:
    """The paper's arXiv page: of the arXiv id the listing gave, else of its id."""
    found = arxiv_id_of(rec)
    return arxiv_href(found) if found else None


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


def seen_of(paper_id: str, first_seen: Mapping[str, str], day: str) -> dict[str, Any] | None:
    """``{"first": day first seen, "new": first seen on the digest's day or later}``; None
    when the paper's first day is not known."""
    first = first_seen.get(paper_id)
    return {"first": first, "new": first >= day} if first else None


def _short_url(url: str) -> str:
    return shorten(re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE).rstrip("/"), 60)


def meta_card(rec: Record) -> dict[str, Any] | None:
    """What a card shows of the listing's metadata: the authors (all: the page shows three
    and a count), organisation, submitter, upvotes, comments, listing day, categories, and
    its links (arXiv, PDF, Hugging Face, GitHub with stars, project page); the PDF and
    Hugging Face links are made from the arXiv id when the listing gave none. Only http(s)
    URLs become links. None when there is nothing to show."""
    meta = rec.meta
    arxiv = arxiv_id_of(rec)
    links = []
    hf = meta.url if meta and meta.url and "huggingface.co/" in meta.url else None
    for kind, url, label in (
        ("arXiv", f"https://arxiv.org/abs/{arxiv}" if arxiv else None, arxiv),
        ("PDF", (meta.pdf_url if meta else None) or (f"https://arxiv.org/pdf/{arxiv}" if arxiv else None), "PDF"),
        ("Hugging Face", hf or (f"https://huggingface.co/papers/{arxiv}" if arxiv and meta else None), "HF page"),
        ("GitHub", meta.github_repo if meta else None, _short_url(meta.github_repo) if meta and meta.github_repo else None),
        ("project page", meta.project_page if meta else None,
         _short_url(meta.project_page) if meta and meta.project_page else None),
    ):  # fmt: skip
        if url and safe_href(url):
            links.append({"kind": kind, "href": url, "label": label or url})
    if meta is None:
        meta = PaperMeta.model_validate({})
    card = {
        "authors": meta.authors,
        "org": meta.organization,
        "by": meta.submitted_by,
        "upvotes": meta.upvotes,
        "comments": meta.comments,
        "stars": meta.github_stars,
        "listed": meta.listing_date,
        "published": meta.published[:10] if meta.published else None,
        "categories": meta.categories[:4],
        "links": links,
    }
    return card if any(v not in (None, [], 0) for v in card.values()) else None


def held_back(rec: Record) -> list[dict[str, str]]:
    """Each value held back, as ``{"field", "reason"}``: what the card's details may say
    about it. Never the value."""
    return [{"field": held.field.replace("_", " "), "reason": held.reason} for held in rec.unsure]


def _unsure_values(rec: Record) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for item in rec.unsure:
        held.setdefault(item.field, set()).add(item.value.strip())
    return held


def _gain_held(gain: ClaimedGain, held: set[str]) -> bool:
    """A gain is held back when the pass held this very candidate: its value with its metric
    (how the pass names a gain it refused). A bare value held by the rules is a number whose
    clause could not be read, never the clause of a gain that was kept."""
    return f"{gain.value} ({gain.metric or 'no metric'})".strip() in held


def _gain(abstract: str, gain: ClaimedGain) -> dict[str, Any]:
    fields = gain.model_dump(include={"value", "metric", "baseline", "dataset", "evidence"})
    return {**fields, "span": evidence_span(abstract, gain.evidence)}


def _link(url: str, kind: str) -> dict[str, Any]:
    short = re.sub(r"^https?://", "", url, flags=re.IGNORECASE).rstrip("/")
    return {"text": url, "label": shorten(short, 60), "href": safe_href(url), "kind": kind.replace("_", " ")}


def _provenance(rec: Record) -> list[dict[str, str]]:
    """Where each shown value came from: ``{"field", "origin", "by"}`` (rule or model, and
    which rule)."""
    out = []
    for name in ("task", "method", "method_name", "claimed_gains", "contribution", "code_link"):
        origin = rec.origin.get(name)  # type: ignore[call-overload]
        by = rec.found_by.get(name)
        if origin or by:
            out.append({"field": name.replace("_", " "), "origin": origin or "", "by": by or ""})
    return out


_SCALARS = ("task", "method", "method_name", "summary", "code_link")


def visible(rec: Record) -> dict[str, str | None]:
    """The record's task, method, method name, summary and code link as a page may show
    them: None for a value equal to one the correctness pass held back for that field."""
    held = _unsure_values(rec)
    ex = rec.extraction
    out: dict[str, str | None] = {}
    for name in _SCALARS:
        value = getattr(ex, name, None) if ex is not None else None
        out[name] = None if not value or value.strip() in held.get(name, ()) else value
    return out


def card(index: int, rec: Record, first_seen: Mapping[str, str] | None = None, day: str = "") -> dict[str, Any]:
    """What the page's script needs to draw one paper's card (see the module docstring)."""
    ex = rec.extraction
    assert ex is not None
    held = _unsure_values(rec)
    shown = visible(rec)
    code = shown["code_link"]
    ssrc = rec.summary_source
    return {
        "n": index,
        "id": rec.id,
        "title": rec.title,
        "href": paper_href(rec),
        "meta": meta_card(rec),
        "seen": seen_of(rec.id, first_seen, day) if first_seen is not None else None,
        "kind": (rec.kind or Contribution.other).value,
        "task": shown["task"],
        "method": shown["method"],
        "name": shown["method_name"],
        "summary": shown["summary"],
        "ssrc": ssrc,
        "gains": [_gain(rec.abstract, g) for g in ex.claimed_gains if not _gain_held(g, held.get("claimed_gains", set()))],
        "code": {"text": code, "href": safe_href(code)} if code else None,
        "status": rec.code_status,
        "links": [_link(link.url, link.kind.value) for link in rec.links
                  if link.url != ex.code_link and link.url.strip() not in held.get("code_link", ())],
        "prov": _provenance(rec),
        "ssrcNote": SUMMARY_SOURCES.get(ssrc or ""),
        "dropped": [d.model_dump() for d in rec.dropped],
        "held": held_back(rec),
        "truncated": rec.truncated,
        "abstract": rec.abstract,
        "theme": None,  # the index of its theme of the day (set by the page)
        "watch": [],  # why it is on the reader's watchlist (set by the page)
    }


def failed_card(rec: Record) -> dict[str, Any]:
    """A failed paper's line: its title, link and why it failed."""
    return {
        "title": rec.title,
        "href": paper_href(rec),
        "kind": rec.error.kind if rec.error else "no extraction",
        "message": rec.error.message if rec.error else "",
    }
