"""How fast the library takes papers in and answers searches.

    python benchmarks/library.py                     # 10,000 papers: the table, and the targets
    python benchmarks/library.py --papers 100000     # another size
    python benchmarks/library.py --papers 200 --queries 20    # a smoke run

Records are synthetic but shaped like real ones: the seed papers' titles and abstracts
(cycled, each copy a paper of its own), an extraction with task, method, name, summary and
0-2 claimed gains, the metadata a Hugging Face listing gives (9 authors, upvotes, GitHub
repo on 1 in 5), 3% failed. They are written as a JSONL record file first, as
``extractor run`` writes it; then, each in a fresh library file:

* **add 10,000**: ``Library.add_file`` of that file (reading and validating the JSONL,
  rows, FTS5 index and listings, in transactions of 500), wall time; and the whole
  ``extractor run``-less path a user meets: ``python -c`` with start-up;
* **add again**: the same records into the now full library (every paper updated,
  re-indexed), as a second day that lists them all again;
* **search**: ``Library.search`` of queries of one to three words from the titles and
  abstracts, plain and with ``--since`` / ``--code`` / ``--kind``, after one warm-up query;
  median, 95th percentile and worst, in milliseconds; and the whole ``extractor search``
  command (start-up included).

The machine is shared: compare rows of one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.library import Library  # noqa: E402
from extractor.records.listings import survey  # noqa: E402
from extractor.schema import ClaimedGain, Contribution, ErrorInfo, Extraction, PaperMeta, Provenance, Record, Source  # noqa: E402

TARGET_ADD_S = 10.0
TARGET_SEARCH_MS = 100.0


def make_records(n: int, seed: int = 0) -> list[Record]:
    """``n`` records shaped like real ones (see the module docstring)."""
    rng = random.Random(seed)
    papers = survey([ROOT / "seeds"]).papers
    kinds = list(Contribution)
    records = []
    for i in range(n):
        paper = papers[i % len(papers)]
        words = paper.abstract.split()
        failed = rng.random() < 0.03
        gains = [ClaimedGain(metric="accuracy", value=f"{rng.randint(1, 40)}%", evidence=" ".join(words[:12]))
                 for _ in range(rng.randint(0, 2))]  # fmt: skip
        extraction = None if failed else Extraction(
            task=" ".join(words[3:9]), method=" ".join(words[10:20]), method_name=paper.title.split(":")[0][:40],
            claimed_gains=gains, contribution=kinds[i % len(kinds)], summary=f"This paper {' '.join(words[:18]).lower()}.",
        )  # fmt: skip
        day = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
        meta = PaperMeta(
            arxiv_id=f"24{i % 12 + 1:02d}.{i:05d}", authors=[f"Author {i}-{k}" for k in range(9)], upvotes=rng.randint(0, 300),
            comments=rng.randint(0, 9), listing_date=day, url=f"https://huggingface.co/papers/24{i % 12 + 1:02d}.{i:05d}",
            github_repo=f"https://github.com/lab{i}/code" if i % 5 == 0 else None,
        )  # fmt: skip
        records.append(Record(
            id=f"24{i % 12 + 1:02d}.{i:05d}", title=f"{paper.title} ({i})", abstract=paper.abstract,
            source=Source(path="bench.jsonl", line=i + 1), meta=meta, extraction=extraction,
            error=ErrorInfo(kind="server", message="HTTP 503") if failed else None,
            provenance=Provenance(model="bench", endpoint="127.0.0.1:1", mode="tools", prompt_version="2", prompt_hash="x"),
        ))  # fmt: skip
    return records


def queries(records: list[Record], n: int, seed: int = 1) -> list[str]:
    """One- to three-word queries from the records' titles and abstracts."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        rec = rng.choice(records)
        words = [w.strip(".,;:()") for w in (rec.title + " " + rec.abstract).split() if len(w.strip(".,;:()")) > 4]
        start = rng.randrange(max(1, len(words) - 3))
        out.append(" ".join(words[start : start + rng.randint(1, 3)]))
    return out


