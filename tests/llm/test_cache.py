"""The answer cache: what its key covers, where it lives, ``cache info`` / ``cache clear``,
``--no-cache``, and that a re-run is served from it without a single request (counted on
the real loopback stub server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extractor.extraction import answers
from extractor.llm.cache import ResultCache
from extractor.cli import main
from extractor.extraction.extractor import Extractor
from extractor.extraction.prompts import Prompt, load_prompt
from extractor.schema import Extraction, Provenance
from extractor.settings import DEFAULT_CACHE_DIR, Settings, load_settings

from ..helpers import check_records, make_papers, read_records, run, settings_for
from ..stub_server import StubServer, by_marker


def _key(tmp_path: Path, text: str = "Title: T\n\nAbstract: A", prompt: Prompt | None = None,
         schema_key: str | None = None, **changes: Any) -> str:  # fmt: skip
    values: dict[str, Any] = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "mode": "tools",
                              "cache_dir": tmp_path / "c", "cache": False}  # fmt: skip
    values.update(changes)
    settings = Settings(**values)
    ex = Extractor(settings, prompt=prompt)
    base = Provenance(model=settings.model or "", endpoint=settings.endpoint_host, mode=settings.mode,
                      prompt_version=ex.prompt.version, prompt_hash=ex.prompt.hash)  # fmt: skip
    messages = [{"role": "system", "content": ex.prompt.system}, {"role": "user", "content": text}]
    return ex._cache_key(base, messages, schema_key or answers._SUMMARY_HASH)


def test_cache_key_covers_what_changes_the_answer(tmp_path: Path) -> None:
    key = _key(tmp_path)
    assert key == _key(tmp_path), "the key is stable"
    for change in ({"model": "other"}, {"temperature": 0.7}, {"max_tokens": 99}, {"mode": "json_schema"}):
        assert _key(tmp_path, **change) != key, change
    assert _key(tmp_path, text="Title: T\n\nAbstract: B") != key, "the input text"
    edited = load_prompt("extract").model_copy(update={"system": "Another instruction."})
    assert _key(tmp_path, prompt=edited) != key, "the prompt"
    assert _key(tmp_path, schema_key="another-schema") != key, "the response schema"


def test_cache_key_never_holds_the_key_or_the_address(tmp_path: Path) -> None:
    key = _key(tmp_path)
    assert _key(tmp_path, api_key="sk-secret-1") == key == _key(tmp_path, api_key="sk-secret-2")
    assert _key(tmp_path, base_url="http://127.0.0.1:8000/v1") == key


def test_schema_hash_is_the_hash_of_the_json_schema() -> None:
    import hashlib
    import json

    from pydantic import create_model

    schema = json.dumps(Extraction.model_json_schema(), sort_keys=True).encode()
    assert answers._SUMMARY_HASH == hashlib.sha256(schema).hexdigest()[:16]
    # A change to the schema (here: one more field) changes the hash, hence the key.
    wider = create_model("Extraction", __base__=Extraction, extra_field=(str, ""))
    from extractor.evidence.spans import schema_hash

    assert schema_hash(wider) != answers._SUMMARY_HASH == schema_hash(Extraction)


def test_cache_location_flag_env_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings({}).cache_dir == tmp_path / "cache"  # EXTRACTOR_CACHE_DIR (conftest)
    assert load_settings({"cache_dir": tmp_path / "flag"}).cache_dir == tmp_path / "flag"
    monkeypatch.delenv("EXTRACTOR_CACHE_DIR")
    assert load_settings({}).cache_dir == DEFAULT_CACHE_DIR
    assert DEFAULT_CACHE_DIR.name == "extractor"


def _info(cache_dir: Path) -> dict[str, str]:
    result = CliRunner().invoke(main, ["cache", "info", "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def test_second_run_is_served_from_the_cache_and_cache_info_and_clear(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 20)
    cache_dir = tmp_path / "cache"
    with StubServer() as stub:
        settings = settings_for(stub, tmp_path)
        first = run([tmp_path / "in.jsonl"], tmp_path / "a.jsonl", settings)
        assert first.from_cache == 0 and stub.requests == 20
        info = _info(cache_dir)
        assert info["entries"] == "20" and int(info["size_bytes"]) > 0
        assert info["last_run_hits"] == "0" and info["last_run_misses"] == "20" and info["last_run_hit_rate"] == "0.0"

        second = run([tmp_path / "in.jsonl"], tmp_path / "b.jsonl", settings)  # a new output file
        assert stub.requests == 20, "a re-run must not send a single request"
        assert second.from_cache == 20 and second.extracted == 20
        assert all(r["provenance"]["cached"] for r in read_records(tmp_path / "b.jsonl"))
        check_records(read_records(tmp_path / "b.jsonl"), rows)
        info = _info(cache_dir)
        assert info["last_run_hits"] == "20" and info["last_run_hit_rate"] == "1.0" and info["entries"] == "20"

        cleared = CliRunner().invoke(main, ["cache", "clear", "--cache-dir", str(cache_dir)])
        assert cleared.exit_code == 0 and "removed 20 entries" in cleared.stdout
        assert _info(cache_dir)["entries"] == "0"
        run([tmp_path / "in.jsonl"], tmp_path / "c.jsonl", settings)
        assert stub.requests == 40, "a cleared cache asks again"


def test_cache_info_uses_the_environment_location(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    cache.set(cache.key({"x": 1}), {"summary": {}})
    cache.close()
    result = CliRunner().invoke(main, ["cache", "info"])
    assert result.exit_code == 0
    assert f"directory: {tmp_path / 'cache'}" in result.stdout and "entries: 1" in result.stdout


def test_no_cache_reads_and_writes_nothing(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 5)
    with StubServer() as stub:
        flags = ["run", str(tmp_path / "in.jsonl"), "--base-url", stub.base_url, "--model", "stub-model",
                 "--mode", "tools", "--grounding", "off", "--no-cache", "-q"]  # fmt: skip
        for out in ("a.jsonl", "b.jsonl"):
            result = CliRunner().invoke(main, [*flags, "-o", str(tmp_path / out)])
            assert result.exit_code == 0, result.output
        assert stub.requests == 10
    assert not (tmp_path / "cache").exists() or _info(tmp_path / "cache")["entries"] == "0"


def test_other_model_or_failed_answers_are_not_served_from_the_cache(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 6, marker=lambda i: "[[fault:503]]" if i < 2 else None)
    with StubServer(faults=by_marker()) as stub:
        failing = run([tmp_path / "in.jsonl"], tmp_path / "a.jsonl", settings_for(stub, tmp_path, retries=0))
        assert failing.failed == 2 and stub.requests == 6
        stub.set_faults(None)
        again = run([tmp_path / "in.jsonl"], tmp_path / "b.jsonl", settings_for(stub, tmp_path))
        assert stub.requests == 8 and again.from_cache == 4, "failures are never cached"
        other = run([tmp_path / "in.jsonl"], tmp_path / "c.jsonl", settings_for(stub, tmp_path, model="other-model"))
        assert stub.requests == 14 and other.from_cache == 0
    check_records(read_records(tmp_path / "c.jsonl"), rows)


def test_the_api_key_is_never_written(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 3)
    secret = "sk-very-secret-key-123"
    with StubServer() as stub:
        run([tmp_path / "in.jsonl"], tmp_path / "out.jsonl", settings_for(stub, tmp_path, api_key=secret))
    for path in [tmp_path / "out.jsonl", *(tmp_path / "cache").rglob("*")]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def _no_json_schema(body: dict, attempt: int) -> str | None:
    """A server like llama-cpp-python's: HTTP 500 for ``response_format: json_schema``."""
    return "500" if (body.get("response_format") or {}).get("type") == "json_schema" else None


