"""The digest: HTML and Markdown from records, escaped, self-contained, tested in Chromium
(the system's, as tests/browser.py says; skipped without it unless EXTRACTOR_REQUIRE_BROWSER=1).
Screenshots land in ``tests/artifacts/`` for a human to look at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extractor.pages import digest as dg
from extractor.cli import main
from extractor.schema import ClaimedGain, Dropped, ErrorInfo, Link, Record, Source

from ..browser import Opener, artifacts, launch
from ..conftest import ROOT
from ..helpers import make_record, write_jsonl
from ..stub_server import StubServer

HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_ABSTRACT = 'We break things "><img src=x onerror=alert(2)> on purpose. See javascript:alert(3) for code.'


def failed_record(i: int) -> Record:
    return Record(id=f"failed{i}", title=f"Failed paper {i}", abstract="Something.", source=Source(path="x", line=1),
                  error=ErrorInfo(kind="timeout", message="no answer in 120 s", attempts=3))  # fmt: skip


def hostile_record() -> dict[str, Any]:
    """A record whose every free-text value tries to inject markup or a script URL."""
    rec = make_record(1, id="evil", title=HOSTILE_TITLE, abstract=HOSTILE_ABSTRACT)
    assert rec.extraction is not None
    ex = rec.extraction.model_copy(update={
        "task": '"><img src=x onerror=alert(4)>', "method_name": "<b>bold</b>", "code_link": "javascript:alert(5)",
        "summary": "</script><script>alert(6)</script>",
        "claimed_gains": [ClaimedGain(metric="<i>m</i>", value="1%", evidence='"><img src=x onerror=alert(2)>')],
    })  # fmt: skip
    rec = rec.model_copy(update={
        "extraction": ex, "links": [Link(url="javascript:alert(3)", kind="other")],
        "dropped": [Dropped(field="task", value="<svg onload=alert(7)>", reason="not in abstract")],
    })  # fmt: skip
    return {**rec.model_dump(mode="json"), "summary_source": "extractive", "origin": {"task": "rule", "contribution": "rule"}}


def sample_records() -> list[Any]:
    """Twelve papers: four kinds, three code statuses, six with gains; one extractive
    summary with origins; one failed; one hostile."""
    records: list[Any] = [make_record(i) for i in range(10)]
    records[4] = {**records[4].model_dump(mode="json"), "summary_source": "extractive",
                  "origin": {"task": "rule", "method_name": "rule", "contribution": "rule", "summary": "model"}}  # fmt: skip
    return [*records, failed_record(0), hostile_record()]


# ---------------------------------------------------------------------------- reading



def test_old_files_new_fields_and_bad_lines_are_read_tolerantly(tmp_path: Path) -> None:
    old = make_record(1).model_dump(mode="json")
    del old["links"], old["dropped"], old["grounding"]  # an older file without these
    newer = {**make_record(2).model_dump(mode="json"), "summary_source": "model", "origin": {"task": "rule"},
             "some_future_field": [1, 2]}  # fmt: skip
    path = write_jsonl(tmp_path / "r.jsonl", [old, newer])
    with path.open("a") as fh:
        fh.write('{"id": "torn", "tit')
    errors: list[str] = []
    records = dg.digest_records([path], on_error=lambda e: errors.append(str(e)))
    assert [r.id for r in records] == ["2401.00001", "2401.00002"]
    assert getattr(records[0], "summary_source") is None and getattr(records[0], "origin") == {}
    assert getattr(records[1], "summary_source") == "model" and getattr(records[1], "origin") == {"task": "rule"}
    assert len(errors) == 1 and errors[0].startswith(f"{path}:3: not a record: not valid JSON")


def test_only_http_urls_become_links() -> None:
    assert dg.safe_href("https://github.com/a/b") == "https://github.com/a/b"
    assert dg.safe_href("http://x.org/p?q=1") == "http://x.org/p?q=1"
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "//x.org", "/p", "https://",
                'https://x.org/"onmouseover=1', "https://x.org/a b", "vbscript:x", None, ""):  # fmt: skip
        assert dg.safe_href(bad) is None, bad
    assert dg.arxiv_href("2401.01234") == "https://arxiv.org/abs/2401.01234"
    assert dg.arxiv_href("2401.01234v2") and dg.arxiv_href("cs/0112017")
    assert dg.arxiv_href("8237d2d00841") is None and dg.arxiv_href("2401.01234/../x") is None


def test_evidence_is_located_verbatim_case_insensitively_or_nearly() -> None:
    text = "It trains a ResNet-50 SlowFast network 4.5x faster on Kinetics."
    assert dg.evidence_span(text, "4.5x faster") == [39, 50]
    assert dg.evidence_span(text, "IT TRAINS") == [0, 9]
    start, end = dg.evidence_span(text, "trains a ResNet50 SlowFast network 4.5x faster") or [0, 0]
    assert "SlowFast network 4.5x faster" in text[start:end]
    assert dg.evidence_span(text, "reduces memory by half") is None and dg.evidence_span(text, " ") is None


def test_script_json_cannot_close_its_script_element() -> None:
    blob = dg.script_json({"t": "</script><!-- & \u2028"})
    assert "<" not in blob and ">" not in blob and "&" not in blob and "\u2028" not in blob
    assert json.loads(blob) == {"t": "</script><!-- & \u2028"}


# ---------------------------------------------------------------------------- HTML, statically


@pytest.fixture
def page_file(tmp_path: Path) -> Path:
    out = tmp_path / "digest.html"
    dg.digest(sample_records(), out, title="Test digest")
    return out


def test_html_is_self_contained_and_escaped(page_file: Path) -> None:
    html = page_file.read_text()
    css = html.split("<style", 1)[1].split("</style>", 1)[0]
    assert "<script src" not in html and "<link" not in html and "@import" not in css and "url(" not in css
    assert re.findall(r"<script\b[^>]*>", html) == [
        f'<script nonce="{nonce(html)}">', '<script type="application/json" id="digest-data">', f'<script nonce="{nonce(html)}">'
    ]
    data = html.split('id="digest-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and ">" not in data  # the blob cannot end its element or open a tag
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', html))
    assert "<img" not in html and "alert(" not in html.split("<script", 1)[0]


def nonce(html: str) -> str:
    found = re.search(r"script-src 'nonce-([^']+)'", html)
    assert found, "no Content-Security-Policy nonce"
    return found.group(1)


def test_the_day_is_summed_up_front(page_file: Path) -> None:
    html = page_file.read_text()
    meta = re.sub(r"<[^>]+>", "", html.split('<p class="meta">', 1)[1].split("</p>", 1)[0])
    assert re.match(r"\w+day \d+ \w+ \d{4} · 12 papers · 1 failed · model smollm2-135m · prompt v1$", meta), meta
    facts = re.sub(r"<[^>]+>", "", html.split('<section class="facts"', 1)[1].split("</section>", 1)[0])
    assert "11 papers on " in facts and "1 could not be read" in facts
    assert "4 of 11 link their code: Paper 0: Video Model Training Made Fast, Paper 3" in " ".join(facts.split())
    assert "Largest claimed gains: 4.5x training speed (Paper 0" in " ".join(facts.split())


def test_records_of_older_versions_render_without_the_newer_counts(tmp_path: Path) -> None:
    old = make_record(0).model_dump(mode="json")
    for newer in ("summary_source", "origin"):
        old.pop(newer, None)
    dg.digest([old], tmp_path / "old.html")
    html = (tmp_path / "old.html").read_text()
    assert " · 1 paper · model " in html and '"ssrc":null' in html


# ---------------------------------------------------------------------------- Markdown


def test_markdown_groups_papers_by_kind_with_counts_gains_and_code(tmp_path: Path) -> None:
    out = tmp_path / "digest.md"
    dg.digest(sample_records(), out, title="Test digest")
    md = out.read_text()
    assert md.startswith("# Test digest\n\n12 papers (12 unique, 1 failed) · model smollm2-135m · prompt v1 · ")
    headings = re.findall(r"^## (.+)$", md, re.MULTILINE)
    assert headings == ["Methods (3)", "Datasets and benchmarks (4)", "Surveys (2)", "Analyses (2)", "Failed (1)"]
    entry = "- **[Paper 0: Video Model Training Made Fast](https://arxiv.org/abs/2401.00000)** · `Multigrid0`"
    assert entry + " · [code](https://github.com/example/multigrid)\n" in md
    assert "  - Links: project page [example.github.io/multigrid](https://example.github.io/multigrid)" in md
    assert "(https://arxiv.org/abs/2401.00008)** · `Multigrid8` · no code\n" in md
    assert "  - Gains: **4.5x** training speed vs the baseline on Kinetics-400; **0.8%** accuracy" in md
    assert "  - Summary: Paper 4 trains video models faster with a multigrid schedule. *(a sentence of the abstract)*" in md
    assert "- 11 papers on " in md and "; 1 could not be read." in md
    assert "- Failed paper 0 — timeout: no answer in 120 s" in md
    assert "| Methods | 3 |" in md and "Code: 4 linked · 4 promised · 3 none." in md


def test_markdown_escapes_hostile_values(tmp_path: Path) -> None:
    out = tmp_path / "digest.md"
    dg.digest([hostile_record()], out)
    md = out.read_text()
    assert "<script>" not in md and "<img" not in md and "<i>" not in md
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in md
    assert "](javascript:" not in md and "javascript:" not in "".join(re.findall(r"\]\(([^)]*)\)", md))


# ---------------------------------------------------------------------------- command line


def test_digest_command_merges_files_shows_each_paper_once(tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [make_record(1), failed_record(0)])
    retried = make_record(0, id="failed0", title="Failed paper 0")  # a later run got it
    second = write_jsonl(tmp_path / "b.jsonl", [retried, make_record(1)])
    with first.open("a") as fh:
        fh.write("not json\n")
    for name in ("d.html", "d.md"):
        result = CliRunner().invoke(main, ["digest", str(first), str(second), "-o", str(tmp_path / name)])
        assert result.exit_code == 4, result.output  # a line was lost
        assert f"{first}:3: not a record" in result.output
        assert f"wrote {tmp_path / name}: 4 records, 2 papers, 0 failed" in result.output
    assert "## Failed" not in (tmp_path / "d.md").read_text()


def test_digest_command_with_nothing_readable_exits_3(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = CliRunner().invoke(main, ["digest", str(empty), "-o", str(tmp_path / "d.html")])
    assert result.exit_code == 3 and "no records" in result.output


def test_run_writes_a_digest_at_the_end(tmp_path: Path) -> None:
    listing = tmp_path / "in.jsonl"
    listing.write_text("".join(json.dumps({"title": f"Paper {i}", "abstract": f"We study {i} things. " * 5}) + "\n"
                               for i in range(3)))  # fmt: skip
    with StubServer() as stub:
        args = ["run", str(listing), "-o", str(tmp_path / "out.jsonl"), "--base-url", stub.base_url, "--model",
                "stub-model", "--mode", "tools", "--grounding", "off", "-q", "--digest", str(tmp_path / "d.html")]  # fmt: skip
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "3 records, 3 papers, 0 failed" in result.output
    assert "Paper 2" in (tmp_path / "d.html").read_text()


def test_run_digest_needs_jsonl_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "x.txt", "-o", str(tmp_path / "o.csv"), "--digest", "d.html"])
    assert result.exit_code == 2 and "--digest" in result.output


# ---------------------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture
def open_page(browser: Any, page_file: Path) -> Iterator[Any]:
    opener = Opener(browser, page_file)
    yield opener
    opener.close()


def test_one_card_per_record_failed_apart(open_page: Any) -> None:
    p = open_page()
    assert len(p.titles()) == 11 and p.page.locator("#failed li").count() == 1
    assert p.page.locator("#failed li").inner_text().startswith("timeout")
    assert p.page.inner_text("#status") == "11 papers"
    assert p.page.locator("#pager").is_hidden()
    first = p.page.locator("#cards article").first
    assert first.locator("h3 a").get_attribute("href") == "https://arxiv.org/abs/2401.00000"
    assert first.locator(".badge.name").inner_text() == "Multigrid0"
    assert first.locator(".button.code").get_attribute("href") == "https://github.com/example/multigrid"
    assert p.errors == [] and p.dialogs == [] and p.requests == []


def test_search_narrows_the_cards_and_is_kept_in_the_fragment(open_page: Any) -> None:
    p = open_page()
    p.page.fill("#q", "segmentation")
    p.wait_cards(3)
    assert all("Segmentation" in t for t in p.titles())
    assert p.fragment() == "#q=segmentation" and p.page.inner_text("#status") == "3 of 11 papers match"
    p.page.fill("#q", "segmentation paper 5:")
    p.wait_cards(1)
    p.page.fill("#q", "no such words")
    p.wait_cards(0)
    assert "No paper matches" in p.page.inner_text("#status")


@pytest.mark.parametrize(
    ("control", "value", "expected"),
    [
        ("#kind", "survey", ["Paper 2", "Paper 6"]),
        ("#code", "linked", ["Paper 0", "Paper 3", "Paper 6", "Paper 9"]),
        ("#code", "promised", ["Paper 1", "Paper 4", "Paper 7", HOSTILE_TITLE]),
        ("#nums", True, ["Paper 0", "Paper 2", "Paper 4", "Paper 6", "Paper 8", HOSTILE_TITLE]),
    ],
)
def test_each_filter_narrows_the_cards(open_page: Any, control: str, value: Any, expected: list[str]) -> None:
    p = open_page()
    if value is True:
        p.page.check(control)
    else:
        p.page.select_option(control, value)
    p.wait_cards(len(expected))
    assert [t.split(":")[0] for t in p.titles()] == expected


def test_sort_by_title_and_by_gains(open_page: Any) -> None:
    p = open_page()
    p.page.select_option("#sort", "gains")
    assert p.page.locator("#cards article .gains").count() == 6
    counts = [p.page.locator(f"#cards article:nth-child({i}) .gains tbody tr").count() for i in range(1, 12)]
    assert counts == sorted(counts, reverse=True)
    p.page.select_option("#sort", "title")
    titles = p.titles()
    assert titles == sorted(titles, key=str.casefold)
    assert p.fragment() == "#sort=title"


def test_fragment_restores_a_view(open_page: Any) -> None:
    p = open_page("#q=paper&kind=method&code=linked&nums=1&sort=title")
    assert [t.split(":")[0] for t in p.titles()] == ["Paper 0"]
    assert p.page.input_value("#q") == "paper" and p.page.input_value("#kind") == "method"
    assert p.page.input_value("#code") == "linked" and p.page.is_checked("#nums")
    assert p.page.input_value("#sort") == "title"
    # Changing the fragment (the back button, a pasted link) changes the view.
    p.page.evaluate("location.hash = '#kind=survey'")
    p.wait_cards(2)
    assert p.page.input_value("#q") == "" and p.page.input_value("#kind") == "survey"


def test_hostile_record_renders_as_text(open_page: Any) -> None:
    p = open_page("#q=script")
    card = p.page.locator("#cards article").filter(has_text="alert(1)")
    assert card.locator("h3").inner_text() == HOSTILE_TITLE
    card.locator("details.abstract summary").click()
    assert HOSTILE_ABSTRACT[:40] in card.locator("details.abstract").inner_text()
    assert card.locator(".nolink", has_text="javascript:alert(5)").count() == 1
    assert card.locator(".nolink", has_text="javascript:alert(3)").count() == 1
    hrefs = p.page.eval_on_selector_all("[href], [src]", "els => els.map(e => e.href || e.src)")
    assert all(h.startswith(("https://", "http://", p.url + "#")) for h in hrefs), hrefs  # out, or within the page
    assert p.page.locator("img, iframe, object, embed, b, i").count() == 0
    assert p.dialogs == [] and p.errors == [] and p.requests == []


def test_evidence_is_highlighted_in_the_abstract_on_demand(open_page: Any) -> None:
    p = open_page()
    card = p.page.locator("#cards article").first
    assert not card.locator("details.abstract").get_attribute("open")
    card.locator("button.evidence").first.click()
    active = card.locator("details.abstract[open] mark.active")
    assert active.inner_text() == "trains a ResNet-50 SlowFast network 4.5x faster"
    card.locator("button.evidence").nth(1).click()
    assert active.inner_text() == "improving accuracy by 0.8%"


def test_where_each_value_came_from_is_behind_details(open_page: Any) -> None:
    p = open_page("#q=paper 4:")
    card = p.page.locator("#cards article").first
    prov = card.locator("details.prov")
    assert prov.is_visible() and not prov.locator("li").first.is_visible()
    assert card.locator(".origin").count() == prov.locator(".origin").count() > 0, "no provenance chip outside details"
    prov.locator("summary").click()
    lines = [" ".join(t.split()) for t in prov.locator("li").all_text_contents()]
    assert lines[:3] == ["task rule", "method name rule", "contribution rule"]
    assert lines[3].startswith("summary extractive — a sentence of the abstract")
    evil = open_page("#q=script").page.locator("#cards article").first
    evil.locator("details.prov summary").click()
    assert evil.locator("details.prov li.dropped li").text_content() == "task <svg onload=alert(7)> — not in abstract"


def test_keyboard_only(open_page: Any) -> None:
    p = open_page()
    p.page.keyboard.press("/")
    assert p.page.evaluate("document.activeElement.id") == "q"
    p.page.keyboard.type("speech")
    p.wait_cards(2)
    p.page.keyboard.press("Escape")
    p.wait_cards(11)
    focused = []
    while len(focused) < 8 and (not focused or focused[-1] != "nums"):
        p.page.keyboard.press("Tab")  # clear, sort, kind, code, theme..., with numbers
        focused.append(p.page.evaluate("document.activeElement.id"))
    assert focused[:4] == ["clear", "sort", "kind", "code"] and focused[-1] == "nums", focused
    p.page.keyboard.press("Space")  # with numbers
    p.wait_cards(6)
    p.page.evaluate("document.activeElement.blur()")
    p.page.keyboard.press("j")
    p.page.keyboard.press("j")
    assert p.page.evaluate("document.activeElement.querySelector('h3').innerText").startswith("Paper 2")
    p.page.keyboard.press("s")  # stars it
    assert p.page.locator("#cards article").nth(1).locator("button.star").get_attribute("aria-pressed") == "true"


def test_pages_of_fifty_and_the_page_in_the_fragment(tmp_path: Path, open_page: Any) -> None:
    path = tmp_path / "big.html"
    dg.digest([make_record(i) for i in range(120)], path)
    p = open_page(path=path)
    assert len(p.titles()) == 50 and p.page.inner_text("#pageinfo") == "page 1 of 3"
    p.page.click("#next")
    p.page.click("#next")
    assert len(p.titles()) == 20 and p.titles()[0].startswith("Paper 100") and p.fragment() == "#page=3"
    assert p.page.is_disabled("#next")
    again = open_page("#page=2", path=path)
    assert again.titles()[0].startswith("Paper 50")


def test_phone_width_dark_theme_and_screenshots(open_page: Any) -> None:
    ARTIFACTS = artifacts()  # for a human to look at, never committed
    wide = open_page(viewport={"width": 1200, "height": 1400})
    wide.page.screenshot(path=str(ARTIFACTS / "digest.png"))
    phone = open_page(viewport={"width": 390, "height": 844}, color_scheme="dark", device_scale_factor=2)
    assert phone.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    background = phone.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(16, 18, 21)"
    phone.page.screenshot(path=str(ARTIFACTS / "digest-phone-dark.png"))
    assert (ARTIFACTS / "digest.png").stat().st_size > 10_000


def test_extractor_digest_is_the_function_whatever_was_imported_first(tmp_path: Path) -> None:
    import extractor
    import extractor.pages.digest  # noqa: F401  (a submodule import must not shadow the function)

    summary = extractor.digest([make_record(0)], tmp_path / "d.md")
    assert summary.unique == 1 and (tmp_path / "d.md").read_text().startswith("# Paper digest · ")


def test_benchmark_prints_its_table(tmp_path: Path) -> None:
    """benchmarks/digest.py runs end to end (timings are never asserted: the machine is shared)."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "digest.py"), "--sizes", "40"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("load average ") and "\n| records | `extractor digest` (CLI, from JSONL) |" in result.stdout
    assert re.search(r"^\| 40 \| [\d.]+ s \| [\d.]+ s \| [\d.]+ MB \| [\d.]+ MB \| ", result.stdout, re.MULTILINE)
    site = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "digest.py"), "--site", "--days", "3", "--per-day", "20"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)  # fmt: skip
    assert site.returncode == 0, site.stderr[-2000:]
    assert "library: 3 days x 20 papers a day, 52 distinct papers" in site.stdout
    assert re.search(r"^\| `write_site` \(in process, empty folder\) \| [\d.]+ s \| [\d.]+ s \| 3 \| ", site.stdout, re.M)
    assert "| `extractor site` again (nothing changed: 0 files written) |" in site.stdout
