"""The promise users rely on: no URL or number is printed unless it is in the abstract.

Checked on all 608 seed papers with answers a small model would give (invented URLs,
numbers and names mixed with real ones), through the same grounding the pipeline runs.
"""

from __future__ import annotations

from extractor.evidence.grounding import ground, number_occurs
from extractor.evidence.links import find_links
from extractor.records.listings import read_papers
from extractor.schema import ClaimedGain, Extraction
from extractor.evidence.spans import candidates
from extractor.evidence.text import url_key

from ..conftest import SEEDS


def _invented(abstract: str, real_number: str | None) -> Extraction:
    gains = [ClaimedGain(metric="accuracy", value="97.3%", magnitude=97.3, evidence="improves accuracy by 97.3%")]
    if real_number:
        gains.append(ClaimedGain(metric="m", value=real_number, evidence=abstract[:200]))
    return Extraction(
        task="2018-04-30T17:59:56.314Z", method="a method", method_name="FakeNet-9000",
        claimed_gains=gains, code_link="https://github.com/invented/repo",
        contribution="method", summary="A paper.",
    )  # fmt: skip


def test_no_invented_url_or_number_survives_on_any_seed() -> None:
    papers = list(read_papers([SEEDS]))
    assert len(papers) == 608
    linked = 0
    for paper in papers:
        links = find_links(paper.abstract)
        numbers = candidates(paper.title, paper.abstract).numbers
        result = ground(_invented(paper.abstract, numbers[0].text if numbers else None), paper.abstract, links)
        summary = result.summary
        if summary.code_link is not None:
            assert url_key(summary.code_link) in {url_key(link.url) for link in links}, paper.id
            linked += 1
        for gain in summary.claimed_gains:
            assert number_occurs(gain.value, paper.abstract), (paper.id, gain.value)
        assert summary.method_name is None and summary.task is None
        assert any(d.field == "code_link" for d in result.dropped)
    assert linked >= 100  # the abstract's own code link replaces the invented one