def test_auto_mode_rerun_sends_no_request_not_even_the_probe(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 10)
    with StubServer() as stub:
        settings = settings_for(stub, tmp_path, mode="auto", model=None)
        first = run([tmp_path / "in.jsonl"], tmp_path / "a.jsonl", settings)
        assert first.extracted == 10 and stub.requests == 11  # the probe + one per paper
        assert {r["provenance"]["mode"] for r in read_records(tmp_path / "a.jsonl")} == {"json_schema"}

        second = run([tmp_path / "in.jsonl"], tmp_path / "b.jsonl", settings)
        assert stub.requests == 11, "the probe's answer is remembered: a cached re-run sends nothing"
        records = read_records(tmp_path / "b.jsonl")
        assert second.from_cache == 10 and {(r["provenance"]["mode"], r["provenance"]["model"]) for r in records} == {
            ("json_schema", "stub-model")
        }
        check_records(records, rows)

        # New papers: the first miss probes again (the server may have changed), then extracts.
        make_papers(tmp_path / "more.jsonl", 3, start=10)
        run([tmp_path / "more.jsonl"], tmp_path / "c.jsonl", settings)
        assert stub.requests == 11 + 1 + 3


def test_a_remembered_mode_the_server_no_longer_honours_is_replaced_on_the_first_miss(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 6)
    make_papers(tmp_path / "more.jsonl", 4, start=6)
    with StubServer() as stub:
        settings = settings_for(stub, tmp_path, mode="auto")
        run([tmp_path / "in.jsonl"], tmp_path / "a.jsonl", settings)  # remembers json_schema
        stub.set_faults(_no_json_schema)  # the same URL now serves a llama-cpp-python-like server
        stub.reset()
        both = run([tmp_path / "in.jsonl", tmp_path / "more.jsonl"], tmp_path / "b.jsonl", settings)
    records = read_records(tmp_path / "b.jsonl")
    assert both.failed == 0 and len(records) == 10
    fresh = [r for r in records if not r["provenance"]["cached"]]
    assert len(fresh) == 4 and {r["provenance"]["mode"] for r in fresh} == {"tools"}
    assert {r["provenance"]["mode"] for r in records if r["provenance"]["cached"]} == {"json_schema"}
    # The re-probe's json_schema try, retried like any 5xx (retries=2), then tools.
    assert stub.fault_counts.get("500") == settings.retries + 1
