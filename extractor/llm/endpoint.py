"""One OpenAI-compatible endpoint: which model and mode to use, and typed answers from it.

:class:`Endpoint` puts together the HTTP :class:`~extractor.http.transport.Transport` (rate
limit, retries), the :func:`~extractor.llm.probe.probe` of the structured-output mode, and
the :class:`~extractor.llm.completions.Completer` (request body, validation, re-asks). The
model is the configured one, else the endpoint's first listed model; the mode is the
configured one, else the probe's answer.

With several replicas (``--base-url`` repeated) the model and mode are found once, on
whichever replica the transport picks: replicas of one deployment serve the same model
behind the same server, so one probe speaks for all and a batch sends it once, not once per
replica. ``extractor doctor`` probes each replica, to show one that differs.

Example:
    >>> from extractor.settings import Settings
    >>> ep = Endpoint(Settings(base_url="http://127.0.0.1:8080/v1", model="m", mode="tools"))
    >>> ep.host
    '127.0.0.1:8080'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from .completions import Completer, Completion
from ..errors import ConfigError
from .probe import ProbeResult, probe
from ..settings import Settings
from ..http.budget import Budget
from ..http.transport import Transport

if TYPE_CHECKING:
    import httpx2

__all__ = ["Completion", "Endpoint", "ProbeResult"]

T = TypeVar("T", bound=BaseModel)


class Endpoint:
    """One endpoint as configured by a :class:`Settings`. Cheap per call: the HTTP client
    and prepared request bodies are built once. Use :meth:`aclose` (or ``async with``).

    ``transport`` (an ``httpx2.AsyncBaseTransport``) replaces the network, for tests.
    """

    def __init__(self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.host = settings.endpoint_host
        self.transport = Transport(settings, transport=transport)
        self.completer = Completer(self.transport, settings)
        self.model: str | None = settings.model
        self.mode: str | None = None if settings.mode == "auto" else settings.mode
        self.probe_result: ProbeResult | None = None

    @property
    def requests_sent(self) -> int:
        return self.transport.requests_sent

    async def __aenter__(self) -> Endpoint:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def list_models(self) -> list[str]:
        """Model ids the endpoint serves."""
        page = await self.transport.get("/models")
        return [m["id"] for m in page.get("data", []) if isinstance(m, dict) and m.get("id")]

    async def resolve_model(self) -> str:
        """The configured model, else the endpoint's first listed model."""
        if self.model:
            return self.model
        if self.host == "api.openai.com":
            self.model = "gpt-4o-mini"
            return self.model
        models = await self.list_models()
        if not models:
            raise ConfigError(f"{self.host} lists no models; pass --model")
        self.model = models[0]
        return self.model

    async def probe(self) -> ProbeResult:
        """Find the structured-output mode this endpoint really enforces (see
        :mod:`extractor.llm.probe`) and use it from now on."""
        self.probe_result = await probe(self.transport, await self.resolve_model())
        self.mode = self.probe_result.mode
        return self.probe_result

    async def resolve_mode(self) -> str:
        """The configured mode, probing once when it is ``auto``."""
        if self.mode is None:
            await self.probe()
        assert self.mode is not None
        return self.mode

    async def complete(
        self, messages: list[dict[str, str]], response_model: type[T], budget: Budget | None = None
    ) -> Completion:
        """One typed answer (see :class:`~extractor.llm.completions.Completer`); ``budget`` is
        the paper's retry budget (a fresh one when None)."""
        model, mode = await self.resolve_model(), await self.resolve_mode()
        return await self.completer.complete(
            model, mode, messages, response_model, budget or Budget.for_settings(self.settings)
        )
