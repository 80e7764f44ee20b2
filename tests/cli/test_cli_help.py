"""What a new user meets on the command line: each command's help lists only the options
it uses, every option has help text, and input that could not be read shows in the exit
code (4: some input was lost, 3: none could be read), not only on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from extractor.cli import main

from ..helpers import make_papers


def _commands(group: click.Group = main) -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", c) for sub, c in _commands(command)]
    return found


def _options(command: click.Command) -> set[str]:
    return {p.name for p in command.params if isinstance(p, click.Option) and p.name}


def test_every_option_of_every_command_has_help_text() -> None:
    missing = [f"{name} {opt}" for name, command in _commands() for param in command.params
               if isinstance(param, click.Option) for opt in param.opts[:1] if not (param.help or "").strip()]  # fmt: skip
    assert missing == []
    assert all((command.help or "").strip() for _, command in _commands())


def test_doctor_and_summarize_list_only_what_they_use() -> None:
    connection = {"base_url", "api_key", "model", "mode", "timeout", "retries", "retry_max_seconds", "retry_backoff"}
    extracting = {"temperature", "max_tokens", "max_reasks", "context_budget", "grounding", "policy"}
    cache = {"cache", "cache_dir", "config"}
    assert _options(main.commands["doctor"]) == connection | cache | {"policy"}
    assert _options(main.commands["summarize"]) == connection | extracting | cache | {"title"}
    shown = CliRunner().invoke(main, ["doctor", "--help"]).output
    assert "--temperature" not in shown and "--grounding" not in shown and "--concurrency" not in shown


def _listing(tmp_path: Path, *, bad: bool = False, latin: bool = False) -> Path:
    path = tmp_path / "in.jsonl"
    make_papers(path, 4)
    with path.open("ab") as fh:
        if bad:
            fh.write(b'{"title": "Broken line"\n')
        if latin:
            fh.write(json.dumps({"title": "Caf\u00e9 paper on things", "abstract": "It works."}).encode().replace(b"\\u00e9", b"\xe9") + b"\n")
    return path


def test_run_says_in_the_exit_code_that_input_was_lost(tmp_path: Path) -> None:
    common = ["--policy", "rules", "--no-cache", "-q"]
    lost = CliRunner().invoke(main, ["run", str(_listing(tmp_path, bad=True)), "-o", str(tmp_path / "a.jsonl"), *common])
    assert lost.exit_code == 4 and "input lost: 1" in lost.stderr, lost.output
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 4, "what was read was done"
    warned = CliRunner().invoke(main, ["run", str(_listing(tmp_path, latin=True)), "-o", str(tmp_path / "b.jsonl"), *common])
    assert warned.exit_code == 0 and "warning:" in warned.stderr and "error:" not in warned.stderr, warned.output
    missing = CliRunner().invoke(main, ["run", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "c.jsonl"), *common])
    assert missing.exit_code == 3, missing.output


def test_papers_prepare_and_digest_say_it_too(tmp_path: Path) -> None:
    listing = _listing(tmp_path, bad=True)
    assert CliRunner().invoke(main, ["papers", str(listing)]).exit_code == 4
    prepared = CliRunner().invoke(main, ["batch", "prepare", str(listing), "-o", str(tmp_path / "r.jsonl"), "--model", "m"])
    assert prepared.exit_code == 4 and len((tmp_path / "r.jsonl").read_text().splitlines()) == 4, prepared.output
    records = tmp_path / "records.jsonl"
    assert CliRunner().invoke(main, ["run", str(_listing(tmp_path)), "-o", str(records), "--policy", "rules", "-q",
                                     "--no-cache"]).exit_code == 0  # fmt: skip
    with records.open("a") as fh:
        fh.write('{"id": "torn", "tit')
    digest = CliRunner().invoke(main, ["digest", str(records), "-o", str(tmp_path / "d.md")])
    assert digest.exit_code == 4 and "error:" in digest.stderr, digest.output
