"""Ray Data: the same extraction as ``extractor run``, as a Ray Data job over many machines.

For archives that outgrow one process (millions of abstracts, several GPU replicas of a
server): ``pip install 'extractor[ray]'``. Ray is imported only inside this module's
functions, so the rest of ``extractor`` never needs it.

* :class:`~extractor.ray.batch.ExtractBatch` (:mod:`extractor.ray.batch`) is the stage for
  ``Dataset.map_batches``: each actor extracts its batch's papers exactly as ``extractor run``
  does, one row per input row (:mod:`extractor.ray.rows` reads the rows as papers); it is
  importable from here too.
* :func:`read_dataset` reads what Ray reads (JSONL, Parquet, CSV; local paths or object
  storage URIs such as ``s3://bucket/papers/``), and ``extractor``'s own listings (pasted
  Daily Papers text) from local paths; :func:`extract_dataset` adds the extraction stage;
  :func:`write_records` writes JSONL (each line exactly what ``extractor run`` writes) or
  Parquet into a directory; :func:`run_ray` does all three with resume, and is what
  ``extractor ray INPUTS -o OUTDIR`` runs.

**Resume** is by output: a re-run reads the ids already in the output directory, skips
the papers that succeeded there and extracts the rest (failed papers included). After the
write, :func:`~extractor.ray.recorddir.tidy_output` keeps one record per paper in the
directory, by the rule of every record file (:mod:`extractor.records.latest`: the latest
success, else the latest record); only files holding a superseded record are rewritten. So a run that was killed leaves finished files,
and the next run completes them. The answer **cache** is a diskcache on each node's disk
(``--cache-dir``): actors on one node share it, other nodes do not see it. On a cluster,
resume by output (above) is what saves finished work; for answers cached across nodes, point
``--cache-dir`` at a shared network filesystem (diskcache is SQLite: prefer a filesystem
with working locks), or keep to one node. Input rows are extracted as given: give distinct
papers (``extractor papers INPUTS --json`` writes them); a paper given twice is kept once
in the output by :func:`~extractor.ray.recorddir.tidy_output`.

Example (with a server every node reaches)::

    import ray
    from extractor import Settings
    from extractor.ray.data import ExtractBatch

    ds = ray.data.read_json("s3://bucket/papers/")           # title, abstract[, id]
    records = ds.map_batches(
        ExtractBatch,
        fn_constructor_kwargs={"settings": Settings(base_url="http://vllm:8000/v1", concurrency=16)},
        concurrency=4, batch_size=64, num_cpus=0.5,           # 4 actors x 16 requests in flight
    )
    records.write_parquet("s3://bucket/records/")
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, ExtractorError, InputError
from ..records.formats import format_for
from ..records.identity import unique_copies
from ..records.listings import read_papers
from ..schema import Paper
from ..settings import Settings
from .batch import ExtractBatch
from .recorddir import output_ids, record_json, tidy_output
from .rows import paper_of_row, papers_batch

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow
    import ray.data

__all__ = [
    "INSTALL_HINT", "ExtractBatch", "RayOptions", "RayStats", "extract_dataset", "paper_of_row", "read_dataset",
    "require_ray", "run_ray", "write_records",
]  # fmt: skip

INSTALL_HINT = "Ray is not installed: pip install 'extractor[ray]'"


def require_ray() -> Any:
    """The ``ray`` module, or :class:`~extractor.errors.ConfigError` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    return ray


# -- reading, extracting, writing ----------------------------------------------------------


def _format_of(path: str, explicit: str | None) -> str:
    """The dataset format of an input (:mod:`~extractor.records.formats`): a folder's by
    the files in it (a table format first, then text), a local file of no known
    extension is a text listing."""
    if explicit:
        return format_for("dataset", path, explicit) or "text"
    local = Path(path)
    if "://" not in path and local.is_dir():
        found = {format_for("dataset", p) for p in local.iterdir() if p.is_file()}
        for fmt in ("jsonl", "parquet", "csv", "text"):
            if fmt in found:
                return fmt
    fmt = format_for("dataset", path)
    if fmt is None and "://" not in path and local.is_file():
        fmt = "text"
    if fmt is None or (fmt == "text" and "://" in path):  # text listings are read on this machine
        raise InputError(path, "cannot tell the format: give --input-format jsonl, parquet, csv or text")
    return fmt


