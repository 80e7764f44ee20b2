"""The Python API and the command line agree: ``extract_many`` de-duplicates as ``extractor
run`` does, takes mappings as well as papers and refuses what is not a paper in one
line before any request; ``Extractor.aextract`` takes a mapping with a title and an
abstract.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import extractor
from extractor import Extractor, ExtractorError, InputError, Settings
from extractor.records.listings import survey

from .conftest import SEEDS
from .stub_server import StubServer


def test_extract_many_keeps_one_record_per_unique_paper_like_run() -> None:
    report = survey([SEEDS])
    assert report.read > len(report.papers), "the seeds hold duplicates"
    records = list(extractor.extract_many(extractor.read_papers([SEEDS]), policy="rules", cache=False))
    assert len(records) == len(report.papers) == len({r.id for r in records})
    assert {r.id for r in records} == {p.id for p in report.papers}


@pytest.mark.parametrize(
    ("papers", "message"),
    [([None], r"^papers\[0\]: is NoneType; give a Paper or a mapping"), ("We propose X.", "^papers: is str, expected an iterable"),
     ([{"title": "A"}], r"^papers\[0\]: has no 'abstract' text"), ({"title": "A", "abstract": "B."}, "^papers: is dict"),
     ([{"title": 3, "abstract": "B."}], r"'title' is int")],
)  # fmt: skip
def test_extract_many_refuses_what_is_not_papers_before_any_request(papers: Any, message: str) -> None:
    with StubServer() as stub:
        with pytest.raises(InputError, match=message) as caught:
            extractor.extract_many(papers, base_url=stub.base_url, model="stub-model", cache=False)
        assert stub.requests == 0 and "\n" not in str(caught.value)


def test_mappings_are_papers_for_extract_many_and_aextract(tmp_path: Path) -> None:
    paper = {"title": "SlowFast Networks for Video Recognition", "abstract": "We present SlowFast networks. They work."}
    records = list(extractor.extract_many([paper, dict(paper), {**paper, "id": "p1"}], policy="rules", cache=False))
    assert len(records) == 1 and records[0].ok  # one paper, by the duplicate rule of extractor run

    async def one() -> Any:
        async with Extractor(Settings(policy="rules", cache=False)) as ex:
            record = await ex.aextract(paper)
            with pytest.raises(InputError, match="^paper: is str"):
                await ex.aextract("We propose X.")  # type: ignore[arg-type]
            return record

    record = asyncio.run(one())
    assert record.ok and record.title == paper["title"] and record.extraction is not None


@pytest.mark.parametrize("abstract", [None, 42, b"We propose X.", "", "   \n"])
def test_summarize_refuses_what_is_not_an_abstract_before_any_request(abstract: Any, tmp_path: Path) -> None:
    with StubServer() as stub:
        with pytest.raises(InputError, match="^abstract: is ") as caught:
            extractor.summarize(abstract, base_url=stub.base_url, model="stub-model", cache_dir=tmp_path / "c")
        assert stub.requests == 0
    assert isinstance(caught.value, ExtractorError) and "\n" not in str(caught.value)
    with pytest.raises(InputError, match="^title: is int"):
        extractor.summarize("We propose X.", title=3, base_url=stub.base_url)  # type: ignore[arg-type]
