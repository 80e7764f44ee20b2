"""The page a reader opens each morning, tested in Chromium: what issue 24 found broken, and
what it asked for (links, people, the day at the top, finding things, an accessible page).

Each bug of the issue has a test here that failed on the page as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extractor.cli import main
from extractor.pages import digest as dg
from extractor.schema import ClaimedGain, PaperMeta, Provenance

from ..browser import Opener, launch
from ..helpers import axe_source, make_record, serious_violations, write_jsonl

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE


def listed(i: int, **overrides: Any) -> Any:
    """A record with what a Hugging Face listing says: authors, organisation, upvotes..."""
    meta = PaperMeta(
        arxiv_id=f"2401.{i:05d}", authors=[f"Author {i}.{k}" for k in range(5)], organization=f"Lab {i % 3}",
        upvotes=(i * 7) % 50, comments=i % 4, listing_date="2024-10-28",
        github_repo="https://github.com/example/multigrid" if i % 3 == 0 else None,
        url=f"https://huggingface.co/papers/2401.{i:05d}", pdf_url=f"https://arxiv.org/pdf/2401.{i:05d}",
    )  # fmt: skip
    return make_record(i, meta=meta, **overrides)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Opener]:
    opener = Opener(browser)
    yield opener
    opener.close()


def page_of(tmp_path: Path, records: list[Any], name: str = "digest.html", **kwargs: Any) -> Path:
    path = tmp_path / name
    dg.digest(records, path, **kwargs)
    return path


# ---------------------------------------------------------------------------- the bugs


def test_next_keeps_the_reader_at_the_top_of_the_new_page(tmp_path: Path, open_page: Opener) -> None:
    p = open_page(path=page_of(tmp_path, [listed(i) for i in range(120)]), viewport={"width": 1200, "height": 900})
    p.page.locator("#next").scroll_into_view_if_needed()
    first_before = p.titles()[0]
    p.page.click("#next")
    p.page.wait_for_function(f"document.querySelector('#cards article h3').innerText !== {first_before!r}")
    box = p.page.locator("#cards article").first.bounding_box()
    controls = p.page.locator("#controls").bounding_box()
    assert box is not None and controls is not None
    assert controls["y"] + controls["height"] - 1 <= box["y"] < 900, (box, controls)  # below the sticky bar, on screen
    p.page.click("#prev")
    box = p.page.locator("#cards article").first.bounding_box()
    assert box is not None and 0 <= box["y"] < 900


# ---------------------------------------------------------------------------- the command line


def test_digest_refuses_an_extension_it_does_not_write(tmp_path: Path) -> None:
    records = write_jsonl(tmp_path / "r.jsonl", [make_record(0)])
    result = CliRunner().invoke(main, ["digest", str(records), "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "x.txt").exists()
    assert len(result.stderr.strip().splitlines()) == 1 and ".html" in result.stderr and ".md" in result.stderr
    asked = CliRunner().invoke(main, ["digest", str(records), "-o", str(tmp_path / "x.txt"), "--format", "md"])
    assert asked.exit_code == 0 and (tmp_path / "x.txt").read_text().startswith("# Paper digest")
    run = CliRunner().invoke(main, ["run", str(records), "-o", str(tmp_path / "o.jsonl"), "--digest", str(tmp_path / "y.txt")])
    assert run.exit_code == 2 and "y.txt" in run.stderr and not (tmp_path / "o.jsonl").exists()


def test_digest_of_a_csv_file_says_so_in_one_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.csv"
    rules.write_text("rule,field,precision\n" + "".join(f"r{i},task,0.{i}\n" for i in range(20)))
    result = CliRunner().invoke(main, ["digest", str(rules), "-o", str(tmp_path / "d.html")])
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "rules.csv" in line and "CSV" in line and "JSONL" in line, line
    listing = tmp_path / "listing.txt"  # not a record file either: one line too, not one per line
    listing.write_text("A title\nAn abstract.\n\nAnother title\nAnother abstract.\n")
    result = CliRunner().invoke(main, ["digest", str(listing), "-o", str(tmp_path / "d.html")])
    assert result.exit_code == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "none of its 4 lines is one (line 1: not valid JSON" in result.stderr


def test_escape_clears_every_filter(tmp_path: Path, open_page: Opener) -> None:
    p = open_page("#q=paper&kind=method&code=linked&nums=1", path=page_of(tmp_path, [listed(i) for i in range(12)]))
    assert len(p.titles()) < 12
    p.page.locator("#kind").focus()
    p.page.keyboard.press("Escape")
    p.wait_cards(12)
    assert p.page.input_value("#q") == "" and p.page.input_value("#kind") == "" and p.page.input_value("#code") == ""
    assert not p.page.is_checked("#nums") and p.fragment() in ("", "#")


def test_no_empty_baseline_or_dataset_column(tmp_path: Path, open_page: Opener) -> None:
    rec = listed(0)
    gains = [g.model_copy(update={"baseline": None}) for g in rec.extraction.claimed_gains]
    rec = rec.model_copy(update={"extraction": rec.extraction.model_copy(update={"claimed_gains": gains})})
    p = open_page(path=page_of(tmp_path, [rec, listed(2)]))
    headers = [p.page.locator("#cards article").filter(has_text=f"Paper {i}:").locator(".gains th").all_inner_texts()
               for i in (0, 2)]
    assert [h.lower() for h in headers[0] if h] == ["value", "metric", "dataset"]
    assert "baseline" in [h.lower() for h in headers[1]]


@pytest.mark.parametrize("width", [390, 412])
def test_phone_first_card_on_the_first_screen_and_nothing_wider(tmp_path: Path, open_page: Opener, width: int) -> None:
    records = [listed(i) for i in range(30)]
    p = open_page(path=page_of(tmp_path, records, first_seen={r.id: "2024-10-25" for r in records[::2]}, date="2024-10-28"),
                  viewport={"width": width, "height": 844}, device_scale_factor=2)  # fmt: skip
    title = p.page.locator("#cards article h3").first.bounding_box()
    assert title is not None and title["y"] + title["height"] <= 844, title
    assert wider_than_viewport(p.page) == []


def wider_than_viewport(page: Any) -> list[str]:
    """Every element (details opened) that reaches past the viewport's right edge."""
    return list(page.evaluate("""() => {
        document.querySelectorAll('details').forEach(d => d.open = true);
        const width = document.documentElement.clientWidth, out = [];
        if (document.documentElement.scrollWidth > width) out.push('page scrollWidth ' + document.documentElement.scrollWidth);
        for (const e of document.querySelectorAll('body *')) {
            const r = e.getBoundingClientRect();
            if (r.width && r.right > width + 0.5) out.push(e.tagName + '.' + e.className + ' right=' + Math.round(r.right));
        }
        return out.slice(0, 20);
    }"""))