def read_dataset(
    inputs: Iterable[str | Path],
    *,
    input_format: str | None = None,
    title_key: str = "title",
    abstract_key: str = "abstract",
) -> ray.data.Dataset:
    """A dataset of paper rows (``id``, ``title``, ``abstract``, ``source``, ``meta``) from ``inputs``,
    all of one format: JSONL, Parquet or CSV through Ray's readers (local paths, folders or
    object storage URIs); local text listings (``.txt``/``.md``, pasted Daily Papers)
    through ``extractor``'s reader on this machine, de-duplicated as ``extractor run`` does."""
    ray = require_ray()
    paths = [str(p) for p in inputs]
    formats = {_format_of(p, input_format) for p in paths}
    if len(formats) != 1:
        raise InputError(", ".join(paths), "inputs of several formats: give one format per run")
    fmt = formats.pop()
    if fmt == "text":
        return ray.data.from_items(_local_papers(paths, title_key, abstract_key))
    if fmt == "jsonl":
        ds = ray.data.read_json(paths, include_paths=True, file_extensions=["jsonl", "ndjson", "json"])
    elif fmt == "parquet":
        ds = ray.data.read_parquet(paths, include_paths=True, file_extensions=["parquet"])
    else:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        text_columns = {key: pa.string() for key in ("id", title_key, abstract_key)}
        ds = ray.data.read_csv(
            paths, include_paths=True, file_extensions=["csv"],
            convert_options=pacsv.ConvertOptions(column_types=text_columns),
        )  # fmt: skip
    return ds.map_batches(
        papers_batch, fn_kwargs={"title_key": title_key, "abstract_key": abstract_key}, batch_format="pyarrow"
    )


def _local_papers(paths: list[str], title_key: str, abstract_key: str) -> list[dict[str, Any]]:
    errors: list[InputError] = []

    def read() -> Iterator[Paper]:
        return read_papers(paths, title_key=title_key, abstract_key=abstract_key, on_error=errors.append)

    keep = {position for position, _ in unique_copies(read())[0]}
    rows = [
        {"id": p.id, "title": p.title, "abstract": p.abstract, "source": p.source.model_dump_json(),
         "meta": p.meta.model_dump_json() if p.meta is not None else None}
        for position, p in enumerate(read(), 1)
        if position in keep
    ]
    if not rows:
        raise errors[0] if errors else InputError(", ".join(paths), "no papers found")
    return rows


def extract_dataset(
    ds: ray.data.Dataset,
    settings: Settings,
    *,
    actors: int = 2,
    batch_size: int = 64,
    num_cpus: float = 0.5,
    skip: Iterable[str] = (),
    stage: type[ExtractBatch] = ExtractBatch,
) -> ray.data.Dataset:
    """``ds`` (paper rows, as :func:`read_dataset` gives) through :class:`ExtractBatch`:
    ``actors`` actors of ``num_cpus`` CPUs each, ``settings.concurrency`` requests in
    flight per actor, ``batch_size`` papers per call. Papers whose id is in ``skip`` are
    left out (resume). The rows are cut into blocks of ``batch_size`` so every actor gets
    work; an actor that dies is restarted and its batch retried (Ray's defaults for actor
    pools), so each paper still gives exactly one record."""
    require_ray()
    skipped = frozenset(skip)
    if skipped:
        ds = ds.map_batches(_without, fn_kwargs={"ids": skipped}, batch_format="pyarrow")
    return ds.repartition(target_num_rows_per_block=batch_size).map_batches(
        stage,
        fn_constructor_kwargs={"settings": settings.model_copy(update={"origin": {}})},
        concurrency=actors,
        batch_size=batch_size,
        num_cpus=num_cpus,
        batch_format="pyarrow",
    )


def _without(batch: pyarrow.Table, ids: frozenset[str]) -> pyarrow.Table:
    import pyarrow as pa

    keep = [pid not in ids for pid in batch.column("id").to_pylist()]
    return batch.filter(pa.array(keep, type=pa.bool_()))


def _jsonl_datasink(path: str) -> Any:
    from ray.data.datasource import BlockBasedFileDatasink

    class RecordJsonl(BlockBasedFileDatasink):  # type: ignore[misc]
        """One record per line, each exactly the line ``extractor run`` writes."""

        def write_block_to_file(self, block: Any, file: Any) -> None:
            lines = [record_json(row) + "\n" for row in block.to_arrow().to_pylist()]
            file.write("".join(lines).encode("utf-8"))

    return RecordJsonl(path, file_format="jsonl")


