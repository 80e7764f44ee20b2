"""Listing objects: one JSON object or CSV row in, a paper's title, abstract, id and metadata out.

Three shapes are read, with no flag needed for the first two:

* **the Hugging Face Daily Papers API's items** (``{"paper": {"id", "title", "summary",
  "authors", "upvotes", ...}, "title", "numComments", "submittedBy", ...}``), current and
  2024 shape alike: the title, abstract, arXiv id and every field the Hub gives are read
  from where the Hub puts them (:func:`hub_fields`);
* **flat objects** (``{"title", "abstract", "id"?, ...}``, a CSV row, a row of
  ``extractor fetch arxiv``): a key named like a :class:`~extractor.schema.PaperMeta` field
  (``authors``, ``upvotes``, ``arxiv_id``, ``pdf_url``...) fills that field, a ``meta``
  object (a record's or ``extractor papers --json``'s) fills the fields it names;
* any object with **dotted keys** for its title and abstract (``--abstract-key
  paper.summary``): a key is first looked up as it is, then as a path into nested
  objects.

Every other field is kept in ``PaperMeta.extra`` under its name (dotted for nested ones),
so nothing a listing gives is lost on the way to the record; empty values (``null``, an
empty CSV cell) are left out. A value that does not fit its field (``"upvotes": "1.2k"``)
is kept in ``extra`` too, not refused.

The paper's id is the ``id`` field when there is one, else its arXiv id, else
:func:`~extractor.records.identity.paper_id` of its text (an arXiv id the text holds, or a
hash of its title).

Example:
    >>> item = {"paper": {"id": "2410.16251", "summary": "We study it.", "upvotes": 41,
    ...                   "authors": [{"name": "Baixiang Huang"}]}, "title": "A Title", "numComments": 2}
    >>> fields = object_fields(item, ("title", "abstract"))
    >>> fields.id, fields.title, fields.meta.upvotes, fields.meta.authors, fields.meta.comments
    ('2410.16251', 'A Title', 41, ['Baixiang Huang'], 2)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .identity import ARXIV_ID
from ..schema import PaperMeta, Record
from .dates import day_of

__all__ = ["Fields", "MissingKeys", "arxiv_id_of", "build_meta", "hub_fields", "is_hub_item", "lookup", "object_fields"]

_ARXIV = re.compile(rf"({ARXIV_ID})(?:v\d+)?", re.IGNORECASE)
_META_FIELDS = frozenset(PaperMeta.model_fields) - {"extra"}
_DEFAULT_KEYS = ("title", "abstract")
HF_PAPERS = "https://huggingface.co/papers/"


class MissingKeys(Exception):
    """An object lacks the title or abstract key (``keys``); ``has`` lists its keys."""

    def __init__(self, keys: list[str], has: list[str]) -> None:
        self.keys, self.has = keys, has
        super().__init__(" and ".join(map(repr, keys)))


@dataclass
class Fields:
    """What one listing object gives: title and abstract as found (not yet checked to be
    text), the id it names (None: derive one), and its metadata (None: it said nothing)."""

    title: Any
    abstract: Any
    id: str | None
    meta: PaperMeta | None
    keys: tuple[str, str]  # where title and abstract were read, for messages


def lookup(obj: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """``(found, value)`` of ``key`` in ``obj``: the key as it is, else a dotted path
    into nested objects (``paper.summary``).

    Example:
        >>> lookup({"paper": {"summary": "S"}}, "paper.summary"), lookup({"a.b": 1}, "a.b")
        ((True, 'S'), (True, 1))
    """
    if key in obj:
        return True, obj[key]
    node: Any = obj
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def arxiv_id_of(value: object) -> str | None:
    """The arXiv id (without version) ``value`` is, or ends with as a URL; else None.

    Example:
        >>> arxiv_id_of("2410.16251v2"), arxiv_id_of("https://arxiv.org/abs/hep-th/9901001"), arxiv_id_of("p1")
        ('2410.16251', 'hep-th/9901001', None)
    """
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("/")
    for prefix in ("arxiv:", "https://", "http://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    for site in ("arxiv.org/abs/", "arxiv.org/pdf/", "huggingface.co/papers/", "hf.co/papers/"):
        if text.lower().startswith(site) or text.lower().startswith("www." + site):
            text = text.split(site, 1)[-1]
            break
    text = text.removesuffix(".pdf")
    match = _ARXIV.fullmatch(text)
    return match.group(1) if match else None


def is_hub_item(obj: Mapping[str, Any]) -> bool:
    """True for an item of the Hugging Face Daily Papers API (a ``paper`` object with an
    ``id`` and a ``summary``)."""
    paper = obj.get("paper")
    return isinstance(paper, Mapping) and "id" in paper and "summary" in paper


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    """Nested objects as dotted keys; lists and scalars as they are; empty values left out."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif value is not None and value != "":
        out[prefix] = value


def _name(user: Any, *keys: str) -> str | None:
    if isinstance(user, Mapping):
        for key in keys:
            if isinstance(user.get(key), str) and user[key].strip():
                return str(user[key]).strip()
    return None


