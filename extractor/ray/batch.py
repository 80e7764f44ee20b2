"""The extraction stage of a Ray Data job: :class:`ExtractBatch`, a callable class for
``Dataset.map_batches``.

:class:`ExtractBatch` is a callable class for ``Dataset.map_batches`` with an actor pool
(``concurrency=N`` actors). Each actor holds one :class:`~extractor.extraction.extractor.Extractor`
and an event loop of its own (a thread), on which a batch's papers are extracted
``settings.concurrency`` at a time by :meth:`~extractor.extraction.extractor.Extractor.aextract_many`,
exactly as ``extractor run`` does. A batch has ``title`` and ``abstract`` columns (other
names: ``title_key`` / ``abstract_key``) and may have ``id`` and ``source`` (the
``{"path", "line"}`` of ``extractor papers --json``; else ``path``, as
``include_paths=True`` gives it). It returns one row per input row: the
:class:`~extractor.schema.Record` with its nested fields (``source``, ``extraction``,
``links``, ``grounding``, ``dropped``, ``origin``, ``provenance``, ``error``) as JSON
strings (:data:`~extractor.ray.recorddir.RECORD_COLUMNS`; :func:`~extractor.ray.recorddir.row_record`
turns a row back into the record).
A paper that fails is an error record, and a row that is not a paper (no title, an empty
abstract) an error record of kind ``input``: no row is ever lost. Only what stops
``extractor run`` too (a bad key, an unknown model, a server gone for
:data:`~extractor.extraction.extractor.GONE_LIMIT` papers in a row) fails the task; Ray retries it,
then stops the job, and a re-run resumes.

**Why our class and not ``ray.data.llm``.** Ray 2.60's ``build_processor`` with an
``HttpRequestProcessorConfig`` only sends HTTP: it would need our request bodies built in a
pre-step, and it has no typed schema, no re-ask, no grounding, no rules, no cache and no
error records (a request that fails after its retries fails the whole task). Within a
batch it awaits its requests one after another, so its concurrency is the number of actors
times Ray's async batches per actor (4 by default), where ours is actors times
``settings.concurrency``. The extraction is the point of ``extractor``, so the stage is this
class; the processor stays an option for plain prompts. ``benchmarks/ray_data.py`` times
both against ``extractor run`` at the same total concurrency on the loopback stub.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..extraction.extractor import Extractor
from ..schema import Paper, Record
from ..settings import Settings
from ..sync import SyncLoop
from .recorddir import record_table
from .rows import paper_of_row, rows_of

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow

__all__ = ["ExtractBatch"]


class ExtractBatch:
    """A callable class for ``Dataset.map_batches`` (see the module docstring): one
    :class:`~extractor.extraction.extractor.Extractor` per actor, ``settings.concurrency`` papers in
    flight on the actor's own event loop. ``settings`` may be a :class:`Settings` or its
    keyword dict; ``concurrency`` overrides ``settings.concurrency``. Returns a pyarrow
    table of :data:`~extractor.ray.recorddir.RECORD_COLUMNS`, one row per input row.

    Also usable without Ray: ``ExtractBatch(settings)(pandas_frame)``; :meth:`close` when done."""

    def __init__(
        self,
        settings: Settings | Mapping[str, Any] | None = None,
        *,
        concurrency: int | None = None,
        title_key: str = "title",
        abstract_key: str = "abstract",
    ) -> None:
        settings = settings if isinstance(settings, Settings) else Settings(**(settings or {}))
        if concurrency is not None:
            settings = settings.model_copy(update={"concurrency": concurrency})
        self.settings = settings
        self.title_key, self.abstract_key = title_key, abstract_key
        self._loop = SyncLoop(own_thread=True)
        self.extractor = Extractor(settings)
        self._closed = False

    def _await(self, coro: Any) -> Any:
        return self._loop.run(coro)

    def __call__(self, batch: Any) -> pyarrow.Table:
        papers: list[Paper] = []
        records: dict[int, Record] = {}
        for i, row in enumerate(rows_of(batch)):
            read = paper_of_row(row, self.title_key, self.abstract_key)
            if isinstance(read, Record):
                records[i] = read
            else:
                papers.append(read)
        order = [i for i in range(len(papers) + len(records)) if i not in records]
        done = self._await(self._extract(papers)) if papers else []
        by_id: dict[str, list[Record]] = {}
        for record in done:
            by_id.setdefault(record.id, []).append(record)
        for i, paper in zip(order, papers):  # input order, so a paper given twice keeps its row
            records[i] = by_id[paper.id].pop()
        return record_table([records[i] for i in sorted(records)])

    async def _extract(self, papers: list[Paper]) -> list[Record]:
        return [record async for record in self.extractor.aextract_many(papers)]

    def close(self) -> None:
        """Close the extractor (its cache and connections) and stop the loop."""
        if self._closed:
            return
        self._closed = True
        try:
            self._await(self.extractor.aclose())
        finally:
            self._loop.close(timeout=5)

    def __del__(self) -> None:  # an actor's end; never raises
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
