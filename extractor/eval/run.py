"""Records for the gold papers of ``extractor eval``: the extractor run on the gold
abstracts (:func:`aextract_gold`, the gold ``id`` as paper id), or the link finder alone
(:func:`links_only_records`). The scorer (:mod:`~extractor.eval.score`) does not import this
module: it scores whatever records it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..extraction.extractor import open_extractor
from .gold import GoldPaper
from ..evidence.links import best_code_link, code_status, find_links
from ..records.output import RecordWriter
from ..runs.progress import Progress
from ..schema import Paper, Extraction, Record, Source
from ..settings import Settings

__all__ = ["aextract_gold", "links_only_records"]


def links_only_records(gold: list[GoldPaper]) -> dict[str, Record]:
    """Records holding only what is found without any model: the abstract's links, its
    best code link and code status. Scores the link finder alone."""
    records: dict[str, Record] = {}
    for i, g in enumerate(gold, 1):
        links = find_links(g.abstract)
        records[g.id] = Record(
            id=g.id, title=g.title or "", abstract=g.abstract, source=Source(path="gold", line=i),
            links=links, code_status=code_status(g.abstract, links),
            extraction=Extraction(task=None, method=None, code_link=best_code_link(links),
                                    contribution="other", summary=""),
        )  # fmt: skip
    return records


async def aextract_gold(
    gold: list[GoldPaper],
    settings: Settings,
    *,
    announce: Callable[[str], None] | None = None,
    save: str | Path | None = None,
    quiet: bool = False,
) -> dict[str, Record]:
    """Extract every gold abstract (the cache applies), the gold ``id`` as paper id.
    With ``save``, the records are also written there (JSONL)."""
    papers = [
        Paper(id=g.id, title=g.title or "", abstract=g.abstract, source=Source(path="gold", line=i))
        for i, g in enumerate(gold, 1)
    ]
    records: dict[str, Record] = {}
    writer = RecordWriter(save) if save is not None else None
    try:
        async with open_extractor(settings, announce=announce) as ex:
            with Progress(total=len(papers), enabled=not quiet) as progress:
                progress.start()
                async for record in ex.aextract_many(p for p in papers if p.id not in records):
                    records[record.id] = record
                    progress.advance(record)
                    if writer is not None:
                        writer.write(record)
    finally:
        if writer is not None:
            writer.close()
    return records
