"""A setting is never silently not in effect, and a bad one is one line naming it: a
misspelt keyword (with the close match), ``concurrency = true`` in TOML, an infinite
timeout, a binary config file, a base URL with a bad port or no scheme, credentials in
the base URL together with an API key. An abstract of only invisible characters is an
empty abstract: no request is sent for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import extractor
from extractor.cli import main
from extractor.errors import ConfigError, InputError
from extractor.settings import Settings

from ..helpers import make_papers
from ..stub_server import StubServer

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff \u200b"


def _one_line(result: Result, *words: str) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for word in words:
        assert word in lines[0], lines[0]
    assert "Value error" not in lines[0]
    return lines[0]


def _doctor(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(main, ["doctor", "--no-cache", *args])


# -- keywords of the Python API -----------------------------------------------------------------


def test_a_misspelt_keyword_is_refused_with_the_close_match_before_any_request(tmp_path: Path) -> None:
    with StubServer() as stub:
        flags: dict[str, Any] = {"base_url": stub.base_url, "model": "stub-model", "cache": False}
        with pytest.raises(ConfigError, match=r"unknown setting 'concurency' \(did you mean 'concurrency'\?\)"):
            extractor.summarize("We propose X. It works.", concurency=4, **flags)
        papers = [extractor.Paper(id="a", title="A", abstract="We propose X.", source={"path": "-", "line": 1})]
        with pytest.raises(ConfigError, match="'temprature' \\(did you mean 'temperature'\\?\\)"):
            list(extractor.extract_many(papers, temprature=0.5, **flags))
        assert stub.requests == 0


@pytest.mark.parametrize("abstract", [INVISIBLE, "\u200b", "\ufeff\n\u2060"])
def test_an_abstract_of_invisible_characters_is_empty_and_sends_nothing(tmp_path: Path, abstract: str) -> None:
    with StubServer() as stub:
        with pytest.raises(InputError, match="^abstract: is empty"):
            extractor.summarize(abstract, base_url=stub.base_url, model="stub-model", cache=False)
        result = CliRunner().invoke(main, ["summarize", abstract, "--base-url", stub.base_url, "--no-cache"])
        assert result.exit_code == 2 and "the abstract is empty" in result.output, result.output
        listing = tmp_path / "in.jsonl"
        listing.write_text(json.dumps({"title": "A title", "abstract": abstract}) + "\n")
        errors: list[InputError] = []
        assert list(extractor.read_papers([listing], on_error=errors.append)) == []
        assert [e.reason for e in errors] == ["'abstract' is empty"]
        assert stub.requests == 0


# -- the config file and the environment ---------------------------------------------------------


def test_a_bool_for_a_number_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("concurrency = true\n")
    _one_line(_doctor("--config", str(config), "--base-url", "http://127.0.0.1:9/v1"),
              "concurrency", str(config), "expected a number, got true")  # fmt: skip
    config.write_text("concurency = 4\n")
    _one_line(_doctor("--config", str(config)), "'concurency' (did you mean 'concurrency'?)")


def test_a_binary_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    _one_line(_doctor("--config", str(config)), str(config), "not a TOML text file")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "infinity"])
def test_an_infinite_timeout_is_refused_not_overflowed(value: str) -> None:
    _one_line(_doctor("--base-url", "http://127.0.0.1:9/v1", env={"EXTRACTOR_TIMEOUT": value}),
              "'timeout'", "EXTRACTOR_TIMEOUT", "finite")  # fmt: skip


# -- the base URL --------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "port"), [("http://127.0.0.1:99999/v1", "99999"), ("http://127.0.0.1:notaport/v1", "notaport"),
                                           ("http://127.0.0.1:-1/v1", "-1"), ("http://u:SECRET@[::1]:70000/v1?k=SECRET", "70000")])  # fmt: skip
def test_a_bad_port_is_named(url: str, port: str) -> None:
    line = _one_line(_doctor("--base-url", url), f"the port '{port}' is not a port number")
    assert "SECRET" not in line and f":{port}/v1" in line


def test_a_url_without_a_scheme_is_quoted_whole_with_the_fix() -> None:
    _one_line(_doctor("--base-url", "localhost:8080"), "'localhost:8080' is not an http(s) URL", "http://localhost:8080/v1")


# -- credentials ---------------------------------------------------------------------------------


def test_credentials_in_the_base_url_and_an_api_key_are_refused_together(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 2)
    with StubServer() as stub:
        url = stub.base_url.replace("http://", "http://user:SECRET@")
        result = CliRunner(env={"OPENAI_API_KEY": "sk-also"}).invoke(
            main, ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--base-url", url, "-q"]
        )
        line = _one_line(result, "credentials", "API key", "api_key from env OPENAI_API_KEY")
        assert "SECRET" not in line and "sk-also" not in line
        with pytest.raises(ConfigError, match="give one of them"):
            extractor.summarize("We propose X.", base_url=url, api_key="sk-also")
        with pytest.raises(ValueError, match="give one of them"):
            Settings(base_url=url, api_key="sk-also")
        assert stub.requests == 0
    assert not (tmp_path / "out.jsonl").exists()
