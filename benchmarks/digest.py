"""How fast the digest and the site are written and opened, how big they are, and the screenshots.

    python benchmarks/digest.py                       # 1,000 and 10,000 records: a table
    python benchmarks/digest.py --sizes 1000 100000   # other sizes
    python benchmarks/digest.py --site                # a 30-day site of 300 papers a day
    python benchmarks/digest.py --site --days 60 --per-day 500
    python benchmarks/digest.py --screenshot          # docs/digest.png from seeds/ (no model)
    python benchmarks/digest.py --screenshot results.jsonl   # ... from a real run's records
    python benchmarks/digest.py --daily-screenshots   # docs/digest-day.png, docs/digest-phone.png

Records are synthetic but shaped like real ones: the seed papers' titles and abstracts
(cycled), 0-3 claimed gains whose evidence is a clause of the abstract, the link finder's
links, every contribution kind and code status, what a Hugging Face listing says (9 authors,
an organisation, upvotes, comments, a GitHub repo on 1 in 5), 3% failed. For each size it reports the
Python time to write the page (records already in memory, as at the end of a run), the
file size, and in headless Chromium (the system's, through Playwright): the time from
navigation to the first page of cards, to narrow the cards by a search, and to change a
filter; and the whole ``extractor digest RECORDS.jsonl -o digest.html`` command (Python
start-up, reading and validating the JSONL, writing). Without Chromium or Playwright the browser columns say so.
The load average of the machine is printed before and after (the timings are wall clock).

``--site`` builds a library of ``--days`` days of ``--per-day`` papers each (a fifth of each
day's papers listed again the next day, as on Hugging Face) and times ``write_site`` in
process and the whole ``extractor site LIBRARY -o DIR`` command (start-up included), each
into an empty folder, then a second ``extractor site`` over the written site (nothing changed).

``--daily-screenshots`` runs ``extractor daily --policy rules --site`` on the two Hugging Face
fixture days of tests/data/daily/ through a loopback server (as tests/runs/test_daily.py does) and
screenshots the second day's page of the site: on a desktop (the day's summary, its themes
and "New today") and on a phone.

Without a records file, ``--screenshot`` builds records from ``seeds/`` with no model: the
link finder's links and code status, the method name and task from "Name: description"
titles, an extractive first-sentence summary, and gains from "4.5x faster" / "by 2.1%"
phrases. After a real run, pass its ``results.jsonl`` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.pages import digest as dg  # noqa: E402
from extractor.evidence.links import best_code_link, code_status, find_links  # noqa: E402
from extractor.records.listings import survey  # noqa: E402
from extractor.schema import ClaimedGain, ErrorInfo, Extraction, Provenance, Record  # noqa: E402

KINDS = ["method", "method", "method", "dataset_or_benchmark", "analysis", "system_or_tool", "survey", "theory"]
METRICS = ["accuracy", "F1", "training speed", "BLEU", "success rate", "latency", "mAP", "win rate"]
_GAIN = re.compile(r"(\d+(?:\.\d+)?\s?(?:%|x|×)|\d+(?:\.\d+)?\s(?:points|times))")
_CUES = [("survey", "survey"), ("benchmark", "dataset_or_benchmark"), ("dataset", "dataset_or_benchmark"),
         ("analysis", "analysis"), ("toolkit", "system_or_tool"), ("library", "system_or_tool")]  # fmt: skip
PROVENANCE = Provenance(model="smollm2-135m", endpoint="127.0.0.1", mode="tools", prompt_version="1", prompt_hash="-")


def seed_papers() -> list[Any]:
    """The unique papers of ``seeds/``."""
    return list(survey([str(ROOT / "seeds")]).papers)


def clause_with(text: str, start: int, end: int) -> str:
    """The clause of ``text`` around ``text[start:end]`` (between , ; . boundaries)."""
    bounds = (". ", ", ", "; ")
    left = max((text.rfind(sep, 0, start) + 2 for sep in bounds if text.rfind(sep, 0, start) >= 0), default=0)
    right = min((i for i in (text.find(sep, end) for sep in bounds) if i >= 0), default=len(text))
    return text[left:right].strip()


def gains_in(abstract: str, limit: int = 3) -> list[ClaimedGain]:
    """Numbers with a unit, their clause as evidence, and the metric named in it (if any)."""
    gains = []
    for found in list(_GAIN.finditer(abstract))[:limit]:
        evidence = clause_with(abstract, found.start(), found.end())
        metric = next((m for m in METRICS if m.lower() in evidence.lower()), "")
        if metric or "faster" in evidence:
            gains.append(ClaimedGain(metric=metric or "speed", value=found.group(0), evidence=evidence))
    return gains


def rules_record(paper: Any) -> dict[str, Any]:
    """A record for ``paper`` with no model: link finder, title rules, first sentence."""
    links = find_links(paper.abstract)
    name, _, rest = paper.title.partition(":")
    named = bool(rest) and len(name.split()) <= 4
    first = re.split(r"(?<=[.!?])\s+", paper.abstract.strip(), maxsplit=1)[0]
    kind = next((k for cue, k in _CUES if cue in paper.title.lower()), "method")
    extraction = Extraction(
        task=rest.strip() if named else None, method=None, method_name=name.strip() if named else None,
        claimed_gains=gains_in(paper.abstract), code_link=best_code_link(links), contribution=kind,
        summary=" ".join(first.split()[:40]),
    )  # fmt: skip
    record = Record.for_paper(paper, extraction=extraction, links=links, code_status=code_status(paper.abstract, links))
    origin = {"task": "rule", "method_name": "rule"} if named else {}
    return {**record.model_dump(mode="json"), "summary_source": "extractive", "origin": origin}


def synthetic_records(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` records shaped like a real run's, from the seed papers (cycled)."""
    rng = random.Random(seed)
    papers = seed_papers()
    records = []
    for i in range(n):
        paper = papers[i % len(papers)]
        paper = paper.model_copy(update={"id": f"{2400 + i // 100000}.{i % 100000:05d}"})
        if rng.random() < 0.03:
            error = ErrorInfo(kind=rng.choice(["timeout", "validation", "server"]), message="gave up after 3 attempts")
            records.append(Record.for_paper(paper, error=error, provenance=PROVENANCE).model_dump(mode="json"))
            continue
        record = rules_record(paper)
        record["extraction"].update(contribution=rng.choice(KINDS), method="a method " + paper.title[:40].lower())
        record.update(summary_source=rng.choice(["model", "model", "model", "extractive"]),
                      provenance=PROVENANCE.model_dump(), meta=listing_meta(record["id"], rng))  # fmt: skip
        records.append(record)
    return records


