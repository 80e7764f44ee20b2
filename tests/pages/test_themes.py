"""The themes of a day (extractor/pages/themes.py): found without a model, each named by a
phrase its papers hold, on the two Hugging Face fixture days and on made-up days."""

from __future__ import annotations

import json

from extractor.pages.themes import (
    ThemeDoc,
    _phrases,
    count_background,
    min_size,
    themes,
)

from ..conftest import ROOT

DATA = ROOT / "tests" / "data" / "daily"


def fixture_day(day: str) -> list[ThemeDoc]:
    items = json.loads((DATA / f"hf_daily_papers_{day}.json").read_text())
    return [ThemeDoc(item["paper"]["id"], item["paper"]["title"], item["paper"]["summary"]) for item in items]


def test_the_fixture_days_have_the_themes_a_reader_sees() -> None:
    first = themes(fixture_day("2024-10-25"))
    assert [(t.name, t.ids) for t in first if t.key == "long context"] == [("long-context", ["2410.18533", "2410.18745"])]
    second = themes(fixture_day("2024-10-28"))
    assert {t.key for t in second} >= {"long context"}
    for docs, found in ((fixture_day("2024-10-25"), first), (fixture_day("2024-10-28"), second)):
        by_id = {d.id: d for d in docs}
        for theme in found:
            assert len(theme.ids) >= min_size(len(docs))
            for pid in theme.ids:  # the name is a phrase each of its papers holds
                doc = by_id[pid]
                assert theme.key in {key for key, _ in _phrases(doc.named + " . " + doc.abstract)}, (theme.name, pid)
        assert len({pid for t in found for pid in t.ids}) == sum(len(t.ids) for t in found), "a paper is in one theme"


def test_words_every_abstract_uses_are_never_a_theme() -> None:
    docs = [ThemeDoc(str(i), f"Paper {i}", "We propose a novel approach and show strong results on the benchmark. "
                                           "Extensive experiments demonstrate the performance of the model.")
            for i in range(10)]  # fmt: skip
    assert themes(docs) == []


def test_a_shared_topic_is_found_and_named_as_written() -> None:
    docs = [ThemeDoc("a", "Speculative decoding for LLM inference", "We speed up speculative decoding."),
            ThemeDoc("b", "Faster speculative decoding", "Speculative decoding with a draft model."),
            ThemeDoc("c", "Protein folding", "We fold proteins."),
            ThemeDoc("d", "Frame interpolation", "We interpolate video frames."),
            ThemeDoc("e", "RLHF without rewards", "We study RLHF."),
            ThemeDoc("f", "Scaling RLHF", "RLHF at scale.")]  # fmt: skip
    found = {t.name: t.ids for t in themes(docs)}
    assert found == {"speculative decoding": ["a", "b"], "RLHF": ["e", "f"]}
    assert themes(docs[:3]) == [] and themes([]) == []  # too few papers for a theme of two


def test_the_background_table_is_the_seed_papers() -> None:
    from extractor.records.listings import survey

    seeds = ROOT / "seeds"
    table = count_background(p.title + ". " + p.abstract for p in survey([str(seeds)]).papers)
    shipped = json.loads((ROOT / "extractor" / "pages" / "background.json").read_text())
    assert table == shipped, "regenerate extractor/pages/background.json (see count_background)"


def test_a_title_case_verb_ends_no_phrase() -> None:
    docs = [ThemeDoc(str(i), f"Paper {i}: {topic} Made Fast", "") for i, topic in
            enumerate(["Image Segmentation", "Image Segmentation", "Protein Folding", "Protein Folding"])]  # fmt: skip
    assert [t.name for t in themes(docs)] == ["Image Segmentation", "Protein Folding"]
