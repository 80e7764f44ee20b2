"""CPU per paper of the no-model rules layer, function by function, and its import time.

The rules layer (links, rules, summaries, sentences) runs on the event loop's one core for
every paper of ``extractor run``; at high concurrency the client is CPU-bound, so each
millisecond here is a millisecond per paper. This script times each public function the
pipeline calls over the unique seed papers (``read_papers`` + ``unique_copies``, as
``extractor run`` reads them) with ``time.process_time``, several rounds, and prints the
median in ms per paper. Two chains are timed as the pipeline runs them:

* *rules-first*: ``find_links``, ``code_status``, ``propose``, ``summary_context``, the
  model's ``first_sentence`` and two ``summary_problem`` checks (the re-ask gate and the
  record's); the model's summary is stood in for by the extractive one;
* *rules*: ``find_links``, ``code_status``, ``propose``, ``extractive_summary``.

Import time: a fresh interpreter per round imports ``extractor.schema`` (pydantic, shared by
every module), then times ``import extractor.evidence.text``, ``.rules``, ``.links``, ``.summaries``
one after the other (each without what the previous ones loaded).

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
MODULES = ("text", "rules", "links", "summaries")

_IMPORTS = """
import sys, time
sys.path.insert(0, {checkout!r})
import extractor.schema
out = {{}}
for name in {modules!r}:
    t = time.perf_counter()
    __import__("extractor." + name)
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
    return [{name: statistics.median(r[name] for r in run) for name in MODULES} for run in runs]


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


def cases(package: str, papers: list[tuple[str, str]]) -> dict[str, Case]:
    """The timed calls of one checkout's package, by name."""
    text, rules, links, summaries, spans = (importlib.import_module(f"{package}.{m}") for m in (*MODULES, "spans"))
    found = {abstract: links.find_links(abstract) for _, abstract in papers}
    summary = {abstract: summaries.extractive_summary(abstract, title) for title, abstract in papers}
    proposing = {a: [s for s in text.sentences(a) if rules._WE_PROPOSE.search(s)] for _, a in papers}

    def rules_first(title: str, abstract: str) -> None:
        found = links.find_links(abstract)
        links.code_status(abstract, found)
        rules.propose(title, abstract)
        summaries.summary_context(abstract)
        answer = summaries.first_sentence(summary[abstract])
        summaries.summary_problem(answer, title, abstract)
        summaries.summary_problem(answer, title, abstract)

    def rules_only(title: str, abstract: str) -> None:
        found = links.find_links(abstract)
        links.code_status(abstract, found)
        rules.propose(title, abstract)
        summaries.extractive_summary(abstract, title)

    return {
        "text.sentences": lambda t, a: text.sentences(a),
        "rules.title_parts": lambda t, a: rules.title_parts(t),
        "rules.gains_of": lambda t, a: rules.gains_of(a),
        "rules.contribution_of": lambda t, a: rules.contribution_of(t, a, proposing[a]),
        "rules.propose": rules.propose,
        "links.find_links": lambda t, a: links.find_links(a),
        "links.code_status": lambda t, a: links.code_status(a, found[a]),
        "summaries.summary_context": lambda t, a: summaries.summary_context(a),
        "summaries.summary_problem": lambda t, a: summaries.summary_problem(summary[a], t, a),
        "summaries.extractive_summary": lambda t, a: summaries.extractive_summary(a, t),
        "spans.candidates": spans.candidates,
        "chain: rules-first": rules_first,
        "chain: rules": rules_only,
    }


def _ms_per_paper(fn: Case, papers: list[tuple[str, str]]) -> float:
    start = time.process_time()
    for title, abstract in papers:
        fn(title, abstract)
    return (time.process_time() - start) * 1000 / len(papers)


def cpu_per_paper(packages: list[str], rounds: int) -> tuple[int, list[dict[str, float]]]:
    """Median CPU ms per paper of each call, per package, over the unique seed papers."""
    first = packages[0]
    text = importlib.import_module(f"{first}.text")
    seeds = list(importlib.import_module(f"{first}.listings").read_papers([ROOT / "seeds"], on_error=lambda e: None))
    kept, _read = identity.unique_copies(seeds)
    papers = [(seeds[position - 1].title or "", seeds[position - 1].abstract) for position, _id in kept]
    calls = [cases(package, papers) for package in packages]
    for fn in (fn for c in calls for fn in c.values()):  # warm up: first-use compiles are not per-paper costs
        _ms_per_paper(fn, papers)
    times: list[dict[str, list[float]]] = [{name: [] for name in c} for c in calls]
    for r in range(rounds):
        for name in calls[0]:
            order = range(len(calls)) if r % 2 == 0 else reversed(range(len(calls)))
            for i in order:
                times[i][name].append(_ms_per_paper(calls[i][name], papers))
    return len(papers), [{name: statistics.median(v) for name, v in t.items()} for t in times]


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
    rows = [{**c, **{f"import extractor.{m}": i[m] for m in MODULES}} for c, i in zip(cpu, imports)]
    for name in rows[0]:
        values = [row[name] for row in rows]
        cells = [f"{v:.1f}" if name.startswith("import") else f"{v:.3f}" for v in values]
        if len(values) == 2:
            cells.append(f"{values[1] / values[0]:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"checkouts": list(map(str, checkouts)), "papers": n, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