def hub_fields(obj: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The :class:`PaperMeta` fields of a Daily Papers item, and the dotted paths it read
    them from.

    The Hub puts most fields inside ``paper`` (upvotes, GitHub repo and stars, project
    page, the AI summary) and a few beside it (comments, submitter, thumbnail). The listing
    day is ``paper.submittedOnDailyAt``; in the 2024 shape (no top-level ``summary``) it was
    the top-level ``publishedAt``, which later holds a shifted copy of the arXiv time."""
    paper: Mapping[str, Any] = obj["paper"]
    pid = str(paper.get("id", "")).strip()
    arxiv = arxiv_id_of(pid)
    authors = [
        str(a["name"]).strip()
        for a in paper.get("authors") or []
        if isinstance(a, Mapping) and isinstance(a.get("name"), str) and a["name"].strip() and not a.get("hidden")
    ]
    listed = day_of(paper.get("submittedOnDailyAt"))
    if listed is None and "summary" not in obj:
        listed = day_of(obj.get("publishedAt"))
    fields = {
        "arxiv_id": arxiv,
        "authors": authors,
        "organization": _name(paper.get("organization"), "fullname", "name") or _name(obj.get("organization"), "fullname", "name"),
        "submitted_by": _name(obj.get("submittedBy"), "name", "user") or _name(paper.get("submittedOnDailyBy"), "user", "name"),
        "upvotes": paper.get("upvotes"),
        "comments": obj.get("numComments"),
        "github_repo": paper.get("githubRepo"),
        "github_stars": paper.get("githubStars"),
        "project_page": paper.get("projectPage"),
        "thumbnail": obj.get("thumbnail"),
        "listing_date": listed.isoformat() if listed else None,
        "published": paper.get("publishedAt"),
        "url": HF_PAPERS + pid if pid else None,
        "pdf_url": f"https://arxiv.org/pdf/{arxiv}" if arxiv else None,
    }
    used = {
        "paper.id", "paper.title", "paper.summary", "title", "summary", "paper.authors", "paper.organization",
        "organization", "submittedBy", "paper.submittedOnDailyBy", "paper.upvotes", "numComments", "paper.githubRepo",
        "paper.githubStars", "paper.projectPage", "thumbnail", "paper.submittedOnDailyAt", "paper.publishedAt",
        "publishedAt",
    }  # fmt: skip
    return fields, used


def _extra(obj: Mapping[str, Any], used: set[str]) -> dict[str, Any]:
    """The fields of ``obj`` not in ``used`` (dotted paths; a used path takes its subtree),
    flattened. A top-level field equal to the same field inside ``paper`` (the Hub repeats
    ``mediaUrls``) is kept once."""
    flat: dict[str, Any] = {}
    _flatten(obj, "", flat)
    kept = {k: v for k, v in flat.items() if not any(k == u or k.startswith(u + ".") for u in used)}
    return {k: v for k, v in kept.items() if not ("." not in k and kept.get("paper." + k, object()) == v)}


def build_meta(fields: dict[str, Any], extra: dict[str, Any]) -> PaperMeta | None:
    """A :class:`PaperMeta` of ``fields``; a value that does not fit its field goes to
    ``extra`` under its own name. None when there is nothing at all."""
    fields = {k: v for k, v in fields.items() if v is not None and v != "" and v != []}
    if "listing_date" in fields:
        day = day_of(fields["listing_date"])
        if day is not None:
            fields["listing_date"] = day.isoformat()
    while True:
        try:
            meta = PaperMeta.model_validate({**fields, "extra": extra})
            break
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"] and err["loc"][0] in fields}
            if not bad:
                raise
            for name in bad:
                extra[name] = fields.pop(name)
    return None if meta.is_empty() else meta


def object_fields(obj: Mapping[str, Any], keys: tuple[str, str], *, id_key: str = "id") -> Fields:
    """Title, abstract, id and :class:`PaperMeta` of one listing object (see the module
    docstring). Raises :class:`MissingKeys` when the title or abstract key is absent."""
    hub = is_hub_item(obj)
    if hub and keys == _DEFAULT_KEYS:
        keys = ("title", "paper.summary") if "title" in obj else ("paper.title", "paper.summary")
    found = [lookup(obj, key) for key in keys]
    missing = [key for key, (ok, _) in zip(keys, found) if not ok]
    if missing:
        raise MissingKeys(missing, list(obj)[:6])
    (_, title), (_, abstract) = found
    extra: dict[str, Any] = {}
    if hub:
        fields, used = hub_fields(obj)
        given = obj["paper"].get("id")
    else:
        fields = {name: obj[name] for name in _META_FIELDS if name in obj}
        used = set(fields)
        nested = obj.get("meta")
        if isinstance(nested, Mapping):  # a record or a paper written by extractor: its own fields are not extras
            used |= set(Record.model_fields)
            fields = {**{k: v for k, v in nested.items() if k in _META_FIELDS}, **fields}
            if isinstance(nested.get("extra"), Mapping):
                extra.update(nested["extra"])
        given = lookup(obj, id_key)[1]
    extra.update(_extra(obj, used | {*keys, id_key}))
    pid = str(given).strip() if isinstance(given, (str, int)) and not isinstance(given, bool) else ""
    arxiv = arxiv_id_of(fields.get("arxiv_id")) or arxiv_id_of(pid)
    if arxiv:
        fields["arxiv_id"] = arxiv
    return Fields(title=title, abstract=abstract, id=pid or arxiv or None, meta=build_meta(fields, extra), keys=keys)
