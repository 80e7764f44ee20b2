"""The bundled engine: the job against its raw limit, and the server's tuning.

    python benchmarks/engines.py limit [--papers 30] [--rounds 2] [--append benchmarks/results.md]
    python benchmarks/engines.py tune  [--papers 20] [--rounds 2] [--configs 2x1,2x2,...] [--append ...]

``limit``: the bundled model at work, ``extractor run seeds/ --limit N --policy model-first``
with no endpoint (the bundled server started by the job, a fresh cache, start-up included;
under the default rules-first the bundled model is not asked at all, its values measured
under what the rules show), next to the engine's raw limit on the same work: the exact
requests that job sends (captured by a loopback proxy from the same command with the
bundled defaults spelt out: model-first, span grounding,
json_schema, as many requests in flight as the server has slots), replayed straight to a
fresh bundled server at that concurrency by a bare aiohttp loop — no client logic, no
retries, no validation. Printed: s/paper of each and their ratio (job / raw, the target is
at most 1.15), with the server's start-up shown apart (the job pays it; the raw replay
starts timing once the server is ready).

``tune``: the same captured requests replayed raw against servers started with other
settings (slots x threads, batch, context per slot, OpenMP's wait policy), in turns, so that
one row's noise is shared by all: the table behind :class:`extractor.local.server.Tuning`.

Each run prints the load average next to every figure: on 2 shared cores they move with
whatever else runs. Needs ``pip install -e '.[local]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.local.server import LocalServer, Tuning  # noqa: E402
from tests.recording_proxy import RecordingProxy  # noqa: E402


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {load()}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- capture


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}
    env["EXTRACTOR_CACHE_DIR"] = str(work / "cache")
    env["XDG_CONFIG_HOME"] = str(work / "config")
    return env


def capture(papers: int, work: Path) -> list[dict[str, Any]]:
    """The request bodies ``extractor run seeds/ --limit N`` sends to the bundled server."""
    with LocalServer.bundled() as server:
        with RecordingProxy(server.base_url, server.api_key) as proxy:
            # The bundled run's settings (extractor.llm.connect._bundled_settings), spelt out
            # because a --base-url is not the bundled server to it; model-first, because under
            # rules-first the bundled model is not asked at all (its values could not be shown).
            command = [
                sys.executable, "-m", "extractor", "run", str(ROOT / "seeds"), "--limit", str(papers),
                "-o", str(work / "capture.jsonl"), "-q", "--no-cache", "--base-url", proxy.base_url,
                "--model", server.model_name, "--mode", server.mode, "--concurrency", str(server.slots),
                "--grounding", "span", "--policy", "model-first",
            ]  # fmt: skip
            subprocess.run(command, env=_env(work), check=True, capture_output=True, timeout=3600)
    return [exchange["request"] for exchange in proxy.exchanges]


# --------------------------------------------------------------------------- raw replay


@dataclass
class Raw:
    label: str
    wall: float
    startup: float
    ok: int
    requests: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    loads: list[str] = field(default_factory=list)


async def _replay(base_url: str, key: str, bodies: list[dict[str, Any]], concurrency: int) -> tuple[float, list[dict[str, Any]]]:
    import aiohttp

    queue = list(enumerate(bodies))
    answers: list[dict[str, Any]] = [{}] * len(bodies)
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=900)
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:

        async def worker() -> None:
            while queue:
                i, body = queue.pop(0)
                async with session.post(base_url + "/chat/completions", data=json.dumps(body)) as resp:
                    answers[i] = await resp.json(content_type=None) if resp.status == 200 else {"status": resp.status}

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, answers


def raw(label: str, bodies: list[dict[str, Any]], *, slots: int, threads: int, batch: int = Tuning.batch,
        ubatch: int = Tuning.ubatch, n_ctx: int = Tuning.n_ctx, concurrency: int | None = None,
        omp_active: bool = False) -> Raw:  # fmt: skip
    """Start a bundled server with these settings, replay ``bodies`` at ``concurrency``
    (default: ``slots``), stop it. ``omp_active``: OpenMP's threads spin while waiting
    (OMP_WAIT_POLICY=ACTIVE), not the bundled server's passive wait."""
    saved = os.environ.get("OMP_WAIT_POLICY")
    if omp_active:
        os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
    try:
        server = LocalServer.bundled(slots=slots, n_threads=threads, batch=batch, ubatch=ubatch, n_ctx=n_ctx)
        with server:
            before = load()
            wall, answers = asyncio.run(_replay(server.base_url, server.api_key, bodies, concurrency or slots))
            after = load()
    finally:
        if saved is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
        else:
            os.environ["OMP_WAIT_POLICY"] = saved
    usage = [a.get("usage") or {} for a in answers]
    timings = [a.get("timings") or {} for a in answers]
    return Raw(
        label, wall, server.startup_seconds or 0.0, sum(1 for a in answers if a.get("choices")), len(bodies),
        sum(u.get("prompt_tokens", 0) for u in usage), sum(u.get("completion_tokens", 0) for u in usage),
        sum(t.get("cache_n", 0) for t in timings), [before, after],
    )  # fmt: skip


