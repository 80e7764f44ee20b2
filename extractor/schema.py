"""The typed records `extractor` reads and writes.

Three layers, each a pydantic v2 model:

* :class:`Paper` is one paper read from a listing (title, abstract, where it came from,
  and :class:`PaperMeta`: what the listing said about it besides, such as its arXiv id,
  authors and upvotes).
* :class:`Extraction` is what the model fills for a paper. Its field descriptions are
  sent to the model as the instructions for each field, so they are kept short and exact.
* :class:`Record` is one line of output: the paper, its summary (or ``None``), the
  provenance of the answer and an ``error`` that is ``None`` when all went well;
  ``origin`` says per field whether the value came from the rules or the model, and
  ``summary_source`` whether the summary is the model's sentence or the abstract's.

Example:
    >>> from extractor.schema import ClaimedGain
    >>> ClaimedGain(metric="training speed", value="4.5x", magnitude=4.5, unit="x",
    ...             evidence="trains a ResNet-50 SlowFast network 4.5x faster").value
    '4.5x'
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .errors import ErrorKind

__all__ = [
    "ClaimedGain",
    "CodeStatus",
    "Contribution",
    "Dropped",
    "ErrorInfo",
    "Extraction",
    "GainKind",
    "Link",
    "LinkKind",
    "Name",
    "Origin",
    "Paper",
    "PaperMeta",
    "PaperSummary",
    "Provenance",
    "Record",
    "SentenceAnswer",
    "Source",
    "Summary",
    "SummaryAnswer",
    "SummarySource",
    "Unsure",
]


class Source(BaseModel):
    """Where a paper was read: the input file (``-`` for stdin) and its 1-based line."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int


