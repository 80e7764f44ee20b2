"""Benchmarks side by side (issue 6): ``extractor run`` against the scripts users write first
and against google/langextract, on a loopback stub server and (``--local``) on the bundled
llama.cpp model. One run prints a markdown report and writes it to ``benchmarks/results.md``.

    python benchmarks/run.py              # sections 1-5, ~15-25 min on 2 cores
    python benchmarks/run.py --local      # + section 6 (bundled model, slow)
    python benchmarks/run.py --quick      # a few papers, seconds (the smoke test)

Sections (see ``benchmarks/README.md`` for what each measures and why):

1. side by side on the stub server at 0 ms and 200 ms per request: ``extractor run``, a
   sequential instructor loop, instructor + asyncio + semaphore, the proposed lean client
   path (prototype), langextract;
2. concurrency scaling of ``extractor run`` (1, 4, 16, 64 at 200 ms) against ideal;
3. a full-cache re-run against the first run (200 ms, concurrency 32);
4. peak RSS of ``extractor run`` and of ``extractor papers`` on 10k/30k/100k synthetic papers;
5. prompt tokens per paper besides the abstract, ours vs langextract's, from the request
   bodies the stub server captured, counted with the SmolLM2 tokenizer (or chars/4);
6. (``--local``) the bundled model: seconds and tokens per paper and quality on 20 gold papers.

``--profile`` adds the cProfile breakdown of ``extractor run`` at 0 ms (client-side cost per
paper by component).

Every client is its own process; its CPU time and peak RSS come from ``os.wait4`` (so the
stub server's CPU, in another process, is never counted). Servers listen on 127.0.0.1 only
and are stopped at the end. Every child has a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from capture_stub import CaptureStubProcess  # noqa: E402

PY = sys.executable
EXTRACTOR = [PY, "-m", "extractor"]
CLIENTS_PY = str(HERE / "clients.py")
STUB_FLAGS = ["--mode", "tools", "--model", "stub-model", "--grounding", "off", "-q"]


# ----------------------------------------------------------------------------- running


@dataclass
class Run:
    """One child process: wall seconds, CPU seconds (user+sys), peak RSS, exit code."""

    label: str
    wall: float
    cpu: float
    maxrss_mb: float
    rc: int
    stderr: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    requests: int = 0
    papers: int = 0

    @property
    def ok(self) -> bool:
        return self.rc in (0, 1)


def measure(label: str, cmd: list[str], *, timeout: float, env: dict[str, str] | None = None,
            cwd: str | Path = ROOT) -> Run:  # fmt: skip
    """Run ``cmd`` to the end; its own rusage (``os.wait4``) gives CPU and peak RSS."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd, env=env,
            start_new_session=True,
        )  # fmt: skip
        killer = threading.Timer(timeout, lambda: _kill(proc))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return Run(
        label=label,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024,
        rc=proc.returncode,
        stderr=text[-2000:],
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- inputs


def seed_papers() -> list[Any]:
    from extractor.records.listings import dedupe, read_papers

    papers, _ = dedupe(read_papers([str(ROOT / "seeds")]))
    return papers


def write_jsonl(papers: list[Any], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for p in papers:
            fh.write(json.dumps({"id": p.id, "title": p.title, "abstract": p.abstract}) + "\n")
    return path


def synthetic_jsonl(path: Path, n: int, base: list[Any]) -> Path:
    """``n`` distinct papers: seed abstracts with a numbered first sentence, unique titles."""
    rng = random.Random(n)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            p = base[rng.randrange(len(base))]
            fh.write(
                json.dumps(
                    {
                        "id": f"syn{i:06d}",
                        "title": f"Synthetic study {i} of {p.title}",
                        "abstract": f"We report synthetic experiment number {i}. {p.abstract}",
                    }
                )
                + "\n"
            )
    return path


# ----------------------------------------------------------------------------- clients


def extractor_run(
    label: str, inp: Path, out: Path, base_url: str, concurrency: int, *, timeout: float,
    cache_dir: Path | None = None, extra: list[str] | None = None, fresh: bool = True, src: str | None = None,
) -> Run:  # fmt: skip
    """``extractor run`` on the stub. ``src``: run the package found in that directory instead
    (a patched copy of the tree: ``python -m extractor`` from there)."""
    if fresh:
        out.unlink(missing_ok=True)
    stats = out.with_suffix(".stats.json")
    cache = ["--cache-dir", str(cache_dir)] if cache_dir else ["--no-cache"]
    cmd = [
        *EXTRACTOR, "run", str(inp), "-o", str(out), "--base-url", base_url, *STUB_FLAGS,
        "--concurrency", str(concurrency), "--stats-json", str(stats), *cache, *(extra or []),
    ]  # fmt: skip
    src = src or SNAPSHOT.get("src")
    if src:
        run = measure(label, cmd, timeout=timeout, env=src_env(src), cwd=src)
    else:
        run = measure(label, cmd, timeout=timeout)
    if stats.exists():
        run.stats = json.loads(stats.read_text())
        run.papers = run.stats.get("extracted", 0) + run.stats.get("failed", 0)
    return run


SNAPSHOT: dict[str, str] = {}  # "src": the frozen copy of the package every child runs (see take_snapshot)


def src_env(src: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": src}


def take_snapshot(work: Path) -> str:
    """Copy ``extractor/`` and ``prompts/`` into the work directory; every child process runs
    that copy (``PYTHONPATH`` + cwd), so edits others make to the tree during the run do not
    mix versions inside one table. Returns a description for the report header."""
    import hashlib

    src = work / "src"
    for name in ("extractor", "prompts"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    digest = hashlib.sha256()
    for path in sorted((src / "extractor").rglob("*.py")):
        digest.update(path.read_bytes())
    SNAPSHOT["src"] = str(src)

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--", "extractor")
    return f"extractor at {head}{' + uncommitted changes' if dirty else ''} (sha256 of extractor/*.py {digest.hexdigest()[:12]})"


def patched_copy(work: Path, patch: Path) -> str | None:
    """The snapshot with ``patch`` applied (``patch -p1``), or None when it does not apply."""
    dst = work / "src-patched"
    shutil.copytree(SNAPSHOT["src"], dst)
    with patch.open("rb") as fh:
        cp = subprocess.run(["patch", "-p1", "--batch", "--forward"], cwd=dst, stdin=fh, capture_output=True, timeout=60)
    if cp.returncode != 0:
        log(f"patch {patch} does not apply to this tree: {cp.stdout.decode(errors='replace')[-300:]}")
        return None
    return str(dst)


def client_run(label: str, client: str, inp: Path, out: Path, base_url: str, concurrency: int, *,
               timeout: float, model: str = "stub-model", extra: list[str] | None = None) -> Run:  # fmt: skip
    stats = out.with_suffix(".stats.json")
    stats.unlink(missing_ok=True)
    cmd = [
        PY, CLIENTS_PY, client, "--base-url", base_url, "--model", model, "--input", str(inp),
        "--output", str(out), "--concurrency", str(concurrency), "--stats", str(stats), *(extra or []),
    ]  # fmt: skip
    src = SNAPSHOT.get("src")
    run = measure(label, cmd, timeout=timeout, env=src_env(src) if src else None)
    if stats.exists():
        run.stats = json.loads(stats.read_text())
        run.papers = run.stats.get("ok", 0) + run.stats.get("failed", 0)
    return run


def langextract_available() -> bool:
    try:
        return subprocess.run([PY, "-c", "import langextract"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


# ----------------------------------------------------------------------------- report helpers


def fmt(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


@dataclass
class Report:
    parts: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    output: str = "-"
    prefix: str = ""  # what the output file held before (--append)

    def add(self, text: str) -> None:
        self.parts.append(text)
        print(text + "\n", flush=True)
        if self.output != "-":  # written after every section: a crash keeps what was measured
            Path(self.output).write_text(self.prefix + "\n\n".join(self.parts) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- section 1


@dataclass
class Ctx:
    args: argparse.Namespace
    tmp: Path
    papers: list[Any]
    inp: Path
    stub: CaptureStubProcess
    report: Report
    startup_cpu: float = 0.0  # CPU of `extractor run --limit 1` (imports, setup, reading, 1 paper)
    startup_wall: float = 0.0
    lx: bool = False

    @property
    def n(self) -> int:
        return len(self.papers)

    def timeout(self, delay: float, concurrency: int, per_paper_cpu: float = 0.05) -> float:
        return 120 + self.n * (delay / max(1, concurrency) + per_paper_cpu) * 4


def row_for(run: Run, *, n: int, delay: float, concurrency: int, loop_cpu: float | None) -> list[str]:
    ideal = delay * n / concurrency if delay else None
    reqs = run.requests / n if n else 0
    return [
        run.label,
        str(concurrency),
        f"{run.papers}/{n}" + ("" if run.ok else f" (rc {run.rc})"),
        fmt(run.wall),
        fmt(n / run.wall if run.wall else None, 1),
        fmt(1000 * run.cpu / n, 1),
        fmt(None if loop_cpu is None else 1000 * loop_cpu / n, 1),
        fmt(reqs),
        fmt(ideal),
        pct(ideal / run.wall if ideal and run.wall else None),
    ]


def startup(ctx: Ctx) -> None:
    """CPU and wall of `extractor run --limit 1` at 0 ms: start-up + reading + one paper."""
    if ctx.startup_wall:
        return
    log("start-up cost of extractor run (--limit 1)")
    ctx.stub.configure(delay=0.0)
    one = extractor_run("startup", ctx.inp, ctx.tmp / "one.jsonl", ctx.stub.base_url, 1, timeout=300,
                        extra=["--limit", "1"])  # fmt: skip
    ctx.startup_cpu, ctx.startup_wall = one.cpu, one.wall
    ctx.report.data["startup_cpu_s"] = one.cpu
    ctx.report.data["startup_wall_s"] = one.wall
    floors = {}
    for label, code in IMPORT_FLOORS:
        runs = sorted((measure(label, [PY, "-c", code], timeout=60) for _ in range(3)), key=lambda r: r.wall)
        floors[label] = {"wall": runs[1].wall, "cpu": runs[1].cpu}
    ctx.report.data["import_floors"] = floors


#: Start-up with no work at all, for scale: what any Python client of this kind pays before
#: its first request (median of 3 fresh interpreters).
IMPORT_FLOORS = [
    ("interpreter only", "pass"),
    ("+ asyncio, aiohttp, pydantic (the lean aiohttp floor's imports)", "import asyncio, aiohttp, pydantic"),
    ("+ instructor's OpenAI handlers (what extractor needs of instructor)",
     "import asyncio, aiohttp, pydantic; from extractor.llm.handlers import openai_handlers; import instructor; "
     "openai_handlers(instructor.Mode.TOOLS)"),
]


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "-"


def section1(ctx: Ctx) -> None:
    a = ctx.args
    stub, n = ctx.stub, ctx.n
    startup(ctx)
    if a.patched_src:
        one = extractor_run("startup", ctx.inp, ctx.tmp / "one-p.jsonl", stub.base_url, 1, timeout=300,
                            extra=["--limit", "1"], src=a.patched_src)  # fmt: skip
        ctx.report.data["patched"] = {"startup_cpu_s": one.cpu, "startup_wall_s": one.wall}

    clients: list[tuple[str, str, list[str]]] = [
        ("`extractor run`", "extractor", []),
        *([(f"`extractor run` + `{Path(a.patch).name}`", "extractor", ["patched"])] if a.patched_src else []),
        ("instructor, sequential loop", "sync", []),
        ("instructor + asyncio.Semaphore", "async", []),
        ("P1 prototype: lean path, openai SDK", "lean", []),
        ("P1+P4 prototype: lean path, SDK + `DefaultAioHttpClient`", "lean", ["--aiohttp-transport"]),
        ("floor: lean path on plain aiohttp", "lean_aiohttp", []),
    ]
    if ctx.lx:
        clients.append(("langextract 1.7 (OpenAI provider)", "langextract", []))
    if a.quick_clients is not None:
        clients = [c for c in clients if c[1] in a.quick_clients]
    rows: list[list[str]] = []
    results: dict[str, dict[str, Any]] = {}
    for delay in a.delays:
        stub.configure(delay=delay)
        for label, client, extra in clients:
            concs = [1] if client == "sync" else (a.concurrency_0 if delay == 0 else a.concurrency_delay)
            for c in concs:
                tag = f"{client}{'-' + extra[0].strip('-') if extra else ''}-d{int(delay * 1000)}-c{c}"
                first = delay == 0 and c == concs[0] and not extra
                capture = ctx.tmp / f"capture-{client}.jsonl" if first else None
                if capture is not None:
                    capture.unlink(missing_ok=True)
                    stub.capture(str(capture))
                stub.reset()
                stub_cpu0, load0 = stub.cpu_seconds(), load()
                log(f"section 1: {label} delay {delay * 1000:.0f} ms concurrency {c}")
                out = ctx.tmp / f"{tag}.jsonl"
                timeout = ctx.timeout(delay, c, 0.1 if client == "langextract" else 0.05)
                if client == "extractor":
                    src = a.patched_src if extra else None
                    base_cpu = ctx.report.data["patched"]["startup_cpu_s"] if src else ctx.startup_cpu
                    run = extractor_run(label, ctx.inp, out, stub.base_url, c, timeout=timeout, src=src)
                    loop_cpu = (run.cpu - base_cpu) * n / max(1, n - 1) if n > 1 else None
                else:
                    run = client_run(label, client, ctx.inp, out, stub.base_url, c, timeout=timeout, extra=extra)
                    loop_cpu = run.stats.get("loop_cpu_s")
                if capture is not None:
                    stub.capture(None)
                run.requests = stub.stats()["requests"]
                stub_cpu = stub.cpu_seconds() - stub_cpu0
                if not run.ok:
                    log(f"  {label} failed (rc {run.rc}): {run.stderr[-500:]}")
                rows.append(row_for(run, n=n, delay=delay, concurrency=c, loop_cpu=loop_cpu)
                            + [fmt(1000 * stub_cpu / max(1, run.requests), 1), load0])  # fmt: skip
                results[tag] = {
                    "wall": run.wall, "cpu": run.cpu, "loop_cpu": loop_cpu, "requests": run.requests,
                    "papers": run.papers, "rc": run.rc, "delay": delay, "concurrency": c,
                }  # fmt: skip
    ctx.report.data["section1"] = results
    ctx.report.add(
        "## 1. Side by side on the stub server\n\n"
        f"{n} unique seed papers; the stub answers every request after the delay (0 ms: client-bound). "
        "*CPU total* is the client process's whole user+sys CPU (interpreter start, imports, reading, "
        "extraction) per paper; *CPU in loop* excludes start-up: for the Python clients the CPU of the "
        "extraction loop itself, for `extractor run` its CPU minus that of the same command with "
        f"`--limit 1` ({fmt(ctx.startup_cpu)} s CPU, {fmt(ctx.startup_wall)} s wall). *Ideal* = delay x "
        "papers / concurrency; *of ideal* = ideal / wall. *Stub CPU* is the server process's CPU per request "
        "(it shares the 2 cores with the client); *load before* is the 1-minute load average when the row "
        "started (other work on the machine)."
        + (
            f" The patched `extractor run`'s own `--limit 1` start-up: {fmt(ctx.report.data['patched']['startup_cpu_s'])} s CPU."
            if "patched" in ctx.report.data
            else ""
        )
        + "\n\n"
        + table(
            ["client", "conc.", "papers", "wall s", "papers/s", "CPU total ms/paper", "CPU in loop ms/paper",
             "requests/paper", "ideal s", "of ideal", "stub CPU ms/request", "load before"],  # fmt: skip
            [r for r in rows],
        )
    )


# ----------------------------------------------------------------------------- section 2


def section2(ctx: Ctx) -> None:
    a = ctx.args
    delay = a.scaling_delay
    startup(ctx)
    ctx.stub.configure(delay=delay)
    rows = []
    res = {}
    for c in a.scaling:
        ctx.stub.reset()
        load0 = load()
        log(f"section 2: extractor run concurrency {c} at {delay * 1000:.0f} ms")
        run = extractor_run("`extractor run`", ctx.inp, ctx.tmp / f"scale-c{c}.jsonl", ctx.stub.base_url, c,
                            timeout=ctx.timeout(delay, c))  # fmt: skip
        run.requests = ctx.stub.stats()["requests"]
        ideal = delay * ctx.n / c
        res[c] = {"wall": run.wall, "cpu": run.cpu, "ideal": ideal, "ratio": ideal / run.wall if run.wall else None}
        after = ideal / (run.wall - ctx.startup_wall) if run.wall > ctx.startup_wall else None
        res[c]["ratio_after_startup"] = after
        rows.append([str(c), f"{run.papers}/{ctx.n}", fmt(run.wall), fmt(ideal), pct(ideal / run.wall),
                     pct(after), fmt(ctx.n / run.wall, 1), fmt(ctx.n / ideal, 1), fmt(1000 * run.cpu / ctx.n, 1),
                     load0])  # fmt: skip
    ctx.report.data["section2"] = res
    ctx.report.add(
        f"## 2. Concurrency scaling of `extractor run` ({delay * 1000:.0f} ms per request)\n\n"
        f"*Of ideal after start-up* = ideal / (wall - the {fmt(ctx.startup_wall)} s wall of `extractor run "
        "--limit 1`), i.e. the throughput once running.\n\n"
        + table(["concurrency", "papers", "wall s", "ideal s", "of ideal", "of ideal after start-up", "papers/s",
                 "ideal papers/s", "CPU ms/paper", "load before"], rows)  # fmt: skip
        + "\n\nStart-up for scale (a fresh interpreter that imports, then exits; median of 3): "
        + "; ".join(f"{label} {fmt(v['wall'])} s" for label, v in ctx.report.data.get("import_floors", {}).items())
        + f"; `extractor run --limit 1` (start-up, reading and de-duplicating the input, one paper) "
        f"{fmt(ctx.startup_wall)} s."
    )


# ----------------------------------------------------------------------------- section 3


def section3(ctx: Ctx) -> None:
    a = ctx.args
    delay, c = a.cache_delay, a.cache_concurrency
    rows = []
    variants: list[tuple[str, str | None]] = [("", None)]
    if a.patched_src:
        variants.append((f" + `{Path(a.patch).name}`", a.patched_src))
    for suffix, src in variants:
        cache = ctx.tmp / f"cache-s3{'-p' if src else ''}"
        shutil.rmtree(cache, ignore_errors=True)
        out1, out2 = ctx.tmp / f"cache-first{suffix.strip()}.jsonl", ctx.tmp / f"cache-second{suffix.strip()}.jsonl"
        ctx.stub.configure(delay=delay)
        ctx.stub.reset()
        log(f"section 3{suffix}: first run (fresh cache) at {delay * 1000:.0f} ms, concurrency {c}")
        first = extractor_run(f"first run (empty cache){suffix}", ctx.inp, out1, ctx.stub.base_url, c,
                              timeout=ctx.timeout(delay, c), cache_dir=cache, src=src)  # fmt: skip
        first.requests = ctx.stub.stats()["requests"]
        ctx.stub.reset()
        log(f"section 3{suffix}: re-run, every answer in the cache (new output file)")
        second = extractor_run(f"re-run (full cache){suffix}", ctx.inp, out2, ctx.stub.base_url, c,
                               timeout=ctx.timeout(0, c), cache_dir=cache, src=src)  # fmt: skip
        second.requests = ctx.stub.stats()["requests"]
        ctx.stub.reset()
        log(f"section 3{suffix}: re-run into the same output file (resume: nothing to do)")
        third = extractor_run(f"re-run, same output file (resume){suffix}", ctx.inp, out2, ctx.stub.base_url, c,
                              timeout=ctx.timeout(0, c), cache_dir=cache, fresh=False, src=src)  # fmt: skip
        third.requests = ctx.stub.stats()["requests"]
        for run in (first, second, third):
            cached = run.stats.get("from_cache", 0)
            done = f"{run.papers}/{ctx.n}" if run is not third else f"{run.stats.get('already_done', 0)} already in output"
            rows.append([run.label, done, str(cached), str(run.requests), fmt(run.wall), fmt(run.cpu),
                         fmt(first.wall / run.wall if run.wall else None, 1) + "x"])  # fmt: skip
        ctx.report.data["section3" + ("_patched" if src else "")] = {
            "first": first.wall, "second": second.wall, "resume": third.wall,
            "second_cpu": second.cpu, "speedup": first.wall / second.wall,
        }  # fmt: skip
    ctx.report.add(
        f"## 3. Full-cache re-run ({ctx.n} papers; first run at {delay * 1000:.0f} ms, concurrency {c})\n\n"
        + table(["run", "papers", "from cache", "requests sent", "wall s", "CPU s", "faster than its first run"], rows)
    )


# ----------------------------------------------------------------------------- section 4


def section4(ctx: Ctx) -> None:
    a = ctx.args
    ctx.stub.configure(delay=0.0)
    rows = []
    res = {}
    for size in a.rss_sizes:
        path = synthetic_jsonl(ctx.tmp / f"synthetic-{size}.jsonl", size, ctx.papers)
        mb = path.stat().st_size / 2**20
        log(f"section 4: extractor papers on {size} synthetic papers ({mb:.0f} MB)")
        src = SNAPSHOT.get("src")
        read = measure("papers", [*EXTRACTOR, "papers", str(path)], timeout=120 + size * 0.01,
                       env=src_env(src) if src else None, cwd=src or ROOT)  # fmt: skip
        ctx.stub.reset()
        log(f"section 4: extractor run on {size} synthetic papers at 0 ms, concurrency {a.rss_concurrency}")
        out = ctx.tmp / f"synthetic-{size}.out.jsonl"
        run = extractor_run("run", path, out, ctx.stub.base_url, a.rss_concurrency, timeout=300 + size * 0.1)
        res[size] = {"papers_rss": read.maxrss_mb, "run_rss": run.maxrss_mb, "run_wall": run.wall,
                     "run_cpu": run.cpu, "papers": run.papers, "input_mb": mb}  # fmt: skip
        rows.append([f"{size:,}", fmt(mb, 0), fmt(read.maxrss_mb, 0), fmt(read.wall, 1),
                     fmt(run.maxrss_mb, 0), f"{run.papers:,}", fmt(run.wall, 1),
                     fmt(1000 * run.cpu / size, 2)])  # fmt: skip
        out.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
    ctx.report.data["section4"] = res
    ctx.report.add(
        "## 4. Peak RSS as input grows (synthetic distinct papers, 0 ms stub)\n\n"
        "Peak RSS is the child's `ru_maxrss` (os.wait4).\n\n"
        + table(["papers", "input MB", "`extractor papers` peak RSS MB", "papers wall s",
                 "`extractor run` peak RSS MB", "extracted", "run wall s", "run CPU ms/paper"], rows)  # fmt: skip
    )


# ----------------------------------------------------------------------------- section 5


class Counter:
    """Tokens of a text: the SmolLM2 tokenizer (llama_cpp, vocab only) when available,
    else characters / 4."""

    def __init__(self) -> None:
        self.name = "chars/4"
        self._tok: Callable[[str], int] | None = None
        try:
            import llama_cpp

            from extractor.local.server import find_model

            path = find_model("smollm2-135m")
            llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
            self._tok = lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
            self.name = f"SmolLM2-135M tokenizer (llama_cpp {version('llama_cpp_python')}, {path.name}, vocab only)"
        except Exception:  # noqa: BLE001 - fall back to chars/4
            self._tok = None

    def __call__(self, text: str) -> int:
        return self._tok(text) if self._tok else len(text) // 4


def _request_parts(body: dict[str, Any]) -> dict[str, str]:
    """What a chat template renders from a request: each message's text and the schema."""
    parts: dict[str, str] = {}
    for i, m in enumerate(body.get("messages", [])):
        content = m.get("content")
        if isinstance(content, list):
            content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts[f"{i}:{m.get('role')}"] = content or ""
    schema = {k: body[k] for k in ("tools", "tool_choice", "response_format", "functions") if k in body}
    parts["schema"] = json.dumps(schema) if schema else ""
    return parts


def strip_titles(node: Any, in_properties: bool = False) -> Any:
    """A JSON schema without pydantic's generated ``title`` keys (property names kept)."""
    if isinstance(node, dict):
        return {
            k: strip_titles(v, k == "properties" and not in_properties)
            for k, v in node.items()
            if in_properties or not (k == "title" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [strip_titles(v) for v in node]
    return node


def section5(ctx: Ctx) -> None:
    counter = Counter()
    abstracts = {p.abstract for p in ctx.papers}
    titles = {p.title for p in ctx.papers}
    tok_abs = sum(counter(t) for t in abstracts)
    chars_abs = sum(len(t) for t in abstracts)
    rows = []
    res: dict[str, Any] = {}
    for client, label in (("extractor", "`extractor run` (tools mode)"), ("langextract", "langextract 1.7")):
        path = ctx.tmp / f"capture-{client}.jsonl"
        if not path.exists():
            continue
        bodies = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        if not bodies:
            continue
        tokens = chars = 0
        schema_tok = system_tok = lean_schema_tok = 0
        for body in bodies:
            parts = _request_parts(body)
            if client == "extractor":
                lean_schema_tok += counter(_request_parts(strip_titles(body))["schema"])
            for key, text in parts.items():
                t = counter(text)
                tokens += t
                chars += len(text)
                if key == "schema":
                    schema_tok += t
                elif key.endswith(":system"):
                    system_tok += t
        n = ctx.n
        over_tok = (tokens - tok_abs) / n
        over_chars = (chars - chars_abs) / n
        res[client] = {"requests": len(bodies), "overhead_tokens": over_tok, "overhead_chars": over_chars,
                       "schema_tokens": schema_tok / n, "system_tokens": system_tok / n}  # fmt: skip
        rows.append([label, fmt(len(bodies) / n), fmt(tokens / n, 0), fmt(tok_abs / n, 0), fmt(over_tok, 0),
                     fmt(schema_tok / n, 0), fmt(system_tok / n, 0),
                     fmt(over_tok - schema_tok / n - system_tok / n, 0), fmt(over_chars, 0)])  # fmt: skip
        if client == "extractor":
            saved = (schema_tok - lean_schema_tok) / n
            res["extractor_no_titles"] = {"overhead_tokens": over_tok - saved, "schema_tokens": lean_schema_tok / n}
            rows.append(["`extractor run`, schema without pydantic `title` keys (proposed)", fmt(len(bodies) / n),
                         fmt(tokens / n - saved, 0), fmt(tok_abs / n, 0), fmt(over_tok - saved, 0),
                         fmt(lean_schema_tok / n, 0), fmt(system_tok / n, 0),
                         fmt(over_tok - schema_tok / n - system_tok / n, 0), "-"])  # fmt: skip
        if client == "langextract":
            res["langextract_no_schema"] = {"overhead_tokens": over_tok - schema_tok / n}
            rows.append(["langextract 1.7, schema left out (`use_schema_constraints=False`: json_object)",
                         fmt(len(bodies) / n), fmt(tokens / n - schema_tok / n, 0), fmt(tok_abs / n, 0),
                         fmt(over_tok - schema_tok / n, 0), "0", fmt(system_tok / n, 0),
                         fmt(over_tok - schema_tok / n - system_tok / n, 0), "-"])  # fmt: skip
    ratio = None
    if "extractor" in res and "langextract" in res:
        ratio = res["extractor"]["overhead_tokens"] / res["langextract"]["overhead_tokens"]
        res["ratio_no_schema"] = res["extractor"]["overhead_tokens"] / res["langextract_no_schema"]["overhead_tokens"]
        res["ratio_no_titles"] = res["extractor_no_titles"]["overhead_tokens"] / res["langextract"]["overhead_tokens"]
        res["ratio_no_titles_no_schema"] = (
            res["extractor_no_titles"]["overhead_tokens"] / res["langextract_no_schema"]["overhead_tokens"]
        )
    res["ratio"] = ratio
    res["tokenizer"] = counter.name
    ctx.report.data["section5"] = res
    note = (
        f"Counted with the {counter.name}. Bodies captured by the stub during section 1's 0 ms runs. "
        "A request is counted as the text of its messages plus its schema (`tools`/`tool_choice` or "
        "`response_format`, as JSON); the chat template's own tokens are not counted. *Besides the "
        "abstract* = all tokens sent for the papers / papers - the abstract's tokens (for us this "
        f"includes the title, {fmt(sum(counter(t) for t in titles) / max(1, len(titles)), 0)} tokens "
        "on average; langextract is given the abstract alone). *User, rest* = the user messages "
        "besides the abstract (our title + template, langextract's instructions + example)."
    )
    ctx.report.add(
        "## 5. Prompt tokens per paper besides the abstract\n\n"
        + note + "\n\n"
        + table(["client", "requests/paper", "tokens sent/paper", "abstract", "besides the abstract",
                 "of which schema", "of which system msg", "user, rest", "chars besides abstract"], rows)  # fmt: skip
        + (
            f"\n\nOurs / langextract's overhead: **{pct(ratio)}** (langextract as configured by default, "
            f"schema sent); {pct(res['ratio_no_schema'])} against langextract without its schema; with titles "
            f"stripped from our schema {pct(res['ratio_no_titles'])} / {pct(res['ratio_no_titles_no_schema'])}."
            if ratio is not None
            else ""
        )
    )


# ----------------------------------------------------------------------------- section 6


def section6(ctx: Ctx) -> None:
    from extractor.eval.score import gold_sample, load_gold
    from extractor.local.server import LocalServer

    a = ctx.args
    gold_path = Path(a.gold)
    if not gold_path.exists():
        ctx.report.add(f"## 6. Bundled local model\n\nskipped: {gold_path} not found")
        return
    gold = gold_sample(load_gold(gold_path), a.local_papers, seed=0)
    ids = {g.id for g in gold}
    gold20 = ctx.tmp / "gold-sample.jsonl"
    with gold_path.open() as src, gold20.open("w") as dst:
        for line in src:
            if line.strip() and json.loads(line)["id"] in ids:
                dst.write(line)
    lx_in = ctx.tmp / "gold-sample-papers.jsonl"
    with lx_in.open("w") as fh:
        for g in gold:
            fh.write(json.dumps({"id": g.id, "title": g.title or "(untitled)", "abstract": g.abstract}) + "\n")
    rows = []
    quality: dict[str, dict[str, Any]] = {}
    n = len(gold)
    log(f"section 6: starting the bundled llama.cpp server ({n} gold papers)")
    # No API key: langextract's client here sends a fixed one. The server still listens on
    # 127.0.0.1 only, for this section's length.
    with LocalServer.bundled(api_key="") as server:
        model = server.model_name
        src = SNAPSHOT.get("src")
        for grounding in ("span", "check"):
            log(f"section 6: extractor --grounding {grounding} on {server.base_url} ({model})")
            ours = ctx.tmp / f"local-extractor-{grounding}.jsonl"
            cache = ctx.tmp / f"cache-local-{grounding}"
            shutil.rmtree(cache, ignore_errors=True)
            # as many requests at once as the server has slots, as `extractor run` does with it
            cmd = [*EXTRACTOR, "eval", str(gold20), "--save", str(ours), "--json", "-q", "--base-url",
                   server.base_url, "--model", model, "--mode", server.mode, "--grounding", grounding,
                   "--concurrency", str(server.slots), "--timeout", "300", "--cache-dir", str(cache)]  # fmt: skip
            label = f"`extractor` ({server.mode} mode, --grounding {grounding})"
            run = measure(label, cmd, timeout=3600, env=src_env(src) if src else None, cwd=src or ROOT)
            if not run.ok:
                log(f"  extractor failed: {run.stderr[-800:]}")
            recs = [json.loads(x) for x in ours.read_text().splitlines()] if ours.exists() else []
            tin = sum((r.get("provenance") or {}).get("tokens_in", 0) for r in recs)
            tout = sum((r.get("provenance") or {}).get("tokens_out", 0) for r in recs)
            att = sum((r.get("provenance") or {}).get("attempts", 0) for r in recs)
            okc = sum(1 for r in recs if not r.get("error"))
            rows.append([run.label, f"{okc}/{n}", fmt(run.wall / n, 1), fmt(att / n), fmt(tin / n, 0),
                         fmt(tout / n, 0)])  # fmt: skip
            quality[f"extractor {grounding}"] = _score(gold20, ours)
        if ctx.lx:
            log("section 6: langextract on the same server")
            theirs = ctx.tmp / "local-langextract.jsonl"
            # langextract's schema constraints off, as in earlier runs (it then asks for json_object).
            lrun = client_run("langextract 1.7 (OpenAI provider, json_object)", "langextract", lx_in, theirs,
                              server.base_url, server.slots, timeout=3600, model=model, extra=["--lx-schema", "off"])  # fmt: skip
            if not lrun.ok:
                log(f"  langextract failed: {lrun.stderr[-800:]}")
            s = lrun.stats
            rows.append([lrun.label, f"{s.get('ok', 0)}/{n}", fmt(lrun.wall / n, 1), fmt(s.get("requests", 0) / n),
                         fmt(s.get("tokens_in", 0) / n, 0), fmt(s.get("tokens_out", 0) / n, 0)])  # fmt: skip
            quality["langextract"] = _score(gold20, theirs)
    ctx.report.data["section6"] = {"rows": rows, "quality": quality}
    qrows = []
    for field_name in ("task", "method", "claimed_gains", "code_link"):
        qrow = [field_name]
        for tool in ("extractor span", "extractor check", "langextract"):
            q = quality.get(tool, {}).get(field_name)
            qrow.append("-" if q is None else f"{pct(q['f1'])} ({q['tp']}/{q['fp']}/{q['fn']})")
        qrows.append(qrow)
    ctx.report.add(
        f"## 6. Bundled local model ({model}, the bundled engine (xllamacpp), 2 cores, 2 slots)\n\n"
        f"{n} papers from `{gold_path.name}` (`gold_sample(..., {n}, seed=0)`); tokens are the server's own "
        "`usage` counts. Quality is `extractor eval GOLD --pred RECORDS` (F1, with TP/FP/FN); "
        "langextract's extractions mapped to our record shape by `benchmarks/clients.py:langextract_record`.\n\n"
        + table(["client", "papers ok", "s/paper", "requests/paper", "prompt tokens/paper",
                 "completion tokens/paper"], rows)  # fmt: skip
        + "\n\n"
        + table(["field", "`extractor` span F1 (TP/FP/FN)", "`extractor` check F1 (TP/FP/FN)",
                 "langextract F1 (TP/FP/FN)"], qrows, "llll")
    )


def _score(gold: Path, pred: Path) -> dict[str, Any]:
    if not pred.exists():
        return {}
    src = SNAPSHOT.get("src")
    cp = subprocess.run([*EXTRACTOR, "eval", str(gold), "--pred", str(pred), "--json"], capture_output=True,
                        text=True, cwd=src or ROOT, env=src_env(src) if src else None, timeout=300)  # fmt: skip
    if cp.returncode != 0:
        log(f"  eval failed: {cp.stderr[-500:]}")
        return {}
    overall = json.loads(cp.stdout)["overall"]
    return {k: {"f1": v.get("f1"), "tp": v["tp"], "fp": v["fp"], "fn": v["fn"]} for k, v in overall.items()}


# ----------------------------------------------------------------------------- profile


# (label, file path suffix, function name): cumulative time of the function, max over matches.
PROFILE_BUCKETS: list[tuple[str, str, str]] = [
    ("instructor 1.17 per call: response model (create_model + async-validator walk)",
     "instructor/v2/core/response_model.py", "prepare_response_model"),
    ("instructor 1.17 per call: JSON schema (lru_cache misses on the new class)",
     "instructor/v2/providers/openai/schema.py", "generate_openai_schema"),
    ("openai SDK: params transform (async_maybe_transform)", "openai/_utils/_transform.py", "async_maybe_transform"),
    ("openai SDK: HTTP send (httpx/httpcore)", "openai/_base_client.py", "_send_request"),
    ("openai SDK: response parse", "openai/_base_client.py", "_process_response"),
    ("instructor: parse + validate answer", "instructor/v2/providers/openai/handlers.py", "parse_response"),
    ("extractor: links + code status", "extractor/links.py", "find_links"),
    ("extractor: record JSON write", "extractor/output.py", "write"),
    ("extractor: reading the input (both passes)", "extractor/listings.py", "generate"),
    ("whole `Endpoint.complete` (all of the above that is per request)", "extractor/client.py", "complete"),
]  # fmt: skip


def profile_section(ctx: Ctx) -> None:
    import pstats

    ctx.stub.configure(delay=0.0)
    prof = ctx.tmp / "extractor.prof"
    out = ctx.tmp / "profile.jsonl"
    log("profile: extractor run under cProfile at 0 ms")
    cmd = [PY, "-m", "cProfile", "-o", str(prof), "-m", "extractor", "run", str(ctx.inp), "-o", str(out),
           "--base-url", ctx.stub.base_url, *STUB_FLAGS, "--concurrency", "32", "--no-cache"]  # fmt: skip
    src = SNAPSHOT.get("src")
    run = measure("profile", cmd, timeout=ctx.timeout(0, 32, 0.2), env=src_env(src) if src else None, cwd=src or ROOT)
    if not prof.exists():
        ctx.report.add(f"## Profile\n\nfailed: {run.stderr[-500:]}")
        return
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]
    entries = stats.stats  # type: ignore[attr-defined]

    def cum(suffix: str, name: str) -> float:
        return max((v[3] for (f, _, nm), v in entries.items() if f.endswith(suffix) and nm == name), default=0.0)

    n = ctx.n
    rows = []
    data = {}
    for label, suffix, name in PROFILE_BUCKETS:
        t = cum(suffix, name)
        if name == "find_links":
            t += cum("extractor/links.py", "code_status")
        data[label] = t
        rows.append([label, fmt(1000 * t / n, 2), pct(t / total if total else None)])
    imports = cum("openai/__init__.py", "<module>")
    rows.append(["start-up: `import openai` (every `openai.types` module)", fmt(1000 * imports / n, 2) + " (once)",
                 pct(imports / total if total else None)])  # fmt: skip
    chat = cum("openai/_client.py", "chat")
    rows.append(["start-up: `AsyncOpenAI.chat` (imports every openai resource module)", fmt(1000 * chat / n, 2) + " (once)",
                 pct(chat / total if total else None)])  # fmt: skip
    ctx.report.data["profile"] = {"total": total, "buckets": data}
    ctx.report.add(
        f"## Profile of `extractor run` at 0 ms ({n} papers, concurrency 32, cProfile)\n\n"
        f"Profiled total {fmt(total)} s ({fmt(1000 * total / n, 1)} ms/paper; cProfile roughly doubles "
        "Python-heavy code, so read the shares, not the absolute numbers). Buckets are cumulative times and "
        "overlap (e.g. the transform is inside `Endpoint.complete`).\n\n"
        + table(["component", "ms/paper (profiled)", "share of profiled total"], rows)
    )


# ----------------------------------------------------------------------------- targets


def targets(ctx: Ctx) -> None:
    d = ctx.report.data
    rows = []

    def add(name: str, target: str, value: str, reached: bool | None, patched: str = "-") -> None:
        if ctx.args.quick:
            reached = None  # a few papers: start-up dominates, no verdict
        verdict = "-" if reached is None else ("reached" if reached else "**missed**")
        rows.append([name, target, value, verdict, patched])

    s1 = d.get("section1", {})
    s2 = d.get("section2", {})
    top = max(s2) if s2 else None
    if top is not None:
        r, after = s2[top]["ratio"], s2[top].get("ratio_after_startup")
        p = s1.get(f"extractor-patched-d{int(ctx.args.scaling_delay * 1000)}-c{top}")
        p_ratio = (ctx.args.scaling_delay * ctx.n / top) / p["wall"] if p else None
        add(f"throughput at {ctx.args.scaling_delay * 1000:.0f} ms, concurrency {top}", ">= 90% of ideal",
            f"{pct(r)} ({pct(after)} after start-up)", r is not None and r >= 0.9,
            f"{pct(p_ratio)} (section 1)" if p else "-")  # fmt: skip
    c0 = ctx.args.concurrency_0[0]
    e0 = s1.get(f"extractor-d0-c{c0}")
    if e0 and e0.get("loop_cpu") is not None:
        per = 1000 * e0["loop_cpu"] / ctx.n
        total = 1000 * e0["cpu"] / ctx.n
        p = s1.get(f"extractor-patched-d0-c{c0}")
        ptxt = f"{1000 * p['loop_cpu'] / ctx.n:.1f} ms ({1000 * p['cpu'] / ctx.n:.1f} with start-up)" if p else "-"
        add("client CPU per paper at 0 ms", "< 2 ms", f"{per:.1f} ms in loop ({total:.1f} ms with start-up)",
            per < 2, ptxt)  # fmt: skip
    s3 = d.get("section3")
    if s3:
        p = d.get("section3_patched")
        ptxt = f"{p['second']:.2f} s, {p['speedup']:.0f}x" if p else "-"
        add(f"full-cache re-run of {ctx.n} papers", "< 1.5 s wall or >= 50x faster",
            f"{s3['second']:.2f} s, {s3['speedup']:.0f}x", s3["second"] < 1.5 or s3["speedup"] >= 50, ptxt)  # fmt: skip
    s4 = d.get("section4")
    if s4:
        big, small = max(s4), min(s4)
        rss, rss0 = s4[big]["run_rss"], s4[small]["run_rss"]
        add(f"peak RSS at {big:,} papers, flat", "< 250 MB, flat",
            f"{rss:.0f} MB ({rss / rss0:.2f}x the {small:,}-paper run)", rss < 250 and rss / rss0 < 1.2)  # fmt: skip
    s5 = d.get("section5")
    if s5 and s5.get("ratio") is not None:
        add("prompt overhead per paper", "<= 60% of langextract's", f"{pct(s5['ratio'])} of langextract's "
            f"default request ({pct(s5['ratio_no_schema'])} of its schema-less one)", s5["ratio"] <= 0.6,
            f"P5: {pct(s5['ratio_no_titles'])} ({pct(s5['ratio_no_titles_no_schema'])})")  # fmt: skip
    if not rows:
        return
    ctx.report.add(
        "## Targets\n\n"
        + ("(--quick: too few papers for a verdict)\n\n" if ctx.args.quick else "")
        + table(["target", "goal", "measured", "verdict", "with the proposed patch"], rows, "lllll")
    )


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmarks side by side (issue 6).")
    p.add_argument("--quick", action="store_true", help="a few papers and small sizes (smoke test)")
    p.add_argument("--papers", type=int, help="use the first N unique seed papers (default: all 544)")
    p.add_argument("--sections", default="1,2,3,4,5", help="comma-separated sections to run (1-6, profile)")
    p.add_argument("--local", action="store_true", help="also run section 6 (bundled model; slow)")
    p.add_argument("--profile", action="store_true", help="also profile extractor run at 0 ms (cProfile)")
    p.add_argument("--no-langextract", action="store_true", help="leave langextract out")
    p.add_argument("--output", default=str(HERE / "results.md"), help="where to write the report ('-': nowhere)")
    p.add_argument("--gold", default=str(ROOT.parent / "shared" / "eval" / "visible_gold.jsonl"))
    p.add_argument("--local-papers", type=int, default=20)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--patch", help="also run `extractor run` with this patch applied to the snapshot "
                   "(e.g. benchmarks/patches/p2-no-instructor-client.diff): extra rows in sections 1 and 3")
    p.add_argument("--no-snapshot", action="store_true", help="run the working tree as it is, not a frozen copy")
    p.add_argument("--append", action="store_true", help="append to the output file instead of replacing it")
    a = p.parse_args(argv)
    if a.quick:
        a.papers = a.papers or 8
        a.delays = [0.0]
        a.concurrency_0 = [4]
        a.concurrency_delay = [4]
        a.scaling = [1, 4]
        a.scaling_delay = 0.02
        a.cache_delay, a.cache_concurrency = 0.02, 4
        a.rss_sizes = [200]
        a.rss_concurrency = 8
        if a.sections == "1,2,3,4,5":
            a.sections = "1,5"
        a.quick_clients = {"extractor", "async", "langextract"}
    else:
        a.delays = [0.0, 0.2]
        a.concurrency_0 = [32]
        a.concurrency_delay = [32, 64]
        a.scaling = [1, 4, 16, 64]
        a.scaling_delay = 0.2
        a.cache_delay, a.cache_concurrency = 0.2, 32
        a.rss_sizes = [10_000, 30_000, 100_000]
        a.rss_concurrency = 64
        a.quick_clients = None
    a.sections = {s.strip() for s in a.sections.split(",") if s.strip()}
    if a.local:
        a.sections.add("6")
    if a.profile:
        a.sections.add("profile")
    return a


def header(a: argparse.Namespace, n: int, lx: bool) -> str:
    try:
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "-"
    versions = ", ".join(
        f"{d} {version(d)}" for d in ("instructor", "openai", "pydantic", "tenacity", "langextract", "xllamacpp")
    )
    title = "# Benchmarks side by side" if not a.append else "---\n\n# Appended run"
    return (
        f"{title}\n\n"
        f"Generated by `python benchmarks/run.py{' --quick' if a.quick else ''}"
        f"{' --local' if '6' in a.sections else ''}{' --profile' if 'profile' in a.sections else ''}` on "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}: {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores, load average before the run {load}; "
        f"{versions}. {n} papers. langextract {'included' if lx else 'not available: left out'}.\n\n"
        "The machine is shared and noisy: compare rows of one table (same run), not absolute numbers "
        "across runs. Stub server: `tests/stub_server.py` in its own process (CPU not counted as the "
        "client's), schema-valid answers, `usage` = characters / 4."
    )


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    papers = seed_papers()
    if a.papers:
        papers = papers[: a.papers]
    lx = not a.no_langextract and ({"1", "5", "6"} & a.sections) and langextract_available()
    report = Report(output=a.output)
    if a.append and a.output != "-" and Path(a.output).exists():
        report.prefix = Path(a.output).read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    report.add(header(a, len(papers), bool(lx)))
    work = Path(tempfile.mkdtemp(prefix="extractor-bench-"))
    env_cache = os.environ.get("EXTRACTOR_CACHE_DIR")
    os.environ["EXTRACTOR_CACHE_DIR"] = str(work / "default-cache")  # never touch the user's cache
    try:
        a.patched_src = None
        snap = "working tree as is (--no-snapshot)"
        if not a.no_snapshot:
            snap = take_snapshot(work)
            if a.patch:
                a.patched_src = patched_copy(work, Path(a.patch).resolve())
        report.add(f"Code measured: {snap}." + (f" Patched rows: `{a.patch}` applied to it." if a.patched_src else ""))
        inp = write_jsonl(papers, work / "papers.jsonl")
        with CaptureStubProcess(delay=0.0) as stub:
            ctx = Ctx(args=a, tmp=work, papers=papers, inp=inp, stub=stub, report=report, lx=bool(lx))
            steps: list[tuple[str, Callable[[Ctx], None]]] = [
                ("1", section1), ("5", section5), ("2", section2), ("3", section3), ("profile", profile_section),
                ("4", section4),
            ]  # fmt: skip
            if "5" in a.sections and "1" not in a.sections:
                a.sections.add("1")  # section 5 reads the bodies section 1 captured
            for name, step in steps:
                if name in a.sections:
                    t0 = time.perf_counter()
                    step(ctx)
                    log(f"section {name} done in {time.perf_counter() - t0:.0f} s")
        if "6" in a.sections:
            t0 = time.perf_counter()
            section6(ctx)
            log(f"section 6 done in {time.perf_counter() - t0:.0f} s")
        targets(ctx)
    finally:
        if env_cache is None:
            os.environ.pop("EXTRACTOR_CACHE_DIR", None)
        if a.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if a.output != "-":
        log(f"report written to {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
