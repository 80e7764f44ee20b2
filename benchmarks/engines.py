"""The bundled engines side by side: ``extractor run`` on the same seed papers with the
bundled model behind llama-cpp-python's server (the old engine) and llama.cpp's native
``llama-server`` (the new one), in turns, fresh cache each time, start-up included.

    python benchmarks/engines.py                  # 30 papers, 2 rounds -> a table on stdout
    python benchmarks/engines.py --papers 60 --rounds 1 --append benchmarks/results.md

Each run is ``extractor run seeds/ --limit N --no-cache`` with ``EXTRACTOR_ENGINE`` set; the
table gives wall seconds, seconds per paper, the ratio new/old per round, and what the
records say (summaries written by the model vs taken from the abstract, failures, tokens).
Needs ``pip install -e '.[local]'`` and ``scripts/build-llama-server``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("llama-cpp-python", "llama-server")


def run(engine: str, papers: int, work: Path) -> dict[str, float | str]:
    out, stats = work / f"{engine}.jsonl", work / f"{engine}.stats.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, "EXTRACTOR_ENGINE": engine, "EXTRACTOR_CACHE_DIR": str(work / f"cache-{engine}")}
    command = [sys.executable, "-m", "extractor", "run", str(ROOT / "seeds"), "--limit", str(papers),
               "-o", str(out), "-q", "--no-cache", "--stats-json", str(stats)]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60 * 60)
    wall = time.perf_counter() - started
    records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    sources = [r.get("summary_source") for r in records if not r.get("error")]
    prov = [r["provenance"] for r in records if r.get("provenance")]
    return {
        "engine": engine,
        "rc": proc.returncode,
        "wall": wall,
        "per_paper": wall / max(1, papers),
        "records": len(records),
        "failed": sum(1 for r in records if r.get("error")),
        "model_summaries": sources.count("model"),
        "extractive": sources.count("extractive"),
        "tokens_in": sum(p.get("tokens_in", 0) for p in prov) / max(1, len(prov)),
        "tokens_out": sum(p.get("tokens_out", 0) for p in prov) / max(1, len(prov)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--append", type=Path, help="Also append the table to this Markdown file.")
    args = parser.parse_args()
    rows, ratios = [], []
    with tempfile.TemporaryDirectory(prefix="extractor-engines-") as tmp:
        for round_ in range(1, args.rounds + 1):
            pair = {}
            for engine in ENGINES if round_ % 2 else reversed(ENGINES):  # alternate who goes first
                print(f"round {round_}: {engine} on {args.papers} papers", file=sys.stderr, flush=True)
                pair[engine] = result = run(engine, args.papers, Path(tmp))
                rows.append((round_, result))
            ratios.append(pair["llama-server"]["wall"] / pair["llama-cpp-python"]["wall"])
    lines = [
        f"## Bundled engines side by side ({args.papers} seed papers, default policy, start-up included; "
        f"{dt.date.today()}, {os.cpu_count()} cores)",
        "",
        "| round | engine | wall s | s/paper | records | failed | model summaries | extractive | tokens in/out per paper |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for round_, r in rows:
        lines.append(
            f"| {round_} | {r['engine']} | {r['wall']:.1f} | {r['per_paper']:.2f} | {r['records']} | {r['failed']} | "
            f"{r['model_summaries']} | {r['extractive']} | {r['tokens_in']:.0f} / {r['tokens_out']:.0f} |"
        )
    lines += ["", "new/old wall per round: " + ", ".join(f"{x:.2f}" for x in ratios), ""]
    text = "\n".join(lines)
    print(text)
    if args.append:
        with args.append.open("a") as fh:
            fh.write("\n" + text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
