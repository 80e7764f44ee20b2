"""The Ray Data path against ``extractor run`` on the loopback stub (issue 15), and Ray's own
``ray.data.llm`` HTTP request processor against our ``map_batches`` class.

    pip install -e '.[ray,test]'
    python benchmarks/ray_data.py                  # 544 seed papers, 200 ms stub, total concurrency 16
    python benchmarks/ray_data.py --papers 64 --delay 0.05   # a quick look

Rows, each at the same total concurrency C (``--actors`` x ``--per-actor`` for the Ray paths):

1. ``extractor run seeds/ --concurrency C`` (a child process: Python start-up included);
2. ``extractor ray seeds/ --actors A --concurrency C/A`` (a child process: Ray's start-up included);
3. :class:`extractor.ray.data.ExtractBatch` in a running local cluster (``ray.init(num_cpus=2)``
   done before the clock starts): read, extract, write JSONL;
4. ``ray.data.llm``'s ``HttpRequestProcessorConfig`` + ``build_processor`` in the same cluster,
   sending the request ``extractor run`` sends for each paper (built with its own
   ``Completer``) and validating each answer into ``Extraction``: no rules, no grounding,
   no cache, no error records. Its stage awaits a batch's requests one after another and
   runs up to ``RAY_DATA_DEFAULT_ASYNC_BATCH_UDF_MAX_CONCURRENCY`` (default 4) batches per
   actor, so C in flight takes C/4 actors here.

The stub server (``tests/stub_server.py``, its own process) answers after ``--delay`` s;
*ideal* = delay x papers / C. One run; the machine is shared, so compare rows of one table.
Nothing leaves 127.0.0.1 (Ray's usage stats are off); the cache is off in every row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

from tests.stub_server import StubProcess  # noqa: E402

FLAGS = ["--model", "stub-model", "--mode", "tools", "--grounding", "off", "--no-cache"]


def unique_seed_rows(limit: int | None) -> list[dict[str, Any]]:
    from extractor.ray.data import _local_papers

    rows = _local_papers([str(ROOT / "seeds")], "title", "abstract")
    return rows[:limit] if limit else rows


def timed_child(cmd: list[str], timeout: float) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    return time.perf_counter() - started, proc.returncode, proc.stderr[-1500:]


def count_lines(folder: Path) -> int:
    return sum(p.read_text().count("\n") for p in folder.glob("*.jsonl"))


def ray_processor(ds: Any, base_url: str, actors: int, batch_size: int) -> Any:
    """Ray's HTTP request processor sending extractor's request body for each paper."""
    from ray.data.llm import HttpRequestProcessorConfig, build_processor

    from extractor.llm.completions import Completer
    from extractor.extraction.prompts import load_prompt
    from extractor.schema import Extraction
    from extractor.settings import Settings

    settings = Settings(base_url=base_url, model="stub-model", mode="tools", grounding="off", cache=False)

    def preprocess(row: dict[str, Any]) -> dict[str, Any]:
        messages = load_prompt("extract").messages(title=row["title"], abstract=row["abstract"])
        body = Completer(None, settings).request("stub-model", "tools", Extraction, messages).body  # type: ignore[arg-type]
        return {"id": row["id"], "payload": body}

    def postprocess(row: dict[str, Any]) -> dict[str, Any]:
        try:
            call = row["http_response"]["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
            summary = Extraction.model_validate_json(call)
            return {"id": row["id"], "ok": True, "summary": summary.summary}
        except Exception as exc:  # noqa: BLE001
            return {"id": row["id"], "ok": False, "summary": str(exc)[:200]}

    config = HttpRequestProcessorConfig(
        url=base_url + "/chat/completions", concurrency=actors, batch_size=batch_size, max_retries=2,
        http_request_stage={"num_cpus": 0.25},
    )  # fmt: skip
    return build_processor(config, preprocess=preprocess, postprocess=postprocess)(ds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, default=None, help="first N unique seed papers (default: all 544)")
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--per-actor", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--skip", default="", help="rows to leave out, e.g. 2,4")
    args = ap.parse_args()
    skip = {int(x) for x in args.skip.split(",") if x}
    total = args.actors * args.per_actor
    work = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    rows = unique_seed_rows(args.papers)
    papers = work / "papers.jsonl"
    papers.write_text("".join(json.dumps(r) + "\n" for r in rows))
    n = len(rows)
    ideal = args.delay * n / total
    table: list[tuple[str, float, int, str]] = []

    with StubProcess(delay=args.delay) as stub:
        flags = ["--base-url", stub.base_url, *FLAGS]
        if 1 not in skip:
            wall, rc, err = timed_child([sys.executable, "-m", "extractor", "run", str(papers), "-o",
                                         str(work / "run.jsonl"), "--concurrency", str(total), "-q", *flags],
                                        args.timeout)  # fmt: skip
            done = (work / "run.jsonl").read_text().count("\n") if (work / "run.jsonl").exists() else 0
            table.append((f"`extractor run --concurrency {total}` (process, start-up included)", wall, done, err if rc > 1 else ""))
        if 2 not in skip:
            wall, rc, err = timed_child([sys.executable, "-m", "extractor", "ray", str(papers), "-o", str(work / "cli"),
                                         "--actors", str(args.actors), "--concurrency", str(args.per_actor),
                                         "--batch-size", str(args.batch_size), *flags], args.timeout)  # fmt: skip
            table.append((f"`extractor ray --actors {args.actors} --concurrency {args.per_actor}` (process, Ray start-up included)",
                          wall, count_lines(work / "cli") if (work / "cli").exists() else 0, err if rc > 1 else ""))  # fmt: skip
        if skip >= {3, 4}:
            pass
        else:
            import ray

            from extractor.ray import data as raydata
            from extractor.settings import Settings

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}})  # fmt: skip
            ray.data.DataContext.get_current().enable_progress_bars = False
            try:
                if 3 not in skip:
                    settings = Settings(base_url=stub.base_url, model="stub-model", mode="tools", grounding="off",
                                        cache=False, concurrency=args.per_actor)  # fmt: skip
                    started = time.perf_counter()
                    ds = raydata.read_dataset([str(papers)])
                    out = raydata.extract_dataset(ds, settings, actors=args.actors, batch_size=args.batch_size)
                    raydata.write_records(out, str(work / "stage"))
                    wall = time.perf_counter() - started
                    table.append((f"`ExtractBatch`: {args.actors} actors x {args.per_actor} (cluster up)", wall,
                                  count_lines(work / "stage"), ""))  # fmt: skip
                if 4 not in skip:
                    actors = max(1, total // 4)
                    batch = max(1, n // (actors * 4 * 4))
                    started = time.perf_counter()
                    ds = ray.data.read_json(str(papers)).repartition(target_num_rows_per_block=max(1, n // (actors * 4)))
                    got = ray_processor(ds, stub.base_url, actors, batch).take_all()
                    wall = time.perf_counter() - started
                    ok = sum(1 for r in got if r["ok"])
                    table.append((f"`ray.data.llm` HTTP processor: {actors} actors x 4 batches of {batch} (cluster up)",
                                  wall, ok, "" if ok == n else f"{n - ok} answers not valid"))  # fmt: skip
            finally:
                ray.shutdown()
        stub_stats = stub.stats()

    print(f"\n{n} unique seed papers, stub delay {args.delay:g} s, total concurrency {total}; "
          f"ideal {ideal:.1f} s; stub requests {stub_stats.get('requests')}\n")  # fmt: skip
    base = table[0][1] if table and 1 not in skip else None
    print("| path | wall s | of ideal | vs `extractor run` | records |")
    print("|---|---:|---:|---:|---:|")
    for label, wall, done, err in table:
        ratio = f"{wall / base:.2f}x" if base else "-"
        print(f"| {label} | {wall:.1f} | {ideal / wall:.0%} | {ratio} | {done} |")
        if err:
            print(f"|   error: {err.strip().splitlines()[-1] if err.strip() else err} | | | | |")
    print(f"\nwork directory: {work}")


if __name__ == "__main__":
    main()
