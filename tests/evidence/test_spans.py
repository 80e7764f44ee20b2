"""Span-constrained extraction: candidates come from the abstract, choices map back."""

from __future__ import annotations

import json

from extractor.records.listings import read_papers
from extractor.evidence.spans import MAX_CHOICES, candidates, choice_model, to_summary

from ..conftest import SEEDS


def test_names_numbers_and_clauses_come_from_the_abstract() -> None:
    title = "A Multigrid Method for Efficiently Training Video Models"
    abstract = (
        "We propose to use variable mini-batch shapes. The proposed multigrid method trains a ResNet-50 "
        "SlowFast network 4.5x faster (wall-clock time, same hardware) while also improving accuracy "
        "(+0.8% absolute) on Kinetics-400 compared to the baseline training method in 2020."
    )
    c = candidates(title, abstract)
    assert {"SlowFast", "ResNet-50", "Kinetics-400"} <= set(c.names)
    texts = [n.text for n in c.numbers]
    assert "4.5x" in texts and "+0.8%" in texts
    assert "2020" not in texts and "50" not in texts  # years and digits of names are not gains
    gain = next(n for n in c.numbers if n.text == "4.5x")
    assert gain.magnitude == 4.5 and gain.unit == "x" and "4.5x faster" in gain.clause


def test_every_candidate_of_every_seed_occurs_in_its_abstract_and_is_capped() -> None:
    for paper in read_papers([SEEDS]):
        c = candidates(paper.title, paper.abstract)
        assert len(c.names) <= MAX_CHOICES and len(c.numbers) <= MAX_CHOICES
        for span in [*c.names, *c.phrases, *(n.text for n in c.numbers), *(n.clause for n in c.numbers)]:
            assert span in " ".join(paper.abstract.split()) or span in paper.abstract, (paper.id, span)


def test_choice_model_offers_enums_and_maps_back() -> None:
    c = candidates("EVE: Encoder-Free VLMs", "We present EVE, which improves accuracy by 4.5% on VQAv2.")
    model = choice_model(c)
    schema = model.model_json_schema()
    assert "EVE" in json.dumps(schema["properties"]["method_name"]) and "none" in json.dumps(schema)
    choice = model.model_validate(
        {"task": "none", "method": "none", "method_name": "EVE", "contribution": "method", "summary": "s",
         "claimed_gains": [{"metric": "accuracy", "value": "4.5%", "dataset": "VQAv2"}]}
    )  # fmt: skip
    summary = to_summary(choice, c)
    assert summary.method_name == "EVE"
    assert "improves accuracy by 4.5% on VQAv2" in summary.claimed_gains[0].evidence
    assert summary.claimed_gains[0].magnitude == 4.5 and summary.claimed_gains[0].dataset == "VQAv2"


def _enum_values(schema: object) -> list[object]:
    if isinstance(schema, dict):
        own = list(schema.get("enum", [])) + ([schema["const"]] if "const" in schema else [])
        return own + [v for value in schema.values() for v in _enum_values(value)]
    if isinstance(schema, list):
        return [v for item in schema for v in _enum_values(item)]
    return []


def test_no_seed_offers_a_choice_that_breaks_llama_cpp_grammars() -> None:
    # A quoted phrase ('a "closed-loop" variation') as an enum value made llama-cpp-python
    # 0.3 build an unparsable grammar and its server crash, failing every later paper.
    quoted = 0
    for paper in read_papers([SEEDS]):
        quoted += '"' in paper.abstract
        values = _enum_values(choice_model(candidates(paper.title, paper.abstract)).model_json_schema())
        assert values, paper.id
        bad = [v for v in values if isinstance(v, str) and any(ch in v for ch in '"\\') or str(v) != str(v).strip()]
        assert not bad, (paper.id, bad)
    assert quoted > 50  # the seeds do quote phrases


def test_the_span_schema_key_follows_the_schema_without_building_it() -> None:
    from extractor.evidence.spans import schema_hash, spans_schema_key

    papers = list(read_papers([SEEDS]))[:40]
    keys, hashes = {}, {}
    for paper in papers:
        c = candidates(paper.title, paper.abstract)
        keys[paper.id], hashes[paper.id] = spans_schema_key(c), schema_hash(choice_model(c))
    # Same candidates, same key; the key differs exactly where the schema differs.
    by_hash: dict[str, set[str]] = {}
    for pid, h in hashes.items():
        by_hash.setdefault(h, set()).add(keys[pid])
    assert all(len(k) == 1 for k in by_hash.values())
    assert len(set(keys.values())) == len(set(hashes.values()))
    c = candidates(papers[0].title, papers[0].abstract)
    c.names = c.names[:-1]
    assert spans_schema_key(c) != keys[papers[0].id]
