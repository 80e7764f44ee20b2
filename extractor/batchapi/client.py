"""The Batch API of an OpenAI-compatible server: upload a request file, start a batch,
follow it, download its answers.

The endpoints are OpenAI's: ``POST /files`` (multipart, ``purpose=batch``), ``POST
/batches`` (``input_file_id``, ``endpoint``, ``completion_window: 24h``), ``GET
/batches/{id}`` and ``GET /files/{id}/content``. Every exchange goes through
:class:`~extractor.http.transport.Transport`: the base URL and key of the usual settings (the
key is sent, never shown), and the one retry policy (429 honouring ``Retry-After``, 5xx,
timeouts, dropped connections). An upload or a batch creation retried after a failure
the server had already acted on may leave a second file or batch behind (``status``
shows them; a second batch costs a second run).

The request file is :func:`~extractor.batchapi.files.prepare_requests`'s; the downloaded
answers go to :func:`~extractor.batchapi.files.ingest_answers`. llama.cpp and Ollama have no
Batch API; on a GPU box ``vllm run-batch`` runs the same request file without one.

Example:
    >>> async def go(settings):  # doctest: +SKIP
    ...     async with BatchClient(settings) as client:
    ...         batch = await client.submit("requests.jsonl")
    ...         batch = await client.wait(batch.id)
    ...         return await client.fetch(batch.id, "output.jsonl")
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .files import CHAT_URL
from ..llm.connect import endpoint_configured
from ..errors import ConfigError, EndpointError, ExtractorError, FatalEndpointError
from ..settings import Settings
from ..http.budget import Budget
from ..http.transport import Transport
from ..records.files import check_target, replacing

if TYPE_CHECKING:
    import httpx2

__all__ = ["DONE", "BatchClient", "BatchInfo", "BatchNotDone", "Fetched"]

#: Statuses after which a batch changes no more.
DONE = frozenset({"completed", "failed", "expired", "cancelled"})


class BatchNotDone(ExtractorError):
    """The batch is still running: its answers cannot be fetched yet."""


@dataclass(frozen=True)
class BatchInfo:
    """What the server says of a batch."""

    id: str
    status: str
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # why the batch failed (its validation), one line each

    @classmethod
    def from_api(cls, data: Any) -> BatchInfo:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise EndpointError("bad_response", f"not a batch object: {str(data)[:120]}")
        counts = data.get("request_counts") or {}
        errors = (data.get("errors") or {}).get("data") or [] if isinstance(data.get("errors"), dict) else []
        return cls(
            id=data["id"],
            status=str(data.get("status")),
            input_file_id=data.get("input_file_id"),
            output_file_id=data.get("output_file_id"),
            error_file_id=data.get("error_file_id"),
            total=int(counts.get("total") or 0),
            completed=int(counts.get("completed") or 0),
            failed=int(counts.get("failed") or 0),
            errors=[_error_line(e) for e in errors],
        )

    @property
    def done(self) -> bool:
        return self.status in DONE

    def describe(self) -> str:
        """One line: ``batch_abc: completed, 544 of 544 requests answered, 0 failed``."""
        line = f"{self.id}: {self.status}, {self.completed} of {self.total} requests answered, {self.failed} failed"
        return line + "".join(f"; {e}" for e in self.errors[:3])


def _error_line(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    where = f"line {error['line']}: " if error.get("line") is not None else ""
    return f"{where}{error.get('code') or 'error'}: {error.get('message') or ''}".strip()


@dataclass(frozen=True)
class Fetched:
    """What :meth:`BatchClient.fetch` wrote: the batch, and its answer and error lines."""

    batch: BatchInfo
    answers: int
    errors: int


class BatchClient:
    """The files and batches endpoints of one server (``settings.base_url``, else the
    OpenAI API with ``settings.api_key``). ``transport`` replaces the network, for tests.
    Use ``async with`` or :meth:`aclose`."""

    def __init__(self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        if not endpoint_configured(settings):
            raise ConfigError("the Batch API needs --base-url or an API key (--api-key, OPENAI_API_KEY)")
        self.settings = settings
        self.transport = Transport(settings, transport=transport)

    async def __aenter__(self) -> BatchClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def _send(self, method: str, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        try:
            return await self.transport.send(method, path, body, Budget.for_settings(self.settings), **kwargs)
        except FatalEndpointError as exc:
            if exc.kind != "not_found":
                raise
            raise ConfigError(
                f"{self.settings.endpoint_host} answered 404 to {method} {path}: no such batch or file, or no Batch API "
                "at this URL (llama.cpp and Ollama have none; for vLLM use `vllm run-batch`)"
            ) from exc

    async def upload(self, path: str | Path) -> str:
        """Upload a request file (``purpose=batch``); its file id."""
        path = Path(path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the request file ({exc.strerror or exc})") from exc
        upload = {"data": {"purpose": "batch"}, "files": {"file": (path.name, content, "application/jsonl")}}
        data = await self._send("POST", "/files", upload=upload)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise EndpointError("bad_response", f"the upload answered no file id: {str(data)[:120]}")
        return data["id"]  # type: ignore[no-any-return]

    async def create(
        self, input_file_id: str, *, completion_window: str = "24h", metadata: dict[str, str] | None = None
    ) -> BatchInfo:
        """Start a batch of the uploaded request file."""
        body: dict[str, Any] = {"input_file_id": input_file_id, "endpoint": CHAT_URL, "completion_window": completion_window}
        if metadata:
            body["metadata"] = metadata
        return BatchInfo.from_api(await self._send("POST", "/batches", body))

    async def submit(self, path: str | Path, *, completion_window: str = "24h") -> BatchInfo:
        """Upload ``path`` and start its batch."""
        return await self.create(await self.upload(path), completion_window=completion_window, metadata={"tool": "extractor"})

    async def status(self, batch_id: str) -> BatchInfo:
        """The batch as the server sees it now."""
        return BatchInfo.from_api(await self._send("GET", f"/batches/{batch_id}"))

    async def wait(self, batch_id: str, *, poll_s: float = 30.0, timeout_s: float | None = None) -> BatchInfo:
        """Poll until the batch is done (or ``timeout_s`` passed: the last status)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            info = await self.status(batch_id)
            if info.done or (deadline is not None and time.monotonic() + poll_s > deadline):
                return info
            await asyncio.sleep(poll_s)

    async def content(self, file_id: str) -> bytes:
        """A file's content."""
        data = await self._send("GET", f"/files/{file_id}/content", raw=True)
        return data if isinstance(data, bytes) else str(data).encode()

    async def fetch(self, batch_id: str, output: str | Path) -> Fetched:
        """Write the batch's answers to ``output``: the output file's lines, then the
        error file's (requests that failed), one JSONL file for
        :func:`~extractor.batchapi.files.ingest_answers`. Raises :class:`BatchNotDone` while the
        batch runs; a batch that failed, expired or was cancelled gives what it has."""
        check_target(output, "the answers")
        info = await self.status(batch_id)
        if not info.done:
            raise BatchNotDone(f"batch {batch_id} is {info.status} ({info.completed} of {info.total} answered); fetch it later")
        if info.output_file_id is None and info.error_file_id is None:
            why = "; ".join(info.errors) or "no output file"
            raise ConfigError(f"batch {batch_id} is {info.status} with nothing to fetch: {why}")
        parts = []
        for file_id in (info.output_file_id, info.error_file_id):
            parts.append(await self.content(file_id) if file_id else b"")
        with replacing(output, "the answers") as fh:
            for part in parts:
                fh.write(part if not part or part.endswith(b"\n") else part + b"\n")
        answers, errors = (sum(1 for line in part.splitlines() if line.strip()) for part in parts)
        return Fetched(info, answers, errors)