# --------------------------------------------------------------------------- the job


def job(papers: int, work: Path) -> dict[str, Any]:
    """The README's main job on the first ``papers`` seed papers: no endpoint configured, a
    fresh cache, start-up included."""
    out = work / "job.jsonl"
    out.unlink(missing_ok=True)
    env = _env(work)
    env["EXTRACTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="job-cache-", dir=work)
    before = load()
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "extractor", "run", str(ROOT / "seeds"), "--limit", str(papers),
                           "-o", str(out), "--policy", "model-first"],
                          env=env, capture_output=True, text=True, timeout=3600)  # fmt: skip
    wall = time.perf_counter() - started
    records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    ready = next((line for line in proc.stderr.splitlines() if "bundled server ready" in line), "")
    startup = float(ready.rsplit("(", 1)[1].split(" s)")[0]) if "(" in ready else 0.0
    return {
        "wall": wall, "startup": startup, "rc": proc.returncode, "records": len(records),
        "failed": sum(1 for r in records if r.get("error")),
        "model_summaries": sum(1 for r in records if r.get("summary_source") == "model"),
        "loads": [before, load()],
    }  # fmt: skip


# --------------------------------------------------------------------------- commands


def cmd_limit(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="extractor-engines-") as tmp:
        work = Path(tmp)
        log(f"capturing the requests of `extractor run seeds/ --limit {args.papers}`")
        bodies = capture(args.papers, work)
        log(f"{len(bodies)} requests for {args.papers} papers")
        rows = []
        for round_ in range(1, args.rounds + 1):
            order = ("job", "raw") if round_ % 2 else ("raw", "job")
            pair: dict[str, Any] = {}
            for what in order:
                log(f"round {round_}: {what}")
                if what == "job":
                    pair["job"] = job(args.papers, work)
                else:
                    pair["raw"] = raw("raw", bodies, slots=Tuning.slots, threads=Tuning.threads)
            rows.append((round_, pair))
    n = args.papers
    lines = [
        f"## The job against the engine's raw limit ({n} seed papers; {dt.date.today()}, {os.cpu_count()} cores, "
        f"SmolLM2-135M-Instruct Q4_1, xllamacpp, {Tuning.slots} slots x {Tuning.threads} thread)",
        "",
        f"Job: `extractor run seeds/ --limit {n} -o out.jsonl` (no endpoint: the bundled server, fresh cache, "
        f"start-up included). Raw: its {len(bodies)} captured requests replayed straight to a fresh bundled server "
        f"at concurrency {Tuning.slots} (bare aiohttp; timed from ready).",
        "",
        "| round | job s/paper | raw s/paper | job / raw | job wall s (server start-up) | raw wall s | "
        "job: records, failed, model summaries | load avg before → after (job; raw) |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    ratios = []
    for round_, pair in rows:
        j, r = pair["job"], pair["raw"]
        ratio = j["wall"] / r.wall
        ratios.append(ratio)
        lines.append(
            f"| {round_} | {j['wall'] / n:.2f} | {r.wall / n:.2f} | {ratio:.2f} | {j['wall']:.1f} ({j['startup']:.1f}) | "
            f"{r.wall:.1f} | {j['records']}, {j['failed']}, {j['model_summaries']} | "
            f"{' → '.join(j['loads'])}; {' → '.join(r.loads)} |"
        )
    lines += ["", f"job / raw, median of {len(ratios)}: {statistics.median(ratios):.2f}", ""]
    return "\n".join(lines)


CONFIGS = {
    # label: (slots, threads, batch, ubatch, n_ctx per slot, OpenMP threads spin while waiting)
    "2x1": (2, 1, 512, 512, 4096, False),
    "2x2": (2, 2, 512, 512, 4096, False),
    "2x2-spin": (2, 2, 512, 512, 4096, True),
    "1x2": (1, 2, 512, 512, 4096, False),
    "1x1": (1, 1, 512, 512, 4096, False),
    "3x2": (3, 2, 512, 512, 4096, False),
    "4x2": (4, 2, 512, 512, 4096, False),
    "4x1": (4, 1, 512, 512, 4096, False),
    "2x2-b1024": (2, 2, 1024, 1024, 4096, False),
    "2x2-ub256": (2, 2, 512, 256, 4096, False),
    "2x2-ub128": (2, 2, 512, 128, 4096, False),
    "2x2-ctx2048": (2, 2, 512, 512, 2048, False),
}


def cmd_tune(args: argparse.Namespace) -> str:
    labels = args.configs.split(",")
    with tempfile.TemporaryDirectory(prefix="extractor-engines-") as tmp:
        log(f"capturing the requests of `extractor run seeds/ --limit {args.papers}`")
        bodies = capture(args.papers, Path(tmp))
    log(f"{len(bodies)} requests for {args.papers} papers")
    results: dict[str, list[Raw]] = {label: [] for label in labels}
    for round_ in range(1, args.rounds + 1):
        for label in labels if round_ % 2 else reversed(labels):
            slots, threads, batch, ubatch, n_ctx, spin = CONFIGS[label]
            log(f"round {round_}: {label}")
            results[label].append(raw(label, bodies, slots=slots, threads=threads, batch=batch, ubatch=ubatch,
                                      n_ctx=n_ctx, omp_active=spin))  # fmt: skip
            r = results[label][-1]
            log(f"  {r.wall / args.papers:.2f} s/paper, {r.ok}/{r.requests} ok")
    n = args.papers
    lines = [
        f"## Tuning the bundled server ({n} seed papers, {len(bodies)} captured requests replayed raw at concurrency "
        f"= slots; {dt.date.today()}, {os.cpu_count()} cores, SmolLM2-135M-Instruct Q4_1, xllamacpp)",
        "",
        "| config (slots x threads, ...) | s/paper per round | median s/paper | start-up s | prompt / cached / "
        "completion tokens per request | ok | load avg before → after, per round |",
        "|---|---|---:|---:|---|---:|---|",
    ]
    for label in labels:
        rs = results[label]
        per = [r.wall / n for r in rs]
        req = max(1, rs[-1].requests)
        lines.append(
            f"| {label} | {', '.join(f'{x:.2f}' for x in per)} | {statistics.median(per):.2f} | "
            f"{statistics.median(r.startup for r in rs):.1f} | {rs[-1].prompt_tokens / req:.0f} / "
            f"{rs[-1].cached_tokens / req:.0f} / {rs[-1].completion_tokens / req:.0f} | "
            f"{min(r.ok for r in rs)}/{req} | {'; '.join(' → '.join(r.loads) for r in rs)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, papers in (("limit", 30), ("tune", 20)):
        p = sub.add_parser(name)
        p.add_argument("--papers", type=int, default=papers)
        p.add_argument("--rounds", type=int, default=2)
        p.add_argument("--append", type=Path, help="Also append the table to this Markdown file.")
        if name == "tune":
            p.add_argument("--configs", default="2x1,2x2,1x2,4x2")
    args = parser.parse_args()
    text = cmd_limit(args) if args.command == "limit" else cmd_tune(args)
    print(text)
    if args.append:
        with args.append.open("a") as fh:
            fh.write("\n" + text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
