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

from .browser import Opener, launch
from .test_digest import make_record, write_jsonl


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