def timed(func) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def cpu_timed(func) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds of ``func()`` (this process: on a shared machine the CPU time
    is what the work costs, the wall time what the load made of it)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = func()
    return time.perf_counter() - start, time.process_time() - cpu, value


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cli(*args: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "extractor", *args], env=env, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="library-bench-"))
    records = make_records(args.papers)
    record_file = workdir / "records.jsonl"
    record_file.write_text("".join(r.model_dump_json() + "\n" for r in records))
    db = workdir / "library.db"
    with Library(db) as library:
        add_s, add_cpu, stats = cpu_timed(lambda: library.add_file(record_file))
        again_s, again_cpu, _ = cpu_timed(lambda: library.add_file(record_file, listing="day 2", seen="2025-01-01"))
        qs = queries(records, args.queries)
        library.search(qs[0])  # warm the page cache, as a second search does
        rows = []
        for label, kwargs in [("words", {}), ("words --since", {"since": "2024-06-01"}), ("words --code", {"code": True}),
                              ("words --kind method", {"kind": "method"})]:  # fmt: skip
            times, cpus = [], []
            for q in qs:
                seconds, cpu, _ = cpu_timed(lambda q=q, kwargs=kwargs: library.search(q, **kwargs))
                times.append(seconds * 1000)
                cpus.append(cpu * 1000)
            rows.append((label, statistics.median(times), percentile(times, 0.95), max(times), percentile(cpus, 0.95)))
        empty_ms = timed(lambda: library.search("", since="2024-06-01"))[0] * 1000
        size_mb = db.stat().st_size / 1e6
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXTRACTOR_LIBRARY": str(db)}
    cold = workdir / "cold.db"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"from extractor import Library; Library({str(cold)!r}).add_file({str(record_file)!r})"],
                   env=env, check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    add_cli_s = time.perf_counter() - start
    search_cli_s = cli("search", qs[1], "--limit", "20", env=env)

    print(f"# Library: {args.papers:,} papers\n")
    print(f"`python benchmarks/library.py --papers {args.papers}` on {time.strftime('%Y-%m-%d %H:%M')}: "
          f"CPython {platform.python_version()}, {os.cpu_count()} cores, SQLite {__import__('sqlite3').sqlite_version}, "
          f"load average before {' / '.join(f'{x:.2f}' for x in os.getloadavg())}. Library file {size_mb:.1f} MB.\n")  # fmt: skip
    print("| step | papers | wall s | CPU s | papers/s (wall) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| add (Library.add_file, new library) | {stats.records:,} | {add_s:.2f} | {add_cpu:.2f} | {stats.records / add_s:,.0f} |")
    print(f"| add again, a later day (rows updated; text unchanged: not re-indexed) | {stats.records:,} | {again_s:.2f} | "
          f"{again_cpu:.2f} | {stats.records / again_s:,.0f} |")  # fmt: skip
    print(f"| add in a fresh process (start-up, import, add_file) | {stats.records:,} | {add_cli_s:.2f} | | {stats.records / add_cli_s:,.0f} |")
    print()
    print(f"| search ({len(qs)} queries of 1-3 words, limit 20) | median ms | p95 ms | worst ms | p95 CPU ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, median, p95, worst, cpu95 in rows:
        print(f"| {label} | {median:.2f} | {p95:.2f} | {worst:.2f} | {cpu95:.2f} |")
    print(f"| no words, --since (latest first) | {empty_ms:.2f} | | | |")
    print(f"| `extractor search` command, start-up included | {search_cli_s * 1000:.0f} | | | |")
    print()
    worst_p95 = max(row[2] for row in rows)
    print("| target | goal | measured | verdict |")
    print("| --- | --- | --- | --- |")
    print(f"| {args.papers:,} papers into the library | < {TARGET_ADD_S:g} s | {add_s:.2f} s | {'met' if add_s < TARGET_ADD_S else '**missed**'} |")
    print(f"| search answers | < {TARGET_SEARCH_MS:g} ms | p95 {worst_p95:.2f} ms | {'met' if worst_p95 < TARGET_SEARCH_MS else '**missed**'} |")
    print(json.dumps({"add_s": round(add_s, 3), "search_p95_ms": round(worst_p95, 3)}), file=sys.stderr)


if __name__ == "__main__":
    main()
