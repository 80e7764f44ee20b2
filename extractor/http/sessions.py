"""The HTTP client under :class:`~extractor.http.transport.Transport`: one request in, one
:class:`Answer` (status, headers, bytes) out, and a network failure as one of three errors.

:class:`AiohttpSession` is what talks to real servers. aiohttp parses HTTP in C: at 64
requests in flight against a loopback server it spends about a fifth of the CPU per request
that ``httpx2`` does (0.45 against 2.4 ms here), and at that concurrency the client's one
core, not the server, sets the pace of a batch. :class:`HttpxSession` wraps an ``httpx2``
client or transport that a caller passes in (``httpx2.MockTransport`` in tests, a client
with the caller's own proxies or certificates); ``httpx2`` is imported only then.

Both turn what their library raises below HTTP into the errors the retry policy reads:

* :class:`Refused`: no connection was ever opened (refused, unknown host, bad URL or TLS);
* :class:`TimedOut`: connecting, or waiting for the answer, took longer than the timeout;
* :class:`Broken`: the connection opened and then failed (dropped mid-answer, reset,
  not HTTP).

Any HTTP status is an :class:`Answer`, not an error: what a status means is the
transport's business.

Example:
    >>> import asyncio, httpx2
    >>> session = HttpxSession(httpx2.AsyncClient(
    ...     base_url="http://127.0.0.1:9/v1",
    ...     transport=httpx2.MockTransport(lambda r: httpx2.Response(200, json={"path": r.url.path}))))
    >>> asyncio.run(session.request("GET", "/models", None, None)).content
    b'{"path":"/v1/models"}'
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "AiohttpSession",
    "Answer",
    "Broken",
    "HttpxSession",
    "NetworkError",
    "Refused",
    "Session",
    "TimedOut",
    "env_proxy",
]


class NetworkError(Exception):
    """An exchange that failed below HTTP: no answer with a status was read."""

    what = "network error"  # the failure in a few words, for a log line


class Refused(NetworkError):
    """No connection was opened: refused, unknown host, a URL or TLS handshake that fails."""

    what = "connection refused"


class TimedOut(NetworkError):
    """Connecting, or waiting for the answer, took longer than the timeout."""

    what = "timeout"


class Broken(NetworkError):
    """The connection opened, then failed: closed mid-answer, reset, or not HTTP."""

    what = "connection broken"


@dataclass(frozen=True, slots=True)
class Answer:
    """A response with any status: ``headers`` look up names case-insensitively."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters (``application/json``)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class Session(Protocol):
    """One server's HTTP client. ``path`` is relative to ``base_url`` (no trailing slash);
    ``body`` is sent as JSON; ``upload`` as a multipart form instead (``{"data": {name:
    value}, "files": {name: (filename, bytes, content type)}}``)."""

    base_url: str

    async def request(self, method: str, path: str, body: Any | None, upload: dict[str, Any] | None) -> Answer: ...

    async def aclose(self) -> None: ...


class AiohttpSession:
    """An ``aiohttp`` client for one base URL, opened on first use in the running event
    loop (so it can be built in sync code) and opened again if a later call runs in
    another loop.

    ``timeout`` bounds connecting and each wait for data from the server, like ``httpx``'s
    (a long generation that sends nothing until it is done counts from the request).
    Connections are not limited in number and are kept alive between requests: the
    caller decides how many requests are in flight. A proxy comes from the usual
    environment variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``), read once when the
    session opens, as ``httpx`` reads them (aiohttp's own ``trust_env`` would read them, and
    ``~/.netrc``, in a worker thread for every request).
    """

    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        self._headers = dict(headers)
        if parts.username is not None:
            # Credentials in the URL (a gateway's basic auth) are sent as basic auth instead
            # of the API key's bearer header, as httpx does; the URL is kept without them.
            self._headers = {k: v for k, v in self._headers.items() if k.lower() != "authorization"}
            self._headers["Authorization"] = aiohttp.encode_basic_auth(unquote(parts.username), unquote(parts.password or ""))
            parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        self.base_url = urlunsplit(parts)
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxy: str | None = None

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            if self._session is not None and self._loop is not loop:
                # Its connections belong to a loop that has ended: nothing left to close.
                self._session.detach()
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None, connect=self._timeout, sock_read=self._timeout),
                connector=aiohttp.TCPConnector(limit=0),
            )
            self._loop = loop
            self._proxy = env_proxy(self.base_url)
        return self._session

    async def request(self, method: str, path: str, body: Any | None, upload: dict[str, Any] | None) -> Answer:
        session = self._open()
        kwargs: dict[str, Any] = {"proxy": self._proxy} if self._proxy else {}
        if upload is not None:
            kwargs["data"] = _form(upload)
        elif body is not None:
            kwargs["data"] = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            async with session.request(method, self.base_url + path, **kwargs) as response:
                return Answer(response.status, response.headers, await response.read())
        except (aiohttp.ClientConnectorError, aiohttp.InvalidURL) as exc:
            raise Refused(_describe(exc)) from exc
        except asyncio.TimeoutError as exc:  # aiohttp's timeouts are asyncio.TimeoutError too
            raise TimedOut(_describe(exc) or "timed out") from exc
        except aiohttp.ClientError as exc:
            raise Broken(_describe(exc)) from exc

    async def aclose(self) -> None:
        if self._session is not None and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None


class HttpxSession:
    """An ``httpx2.AsyncClient`` as a :class:`Session`: the one passed in (closed by its
    owner), or one built for ``base_url`` over ``transport`` (closed by :meth:`aclose`)."""

    def __init__(
        self,
        client: httpx2.AsyncClient | None = None,
        *,
        base_url: str = "",
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        import httpx2

        self._httpx = httpx2
        self._owned = client is None
        self.client = client or httpx2.AsyncClient(
            base_url=base_url.rstrip("/"), headers=dict(headers or {}), timeout=timeout, transport=transport
        )
        self.base_url = str(self.client.base_url).rstrip("/")

    async def request(self, method: str, path: str, body: Any | None, upload: dict[str, Any] | None) -> Answer:
        httpx2 = self._httpx
        try:
            response = await self.client.request(method, path, json=body, **(upload or {}))
        except (httpx2.ConnectError, httpx2.UnsupportedProtocol) as exc:
            raise Refused(_describe(exc)) from exc
        except httpx2.TimeoutException as exc:
            raise TimedOut(_describe(exc) or "timed out") from exc
        except httpx2.TransportError as exc:
            raise Broken(_describe(exc)) from exc
        return Answer(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()


def env_proxy(url: str) -> str | None:
    """The proxy the environment sets for ``url`` (``HTTPS_PROXY`` for https, ``HTTP_PROXY``
    for http, none for a host ``NO_PROXY`` lists).

    Example:
        >>> env_proxy("http://127.0.0.1:8080/v1") is None or "set by your environment"
        True
    """
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    if not parts.hostname or urllib.request.proxy_bypass_environment(parts.hostname, proxies):
        return None
    return proxies.get(parts.scheme)


def _form(upload: dict[str, Any]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in upload.get("data", {}).items():
        form.add_field(name, str(value))
    for name, (filename, content, content_type) in upload.get("files", {}).items():
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form


def _describe(exc: BaseException) -> str:
    """What went wrong, in the library's words, with its kind when it says nothing else."""
    text = str(exc).strip()
    return text or type(exc).__name__