def write_records(records: ray.data.Dataset, output: str, fmt: str = "jsonl") -> None:
    """Write record rows into the directory (or object storage prefix) ``output``: JSONL
    files whose lines are what ``extractor run`` writes, or Parquet files of
    :data:`~extractor.ray.recorddir.RECORD_COLUMNS`. New files are added next to those already there."""
    if fmt == "parquet":
        records.write_parquet(output)
    else:
        records.write_datasink(_jsonl_datasink(output))


# -- one call: read, resume, extract, write ------------------------------------------------


@dataclass
class RayOptions:
    """How ``extractor ray`` reads, runs and writes (the rest is in :class:`Settings`)."""

    output_format: str = "jsonl"  # jsonl | parquet
    input_format: str | None = None  # jsonl | parquet | csv | text; default by extension
    title_key: str = "title"
    abstract_key: str = "abstract"
    actors: int = 2
    batch_size: int = 64
    num_cpus: float = 0.5  # per actor: requests wait on the server, so a fraction of a CPU
    limit: int | None = None


@dataclass
class RayStats:
    """What a Ray run did, from the output directory before and after it."""

    already_done: int = 0  # papers the output held, skipped
    extracted: int = 0  # papers whose record now succeeds and did not before
    failed: int = 0  # papers whose record is an error after the run
    removed_duplicates: int = 0  # superseded records removed by tidy_output
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"already in output {self.already_done}, extracted {self.extracted}, failed {self.failed}, "
            f"superseded records removed {self.removed_duplicates}; wall {self.wall_s:.1f}s"
        )


def run_ray(
    inputs: Iterable[str | Path], output: str | Path, settings: Settings, options: RayOptions | None = None
) -> RayStats:
    """Read ``inputs``, skip the papers ``output`` already holds (resume), extract the rest
    on the Ray cluster (``ray.init`` first, or Ray starts a local one) and write their
    records into ``output``, then keep one record per paper there
    (:func:`~extractor.ray.recorddir.tidy_output`).
    The endpoint must be one every actor reaches (``base_url``): the bundled model is not
    started per actor. ``policy="rules"`` needs none."""
    from ..llm.connect import endpoint_configured

    opts = options or RayOptions()
    if not endpoint_configured(settings) and settings.uses_model:
        raise ConfigError(
            "the Ray path needs an endpoint every actor reaches: set --base-url (or EXTRACTOR_BASE_URL); "
            "the bundled model is not started per actor"
        )
    # Ray raises an actor's own exception, not a UserCodeException around it (whose chain
    # does not reach the FatalEndpointError), so the CLI says what stopped in one line. Set
    # before the dataset is made: a dataset keeps the context it was made under.
    require_ray().data.DataContext.get_current().raise_original_map_exception = True
    started = time.perf_counter()
    out = str(output) if "://" in str(output) else str(Path(output).resolve())
    stats = RayStats(removed_duplicates=tidy_output(out))
    done, _ = output_ids(out)
    ds = read_dataset(inputs, input_format=opts.input_format, title_key=opts.title_key, abstract_key=opts.abstract_key)
    if opts.limit is not None:
        ds = ds.limit(opts.limit)
    records = extract_dataset(
        ds, settings, actors=opts.actors, batch_size=opts.batch_size, num_cpus=opts.num_cpus, skip=done
    )
    try:
        write_records(records, out, opts.output_format)
    except Exception as exc:
        stop = _extractor_error(exc)
        if stop is None:
            raise
        raise stop from exc  # what stopped an actor (a bad key, a server gone), not Ray's traceback
    stats.removed_duplicates += tidy_output(out)
    now_done, now_failed = output_ids(out)
    stats.already_done = len(done)
    stats.extracted = len(now_done - done)
    stats.failed = len(now_failed)
    stats.wall_s = time.perf_counter() - started
    return stats


def _extractor_error(exc: BaseException) -> ExtractorError | None:
    """The :class:`~extractor.errors.ExtractorError` an actor raised, from the exceptions
    Ray wraps it in (its ``cause``, or the chain of causes)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ExtractorError) and type(current).__module__.startswith("extractor."):
            vars(current).pop("__notes__", None)  # Ray's advice on retrying map tasks, which
            if current.args and isinstance(current.args[0], str):  # it may also append to the text
                current.args = (current.args[0].split("\n", 1)[0], *current.args[1:])
            return current  # the error itself, not Ray's subclass of it (whose text is a traceback)
        todo += [getattr(current, "cause", None), current.__cause__, current.__context__]
    return None
