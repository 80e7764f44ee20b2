"""The archive: ``extractor site`` and ``extractor daily --site`` write a static site of the
library (a page per day, an index, an Atom feed) that works from ``file://``; tested on the
two Hugging Face fixture days run through the daily loop, and opened in Chromium."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extractor.cli import main

from ..browser import launch
from ..fixture_server import FixtureServer
from ..helpers import DAY1, DAY2, RECURRING, daily

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the library of the two fixture days and the site ``daily --site`` kept."""
    folder = tmp_path_factory.mktemp("two-days")
    with FixtureServer() as server:
        for day in (DAY1, DAY2):
            result = daily(server, folder, "--date", day, "--site", str(folder / "site"), "--watch-keywords", "hallucinations")
            assert result.exit_code == 0, result.output
            assert f"site {folder / 'site'}: 2 days" in result.stderr or day == DAY1
    return folder


def test_daily_refreshes_a_site_of_every_day(two_days: Path) -> None:
    site = two_days / "site"
    assert sorted(p.name for p in site.iterdir()) == [".nojekyll", f"{DAY1}.html", f"{DAY2}.html", "days.json",
                                                      "feed.xml", "index.html"]  # fmt: skip
    days = json.loads((site / "days.json").read_text())
    assert [(d["day"], d["papers"], d["new"]) for d in days] == [(DAY2, 5, 3), (DAY1, 6, 6)]
    assert days[0]["top"]["title"] == "Can Knowledge Editing Really Correct Hallucinations?" and days[0]["top"]["upvotes"] == 50
    index = (site / "index.html").read_text()
    assert f'href="{DAY2}.html"' in index and 'href="feed.xml"' in index and "<script" not in index
    page = (site / f"{DAY2}.html").read_text()
    assert f'href="{DAY1}.html" rel="prev">← {DAY1}</a>' in page and 'href="index.html">All days</a>' in page


def test_the_feed_is_atom_of_new_papers(two_days: Path) -> None:
    feed = ET.parse(two_days / "site" / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}updated") == f"{DAY2}T00:00:00Z"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 9  # every paper once, on the day it was first seen
    first = {e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}published") for e in entries}
    assert all(first[f"https://arxiv.org/abs/{pid}"] == f"{DAY1}T00:00:00Z" for pid in RECURRING)
    assert [e.findtext(f"{ATOM}published")[:10] for e in entries] == sorted((e.findtext(f"{ATOM}published")[:10] for e in entries), reverse=True)
    related = entries[0].find(f"{ATOM}link[@rel='related']")
    assert related is not None and related.get("href") == f"{DAY2}.html"
    assert all(e.find(f"{ATOM}author/{ATOM}name") is not None for e in entries)


def test_site_command_writes_only_what_changed(two_days: Path, tmp_path: Path) -> None:
    library = str(two_days / "library.db")
    out = tmp_path / "pages"
    first = CliRunner().invoke(main, ["site", library, "-o", str(out), "--site-url", "https://me.github.io/papers"])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == str(out / "index.html") and "6 files written" in first.stderr
    feed = ET.parse(out / "feed.xml").getroot()
    assert feed.findtext(f"{ATOM}id") == "https://me.github.io/papers/feed.xml"
    (out / "index.html").rename(out / "real-index.html")
    (out / "index.html").symlink_to("real-index.html")
    again = CliRunner().invoke(main, ["site", library, "-o", str(out), "--site-url", "https://me.github.io/papers"])
    assert again.exit_code == 0 and "0 files written" in again.stderr, again.stderr
    (out / "real-index.html").write_text("stale")
    third = CliRunner().invoke(main, ["site", library, "-o", str(out), "--day", DAY2])
    assert third.exit_code == 0 and (out / "index.html").is_symlink(), "a symlink's target is written, the link kept"
    assert "Daily papers" in (out / "real-index.html").read_text()
    (tmp_path / "a-file").write_text("mine")
    refused = CliRunner().invoke(main, ["site", library, "-o", str(tmp_path / "a-file")])
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert (tmp_path / "a-file").read_text() == "mine"
    missing = CliRunner().invoke(main, ["site", str(tmp_path / "none.db"), "-o", str(out)])
    assert missing.exit_code == 2 and "no library here yet" in missing.stderr


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def test_the_site_works_from_file_urls(two_days: Path, browser: Any) -> None:
    ctx = browser.new_context()
    try:
        ctx.route("http*://**", lambda route: route.abort())
        page = ctx.new_page()
        page.goto((two_days / "site" / "index.html").as_uri())  # no script there: nothing to wait for
        page.click("text=The latest day")
        page.wait_for_selector("html[data-ready]")
        assert page.url.endswith(f"{DAY2}.html")
        assert page.locator("h2.group.still").inner_text().startswith("Still listed (2)")
        assert page.locator("#cards article .badge.seen").first.get_attribute("href") == f"{DAY1}.html"
        watched = page.locator("#cards article .badge.watch")  # --watch-keywords hallucinations
        assert watched.count() >= 1 and all("keyword: hallucinations" in (w.get_attribute("title") or "") for w in watched.all())
        page.click(f"nav.days >> text=← {DAY1}")
        page.wait_for_selector("html[data-ready]")
        assert page.url.endswith(f"{DAY1}.html") and page.locator("h2.group.new").inner_text().startswith("New today (6)")
    finally:
        ctx.close()


def test_the_index_has_no_serious_accessibility_violation(two_days: Path, browser: Any) -> None:
    from ..helpers import axe_source, serious_violations

    axe = axe_source()
    for scheme in ("light", "dark"):
        assert serious_violations(browser, two_days / "site" / "index.html", axe, color_scheme=scheme) == []
