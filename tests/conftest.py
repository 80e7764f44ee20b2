"""Shared test fixtures: isolated settings, and cassettes reviewers can read.

Cassettes (``cassettes/<test module>/<test>.yaml``) are recorded from a real
OpenAI-compatible server on 127.0.0.1 — the bundled llama.cpp server — and replayed
offline. They are never written by hand. Re-record them all with::

    python tests/record_cassettes.py

Format: request and response bodies are stored as decoded JSON (not strings), every
header but ``content-type`` is dropped (so Authorization, cookies and volatile headers
never reach disk), and requests are matched on method + path + JSON body (not host or
port, so the recording server's port does not matter). Replay is ``record_mode=none``:
a request with no recording fails at once, naming the request.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from vcr import VCR

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "tests" / "cassettes"
SEEDS = ROOT / "seeds"

# The model id the bundled server is started with (--alias) when recording.
CASSETTE_MODEL = "smollm2-135m"
# Where replayed requests claim to go. Nothing listens there; only the path matters.
REPLAY_BASE_URL = "http://127.0.0.1:9/v1"


def recording_base_url() -> str:
    """The live server to record against (set by tests/record_cassettes.py)."""
    return os.environ.get("EXTRACTOR_RECORD_BASE_URL", REPLAY_BASE_URL)


def recording_api_key() -> str | None:
    """The recording server's API key (set by tests/record_cassettes.py; the Authorization
    header never reaches a cassette)."""
    return os.environ.get("EXTRACTOR_RECORD_API_KEY") or None


# -- readable cassette serializer -----------------------------------------------------


def _decode(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if isinstance(body, str):
        try:
            return {"json": json.loads(body)}
        except ValueError:
            return {"string": body}
    return body


def _encode(body: Any) -> Any:
    if isinstance(body, dict) and "json" in body:
        return json.dumps(body["json"], separators=(",", ":"), ensure_ascii=False)
    if isinstance(body, dict) and "string" in body:
        return body["string"]
    return body


class ReadableSerializer:
    """YAML with JSON bodies decoded into YAML structures."""

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        for interaction in cassette["interactions"]:
            req, resp = interaction["request"], interaction["response"]
            req["body"] = _decode(req["body"])
            resp["body"] = _decode(resp["body"].get("string") if isinstance(resp["body"], dict) else resp["body"])
        return yaml.safe_dump(cassette, sort_keys=False, allow_unicode=True, width=120)

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        cassette = yaml.safe_load(text) or {"interactions": []}
        for interaction in cassette["interactions"]:
            req, resp = interaction["request"], interaction["response"]
            req["body"] = _encode(req["body"])
            resp["body"] = {"string": _encode(resp["body"])}
        return cassette


def _keep_content_type(headers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in headers.items() if k.lower() == "content-type"}


def _scrub_request(request: Any) -> Any:
    request.headers = _keep_content_type(dict(request.headers))
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = _keep_content_type(response.get("headers", {}))
    return response


def _json_body(r1: Any, r2: Any) -> None:
    def load(body: Any) -> Any:
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        try:
            return json.loads(body) if body else None
        except ValueError:
            return body

    assert load(r1.body) == load(r2.body), "request bodies differ"


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    return {
        "serializer": "readable",
        "match_on": ["method", "path", "json_body"],
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
        "filter_headers": ["authorization", "cookie", "set-cookie", "x-api-key", "openai-organization"],
        "allow_playback_repeats": True,
        "path_transformer": VCR.ensure_suffix(".yaml"),
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.split(".")[-1])


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_serializer("readable", ReadableSerializer)
    vcr.register_matcher("json_body", _json_body)


# -- isolation ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test reads the developer's keys, endpoint, config file, cache or library."""
    for name in list(os.environ):
        if name.startswith(("EXTRACTOR_", "OPENAI_")) and name not in ("EXTRACTOR_RECORD_BASE_URL", "EXTRACTOR_RECORD_API_KEY"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the default library
    monkeypatch.setenv("EXTRACTOR_CACHE_DIR", str(tmp_path / "cache"))
    if recording_api_key():  # recording: the CLI's requests need the server's key too
        monkeypatch.setenv("EXTRACTOR_API_KEY", recording_api_key())
    return tmp_path


@pytest.fixture
def replay_settings(tmp_path: Path) -> dict[str, Any]:
    """Settings for tests that replay cassettes (or record them when a live server is set):
    fixed model id, json_schema mode (what the bundled server enforces), no transport
    retries so a cassette miss fails at once, and a private cache."""
    return {
        "base_url": recording_base_url(),
        "api_key": recording_api_key(),
        "model": CASSETTE_MODEL,
        "mode": "json_schema",
        "retries": 0,
        "cache_dir": tmp_path / "cache",
        "max_tokens": 512,
    }
