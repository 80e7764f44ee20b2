"""CPU per paper of the no-model rules layer, function by function, and its import time.

The rules layer (links, rules, summaries, sentences) runs on the event loop's one core for
every paper of ``extractor run``; at high concurrency the client is CPU-bound, so each
millisecond here is a millisecond per paper. This script times each public function the
pipeline calls over the unique seed papers (``read_papers`` + ``unique_copies``, as
``extractor run`` reads them) with ``time.process_time``, several rounds, and prints the
median in ms per paper, and the chain ``--policy rules`` runs per paper: ``find_links``,
``code_status``, ``propose``, ``extractive_summary``. A function is looked for where each
release keeps it (``extractive_summary`` moved from ``evidence.summaries`` to
``evidence.extractive``); one a checkout lacks is shown as ``-``.

Import time: a fresh interpreter per round imports ``extractor.schema`` (pydantic, shared by
every module), then times the import of each module of :data:`MODULES` one after the
other (each without what the previous ones loaded).

Usage::

    python benchmarks/rules_cpu.py                          # this checkout, 5 rounds
    python benchmarks/rules_cpu.py --baseline ../main       # before/after table
    python benchmarks/rules_cpu.py --json out.json          # the figures as JSON too

With ``--baseline``, the other checkout's package is loaded in the same interpreter under
another name, and each round times every function on both, one right after the other (the
order swapped every round): a shared machine's busy spells weigh on both sides alike. The
import rounds alternate between the two checkouts too.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
#: The modules whose import is timed (those a checkout lacks are skipped).
MODULES = ("evidence.text", "evidence.rules", "evidence.links", "evidence.summaries", "evidence.extractive")
#: Where the timed functions may live, in the order they are looked for.
HOMES = ("evidence.text", "evidence.rules", "evidence.links", "evidence.extractive", "evidence.summaries")

_IMPORTS = """
import sys, time
sys.path.insert(0, {checkout!r})
import extractor.schema
out = {{}}
for name in {modules!r}:
    t = time.perf_counter()
    try:
        __import__("extractor." + name)
    except ImportError:
        continue
    out[name] = (time.perf_counter() - t) * 1000
print(out)
"""

Case = Callable[[str, str], object]


def import_times(checkouts: list[Path], rounds: int) -> list[dict[str, float]]:
    """Median ms to import each module of each checkout, a fresh interpreter per round
    (the checkouts alternated)."""
    runs: list[list[dict[str, float]]] = [[] for _ in checkouts]
    for _ in range(rounds):
        for i, checkout in enumerate(checkouts):
            code = _IMPORTS.format(checkout=str(checkout), modules=MODULES)
            command = [sys.executable, "-c", code]
            done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=checkout)
            runs[i].append(eval(done.stdout))  # noqa: S307 - our own child's dict of floats
    return [{name: statistics.median(r[name] for r in run) for name in MODULES if name in run[0]} for run in runs]


def load(checkout: Path, name: str) -> ModuleType:
    """The ``extractor`` package of ``checkout``, imported as ``name`` (its modules import
    each other relatively, so two checkouts can live in one interpreter)."""
    spec = importlib.util.spec_from_file_location(
        name, checkout / "extractor" / "__init__.py", submodule_search_locations=[str(checkout / "extractor")]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return package


def _find(package: str, name: str) -> Callable[..., object] | None:
    """``name`` from the first of :data:`HOMES` of ``package`` that has it (modules move
    between releases: the extractive summary left ``summaries`` for ``extractive``)."""
    for home in HOMES:
        try:
            module = importlib.import_module(f"{package}.{home}")
        except ImportError:
            continue
        if hasattr(module, name):
            return getattr(module, name)  # type: ignore[no-any-return]
    return None


def cases(package: str, papers: list[tuple[str, str]]) -> dict[str, Case | None]:
    """The timed calls of one checkout's package, by name (None where it lacks one)."""
    sentences, title_parts, propose = (_find(package, n) for n in ("sentences", "title_parts", "propose"))
    find_links, code_status = _find(package, "find_links"), _find(package, "code_status")
    extractive, problem, unfaithful = (_find(package, n) for n in ("extractive_summary", "summary_problem", "unfaithful"))
    assert sentences and title_parts and propose and find_links and code_status and extractive and problem
    found = {abstract: find_links(abstract) for _, abstract in papers}
    summary = {abstract: extractive(abstract, title) for title, abstract in papers}

    def rules_only(title: str, abstract: str) -> None:  # what --policy rules runs per paper
        code_status(abstract, find_links(abstract))
        propose(title, abstract)
        extractive(abstract, title)

    return {
        "sentences": lambda t, a: sentences(a),
        "title_parts": lambda t, a: title_parts(t),
        "propose": propose,
        "find_links": lambda t, a: find_links(a),
        "code_status": lambda t, a: code_status(a, found[a]),
        "extractive_summary": lambda t, a: extractive(a, t),
        "summary_problem": lambda t, a: problem(summary[a], t, a),
        "unfaithful": (lambda t, a: unfaithful(summary[a], t, a)) if unfaithful else None,
        "chain: rules": rules_only,
    }


