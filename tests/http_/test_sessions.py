"""The HTTP client under the transport, over real loopback sockets: what reaches the server
(headers, JSON, multipart, credentials from the URL), and which error each failure below
HTTP becomes (:class:`Refused`, :class:`TimedOut`, :class:`Broken`), for aiohttp (the
network) and httpx2 (an injected client) alike.

The fault cases the retry policy sees end to end (429, 5xx, a dropped body, HTML, a server
killed) are in ``test_faults.py``; this file is the layer below.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from aiohttp import web

from extractor.http.sessions import AiohttpSession, Broken, HttpxSession, Refused, Session, TimedOut, env_proxy


class Server:
    """A real aiohttp server on 127.0.0.1 in a thread: ``/echo`` answers with what it got,
    ``/slow`` after 2 s, ``/drop`` promises 100 bytes and closes after 5."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _echo(self, request: web.Request) -> web.Response:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body: Any = {k: (v.filename, v.file.read().decode()) if hasattr(v, "filename") else v for k, v in form.items()}
        else:
            body = await request.json() if request.can_read_body else None
        self.seen.append({"headers": dict(request.headers), "body": body, "path": request.path})
        return web.json_response({"ok": True}, headers={"Retry-After": "3"})

    async def _slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    async def _drop(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100", "Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"a":')
        assert request.transport is not None
        request.transport.close()
        return response

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/v1/echo", self._echo)
        app.router.add_get("/v1/slow", self._slow)
        app.router.add_get("/v1/drop", self._drop)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def __enter__(self) -> Server:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server() as s:
        yield s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def aiohttp_session(base_url: str, timeout: float = 5.0) -> Session:
    return AiohttpSession(base_url, {"Authorization": "Bearer KEY"}, timeout)


def httpx_session(base_url: str, timeout: float = 5.0) -> Session:
    return HttpxSession(base_url=base_url, headers={"Authorization": "Bearer KEY"}, timeout=timeout,
                        transport=httpx2.AsyncHTTPTransport())  # fmt: skip


BOTH = pytest.mark.parametrize("make", [aiohttp_session, httpx_session], ids=["aiohttp", "httpx2"])


async def _once(session: Session, method: str, path: str, body: Any = None, upload: Any = None) -> Any:
    try:
        return await session.request(method, path, body, upload)
    finally:
        await session.aclose()


@BOTH
async def test_json_body_headers_and_answer(server: Server, make: Callable[..., Session]) -> None:
    answer = await _once(make(server.base_url + "/"), "POST", "/echo", {"q": "é", "n": [1, 2]})
    assert answer.status == 200 and answer.content == b'{"ok": true}'
    assert answer.headers.get("retry-after") == "3" and answer.content_type == "application/json"
    seen = server.seen[-1]
    assert seen["path"] == "/v1/echo" and seen["body"] == {"q": "é", "n": [1, 2]}
    assert seen["headers"]["Authorization"] == "Bearer KEY"
    assert seen["headers"]["Content-Type"].startswith("application/json")


@BOTH
async def test_multipart_upload(server: Server, make: Callable[..., Session]) -> None:
    upload = {"data": {"purpose": "batch"}, "files": {"file": ("in.jsonl", b'{"a": 1}\n', "application/jsonl")}}
    answer = await _once(make(server.base_url), "POST", "/echo", upload=upload)
    assert answer.status == 200
    assert server.seen[-1]["body"] == {"purpose": "batch", "file": ("in.jsonl", '{"a": 1}\n')}


async def test_credentials_in_the_url_are_sent_as_basic_auth_not_kept_in_the_url(server: Server) -> None:
    session = aiohttp_session(server.base_url.replace("http://", "http://us%40er:S%3Acret@"))
    assert "cret" not in session.base_url
    await _once(session, "GET", "/echo")
    expected = "Basic " + base64.b64encode(b"us@er:S:cret").decode()
    assert server.seen[-1]["headers"]["Authorization"] == expected


@BOTH
async def test_nothing_listening_is_refused(make: Callable[..., Session]) -> None:
    with pytest.raises(Refused):
        await _once(make(f"http://127.0.0.1:{_free_port()}/v1"), "GET", "/models")


@BOTH
async def test_a_slow_answer_times_out(server: Server, make: Callable[..., Session]) -> None:
    with pytest.raises(TimedOut):
        await _once(make(server.base_url, timeout=0.3), "GET", "/slow")


@BOTH
async def test_a_body_cut_short_is_broken(server: Server, make: Callable[..., Session]) -> None:
    with pytest.raises(Broken):
        await _once(make(server.base_url), "GET", "/drop")


def test_one_session_serves_one_event_loop_after_another(server: Server) -> None:
    """Sync callers run each call in its own ``asyncio.run``: closed at the end of one, the
    session opens again in the next."""
    session = aiohttp_session(server.base_url)
    assert asyncio.run(_once(session, "GET", "/echo")).status == 200
    assert asyncio.run(_once(session, "GET", "/echo")).status == 200


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_session_left_open_in_an_ended_loop_is_not_reused(server: Server) -> None:
    """Its connections belong to a loop that has ended: a new loop gets new ones (the old
    ones are the caller's leak, as with any HTTP client not closed)."""
    session = aiohttp_session(server.base_url)
    assert asyncio.run(session.request("GET", "/echo", None, None)).status == 200
    assert asyncio.run(_once(session, "GET", "/echo")).status == 200


def test_the_proxy_comes_from_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert env_proxy("https://api.example.com/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.local:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert env_proxy("https://api.example.com/v1") == "http://proxy.local:3128"
    assert env_proxy("http://api.example.com/v1") is None  # no HTTP_PROXY
    assert env_proxy("https://127.0.0.1:8080/v1") is None  # NO_PROXY
