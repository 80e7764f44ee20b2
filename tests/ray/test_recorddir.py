"""A record as a row of Ray Data's tables: every field whose value is not a scalar is JSON
text (pyarrow takes no dict in a string column), and the row gives the record back whole."""

from __future__ import annotations

from extractor.ray.recorddir import RECORD_COLUMNS, record_row, row_record
from extractor.schema import ClaimedGain, Extraction, Record, Source, Unsure


def test_every_field_of_a_record_is_a_scalar_or_json_text_in_its_row_and_comes_back_whole() -> None:
    record = Record(
        id="p1", title="Foo: parsing", abstract="We propose Foo. It improves accuracy by 2%.",
        source=Source(path="in.jsonl", line=1),
        extraction=Extraction(task="parsing", method="Foo", method_name="Foo", contribution="method", summary="We propose Foo.",
                              claimed_gains=[ClaimedGain(metric="accuracy", value="2%", evidence="improves accuracy by 2%")]),
        origin={"task": "rule", "contribution": "rule"}, found_by={"task": "title_task", "method_name": "title_name"},
        unsure=[Unsure(field="method", value="a method", source="we_propose", reason="too vague", precision=0.72)],
        summary_source="extractive",
    )  # fmt: skip
    row = record_row(record)
    assert list(row) == list(RECORD_COLUMNS)
    assert all(value is None or isinstance(value, (str, bool)) for value in row.values()), row
    assert row_record(row) == record
