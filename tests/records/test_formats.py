"""One table of file formats by extension (extractor/records/formats.py): the listing
reader, the record writer, the digest and the Ray reader all read it, so they agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.pages.digest import digest_format_for
from extractor.records.formats import FORMATS, extensions, format_for
from extractor.records.listings import EXTENSIONS, read_papers
from extractor.records.output import RecordWriter, output_format_for


def test_each_role_reads_the_table() -> None:
    assert EXTENSIONS == {".txt": "text", ".md": "text", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
                          ".csv": "csv"}  # fmt: skip
    assert extensions("dataset") == (".txt", ".md", ".jsonl", ".ndjson", ".json", ".csv", ".parquet")
    for ext, roles in FORMATS.items():
        if "records" in roles:
            assert output_format_for(Path(f"x{ext.upper()}")) == roles["records"]
        if "digest" in roles:
            assert digest_format_for(f"x{ext}") == roles["digest"]
    assert output_format_for(Path("x.out")) == "jsonl" and digest_format_for("x.htm") == "html"
    assert format_for("listing", "x.data") == "text" and format_for("dataset", "s3://b/x?v=1.parquet") is None
    assert format_for("dataset", "s3://bucket/papers.parquet?version=3") == "parquet"


@pytest.mark.parametrize("role", ["listing", "dataset", "records", "digest"])
def test_an_unknown_format_name_is_refused_not_guessed(role: str) -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'; use one of"):
        format_for(role, "x", "xml")  # type: ignore[arg-type]


def test_the_listing_reader_and_the_writer_pick_by_the_table(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_text('{"title": "A title", "abstract": "It works."}\n')
    (tmp_path / "b.md").write_text("Another title\nIt works too.\n")
    (tmp_path / "c.json").write_text('[{"title": "A third", "abstract": "It works as well."}]')  # an API's answer
    (tmp_path / "d.parquet").write_bytes(b"")  # a dataset format, not a listing: not read from a folder
    assert [p.title for p in read_papers([tmp_path])] == ["A title", "Another title", "A third"]
    with pytest.raises(ValueError, match="unknown format"):
        read_papers([tmp_path], fmt="xml")
    with RecordWriter(tmp_path / "out.CSV") as w:
        assert w.format == "csv"


def test_the_ray_reader_picks_by_the_table(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow comes with ray[data]: pip install -e '.[ray,test]'")
    from extractor.errors import InputError
    from extractor.ray import data

    (tmp_path / "a.parquet").write_bytes(b"")
    assert data._format_of(str(tmp_path), None) == "parquet"
    assert data._format_of("s3://bucket/papers.ndjson", None) == "jsonl"
    assert data._format_of(str(tmp_path / "a.parquet"), "json") == "jsonl"
    with pytest.raises(InputError, match="cannot tell the format"):
        data._format_of("s3://bucket/page.md", None)
