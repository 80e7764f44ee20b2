"""A loopback server speaking OpenAI's files and batches protocol, on top of the stub.

:class:`BatchServer` is a :class:`~tests.stub_server.StubServer` (so ``/v1/chat/completions``
answers as always) with the Batch API's endpoints:

* ``POST /v1/files`` (multipart: ``purpose``, ``file``), ``GET /v1/files/{id}``,
  ``GET /v1/files/{id}/content``;
* ``POST /v1/batches`` (``input_file_id``, ``endpoint``, ``completion_window``) and
  ``GET /v1/batches/{id}``.

A created batch is ``validating``, then ``in_progress``, then, ``batch_seconds`` later,
``completed``: each request line is answered by the stub's own answer generator and fault
hook (:meth:`StubServer.admit`, :meth:`StubServer.completion_payload`), so its answers are
the ones ``extractor run`` gets from the stub for the same body. Answers with status 200
go to the output file; requests the fault hook fails (``[[fault:500]]`` in the abstract,
with :func:`~tests.stub_server.by_marker`) to the error file, with that status and an
OpenAI-shaped error body. ``drop`` (a set of ``custom_id``) leaves requests out of both,
as a batch that expired before reaching them. A file that is not JSONL, or a line that is
not a POST to ``/v1/chat/completions``, fails the batch at validation (``errors.data``
names the line). ``api_key``, when set, must come as ``Authorization: Bearer ...``;
``api_faults`` (a list of HTTP statuses) answers the next files/batches requests with them.

Every chat body received, over HTTP or in a batch, is kept in ``bodies`` (in order), so a
test can compare what ``extractor run`` sends with what ``extractor batch prepare`` wrote.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any, Optional

from aiohttp import web

from .stub_server import _ERRORS, StubServer

__all__ = ["BatchServer"]


class BatchServer(StubServer):
    """The stub with files and batches (see the module docstring)."""

    def __init__(
        self, *args: Any, batch_seconds: float = 0.2, api_key: Optional[str] = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.batch_seconds = batch_seconds
        self.api_key = api_key
        self.drop: set[str] = set()
        self.api_faults: list[int] = []  # statuses answered to the next files/batches requests, in order
        self.bodies: list[dict] = []
        self.files: dict[str, dict] = {}  # id -> file object, with "_content" (bytes)
        self.batches: dict[str, dict] = {}
        self._ids = itertools.count(1)

    def make_app(self) -> web.Application:
        app = super().make_app()
        app.middlewares.append(self._check_key)
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{id}", self._file)
        app.router.add_get("/v1/files/{id}/content", self._content)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches/{id}", self._batch)
        return app

    @web.middleware
    async def _check_key(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.api_key and request.path.startswith("/v1/") and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _fail(401, "Incorrect API key provided.", "invalid_api_key")
        if self.api_faults and request.path.startswith(("/v1/files", "/v1/batches")):
            await request.read()
            return _fail(self.api_faults.pop(0), "stub: injected fault", "server_error")
        return await handler(request)  # type: ignore[no-any-return]

    async def _chat_inner(self, request: web.Request) -> web.StreamResponse:
        try:
            self.bodies.append(json.loads(await request.read()))
        except ValueError:
            pass
        return await super()._chat_inner(request)

    # -- files --------------------------------------------------------------------------
    def _new_file(self, filename: str, content: bytes, purpose: str) -> dict:
        file = {"id": f"file-{next(self._ids)}", "object": "file", "bytes": len(content), "created_at": int(time.time()),
                "filename": filename, "purpose": purpose, "_content": content}  # fmt: skip
        self.files[file["id"]] = file
        return file

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload, purpose = form.get("file"), form.get("purpose")
        if purpose != "batch" or not isinstance(upload, web.FileField):
            return _fail(400, "a file and purpose=batch are required", "invalid_request")
        return web.json_response(self._public(self._new_file(upload.filename, upload.file.read(), "batch")))

    async def _file(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["id"])
        return web.json_response(self._public(file)) if file else _fail(404, "No such File object", "not_found")

    async def _content(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["id"])
        if file is None:
            return _fail(404, "No such File object", "not_found")
        return web.Response(body=file["_content"], content_type="application/octet-stream")

    # -- batches ------------------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        file_id = body.get("input_file_id")
        if file_id not in self.files:
            return _fail(400, f"no file {file_id}", "invalid_request")
        if body.get("endpoint") != "/v1/chat/completions" or body.get("completion_window") != "24h":
            return _fail(400, "endpoint must be /v1/chat/completions and completion_window 24h", "invalid_request")
        batch = {
            "id": f"batch_{next(self._ids)}", "object": "batch", "endpoint": body["endpoint"], "errors": None,
            "input_file_id": file_id, "completion_window": "24h", "status": "validating", "output_file_id": None,
            "error_file_id": None, "created_at": int(time.time()), "metadata": body.get("metadata"),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
        }  # fmt: skip
        self.batches[batch["id"]] = batch
        task = asyncio.ensure_future(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response(batch)

    async def _batch(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        return web.json_response(batch) if batch else _fail(404, "No such Batch object", "not_found")

    async def _run(self, batch: dict) -> None:
        lines = self.files[batch["input_file_id"]]["_content"].decode("utf-8").splitlines()
        requests = []
        for number, line in enumerate(lines, 1):
            try:
                item = json.loads(line)
                ok = item.get("method") == "POST" and item.get("url") == "/v1/chat/completions" and item.get("custom_id")
            except (ValueError, AttributeError):
                ok = False
            if not ok:
                error = {"code": "invalid_request", "message": "not a POST to /v1/chat/completions with a custom_id", "line": number}
                batch.update(status="failed", errors={"object": "list", "data": [error]})
                return
            requests.append(item)
        batch.update(status="in_progress", request_counts={"total": len(requests), "completed": 0, "failed": 0})
        await asyncio.sleep(self.batch_seconds)
        out, err = [], []
        for item in requests:
            if item["custom_id"] in self.drop:
                continue
            status, answer = self._answer_line(item["body"])
            line = {"id": f"batch_req_{next(self._ids)}", "custom_id": item["custom_id"], "error": None,
                    "response": {"status_code": status, "request_id": f"req_{next(self._ids)}", "body": answer}}  # fmt: skip
            (out if status == 200 else err).append(json.dumps(line) + "\n")
        counts = batch["request_counts"]
        counts.update(completed=len(out), failed=len(err))
        output = self._new_file("batch_output.jsonl", "".join(out).encode(), "batch_output")
        errors = self._new_file("batch_errors.jsonl", "".join(err).encode(), "batch_output") if err else None
        batch.update(status="completed", output_file_id=output["id"], error_file_id=errors["id"] if errors else None)

    def _answer_line(self, body: dict) -> tuple[int, dict]:
        """(status, body) of one request of a batch: the stub's answer, or its fault."""
        self.bodies.append(body)
        text, prompt_chars, key, seq, fault = self.admit(body)
        if fault is None or fault in ("schema_fail", "length"):
            return 200, self.completion_payload(body, text, key, prompt_chars, seq, fault)
        status, message, type_, code = _ERRORS.get(fault, (500, f"stub fault {fault}", "server_error", None))
        if fault == "429":
            status, message, type_, code = 429, "Rate limit reached (stub).", "requests", "rate_limit_exceeded"
        return status, {"error": {"message": message.format(model=body.get("model", "")), "type": type_, "param": None, "code": code}}


def _fail(status: int, message: str, code: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}, status=status)
