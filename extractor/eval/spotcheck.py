"""A reader's check: random records laid beside their abstracts, marked by a person, counted.

Gold files say how often a value matches someone's labels; a reader asks something
simpler: is what the page shows right? :func:`write_sheet` picks ``n`` records at random
(a seed makes the pick reproducible), possibly from several record files mixed together
(to compare two runs blind), and writes a Markdown sheet: each paper's title and
abstract, then one row per field the reader sees, with an empty ``mark`` cell (and a ``note`` cell
for why, when it is not right). Nothing on
the sheet says which run, rule or model made a value; with several record files a key
file beside the sheet says which record came from which file.

A person (or a helper) writes one mark per row:

=====================  =====================================================================
``right``              the value is correct for its field (an empty field that the abstract
                       does not state is ``right`` too)
``wrong``              the value is not what the field asks for this paper
``cut``                the right thing, but cut short or glued to something else
``empty-but-stated``   the field is empty though the abstract states it
``background``         summary only: it tells the background, not what the paper does
=====================  =====================================================================

:func:`count_sheet` reads the marks back and counts them: records with every shown value
right, wrong values among shown values, fields empty though stated, gains fully right,
and per field; per source file when there is a key.

Example:
    >>> from extractor.schema import Extraction, Record, Source
    >>> r = Record(id="p1", title="T", abstract="We propose X.", source=Source(path="-", line=1),
    ...            extraction=Extraction(task="t", method="X", contribution="method", summary="We propose X."))
    >>> rows = sheet_rows(r)
    >>> [row.field for row in rows]
    ['task', 'method', 'method_name', 'contribution', 'claimed_gains', 'code_link', 'summary']
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..evidence.gains import GAIN_SOURCES, gain_source
from ..evidence.rules import proposal_rule
from ..schema import ClaimedGain, Record

__all__ = ["MARKS", "Row", "SpotCount", "cell", "count_sheet", "gain_cell", "sheet_rows", "source_precision", "value_sources",
           "write_sheet"]

MARKS = ("right", "wrong", "cut", "empty-but-stated", "background")
#: The fields a reader sees on a card, in order.
FIELDS = ("task", "method", "method_name", "contribution", "claimed_gains", "code_link", "summary")


@dataclass(frozen=True)
class Row:
    """One row of the sheet: a field (``gain 2`` for the second claimed gain) and its value
    as shown (empty when the field is empty)."""

    field: str
    value: str


def gain_cell(gain: ClaimedGain) -> str:
    """A claimed gain as one sheet row shows it: value and metric, then kind, dataset and baseline."""
    parts = [f"{gain.value} {gain.metric}".strip()]
    if gain.kind:
        parts.append(f"kind: {gain.kind}")
    if gain.dataset:
        parts.append(f"dataset: {gain.dataset}")
    if gain.baseline:
        parts.append(f"baseline: {gain.baseline}")
    return "; ".join(parts)


def sheet_rows(record: Record) -> list[Row]:
    """The rows a reader marks for one record: every field as a card shows it, each
    claimed gain on its own row."""
    ex = record.extraction
    if ex is None:
        return []
    rows = [Row("task", ex.task or ""), Row("method", ex.method or ""), Row("method_name", ex.method_name or ""),
            Row("contribution", record.kind.value if record.kind else "")]  # fmt: skip
    if ex.claimed_gains:
        rows += [Row(f"gain {i}", gain_cell(g)) for i, g in enumerate(ex.claimed_gains, 1)]
    else:
        rows.append(Row("claimed_gains", ""))
    rows += [Row("code_link", ex.code_link or ""), Row("summary", ex.summary)]
    return rows


def cell(text: str) -> str:
    """``text`` as a sheet shows it in one table cell: whitespace collapsed, ``|`` escaped."""
    return " ".join(text.split()).replace("|", "\\|") or "(empty)"


def _read_records(paths: Sequence[Path]) -> list[tuple[int, Record]]:
    found: list[tuple[int, Record]] = []
    for i, path in enumerate(paths):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = Record.model_validate_json(line)
                if record.ok:
                    found.append((i, record))
    return found


def write_sheet(records: Sequence[Path], output: Path, n: int = 30, seed: int = 0) -> list[str]:
    """Write a sheet of ``n`` random extracted records of ``records`` to ``output``, and a
    key to ``output`` + ``.key.json`` (which record and file each item is: keep it from the
    person marking). With several files the pick takes the same papers from each, shuffled
    together. Returns the ids picked."""
    pool = _read_records(records)
    by_id: dict[str, dict[int, Record]] = defaultdict(dict)
    for i, record in pool:
        by_id[record.id][i] = record
    common = sorted(pid for pid, runs in by_id.items() if len(runs) == len(records))
    rng = random.Random(seed)
    ids = rng.sample(common, min(n, len(common)))
    items = [(i, by_id[pid][i]) for pid in ids for i in range(len(records))]
    rng.shuffle(items)
    lines = [
        f"# Spot check: {len(items)} records",
        "",
        "Mark each row: " + ", ".join(f"`{m}`" for m in MARKS) + ". An empty field that the abstract does "
        "not state is `right`; `background` is for a summary that tells the background, not what the paper does.",
        "",
    ]
    key = []
    for number, (i, record) in enumerate(items, 1):
        key.append({"item": number, "id": record.id, "file": str(records[i])})
        lines += [f"## {number}. {cell(record.title)}", "", f"> {cell(record.abstract)}", "",
                  "| field | value | mark | note |", "|---|---|---|---|"]  # fmt: skip
        lines += [f"| {row.field} | {cell(row.value)} |  |  |" for row in sheet_rows(record)]
        lines.append("")
    output.write_text("\n".join(lines), encoding="utf-8")
    Path(f"{output}.key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    return ids


_ITEM = re.compile(r"^## (\d+)\. ")
_ROW = re.compile(r"^\|\s*(task|method|method_name|contribution|claimed_gains|gain \d+|code_link|summary)\s*\|"
                  r"(?P<value>.*)\|\s*(?P<mark>[\w-]*)\s*\|(?P<note>(?:[^|]|\\\|)*)\|\s*$")  # fmt: skip


@dataclass
class SpotCount:
    """The marks of a sheet, counted (for one source file, or all)."""

    records: int = 0
    all_right: int = 0
    shown: int = 0
    wrong: int = 0
    empty_stated: int = 0
    fields: int = 0
    gains: int = 0
    gains_right: int = 0
    unmarked: int = 0
    per_field: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def as_dict(self) -> dict[str, object]:
        """The counts, with the shares the targets are stated in."""

        def share(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None

        return {
            "records": self.records,
            "records_all_shown_right": self.all_right,
            "shown_values": self.shown,
            "wrong_or_cut_shown": self.wrong,
            "wrong_share_of_shown": share(self.wrong, self.shown),
            "fields": self.fields,
            "empty_but_stated": self.empty_stated,
            "empty_but_stated_share": share(self.empty_stated, self.fields),
            "gains": self.gains,
            "gains_right": self.gains_right,
            "gains_right_share": share(self.gains_right, self.gains),
            "unmarked_rows": self.unmarked,
            "per_field": {f: dict(c) for f, c in sorted(self.per_field.items())},
        }


def _count_item(rows: Iterable[tuple[str, str, str]], count: SpotCount) -> None:
    count.records += 1
    every_right = True
    keys = set()
    for name, value, mark in rows:
        key = "claimed_gains" if name.startswith("gain ") else name
        keys.add(key)
        count.per_field[key][mark or "unmarked"] += 1
        if not mark:
            count.unmarked += 1
            continue
        empty = value.strip() in ("", "(empty)")
        if mark == "empty-but-stated":
            count.empty_stated += 1
        if not empty:
            count.shown += 1
            if mark in ("wrong", "cut", "background"):
                count.wrong += 1
                every_right = False
        if name.startswith("gain "):
            count.gains += 1
            count.gains_right += mark == "right"
    count.fields += len(keys)
    count.all_right += every_right


def count_sheet(sheet: Path) -> dict[str, SpotCount]:
    """The counts of a marked sheet: under ``"all"``, and per record file when the sheet's
    key file beside it names more than one."""
    key_path = Path(f"{sheet}.key.json")
    key = {row["item"]: row["file"] for row in json.loads(key_path.read_text())} if key_path.is_file() else {}
    if len(set(key.values())) < 2:
        key = {}
    counts: dict[str, SpotCount] = defaultdict(SpotCount)
    item: int | None = None
    rows: list[tuple[str, str, str]] = []

    def flush() -> None:
        if item is not None and rows:
            _count_item(rows, counts["all"])
            if item in key:
                _count_item(rows, counts[key[item]])

    for line in sheet.read_text(encoding="utf-8").splitlines():
        if (m := _ITEM.match(line)) is not None:
            flush()
            item, rows = int(m.group(1)), []
        elif (m := _ROW.match(line)) is not None:
            mark = m.group("mark").strip().casefold()
            if mark and mark not in MARKS:
                raise ValueError(f"{sheet}: item {item}: unknown mark {mark!r} (marks: {', '.join(MARKS)})")
            rows.append((m.group(1), m.group("value").strip(), mark))
    flush()
    return dict(counts)


def value_sources(record: Record) -> dict[str, str]:
    """Which source made each field a sheet row shows (``gains`` rows: the gains' source)."""
    by = dict(record.found_by)
    by.setdefault("summary", record.summary_source or "extractive")
    model = record.provenance.model if record.provenance else None
    return {k: (f"model:{model}" if v == "model" and model else v) for k, v in by.items()}


def source_precision(
    sheets: Sequence[Path],
    keys: Sequence[Path] | None = None,
    now: Callable[[Record, str, str], str | None] | None = None,
) -> dict[tuple[str, str], tuple[int, int]]:
    """``{(field, source): (right, judged)}`` over the shown values of marked ``sheets``:
    each row is traced through the sheet's key (``sheet.key.json``, or the one in ``keys``)
    to its record and the rule or model that made the value (``Record.found_by``; a rule's
    gain by its kind, :func:`~extractor.evidence.gains.gain_source`). An item the key does
    not list is not counted.

    ``now(record, field, value)``, when given, is the source that makes the judged value
    today (the code may have changed since the sheet was marked): the row is counted under
    it, or not at all when it returns None (the code no longer makes that value)."""
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    cache: dict[str, dict[str, Record]] = {}
    for n, sheet in enumerate(sheets):
        key_path = keys[n] if keys else Path(f"{sheet}.key.json")
        key = {row["item"]: row for row in json.loads(Path(key_path).read_text())}
        item = None
        for line in sheet.read_text(encoding="utf-8").splitlines():
            if (m := _ITEM.match(line)) is not None:
                item = int(m.group(1))
                continue
            if item is None or (m := _ROW.match(line)) is None or not m.group("mark").strip():
                continue
            value = m.group("value").strip()
            if value in ("", "(empty)"):
                continue
            row = key.get(item)
            if row is None:  # a key may list only the items to count (one record file of several)
                continue
            records = cache.setdefault(row["file"], {r.id: r for _, r in _read_records([Path(row["file"])])})
            record = records[row["id"]]
            name = "claimed_gains" if m.group(1).startswith("gain ") else m.group(1)
            source = value_sources(record).get(name, "?") if now is None else now(record, name, value)
            if source is None:
                continue
            if name == "method" and source == "we_propose" and record.extraction:  # measured by its shape
                source = proposal_rule(value.replace("\\|", "|"), [record.extraction.method_name or ""])
            if (now is None and name == "claimed_gains" and (source == "gains" or source in GAIN_SOURCES)
                    and record.extraction):  # fmt: skip
                at = int(m.group(1).split()[1]) - 1
                gains = record.extraction.claimed_gains
                source = gain_source(gains[at]) if at < len(gains) else source
            counts = tally[(name, source)]
            counts[0] += m.group("mark").strip().casefold() == "right"
            counts[1] += 1
    return {k: (v[0], v[1]) for k, v in tally.items()}