def test_the_gains_table_fits_its_card_with_evidence_visible(tmp_path: Path, open_page: Opener) -> None:
    long = ClaimedGain(metric="zero-shot top-1 accuracy on the held-out split", value="up to 12.5 points",
                       baseline="the strongest previously published retrieval-augmented baseline",
                       dataset="ImageNet-1k validation with the ReaL labels", evidence="improving accuracy by 0.8%")  # fmt: skip
    rec = listed(0)
    rec = rec.model_copy(update={"extraction": rec.extraction.model_copy(update={"claimed_gains": [long]})})
    for width in (390, 412, 1200):
        p = open_page(path=page_of(tmp_path, [rec]), viewport={"width": width, "height": 900})
        card = p.page.locator("#cards article").first.bounding_box()
        table = p.page.locator("#cards article .gains table").first.bounding_box()
        button = p.page.locator("#cards article button.evidence").first.bounding_box()
        assert card and table and button
        assert table["x"] + table["width"] <= card["x"] + card["width"], (width, table, card)
        assert button["x"] >= card["x"] and button["x"] + button["width"] <= card["x"] + card["width"], (width, button)


def test_a_long_model_name_never_widens_the_page(tmp_path: Path, open_page: Opener) -> None:
    prov = Provenance(model="Meta_Llama_3.1_70B_Instruct_abliterated_GGUF_" * 4 + "Q4_K_M",  # no break opportunity
                      endpoint="127.0.0.1", mode="tools", prompt_version="1", prompt_hash="abc")  # fmt: skip
    name = "SuperLongMethodNameWithoutAnySpaces" * 3
    records = [listed(i, provenance=prov) for i in range(3)]
    records[1] = records[1].model_copy(update={"extraction": records[1].extraction.model_copy(update={"method_name": name[:60]})})
    p = open_page(path=page_of(tmp_path, records), viewport={"width": 412, "height": 900})
    assert wider_than_viewport(p.page) == []


