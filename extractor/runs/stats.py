"""What a batch run is told and what it did: :class:`BatchOptions` (how inputs are read and
output written; the rest is in :class:`~extractor.settings.Settings`) and :class:`BatchStats`
(the counts of a run, printed as its closing summary).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..schema import Record
from ..settings import Settings

__all__ = ["BatchOptions", "BatchStats"]


@dataclass
class BatchOptions:
    """How inputs are read and output written (the rest is in :class:`Settings`)."""

    input_format: str | None = None
    title_key: str = "title"
    abstract_key: str = "abstract"
    output_format: str | None = None
    limit: int | None = None
    quiet: bool = False
    verbose: bool = False
    stop_grace_s: float = 5.0  # after a stop request, how long requests in flight may finish


@dataclass
class BatchStats:
    """What a run did; printed as the closing summary."""

    read: int = 0  # papers read, duplicates included
    unique: int = 0  # distinct papers by the duplicate rule
    duplicates: int = 0  # papers dropped as duplicates
    already_done: int = 0  # unique papers the output file already held
    extracted: int = 0  # records written with an extraction
    from_cache: int = 0  # records answered from the cache
    failed: int = 0  # error records written
    dropped_values: int = 0  # values grounding removed
    summaries: dict[str, int] = field(default_factory=dict)  # summary source -> records
    origins: dict[str, int] = field(default_factory=dict)  # "rule" / "model" -> values
    tokens_in: int = 0
    tokens_out: int = 0
    wall_s: float = 0.0
    input_errors: list[str] = field(default_factory=list)  # every input problem told, warnings included
    input_lost: int = 0  # input problems that lost input (a file, line or row skipped), warnings not
    failures: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    stopped_by: str | None = None
    stopped_kind: str | None = None
    model: bool = True  # a model was asked (not policy "rules"): its costs are worth a line
    library: str | None = None  # what adding the output to the library did

    @classmethod
    def for_settings(cls, settings: Settings) -> BatchStats:
        return cls(model=settings.uses_model)

    def count(self, record: Record) -> None:
        """Add one written record to the counts."""
        if record.error is not None:
            self.failed += 1
            self.failures[record.error.kind] = self.failures.get(record.error.kind, 0) + 1
        else:
            self.extracted += 1
            self.dropped_values += len(record.dropped)
            if record.summary_source is not None:
                self.summaries[record.summary_source] = self.summaries.get(record.summary_source, 0) + 1
            for source in record.origin.values():
                self.origins[source] = self.origins.get(source, 0) + 1
        if record.provenance is not None:
            if record.provenance.cached:
                self.from_cache += 1
            self.tokens_in += record.provenance.tokens_in
            self.tokens_out += record.provenance.tokens_out

    @property
    def papers_per_s(self) -> float:
        return (self.extracted + self.failed) / self.wall_s if self.wall_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "papers_per_s": round(self.papers_per_s, 3)}

    def summary(self) -> str:
        """The closing summary. Without a model (policy ``rules``) nothing is cached, asked
        or grounded: those counts are left out."""
        failures = f" ({', '.join(f'{k}: {v}' for k, v in sorted(self.failures.items()))})" if self.failures else ""
        speed = f"wall {self.wall_s:.1f}s, {self.papers_per_s:.2f} papers/s"
        lines = [
            f"papers read {self.read}, unique {self.unique} ({self.duplicates} duplicates dropped), "
            f"already in output {self.already_done}"
        ]
        if not self.model:
            lines += [
                f"extracted {self.extracted}, failed {self.failed}{failures}; rules only, no model",
                f"summaries: extractive {self.summaries.get('extractive', 0)}; values from rules {self.origins.get('rule', 0)}",
                speed,
            ]
        else:
            lines += [
                f"extracted {self.extracted} ({self.from_cache} from cache), failed {self.failed}{failures}"
                f", values dropped by grounding {self.dropped_values}",
                f"summaries: {_counts(self.summaries, ('model', 'extractive'))}; "
                f"values from {_counts(self.origins, ('rule', 'model'))}",
                f"tokens in {self.tokens_in}, out {self.tokens_out}; {speed}",
            ]
        if self.library:
            lines.append(f"library: {self.library}")
        if self.input_errors:
            lines.append(f"input errors {len(self.input_errors)} (shown above; input lost: {self.input_lost})")
        if self.interrupted:
            lines.append("interrupted: finished records are saved; run the same command again to resume")
        if self.stopped_by:
            lines.append(f"stopped: {self.stopped_by}")
        return "\n".join(lines)


def _counts(counts: dict[str, int], names: tuple[str, ...]) -> str:
    """``"model 12, extractive 3"``: every name, zeros included, in the given order."""
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in names)
