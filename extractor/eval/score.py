"""Score extracted records against third-party gold (a gold file in the format of :mod:`~extractor.eval.gold`).

The gold file is JSON Lines, one paper a line (see the README next to it): ``id``,
``source``, ``title``, ``abstract``, ``fields_annotated`` and ``gold`` with ``task``,
``method``, ``claimed_gains`` and ``code_link``. Records are matched to gold by ``id``
(the tool uses the gold ``id`` as the paper id when it runs on gold abstracts).

What is scored
--------------
Only the fields listed in ``fields_annotated`` are scored, and of those only the ones
whose gold value is not ``null`` (``null`` = not annotated, skipped; ``[]`` = annotated
and empty, so any prediction is a false positive).

* ``task`` -- ``extraction.task`` (one phrase) against the list of gold phrases.
* ``method`` -- ``extraction.method_name`` and ``extraction.method`` against the gold
  phrases; the paper matches if either of the two matches any gold phrase.

  Both are counted **per paper**: TP = 1 when the prediction matches any gold phrase;
  FP = 1 when there is a prediction and it matches none (also when gold is ``[]``);
  FN = 1 when gold is non-empty and nothing matched. Recall is therefore "share of
  papers with gold phrases where some gold phrase was found": a single predicted phrase
  cannot be expected to recall every phrase SciERC lists (it lists every method
  mentioned, not only the proposed one). An empty string is no prediction.

  **Lenient phrase match.** Both phrases are lowercased and split into runs of letters
  and digits (so punctuation and hyphens separate tokens: ``state - of - the - art`` ==
  ``state-of-the-art``); the stopwords in :data:`STOPWORDS` are dropped (unless that
  leaves nothing) and plurals are lightly stemmed (``-ies`` -> ``-y``, ``-sses`` ->
  ``-ss``, a final ``-s`` dropped unless the word ends in ``ss``/``us``/``is`` or has at
  most 3 letters). Two phrases match when the **token F1** (Dice coefficient of the token
  multisets, ``2|A∩B| / (|A|+|B|)``) is at least :data:`PHRASE_THRESHOLD` = 0.5.

* ``claimed_gains`` -- predicted gain values against gold ``value`` strings, counted
  **per value** with a one-to-one matching inside each paper. A value is reduced to its
  numbers (:func:`numbers_in`): ``%``, ``x``/``×``, ``+``/``-`` signs, units and words are
  ignored, thousands separators and spaces inside a number are removed, and numbers
  are compared as decimals (``71.8%`` == ``71.8 %`` == ``71.80`` == ``71.8``;
  ``16.0`` == ``16``; ``4.5x`` == ``×4.5`` == ``4.5``; a ratio ``3:1`` is ``(3, 1)``).
  Gold values are deduplicated per paper; gold values without a digit (SciREX has
  ``"-"``) cannot be matched and are skipped. A predicted gain matches a gold value when
  every number of the gold value occurs among the numbers of the predicted value (so
  ``from 73.8% to 82.3%`` can match gold ``82.3``) or, for a one-number gold value,
  equals the predicted ``magnitude``. Predicted gains are deduplicated by (numbers,
  magnitude); an unmatched predicted gain, including one without any number, is a FP.
  The gold is partial (other claims in an abstract may be unannotated), so **precision
  on this field is a lower bound**.

* ``code_link`` -- predicted URLs against gold URLs, per URL, exact after
  :func:`normalize_url`: all whitespace removed (NLPContributionGraph text is tokenised:
  ``https : //github.com/ foo / bar``), surrounding brackets/quotes and trailing
  ``.,;:`` removed, scheme and ``www.`` removed, host lowercased, trailing ``/`` and
  ``.git`` removed (path case is kept). The predicted URLs are ``extraction.code_link``
  plus every ``record.links`` entry of kind ``code``, deduplicated after normalisation.

A gold paper with no record counts as no prediction (FN wherever gold is non-empty) and
is counted as ``missing``; a record with an ``error`` (or without an extraction) likewise,
counted as ``failed``. Records whose id is not in the gold are counted as
``extra_records`` and otherwise ignored.

Scores are precision, recall and F1 with their TP/FP/FN counts, per field, per source
and overall (micro-averaged: counts summed over sources). A ratio with a zero
denominator is ``None`` (shown as ``-``); F1 is ``2TP / (2TP+FP+FN)``.

Grounding check
---------------
Independently of the gold, the report gives the share of emitted URLs
(``extraction.code_link`` and all ``record.links``) and of emitted numbers (every number
in every ``claimed_gains`` value) that occur in the record's own abstract -- it should
be 100 %. A URL is grounded when its normalised form, lowercased, is a substring of the
lowercased abstract with all whitespace removed. A number is grounded when it is among
the abstract's numbers, read both as written and with thousands separators (``5, 000``)
and spaces inside numbers (``0. 447``) removed. The number of values grounding dropped
(``len(record.dropped)``, summed, and per field) is reported too.

The thresholds are fixed constants, chosen once from the definition above and not tuned
to individual records.

The matching rules (phrase tokens, numbers, URLs: :mod:`extractor.eval.matching`) are
independent of the code it scores, on purpose: they follow the gold's definition above,
so a change to how the extractor reads numbers or URLs (:mod:`extractor.evidence.text`) cannot
move the yardstick too. Only the reading of JSON Lines is shared (:mod:`extractor.records.jsonl`).
The scorer does not import the extractor: the gold and records are read by
:mod:`extractor.eval.gold`, the report is :mod:`extractor.eval.report`, and the records of a run on
the gold abstracts come from :mod:`extractor.eval.run`.

Example:
    >>> phrase_match("state - of - the - art parsers", "state-of-the-art parser")
    True
    >>> numbers_in("+0.8 % absolute"), numbers_in("4.5x"), numbers_in("1,000 images")
    (('0.8',), ('4.5',), ('1000',))
    >>> normalize_url("https : //github.com/ Foo / bar.git")
    'github.com/Foo/bar'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Literal

from .gold import FIELDS, FieldName, GoldFields, GoldGain, GoldPaper, gold_sample, load_gold, load_records
from .matching import (
    PHRASE_THRESHOLD,
    STOPWORDS,
    abstract_numbers,
    canon,
    normalize_url,
    numbers_in,
    phrase_match,
    phrase_tokens,
    token_f1,
)
from ..schema import ClaimedGain, LinkKind, Record
from .report import EvalReport, FieldScore, GainDetail, Grounding, PaperCounts, PaperOutcome, Tally, side_by_side

__all__ = [
    "FIELDS",
    "gold_sample",
    "PHRASE_THRESHOLD",
    "STOPWORDS",
    "EvalReport",
    "FieldScore",
    "GoldFields",
    "GoldGain",
    "GoldPaper",
    "Grounding",
    "PaperCounts",
    "PaperOutcome",
    "Tally",
    "load_gold",
    "load_records",
    "normalize_url",
    "numbers_in",
    "phrase_match",
    "phrase_tokens",
    "score",
    "side_by_side",
    "token_f1",
]


def _score_phrases(preds: list[str], gold: list[str]) -> Tally:
    preds = [p for p in preds if p.strip()]
    hit = any(phrase_match(p, g) for p in preds for g in gold)
    return Tally(tp=int(hit), fp=int(bool(preds) and not hit), fn=int(bool(gold) and not hit))


def _bipartite(n_left: int, n_right: int, edge: dict[int, list[int]]) -> dict[int, int]:
    """A maximum matching, ``{right: left}`` (augmenting paths; sizes here are tiny)."""
    owner: dict[int, int] = {}

    def augment(u: int, seen: set[int]) -> bool:
        for v in edge.get(u, []):
            if v in seen:
                continue
            seen.add(v)
            if v not in owner or augment(owner[v], seen):
                owner[v] = u
                return True
        return False

    for u in range(n_left):
        augment(u, set())
    return owner


def _score_gains(record: Record | None, gold: list[GoldGain], detail: GainDetail | None = None) -> Tally:
    gold_by_key: dict[tuple[str, ...], GoldGain] = {}
    for g in gold:
        gold_by_key.setdefault(numbers_in(g.value), g)
    gold_keys = [k for k in gold_by_key if k]
    preds: list[tuple[tuple[str, ...], str | None]] = []
    gains: list[ClaimedGain] = []
    if record is not None and record.extraction is not None:
        for gain in record.extraction.claimed_gains:
            mag = canon(repr(abs(gain.magnitude))) if gain.magnitude is not None else None
            if (numbers_in(gain.value), mag) not in preds:
                preds.append((numbers_in(gain.value), mag))
                gains.append(gain)

    def fits(pred: tuple[tuple[str, ...], str | None], gk: tuple[str, ...]) -> bool:
        nums, mag = pred
        return all(n in nums for n in gk) or (len(gk) == 1 and mag == gk[0])

    edges = {i: [j for j, gk in enumerate(gold_keys) if fits(p, gk)] for i, p in enumerate(preds)}
    owner = _bipartite(len(preds), len(gold_keys), edges)
    if detail is not None:
        for j, i in owner.items():
            g, p = gold_by_key[gold_keys[j]], gains[i]
            detail.matched += 1
            if g.metric:
                detail.metric_gold += 1
                detail.metric_right += bool(p.metric) and phrase_match(p.metric, g.metric)
            if g.dataset:
                detail.dataset_gold += 1
                detail.dataset_right += bool(p.dataset) and phrase_match(p.dataset or "", g.dataset)
    tp = len(owner)
    return Tally(tp=tp, fp=len(preds) - tp, fn=len(gold_keys) - tp)


def _predicted_code_links(record: Record) -> list[str]:
    urls = [record.extraction.code_link] if record.extraction and record.extraction.code_link else []
    urls += [link.url for link in record.links if link.kind == LinkKind.code]
    return list(dict.fromkeys(u for u in (normalize_url(u) for u in urls) if u))


def _score_links(record: Record | None, gold: list[str]) -> Tally:
    gold_set = set(u for u in (normalize_url(g) for g in gold) if u)
    pred_set = set(_predicted_code_links(record)) if record is not None else set()
    tp = len(pred_set & gold_set)
    return Tally(tp=tp, fp=len(pred_set) - tp, fn=len(gold_set) - tp)


def _score_field(field: FieldName, record: Record | None, paper: GoldPaper, detail: GainDetail | None = None) -> Tally:
    ext = record.extraction if record is not None else None
    if field == "task":
        return _score_phrases([ext.task or ""] if ext else [], paper.gold.task or [])
    if field == "method":
        preds = [ext.method_name or "", ext.method or ""] if ext else []
        return _score_phrases(preds, paper.gold.method or [])
    if field == "claimed_gains":
        return _score_gains(record, paper.gold.claimed_gains or [], detail)
    return _score_links(record, paper.gold.code_link or [])


def _grounding(record: Record) -> Grounding:
    g = Grounding(dropped=len(record.dropped), dropped_by_field=dict(Counter(d.field for d in record.dropped)))
    ext = record.extraction
    if ext is None:
        return g
    flat = re.sub(r"\s+", "", record.abstract).lower()
    urls = [ext.code_link] if ext.code_link else []
    urls += [link.url for link in record.links]
    for url in dict.fromkeys(u for u in (normalize_url(u) for u in urls) if u):
        g.urls += 1
        g.urls_in_abstract += url.lower() in flat
    known = abstract_numbers(record.abstract)
    for gain in ext.claimed_gains:
        for num in numbers_in(gain.value):
            g.numbers += 1
            g.numbers_in_abstract += num in known
    return g


def score(gold: list[GoldPaper], records: Mapping[str, Record]) -> EvalReport:
    """Score ``records`` (``{paper id: record}``) against ``gold``; see the module doc."""
    sources = list(dict.fromkeys(p.source for p in gold))
    by_source = {s: {f: FieldScore() for f in FIELDS} for s in sources}
    overall = {f: FieldScore() for f in FIELDS}
    papers_by_source = {s: PaperCounts() for s in sources}
    papers = PaperCounts()
    grounding_by_source = {s: Grounding() for s in sources}
    grounding = Grounding()
    outcomes: list[PaperOutcome] = []
    gold_ids = set()
    gains = GainDetail()

    for paper in gold:
        gold_ids.add(paper.id)
        record = records.get(paper.id)
        status: Literal["ok", "missing", "failed"] = "ok"
        if record is None:
            status = "missing"
        elif not record.ok:
            status = "failed"
        for counts in (papers_by_source[paper.source], papers):
            counts.papers += 1
            counts.missing += status == "missing"
            counts.failed += status == "failed"
        if record is not None:
            g = _grounding(record)
            grounding_by_source[paper.source].add(g)
            grounding.add(g)
        usable = record if status == "ok" else None
        outcome = PaperOutcome(id=paper.id, source=paper.source, status=status)
        for field in paper.scored_fields():
            tally = _score_field(field, usable, paper, gains)
            outcome.fields[field] = tally
            for target in (by_source[paper.source][field], overall[field]):
                target.add(tally)
                target.papers += 1
        outcomes.append(outcome)

    return EvalReport(
        sources=sources,
        by_source=by_source,
        overall=overall,
        papers_by_source=papers_by_source,
        papers=papers,
        grounding_by_source=grounding_by_source,
        grounding=grounding,
        extra_records=sum(1 for rid in records if rid not in gold_ids),
        gains=gains,
        outcomes=outcomes,
    )