def spoofed() -> Any:
    """A record whose every free-text value carries a RIGHT-TO-LEFT OVERRIDE (U+202E)."""
    rec = listed(3, title=f"Evil {RLO}title here", origin={"task": "rule", "method_name": "rule"},
                 found_by={"task": "for_x", "method_name": "title_name"}, summary_source="extractive")  # fmt: skip
    rec = rec.model_copy(update={
        "extraction": rec.extraction.model_copy(update={
            "task": f"video {RLO}model training", "method": f"a {RLO}schedule", "method_name": f"Multi{RLO}grid",
            "summary": f"This paper {RLO}trains video models.",
            "claimed_gains": [ClaimedGain(metric=f"speed{RLO}", value="4.5x", baseline=f"the {RLO}baseline",
                                          dataset=f"Kinetics{RLO}", evidence="trains a ResNet-50 SlowFast network 4.5x faster")],
        }),
        "meta": rec.meta.model_copy(update={"authors": [f"Eve {RLO}Mallory", "Bob"], "organization": f"Evil{RLO}Corp"}),
    })  # fmt: skip
    return rec


def reversed_labels(page: Any) -> list[str]:
    """The text nodes of the page that hold no U+202E themselves but are laid out right to
    left (a character further along the text drawn further left on the same line)."""
    return list(page.evaluate("""() => {
        document.querySelectorAll('details').forEach(d => d.open = true);
        const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.data;
            if (text.includes('\\u202e') || !/[A-Za-z].*[A-Za-z]/.test(text)) continue;
            const range = document.createRange();
            let last = null;
            for (let i = 0; i < text.length; i++) {
                if (!/[A-Za-z]/.test(text[i])) continue;
                range.setStart(node, i); range.setEnd(node, i + 1);
                const r = range.getBoundingClientRect();
                if (!r.width) continue;
                if (last && Math.abs(r.top - last.top) < 2 && r.left < last.left - 0.5) { out.push(text.trim()); break; }
                last = r;
            }
        }
        return out;
    }"""))


def test_a_right_to_left_override_in_a_value_leaves_the_labels_intact(tmp_path: Path, open_page: Opener) -> None:
    records = [listed(1), spoofed(), listed(5)]
    p = open_page(path=page_of(tmp_path, records), viewport={"width": 1200, "height": 900})
    assert p.page.locator("#cards article").count() == 3
    assert reversed_labels(p.page) == []


# ---------------------------------------------------------------------------- what the issue asked for


def test_search_finds_a_word_only_the_abstract_has(tmp_path: Path, open_page: Opener) -> None:
    odd = listed(4, abstract="We study glaciers. " + "Nothing else is said here. " * 3)
    p = open_page(path=page_of(tmp_path, [listed(i) for i in range(4)] + [odd]))
    p.page.fill("#q", "glaciers")
    p.wait_cards(1)
    assert p.titles()[0].startswith("Paper 4")
    assert p.page.locator("#cards article mark").first.inner_text().lower() == "glaciers"




def day_records() -> tuple[list[Any], dict[str, str]]:
    """Twelve listed papers of 2024-10-28, a third first seen on 2024-10-25."""
    records = [listed(i) for i in range(12)]
    return records, {r.id: ("2024-10-25" if i % 3 == 1 else "2024-10-28") for i, r in enumerate(records)}


def test_cards_link_the_paper_and_name_its_people(tmp_path: Path, open_page: Opener) -> None:
    records, seen = day_records()
    p = open_page(path=page_of(tmp_path, records, first_seen=seen, date="2024-10-28"))
    card = p.page.locator("#cards article").filter(has_text="Paper 7:")
    assert card.locator("h3 a").get_attribute("href") == "https://arxiv.org/abs/2401.00007"
    links = {a.inner_text(): a.get_attribute("href") for a in card.locator(".links a").all()}
    assert links["PDF"] == "https://arxiv.org/pdf/2401.00007" and links["HF page"] == "https://huggingface.co/papers/2401.00007"
    byline = card.locator(".byline").inner_text()
    assert byline.startswith("Author 7.0, Author 7.1, Author 7.2 and 2 more · Lab 1 · ▲ 49 · 3 comments"), byline
    six = p.page.locator("#cards article").filter(has_text="Paper 6:")
    assert six.locator(".links a", has_text="github.com/example/multigrid").count() == 1


