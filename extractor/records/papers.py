"""One paper from text or a mapping: :func:`paper_from_text` (an abstract and a title given
directly), :func:`as_paper` (a mapping of the Python API), :func:`is_blank`, and the
``too_long`` error record of an abstract over :data:`MAX_ABSTRACT_CHARS` characters.

Every reader of :mod:`~extractor.records.listings` makes its papers here.

Example:
    >>> paper_from_text("It works.", "A Title").title
    'A Title'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from ..errors import InputError
from ..evidence.text import is_truncated
from ..schema import ErrorInfo, Paper, PaperMeta, Record, Source
from .identity import paper_id
from .objects import arxiv_id_of

__all__ = ["MAX_ABSTRACT_CHARS", "as_paper", "is_blank", "paper_from_text", "too_long_record"]

MAX_ABSTRACT_CHARS = 200_000
"""The most one paper may hold; a longer abstract becomes an error record (the longest
seed abstract has about 2,000 characters; a whole paper's text is some 60,000)."""


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
