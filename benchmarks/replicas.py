"""Several replicas vs one endpoint (issue 15): ``extractor run`` on the seed papers against
one stub server at concurrency C, then against two stub replicas (``--base-url`` twice) at the
same total concurrency C, same delay per request. One run each, printed as a table.

    python benchmarks/replicas.py                          # 544 papers, 200 ms, C = 16
    python benchmarks/replicas.py --concurrency 8 32 --append benchmarks/results.md
    python benchmarks/replicas.py --papers 8 --delay 0.05  # seconds (the smoke test)

The stub answers every request after the delay, however many are in flight, so two replicas
cannot be faster here: the ratio measures what routing costs (choosing a replica per
request, one HTTP client per replica), and the split says whether both were used evenly. On
real servers, whose throughput is bounded per server, a second replica is what lets C grow.
Each stub is its own process (its CPU is not the client's); the client's CPU comes from
``os.wait4``. Servers listen on 127.0.0.1 and are stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from run import EXTRACTOR, STUB_FLAGS, Run, measure  # noqa: E402

from tests.stub_server import StubProcess  # noqa: E402


def extract(label: str, urls: list[str], concurrency: int, papers: int, work: Path) -> Run:
    """``extractor run seeds/ --limit papers`` against ``urls``, no cache."""
    out, stats = work / f"{label}.jsonl", work / f"{label}.stats.json"
    out.unlink(missing_ok=True)
    cmd = [*EXTRACTOR, "run", str(ROOT / "seeds"), "--limit", str(papers), "-o", str(out), *STUB_FLAGS,
           "--concurrency", str(concurrency), "--no-cache", "--stats-json", str(stats),
           *(arg for url in urls for arg in ("--base-url", url))]  # fmt: skip
    run = measure(label, cmd, timeout=600 + papers * 2)
    if stats.exists():
        run.stats = json.loads(stats.read_text())
        run.papers = run.stats.get("extracted", 0)
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=544, help="seed papers (all 544 by default)")
    parser.add_argument("--delay", type=float, default=0.2, help="stub seconds per request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16], help="total requests in flight")
    parser.add_argument("--append", type=Path, help="Also append the table to this Markdown file.")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="extractor-replicas-") as tmp, \
            StubProcess(delay=args.delay) as one, StubProcess(delay=args.delay) as two:  # fmt: skip
        for c in args.concurrency:
            results = {}
            for label, stubs in (("one endpoint", [one]), ("two replicas", [one, two])):
                for stub in (one, two):
                    stub.reset()
                print(f"{label}, concurrency {c}, {args.papers} papers", file=sys.stderr, flush=True)
                run = extract(f"{label.replace(' ', '-')}-c{c}", [s.base_url for s in stubs], c, args.papers, Path(tmp))
                split = [stub.stats()["requests"] for stub in stubs]
                results[label] = run
                ratio = run.wall / results["one endpoint"].wall
                ideal = args.papers * args.delay / c
                rows.append(
                    f"| {label} | {c} | {run.papers}/{args.papers}{'' if run.ok else f' (rc {run.rc})'} | "
                    f"{run.wall:.2f} | {args.papers / run.wall:.1f} | {ideal:.2f} | {1000 * run.cpu / args.papers:.1f} | "
                    f"{' / '.join(map(str, split))} | {ratio:.2f} |"
                )
                if not run.ok:
                    print(run.stderr, file=sys.stderr)
    text = "\n".join([
        f"## Several replicas vs one endpoint ({args.papers} seed papers, stub at {args.delay * 1000:.0f} ms per "
        f"request, one run each; {dt.date.today()}, {os.cpu_count()} cores)",
        "",
        "| setup | total concurrency | papers | wall s | papers/s | ideal s | client CPU ms/paper | requests per replica | wall / one endpoint |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
        *rows,
        "",
    ])  # fmt: skip
    print(text)
    if args.append:
        with args.append.open("a") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