def test_new_today_first_then_still_listed_with_the_day_first_seen(tmp_path: Path, open_page: Opener) -> None:
    records, seen = day_records()
    p = open_page(path=page_of(tmp_path, records, first_seen=seen, date="2024-10-28"))
    order = p.page.eval_on_selector_all("#cards > *", "els => els.map(e => e.tagName === 'H2' ? e.innerText : 'card')")
    assert order[0].startswith("New today (8)") and order[9].startswith("Still listed (4)") and order.count("card") == 12
    still = p.page.locator("#cards article").nth(8)
    assert still.locator(".badge.seen").inner_text() == "first seen 2024-10-25"
    ups = [int(t.split("▲ ")[1].split()[0]) for t in p.page.locator("#cards article .byline").all_inner_texts()]
    assert ups[:8] == sorted(ups[:8], reverse=True) and ups[8:] == sorted(ups[8:], reverse=True)  # upvotes first
    p.page.select_option("#sort", "code")
    assert p.page.locator("#cards article").first.locator(".button.code, .links a", has_text="github").count() >= 1


def test_counts_and_charts_follow_the_filters(tmp_path: Path, open_page: Opener) -> None:
    records, seen = day_records()
    p = open_page(path=page_of(tmp_path, records, first_seen=seen, date="2024-10-28"), viewport={"width": 1200, "height": 900})

    def tiles() -> dict[str, str]:
        return dict(zip(p.page.locator("#stats dt").all_inner_texts(), p.page.locator("#stats dd").all_inner_texts(), strict=True))

    assert tiles()["papers"] == "12" and tiles()["new today"] == "8" and tiles()["still listed"] == "4"
    p.page.select_option("#kind", "survey")
    p.wait_cards(3)
    assert tiles()["papers"] == "3 of 12" and tiles()["new today"] == "2"
    kinds = p.page.locator("figure.chart", has_text="Contribution kinds").locator("tr").all_inner_texts()
    assert [" ".join(k.split()) for k in kinds] == ["Surveys 3"]
    assert "of the papers that match" in p.page.inner_text("#counts-scope")


def test_search_covers_authors_and_highlights_the_match(tmp_path: Path, open_page: Opener) -> None:
    records, seen = day_records()
    p = open_page(path=page_of(tmp_path, records, first_seen=seen))
    p.page.fill("#q", "author 5.4")  # the fifth author: not among the three shown
    p.wait_cards(1)
    card = p.page.locator("#cards article").first
    assert "5.4" in card.locator(".byline mark").all_inner_texts()  # in the named, not shown, fifth author
    assert card.locator(".byline").inner_text().endswith("(Author 5.4) · Lab 2 · ▲ 35 · 1 comment")
    p.page.fill("#q", "multigrid")
    p.wait_cards(12)
    assert p.page.locator("#cards article").first.locator(".summary mark").inner_text() == "multigrid"


def test_the_watchlist_marks_and_ranks_first(tmp_path: Path, open_page: Opener) -> None:
    from extractor.pages.watch import Watchlist

    records, seen = day_records()
    watch = Watchlist(keywords=("protein folding",), authors=("Author 4.2",), organizations=("lab 2",))
    p = open_page(path=page_of(tmp_path, records, first_seen=seen, date="2024-10-28", watch=watch))
    new = p.page.locator("#cards article").all()[:8]
    marked = [a.locator(".badge.watch").count() for a in new]
    assert marked == sorted(marked, reverse=True) and sum(marked) > 0, "watched first among the new"
    four = p.page.locator("#cards article").filter(has_text="Paper 4:")
    assert "author: Author 4.2" in (four.locator(".badge.watch").get_attribute("title") or "")
    p.page.check("#watched")
    assert all(a.locator(".badge.watch").count() for a in p.page.locator("#cards article").all())


def test_stars_stay_in_the_browser_and_export_as_markdown_and_bibtex(tmp_path: Path, open_page: Opener) -> None:
    records, seen = day_records()
    path = page_of(tmp_path, records, first_seen=seen)
    p = open_page(path=path)
    for title in ("Paper 3:", "Paper 10:"):
        p.page.locator("#cards article").filter(has_text=title).locator("button.star").click()
    assert "2 papers starred" in p.page.inner_text("#stars")
    p.page.reload()
    p.page.wait_for_selector("html[data-ready]")
    p.page.check("#starred")
    p.wait_cards(2)
    p.page.click("#export-md")
    md = p.page.input_value("#export-text")
    assert md.splitlines()[1] == ("- [Paper 10: Speech Recognition Made Fast](https://arxiv.org/abs/2401.00010)"
                                  " — Author 10.0, Author 10.1, Author 10.2 et al. (2024)")  # fmt: skip
    p.page.keyboard.press("Escape")
    assert p.page.is_checked("#starred"), "Esc closes the dialog, nothing else"
    p.page.click("#export-bib")
    bib = p.page.input_value("#export-text")
    assert bib.startswith("@misc{author2024paper,\n  title = {Paper 3: Protein Folding Made Fast},\n"
                          "  author = {Author 3.0 and Author 3.1 and Author 3.2 and Author 3.3 and Author 3.4},")
    assert "@misc{author2024paperb,\n  title = {Paper 10: Speech Recognition Made Fast}," in bib and bib.count("@misc{") == 2
    assert "  eprint = {2401.00003},\n  archivePrefix = {arXiv}," in bib


