"""The shared text helpers: sentences, numbers, URLs, duplicate keys and JSON Lines.

Most of their behaviour is pinned where it is used (listings, links, grounding, rules);
here, what only the shared versions promise.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from extractor.errors import InputError
from extractor.records.jsonl import json_lines, read_jsonl
from extractor.evidence.text import (
    Cue,
    canon_magnitude,
    canon_number,
    clauses,
    lowered,
    number_value,
    numbers_in,
    prose_numbers,
    sentences,
    split_text,
)


def test_sentences_and_split_text_share_boundaries() -> None:
    text = "We use e.g. BERT. Smith et al. (2020) won. Code: github.com/a/b.c. It is 4.5x faster."
    assert sentences(text) == ["We use e.g. BERT.", "Smith et al. (2020) won.", "Code: github.com/a/b.c.",
                               "It is 4.5x faster."]  # fmt: skip
    assert split_text(text, 1) == text.split()
    assert split_text(text, len(text)) == [text]
    assert [p for s in sentences(text) for p in split_text(s, 30)] == split_text(text, 30)


def test_sentences_are_remembered_but_each_caller_gets_its_own_list() -> None:
    text = "One sentence here. Another one there."
    first = sentences(text)
    first.append("changed by a caller")
    assert sentences(text) == ["One sentence here.", "Another one there."]
    assert sentences(text) is not sentences(text)


def test_lowered_holds_every_letter_ignorecase_reads_as_ascii() -> None:
    # Every character re.IGNORECASE matches to an ASCII letter gives that letter in lowered():
    # so a word test on lowered text never skips a text the pattern would match.
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        for match in re.finditer(letter, everything, re.IGNORECASE):
            assert letter in lowered(match.group()), (letter, hex(ord(match.group())))
    assert lowered("İNTRODUCE the claſſ of ınputs") == "introduce the class of inputs"
    assert lowered("We PROPOSE") == "we propose"


def test_cue_searches_only_texts_holding_its_words() -> None:
    cue = Cue(r"\b(?:method|model)s?\s+for\s+(\w+)", ("method", "model"), also=("for",), flags=re.I)
    assert cue.search("An approach for parsing.") is None and cue.search("A model of parsing.") is None
    assert "pattern" not in vars(cue)  # no text held the words: the pattern was never compiled
    assert cue.search("A METHOD for parsing.").group(1) == "parsing"
    assert cue.search("A model, for parsing.") is None  # the words are there, the pattern decides
    assert not cue.could_match("an approach for parsing") and not cue.could_match("a model of parsing")


def test_clauses_cut_evidence() -> None:
    assert clauses("It is 2x faster, while using 30% less memory; accuracy holds.") == [
        "It is 2x faster", "while using 30% less memory;", "accuracy holds."
    ]  # fmt: skip


def test_numbers() -> None:
    assert canon_number("1,000.50") == "1000.5" and canon_number("72.0") == "72" and canon_number(".5") == "0.5"
    assert numbers_in("from 73.8% to 82.3%") == ("73.8", "82.3")
    assert prose_numbers("A100 and I3D on 5, 000 images") == {"5", "0", "5000"}
    assert prose_numbers("A100 and I3D on 5, 000 images", tokenised=False) == {"5", "0"}
    assert canon_magnitude(True) is None and canon_magnitude(1e-05) == "0.00001"
    assert number_value("+12 points") == 12.0 and number_value("−0.5 pp") == -0.5


def test_json_lines_reports_each_bad_line_and_goes_on() -> None:
    errors: list[InputError] = []
    lines = [(1, '{"a": 1}'), (2, "  "), (3, '{"a": '), (4, "3"), (5, b"{\"a\": \"caf\xe9\"}"), (6, b'{"a": 6}\n')]
    assert list(json_lines("f.jsonl", lines, errors.append)) == [(1, {"a": 1}), (6, {"a": 6})]
    assert [str(e) for e in errors] == [
        "f.jsonl:3: not valid JSON (Expecting value, column 7)",
        "f.jsonl:4: expected a JSON object, got int",
        "f.jsonl:5: not valid UTF-8 (byte 0xe9 at offset 10)",
    ]
    with pytest.raises(InputError, match=r"^f\.jsonl:3: not valid JSON"):
        list(json_lines("f.jsonl", lines))


def test_read_jsonl_streams_a_file(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a"}\r\n\n{"id": "b\xe2\x80\xa8c"}\n')  # a BOM, CRLF, a raw U+2028
    assert list(read_jsonl(path)) == [(1, {"id": "a"}), (3, {"id": "b\u2028c"})]
    errors: list[InputError] = []
    assert list(read_jsonl(tmp_path / "absent.jsonl", "gold", errors.append)) == []
    assert len(errors) == 1 and str(errors[0]).startswith(f"{tmp_path / 'absent.jsonl'}: cannot read gold file: ")
    with pytest.raises(InputError, match="cannot read record file"):
        list(read_jsonl(tmp_path, "record"))


def test_a_numbered_list_is_not_cut_at_its_numbers() -> None:
    text = "We use two strategies: 1. Fine-tune on X, and 2. Merge the adapters. We win by 3. Then we stop."
    assert sentences(text) == ["We use two strategies: 1. Fine-tune on X, and 2. Merge the adapters.", "We win by 3.",
                               "Then we stop."]  # fmt: skip