def listing_meta(paper_id: str, rng: random.Random, day: str = "2024-10-28") -> dict[str, Any]:
    """What a Hugging Face listing says of a paper: authors, organisation, upvotes..."""
    return {
        "arxiv_id": paper_id, "authors": [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(9)],
        "organization": rng.choice(ORGS), "upvotes": int(rng.paretovariate(1.2) * 3), "comments": rng.randrange(4),
        "github_repo": f"https://github.com/lab/{paper_id}" if rng.random() < 0.2 else None,
        "url": f"https://huggingface.co/papers/{paper_id}", "listing_date": day,
    }  # fmt: skip


FIRST = ["Ada", "Wei", "Priya", "Lucas", "Mei", "Omar", "Sofia", "Kenji", "Amara", "Jonas", "Lina", "Ravi"]
LAST = ["Chen", "Garcia", "Kumar", "Müller", "Sato", "Okafor", "Rossi", "Kim", "Nguyen", "Silva", "Novak", "Haddad"]
ORGS = [None, "Hugging Face", "Google", "Meta", "NVIDIA", "Microsoft", "Alibaba", "ByteDance", "Tsinghua University"]


@contextmanager
def chromium_page(viewport: dict[str, int] | None = None) -> Iterator[Any]:
    """A page of the system's headless Chromium (through Playwright), or None without one."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if not executable:
        yield None
        return
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
        finally:
            browser.close()


def timed_browser(page: Any, path: Path) -> dict[str, float]:
    """Seconds to first cards, to a search and to a filter, for the page at ``path``."""
    started = time.perf_counter()
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("html[data-ready]")
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    page.fill("#q", "video")
    page.wait_for_function("() => location.hash === '#q=video'")
    searched = time.perf_counter() - started
    started = time.perf_counter()
    page.check("#nums")
    page.wait_for_function("() => location.hash.includes('nums=1')")
    return {"load": loaded, "search": searched, "filter": time.perf_counter() - started}


def timed_cli(records: list[dict[str, Any]], tmp: Path) -> float:
    """Seconds for ``extractor digest RECORDS.jsonl -o digest.html``, start-up included."""
    jsonl = tmp / "records.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "extractor", "digest", str(jsonl), "-o", str(tmp / "cli.html")],
                   check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    return time.perf_counter() - started


def load() -> str:
    """The load average of the machine (1, 5 and 15 minutes) and its cores."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def measure(sizes: list[int]) -> None:
    """Print the table of write time, size and browser times per size."""
    print("| records | `extractor digest` (CLI, from JSONL) | write (in memory) | file size | per 1,000 papers "
          "| open to first cards | search | filter |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp, chromium_page() as page:
        for n in sizes:
            records = synthetic_records(n)
            path = Path(tmp) / f"digest-{n}.html"
            started = time.perf_counter()
            dg.digest(records, path)
            wrote = time.perf_counter() - started
            size = path.stat().st_size
            cli = timed_cli(records, Path(tmp))
            browser = timed_browser(page, path) if page else None
            cells = [f"{browser[k]:.2f} s" for k in ("load", "search", "filter")] if browser else ["no Chromium"] * 3
            print(f"| {n:,} | {cli:.2f} s | {wrote:.2f} s | {size / 1e6:.1f} MB | {size / n * 1000 / 1e6:.2f} MB | "
                  + " | ".join(cells) + " |")  # fmt: skip
    print(f"\n{load()} (after)")


def site_library(path: Path, days: int, per_day: int, seed: int = 0) -> list[str]:
    """A library of ``days`` days of ``per_day`` papers (a fifth listed again the next day)."""
    import datetime as dt

    from extractor.library import Library

    rng = random.Random(seed)
    first = dt.date(2024, 10, 1)
    pool = synthetic_records(days * per_day, seed)
    names, carried = [], []
    with Library(path) as library:
        for d in range(days):
            day = (first + dt.timedelta(days=d)).isoformat()
            fresh = pool[d * per_day : (d + 1) * per_day - len(carried)]
            listed = [{**r, "meta": {**(r.get("meta") or {}), "listing_date": day}} for r in fresh + carried]
            library.add(listed, listing=f"hf {day}", seen=day)
            carried = rng.sample(fresh, per_day // 5)
            names.append(day)
    return names


def measure_site(days: int, per_day: int) -> None:
    """Print the time to write a site of ``days`` days of ``per_day`` papers."""
    from extractor.library import Library
    from extractor.pages.site import write_site

    print(f"{load()} (before)")
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library.db"
        started = time.perf_counter()
        site_library(library, days, per_day)
        built = time.perf_counter() - started
        with Library(library, create=False) as lib:
            papers = len(lib)
            started, cpu = time.perf_counter(), time.process_time()
            report = write_site(lib, Path(tmp) / "site")
            wrote, wrote_cpu = time.perf_counter() - started, time.process_time() - cpu
        size = sum(p.stat().st_size for p in (Path(tmp) / "site").iterdir())
        command = [sys.executable, "-m", "extractor", "site", str(library), "-o", str(Path(tmp) / "cli")]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        cli = time.perf_counter() - started
        started = time.perf_counter()
        again = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
        rerun = time.perf_counter() - started
    print(f"library: {days} days x {per_day} papers a day, {papers:,} distinct papers (made in {built:.1f} s)\n")
    print("| step | wall | CPU | pages | site size |")
    print("|---|---:|---:|---:|---:|")
    print(f"| `write_site` (in process, empty folder) | {wrote:.2f} s | {wrote_cpu:.2f} s | {report.pages} | {size / 1e6:.1f} MB |")
    print(f"| `extractor site LIBRARY -o DIR` (start-up included, empty folder) | {cli:.2f} s | | {report.pages} | |")
    written = again.stderr.split(" files written")[0].rsplit(" ", 1)[-1]
    print(f"| `extractor site` again (nothing changed: {written} files written) | {rerun:.2f} s | | | |")
    print(f"\n{load()} (after)")


def daily_screenshots(out: Path) -> None:
    """docs/digest-day.png and docs/digest-phone.png from a run of the daily loop on the fixture days."""
    from click.testing import CliRunner

    from extractor.cli import main
    from tests.fixture_server import FixtureServer

    with tempfile.TemporaryDirectory() as tmp, FixtureServer() as server:
        folder = Path(tmp)
        for day in ("2024-10-25", "2024-10-28"):
            result = CliRunner().invoke(main, [
                "daily", "--endpoint", server.url, "--dir", str(folder / "days"), "--library", str(folder / "library.db"),
                "--site", str(folder / "site"), "--policy", "rules", "--date", day, "-q",
                "--watch-keywords", "hallucinations"], env={"EXTRACTOR_CACHE_DIR": str(folder / "cache")})  # fmt: skip
            if result.exit_code:
                raise SystemExit(f"extractor daily --date {day} failed: {result.output}")
        page = folder / "site" / "2024-10-28.html"
        with chromium_page({"width": 1280, "height": 1900}) as browser:
            if browser is None:
                raise SystemExit("needs Chromium (apt-get install -y chromium) and Playwright (pip install -e '.[test]')")
            browser.goto(page.resolve().as_uri())
            browser.wait_for_selector("html[data-ready]")
            browser.screenshot(path=str(out / "digest-day.png"))
            phone = browser.context.browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            phone.goto(page.resolve().as_uri())
            phone.wait_for_selector("html[data-ready]")
            phone.screenshot(path=str(out / "digest-phone.png"))
    print(f"wrote {out / 'digest-day.png'} and {out / 'digest-phone.png'}")

def screenshot(records_file: Path | None, out: Path) -> None:
    """Write the digest of ``records_file`` (default: the records of seeds/ with the rules alone) and its screenshot."""
    html = out.with_suffix(".html")
    if records_file:
        dg.digest_files([records_file], html)
    else:  # what `extractor run seeds/ --policy rules` writes
        import extractor

        records = sorted(extractor.extract_many(seed_papers(), policy="rules", cache=False), key=lambda r: (r.source.path, r.source.line))
        dg.digest(records, html, title="Paper digest · seeds/ (no model)")
    with chromium_page({"width": 1200, "height": 1500}) as page:
        if page is None:
            raise SystemExit("needs Chromium (apt-get install -y chromium) and Playwright (pip install -e '.[test]')")
        page.goto(html.resolve().as_uri() + "#nums=1")  # papers with numbers first: show a gain's evidence
        page.wait_for_selector("html[data-ready]")
        page.locator("#cards article .gains button.evidence").first.click()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(out))
    html.unlink()
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--site", action="store_true", help="time writing a site of --days days of --per-day papers")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--daily-screenshots", action="store_true",
                        help="docs/digest-day.png and docs/digest-phone.png from the daily loop on the fixture days")  # fmt: skip
    parser.add_argument("--screenshot", nargs="?", const="", metavar="RECORDS.jsonl",
                        help="write docs/digest.png (from RECORDS.jsonl, default: seeds/ without a model)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "digest.png")
    args = parser.parse_args()
    if args.screenshot is not None:
        screenshot(Path(args.screenshot) if args.screenshot else None, args.out)
    elif args.daily_screenshots:
        daily_screenshots(args.out.parent)
    elif args.site:
        measure_site(args.days, args.per_day)
    else:
        print(f"{load()} (before)\n")
        measure(args.sizes)


if __name__ == "__main__":
    main()
