"""Settings precedence: flag > environment > config file > default, with origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.errors import ConfigError
from extractor.extraction.prompts import load_prompt
from extractor.settings import Settings, load_settings


def test_precedence_flag_env_file_default(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('base_url = "http://file/v1"\nmodel = "file-model"\nconcurrency = 3\nmax_tokens = 77\n')
    env = {"EXTRACTOR_MODEL": "env-model", "EXTRACTOR_CONCURRENCY": "5"}
    s = load_settings({"concurrency": 9}, env=env, config=config)
    assert (s.concurrency, s.model, s.base_url, s.max_tokens, s.timeout) == (9, "env-model", "http://file/v1", 77, 120.0)
    assert s.origin["concurrency"] == "flag"
    assert s.origin["model"] == "env EXTRACTOR_MODEL"
    assert s.origin["base_url"] == f"file {config}"
    assert s.origin["timeout"] == "default"


def test_openai_variables_are_the_fallback() -> None:
    s = load_settings(env={"OPENAI_BASE_URL": "http://o/v1", "OPENAI_API_KEY": "sk-o"})
    assert s.base_url == "http://o/v1" and s.api_key is not None
    s = load_settings(env={"OPENAI_BASE_URL": "http://o/v1", "EXTRACTOR_BASE_URL": "http://e/v1"})
    assert s.base_url == "http://e/v1"


def test_config_file_from_env_and_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="bad.toml: invalid TOML"):
        load_settings(env={"EXTRACTOR_CONFIG": str(bad)})
    unknown = tmp_path / "u.toml"
    unknown.write_text("modle = 'x'\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(config=unknown)
    with pytest.raises(ConfigError, match="concurrency"):
        load_settings(env={"EXTRACTOR_CONCURRENCY": "many"})


def test_key_is_never_shown_and_host_has_no_path() -> None:
    s = Settings(base_url="http://127.0.0.1:8080/v1", api_key="sk-secret-value-123")
    assert "sk-secret" not in repr(s) and "sk-secret" not in s.model_dump_json()
    assert s.endpoint_host == "127.0.0.1:8080"


def test_prompt_is_versioned_and_hashed() -> None:
    p = load_prompt("extract")
    assert p.version and len(p.hash) == 12
    messages = p.messages(title="T", abstract="Some abstract.")
    assert messages[0]["role"] == "system" and "Some abstract." in messages[1]["content"]


@pytest.mark.parametrize(
    "url", ["notaurl", "127.0.0.1:8080/v1", "localhost:8080/v1", "ftp://host/v1", "http://exa mple.com/v1", "http://"]
)
def test_a_base_url_that_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"setting 'base_url' from flag: .*is not an http\(s\) URL"):
        load_settings({"base_url": url})


def test_credentials_and_query_are_never_shown_or_recorded() -> None:
    s = Settings(base_url="http://user:SECRET@127.0.0.1:8080/v1?key=SECRET#SECRET")
    assert s.endpoint_host == "127.0.0.1:8080"
    assert s.endpoint_display == "http://127.0.0.1:8080/v1"
    assert Settings(base_url="https://u:SECRET@[::1]/v1").endpoint_host == "[::1]"
    with pytest.raises(ConfigError) as caught:
        load_settings({"base_url": "ftp://user:SECRET@host/v1"})
    assert "SECRET" not in str(caught.value) and "ftp://host/v1" in str(caught.value)


def test_the_bundled_defaults_apply_only_to_settings_not_given() -> None:
    """A Settings built in code keeps what it was given, equal to the default or not; the
    bundled server's own values (its slots, span grounding, its mode) fill the rest."""
    from types import SimpleNamespace

    from extractor.llm.connect import _bundled_settings

    server = SimpleNamespace(model_alias="smollm2-135m", slots=2, mode="json_schema")
    defaults = Settings.model_fields
    bundled = _bundled_settings(Settings(), server)  # type: ignore[arg-type]
    assert (bundled.concurrency, bundled.grounding, bundled.mode) == (2, "span", "json_schema")
    same = Settings(
        concurrency=defaults["concurrency"].default, grounding=defaults["grounding"].default, mode="auto"
    )
    kept = _bundled_settings(same, server)  # type: ignore[arg-type]
    assert (kept.concurrency, kept.grounding, kept.mode) == (8, "check", "auto")
    other = _bundled_settings(Settings(concurrency=5, grounding="off", mode="tools"), server)  # type: ignore[arg-type]
    assert (other.concurrency, other.grounding, other.mode) == (5, "off", "tools")
    loaded = _bundled_settings(load_settings({"concurrency": 8}, env={}, config=None), server)  # type: ignore[arg-type]
    assert (loaded.concurrency, loaded.grounding) == (8, "span")