def test_values_held_back_are_never_shown(tmp_path: Path, open_page: Opener) -> None:
    from extractor.schema import Unsure

    rec = listed(0, unsure=[Unsure(field="task", value="their", source="for_x", reason="a function word, not a task"),
                            Unsure(field="method", value="a schedule of mini-batch shapes", source="model",
                                   reason="its source is right 40% of the time")])  # fmt: skip
    p = open_page(path=page_of(tmp_path, [rec]))
    card = p.page.locator("#cards article").first
    card.locator("details").evaluate_all("ds => ds.forEach(d => d.open = true)")
    card.locator("details.abstract").evaluate("d => d.remove()")  # the abstract holds every phrase, of course
    shown = card.inner_text()
    assert "a schedule of mini-batch shapes" not in shown and "their" not in shown.split()
    assert "2 values found but held back" in shown and "a function word, not a task" in shown


def test_the_themes_of_the_day_filter_the_cards(tmp_path: Path, open_page: Opener) -> None:
    records, seen = day_records()
    p = open_page(path=page_of(tmp_path, records, first_seen=seen), viewport={"width": 1200, "height": 900})
    themes = p.page.locator("button.theme")
    assert themes.count() >= 1
    name = themes.first.locator("bdi").inner_text()
    themes.first.click()
    shown = p.page.locator("#cards article")
    assert 2 <= shown.count() < 12
    assert all(name.lower() in t.lower() for t in p.page.locator("#cards article .badge.theme").all_inner_texts())
    assert themes.first.get_attribute("aria-pressed") == "true" and p.fragment() == "#theme=0"


# ---------------------------------------------------------------------------- accessibility (axe-core)


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.mark.parametrize(("scheme", "width"), [("light", 1200), ("dark", 390)])
def test_no_serious_accessibility_violation(tmp_path: Path, browser: Any, axe: str, scheme: str, width: int) -> None:
    from extractor.pages.watch import Watchlist

    records, seen = day_records()
    records.append(spoofed())
    path = page_of(tmp_path, records, first_seen=seen, date="2024-10-28", watch=Watchlist(keywords=("speech",)))
    assert serious_violations(browser, path, axe, color_scheme=scheme, viewport={"width": width, "height": 900}) == []


def test_the_watchlist_comes_from_the_config_file_the_environment_or_flags(tmp_path: Path) -> None:
    from extractor.pages.watch import Watchlist
    from extractor.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text('watch_keywords = ["diffusion model", "RLHF"]\nwatch_authors = ["LeCun"]\n')
    settings = load_settings(config=config, env={"EXTRACTOR_WATCH_ORGANIZATIONS": "Meta, DeepMind"})
    watch = Watchlist.of(settings)
    assert watch == Watchlist(("diffusion model", "RLHF"), ("LeCun",), ("Meta", "DeepMind"))
    rec = make_record(0, title="Faster Diffusion Models", meta=PaperMeta(authors=["Yann Le\u0301Cun"], organization="Meta AI"))
    assert watch.match(rec) == ["keyword: diffusion model", "author: Yann Le\u0301Cun", "organisation: Meta AI"]
    assert Watchlist(organizations=("Meta",)).match(make_record(0, meta=PaperMeta(organization="Metaphor Labs"))) == []
    records = write_jsonl(tmp_path / "r.jsonl", [listed(i) for i in range(4)])
    result = CliRunner().invoke(main, ["digest", str(records), "-o", str(tmp_path / "d.md"), "--config", str(config),
                                       "--watch-authors", "Author 2.4"])  # fmt: skip
    assert result.exit_code == 0 and "1 on the watchlist" in result.stderr, result.output
    md = (tmp_path / "d.md").read_text()
    assert "· watched (author: Author 2.4)" in md and "- On your watchlist \\(1\\): [Paper 2: Speech Recognition Made Fast]" in md