class PaperMeta(BaseModel):
    """What a listing says about a paper besides its title and abstract: the Hugging Face
    Daily Papers' authors, upvotes and GitHub repo, arXiv's categories and PDF link, the
    date a pasted page was listed on. Every field is optional (None or empty when the
    listing does not say); ``extra`` keeps the listing's other fields, by their names in
    the input (dotted for nested ones, e.g. ``paper.ai_summary``).

    Never sent to the model and not part of the cache key: the same abstract listed again
    with more upvotes is not extracted again.

    Example:
        >>> PaperMeta(arxiv_id="2410.16251", authors="Baixiang Huang; Canyu Chen", upvotes="41").authors
        ['Baixiang Huang', 'Canyu Chen']
    """

    arxiv_id: str | None = Field(None, description="arXiv id without version, e.g. 2410.16251.")
    authors: list[str] = Field(default_factory=list, description="Author names, in order.")
    organization: str | None = Field(None, description="The organisation the listing credits (Hugging Face).")
    submitted_by: str | None = Field(None, description="Who put it on the listing (a Hugging Face username).")
    upvotes: int | None = Field(None, description="Upvotes on the listing (Hugging Face).")
    comments: int | None = Field(None, description="Number of comments on the listing (Hugging Face).")
    github_repo: str | None = Field(None, description="The code repository the listing links.")
    github_stars: int | None = Field(None, description="Its stars, when the listing says.")
    project_page: str | None = Field(None, description="The project page the listing links.")
    thumbnail: str | None = Field(None, description="The listing's thumbnail image URL.")
    listing_date: str | None = Field(
        None, description="The day it was listed on, YYYY-MM-DD (Hugging Face: put on Daily Papers; arXiv: submitted)."
    )
    published: str | None = Field(None, description="When its first arXiv version was submitted (ISO 8601).")
    url: str | None = Field(None, description="Its page on the listing's site.")
    pdf_url: str | None = Field(None, description="Its PDF.")
    categories: list[str] = Field(default_factory=list, description="arXiv categories, the primary one first.")
    arxiv_comment: str | None = Field(None, description="arXiv's comments line (pages, venue...).")
    extra: dict[str, Any] = Field(default_factory=dict, description="The listing's other fields, as given.")

    @field_validator("authors", "categories", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        """A list as it is; a string (a CSV cell) split on ``;`` (on ``,`` when it has no
        ``;``); None as empty."""
        if value is None:
            return []
        if isinstance(value, str):
            parts = value.split(";") if ";" in value else value.split(",")
            return [part.strip() for part in parts if part.strip()]
        return value

    def is_empty(self) -> bool:
        """True when the listing said nothing besides title and abstract."""
        return self == PaperMeta()


class Paper(BaseModel):
    """One paper from a listing.

    ``id`` is stable across re-ordering and re-pasting: the arXiv id when the listing or
    the text holds one, otherwise a short hash of the normalised title. ``truncated``
    flags an abstract that looks cut off mid-sentence. ``meta`` is what the listing said
    about the paper besides (None when nothing).
    """

    id: str
    title: str
    abstract: str
    source: Source
    truncated: bool = False
    meta: PaperMeta | None = None


#: Bounds sent in the schema, so a grammar-enforcing server cannot ramble past them.
MAX_GAINS = 6
SUMMARY_MAX_CHARS = 320
SUMMARY_HELP = "One plain English sentence of 10 to 40 words saying what the paper does and finds."
#: Opens on "This paper", keeps template and markup characters out and ends at the first
#: full stop; a dot goes on only between digits ("2.5"), so a small model cannot run on with
#: ".1.2.1.2...". The bound is inside the pattern, since llama.cpp ignores ``maxLength`` next
#: to a ``pattern``: without it SmolLM2 looped "and the new way to train a model ..." until
#: ``max_tokens``. (The bounded repeat costs no decoding speed: 13-16 ms per token with or
#: without it, llama-server, 6 seed papers, 2 rounds.)
SUMMARY_PATTERN = r'^This paper [a-z]([^{}<>|\[\]"\\.]|[0-9][.][0-9]){0,%d}[.]$' % (SUMMARY_MAX_CHARS - 20)


# String types whose JSON schema carries ``maxLength``: sent, not validated (a value from a
# server that ignores it is checked by grounding like any other). The bound is declared on
# the type, so ``Name | None`` puts it inside the string branch of ``anyOf``, where a
# grammar-enforcing server reads it (next to ``anyOf`` it is ignored).
Value = Annotated[str, Field(json_schema_extra={"maxLength": 32})]
Name = Annotated[str, Field(json_schema_extra={"maxLength": 60})]
Phrase = Annotated[str, Field(json_schema_extra={"maxLength": 120})]
Url = Annotated[str, Field(json_schema_extra={"maxLength": 160})]
Clause = Annotated[str, Field(json_schema_extra={"maxLength": 200})]
#: The one-line summary, bounded by its pattern.
Summary = Annotated[
    str, Field(description=SUMMARY_HELP, json_schema_extra={"maxLength": SUMMARY_MAX_CHARS, "pattern": SUMMARY_PATTERN})
]


class Contribution(str, Enum):
    """The kind of contribution a paper makes."""

    method = "method"
    dataset_or_benchmark = "dataset_or_benchmark"
    survey = "survey"
    analysis = "analysis"
    system_or_tool = "system_or_tool"
    theory = "theory"
    other = "other"


#: What a claimed number is: better than something (by N, N x faster, from A to B), or an
#: absolute result (reaches N, an accuracy of N).
GainKind = Literal["improvement", "score"]


class ClaimedGain(BaseModel):
    """One quantitative result the abstract claims for this paper."""

    metric: Name = Field(description="What is measured, e.g. 'accuracy', 'training speed'.")
    value: Value = Field(
        description="The number exactly as written with its qualifier or range, e.g. '4.5x', 'up to 16x', '0.4%-4.5%'."
    )
    magnitude: float | None = Field(
        default=None, description="The number alone as a float, e.g. 4.5; null if none."
    )
    unit: Value | None = Field(default=None, description="Unit such as '%', 'x', 'points'; null if none.")
    baseline: Name | None = Field(
        default=None, description="What it is compared against, named in the same clause (over / than / vs.); else null."
    )
    dataset: Name | None = Field(default=None, description="Dataset or benchmark named in the same clause; else null.")
    evidence: Clause = Field(description="The clause of the abstract stating it, copied verbatim.")
    kind: GainKind | None = Field(
        default=None, description="improvement: better than something (by N, N x faster); score: an absolute result."
    )


class Extraction(BaseModel):
    """What a paper addresses, proposes and claims, taken only from its abstract."""

    task: Phrase | None = Field(
        description="The problem this paper addresses: a short phrase copied from the abstract; not background."
    )
    method: Phrase | None = Field(description="What this paper proposes or does: one whole phrase copied from the abstract.")
    method_name: Name | None = Field(
        default=None,
        description="The name this paper gives its own method, whole, with its acronym when defined; "
        "never a term of the field (e.g. 'LLMs'); null if unnamed.",
    )
    claimed_gains: list[ClaimedGain] = Field(
        default_factory=list,
        description="Quantitative gains claimed in the abstract; empty if it states no numbers.",
        json_schema_extra={"maxItems": MAX_GAINS},
    )
    code_link: Url | None = Field(default=None, description="A URL to code that occurs in the abstract; null if none.")
    contribution: Contribution = Field(description="The main kind of contribution.")
    summary: Summary


#: The old name of :class:`Extraction`, kept for one release.
PaperSummary = Extraction


class SummaryAnswer(BaseModel):
    """What the model is asked when the rules give the other fields (policy ``rules-first``).

    The summary's ``pattern`` makes a grammar-enforcing server start it with "This paper"
    and keep template and markup characters out of it: a small model then writes a
    sentence instead of a title or debris. It is sent, not validated: a server that
    ignores it is checked by the summary gate like any other."""

    summary: Summary
    contribution: Contribution = Field(description="The main kind of contribution.")


class SentenceAnswer(BaseModel):
    """The summary alone: what the model is asked under ``rules-first`` when the rules'
    cue words also decide the kind of contribution (most papers), so it writes no token
    it does not need to."""

    summary: Summary


class LinkKind(str, Enum):
    """What a URL found in an abstract points at."""

    code = "code"
    project_page = "project_page"
    dataset = "dataset"
    model_weights = "model_weights"
    demo = "demo"
    paper = "paper"
    other = "other"


class Link(BaseModel):
    """A URL found in the abstract (deterministically, never by the model) and its kind."""

    url: str
    kind: LinkKind


CodeStatus = Literal["linked", "promised", "none"]
#: Where a value came from: the rules (:mod:`extractor.evidence.rules`, the link finder) or the model.
Origin = Literal["rule", "model"]
#: Where a summary came from: the model (it passed the gate) or the abstract itself.
SummarySource = Literal["model", "extractive"]


class Dropped(BaseModel):
    """A value the model gave that grounding removed, and why."""

    field: str
    value: str
    reason: str


class Unsure(BaseModel):
    """A value found for a field but not shown: its source is not precise enough, or a
    check of the correctness pass doubts it. Kept, with the reason, for a debug view;
    never in the fields, the CSV or the digest.

    ``source`` is the rule, ``model`` or the pass that proposed it; ``precision`` the
    measured precision of that source for the field (None when a check, not a
    measurement, held it back)."""

    field: str
    value: str
    source: str
    reason: str
    precision: float | None = None


class Provenance(BaseModel):
    """How an answer was produced. Never holds a key: ``endpoint`` is the host:port only, of
    the replica that answered the paper's last request (of every configured replica,
    joined by commas, when nothing was asked: a cached answer, or a paper that failed)."""

    model: str
    endpoint: str
    mode: str
    prompt_version: str
    prompt_hash: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    attempts: int = 0
    cached: bool = False
    parts: int = 1


class ErrorInfo(BaseModel):
    """Why a paper has no extraction: its ``kind`` (one of
    :data:`~extractor.errors.ErrorKind`: ``validation``, ``timeout``, ``rate_limit``,
    ``server``, ``auth``...), a one-line message and the attempts made."""

    kind: ErrorKind
    message: str
    attempts: int = 0


class Record(BaseModel):
    """One line of output: the paper, its extraction and where the extraction came from.

    A paper that failed is still a record: ``extraction`` is ``None`` and ``error`` says why.
    ``meta`` is the paper's :class:`PaperMeta` (None in records of older releases).
    """

    id: str
    title: str
    abstract: str
    source: Source
    truncated: bool = False
    meta: PaperMeta | None = None
    extraction: Extraction | None = None
    links: list[Link] = Field(default_factory=list)
    code_status: CodeStatus = "none"
    grounding: dict[str, str] = Field(default_factory=dict)
    dropped: list[Dropped] = Field(default_factory=list)
    origin: dict[str, Origin] = Field(default_factory=dict)
    found_by: dict[str, str] = Field(default_factory=dict)
    unsure: list[Unsure] = Field(default_factory=list)
    summary_source: SummarySource | None = None
    provenance: Provenance | None = None
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        """True when the paper was extracted without error."""
        return self.error is None and self.extraction is not None

    @property
    def kind(self) -> Contribution | None:
        """The kind of contribution as a reader may see it: None when no source gave one it
        could trust (the extraction then holds ``other``, with no origin). Records of
        releases before origins were kept show their kind as written."""
        if self.extraction is None:
            return None
        if "contribution" not in self.origin and (self.origin or self.unsure):
            return None
        return self.extraction.contribution

    @classmethod
    def for_paper(cls, paper: Paper, **fields: object) -> Record:
        """Start a record from a paper's own fields."""
        return cls(
            id=paper.id,
            title=paper.title,
            abstract=paper.abstract,
            source=paper.source,
            truncated=paper.truncated,
            meta=paper.meta,
            **fields,  # type: ignore[arg-type]
        )
