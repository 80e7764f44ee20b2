"""Input files are never skipped whole for one bad spot: a NUL byte costs its line a
warning, CR-only line endings are lines, a CSV field may be as long as the tool's own
abstract limit (longer: a ``too_long`` record, and the rest of the file is read).
Real files, read by the listing reader and by ``extractor run --policy rules``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import main
from extractor.errors import InputError, InputWarning
from extractor.records.listings import MAX_ABSTRACT_CHARS, read_papers

from ..helpers import read_records

PAGE = """Daily Papers
Subscribe
A First Title on Things
We propose a first method. It works on benchmarks.
A Second Title on Other Things
We study a second problem. It is hard.
A Third Title
We release a dataset of pages.
"""


def _read(path: Path, **options: object) -> tuple[list[str], list[InputError]]:
    errors: list[InputError] = []
    titles = [p.title for p in read_papers([path], on_error=errors.append, **options)]  # type: ignore[arg-type]
    return titles, errors


def _rows(n: int, long: dict[int, int] | None = None) -> list[dict[str, str]]:
    long = long or {}
    return [
        {"id": f"p{i}", "title": f"Paper number {i} on long inputs",
         "abstract": ("We study long inputs. " * (long[i] // 22 + 1))[: long[i]] if i in long else f"We study {i}. It works."}
        for i in range(n)
    ]  # fmt: skip


def _csv(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["id", "title", "abstract"])
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue())


@pytest.mark.parametrize("size", [131_073, 150_000, MAX_ABSTRACT_CHARS])
def test_a_csv_field_up_to_the_abstract_limit_is_read(tmp_path: Path, size: int) -> None:
    _csv(tmp_path / "in.csv", _rows(6, {1: size}))
    titles, errors = _read(tmp_path / "in.csv")
    assert len(titles) == 6 and errors == []


def test_a_longer_csv_field_is_a_too_long_record_and_the_rest_is_read(tmp_path: Path) -> None:
    _csv(tmp_path / "in.csv", _rows(6, {2: MAX_ABSTRACT_CHARS + 50_000}))
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["run", str(tmp_path / "in.csv"), "-o", str(out), "--policy", "rules", "-q",
                                       "--no-cache"])  # fmt: skip
    assert result.exit_code == 1, result.output  # one paper failed: too long
    records = {r["id"]: r for r in read_records(out)}
    assert len(records) == 6 and records["p2"]["error"]["kind"] == "too_long"
    assert all(records[f"p{i}"]["error"] is None for i in (0, 1, 3, 4, 5))


def test_one_nul_byte_costs_a_warning_not_the_file(tmp_path: Path) -> None:
    lines = [json.dumps(row) for row in _rows(6)]
    lines[3] = lines[3].replace("It works", "It\x00 works")
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    titles, errors = _read(tmp_path / "in.jsonl")
    assert len(titles) == 6
    assert [(type(e), e.line) for e in errors] == [(InputWarning, 4)] and "NUL byte" in str(errors[0])


def test_a_binary_file_is_still_skipped_whole(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8 + bytes(4096))  # an image
    titles, errors = _read(tmp_path / "in.jsonl")
    assert titles == [] and [str(e) for e in errors] == [f"{tmp_path / 'in.jsonl'}: binary file (NUL bytes), not a listing; skipped"]


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_every_line_ending_reads_the_same_papers(tmp_path: Path, ending: str) -> None:
    (tmp_path / "page.txt").write_bytes(PAGE.replace("\n", ending).encode())
    (tmp_path / "in.jsonl").write_bytes("".join(json.dumps(r) + ending for r in _rows(3)).encode())
    _csv(tmp_path / "in.csv", _rows(3))
    (tmp_path / "in.csv").write_bytes((tmp_path / "in.csv").read_bytes().replace(b"\r\n", ending.encode()))
    assert _read(tmp_path / "page.txt") == (["A First Title on Things", "A Second Title on Other Things", "A Third Title"], [])
    assert _read(tmp_path / "in.jsonl")[0] == _read(tmp_path / "in.csv")[0] == [r["title"] for r in _rows(3)]
    assert _read(tmp_path / "in.csv")[1] == []
    stdin = io.StringIO(PAGE.replace("\n", ending), newline="")
    assert len(list(read_papers(["-"], stdin=stdin))) == 3


def test_cr_only_lines_are_numbered_as_lines(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(b'{"title": "A", "abstract": "B."}\r{"oops"\r{"title": "C", "abstract": "D."}\r')
    titles, errors = _read(tmp_path / "in.jsonl")
    assert titles == ["A", "C"] and [e.line for e in errors] == [2]