def _ms_per_paper(fn: Case, papers: list[tuple[str, str]]) -> float:
    start = time.process_time()
    for title, abstract in papers:
        fn(title, abstract)
    return (time.process_time() - start) * 1000 / len(papers)


def cpu_per_paper(packages: list[str], rounds: int) -> tuple[int, list[dict[str, float | None]]]:
    """Median CPU ms per paper of each call, per package, over the unique seed papers."""
    first = packages[0]
    read_papers = importlib.import_module(f"{first}.records.listings").read_papers
    unique_copies = _find(first, "unique_copies") or importlib.import_module(f"{first}.records.identity").unique_copies
    seeds = list(read_papers([ROOT / "seeds"], on_error=lambda e: None))
    kept, _read = unique_copies(seeds)
    papers = [(seeds[position - 1].title or "", seeds[position - 1].abstract) for position, _id in kept]
    calls = [cases(package, papers) for package in packages]
    for fn in (fn for c in calls for fn in c.values() if fn is not None):  # warm up: first-use compiles
        _ms_per_paper(fn, papers)
    times: list[dict[str, list[float]]] = [{name: [] for name in c} for c in calls]
    for r in range(rounds):
        for name in calls[0]:
            order = range(len(calls)) if r % 2 == 0 else reversed(range(len(calls)))
            for i in order:
                fn = calls[i].get(name)
                if fn is not None:
                    times[i][name].append(_ms_per_paper(fn, papers))
    return len(papers), [{name: statistics.median(v) if v else None for name, v in t.items()} for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=Path, default=ROOT, help="The extractor checkout to measure.")
    parser.add_argument("--baseline", type=Path, help="Another checkout to compare with (before/after table).")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the figures as JSON.")
    args = parser.parse_args()
    checkouts = [args.checkout.resolve()]
    if args.baseline is not None:
        checkouts.insert(0, args.baseline.resolve())
    packages = [load(checkout, f"extractor_{i}") for i, checkout in enumerate(checkouts)]
    n, cpu = cpu_per_paper([p.__name__ for p in packages], args.rounds)
    imports = import_times(checkouts, args.rounds)
    print(f"{' vs '.join(map(str, checkouts))}: {n} unique seed papers, median of {args.rounds} rounds\n")
    if args.baseline is None:
        print("| CPU ms per paper (import: ms) | this checkout |\n| --- | ---: |")
    else:
        print("| CPU ms per paper (import: ms) | before | after | after/before |\n| --- | ---: | ---: | ---: |")
    rows = [{**c, **{f"import extractor.{m}": i.get(m) for m in MODULES}} for c, i in zip(cpu, imports)]
    for name in rows[0]:
        values = [row.get(name) for row in rows]
        cells = ["-" if v is None else f"{v:.1f}" if name.startswith("import") else f"{v:.3f}" for v in values]
        if len(values) == 2:
            cells.append(f"{values[1] / values[0]:.2f}" if values[0] and values[1] else "-")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"checkouts": list(map(str, checkouts)), "papers": n, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
