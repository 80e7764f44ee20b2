"""One map from an HTTP status to an error kind (extractor/http/status.py): an answer over
HTTP and the same answer as a line of a Batch API output file are the same kind of error.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from extractor.batchapi.files import BatchOutput
from extractor.errors import EndpointError
from extractor.http.transport import Transport
from extractor.settings import Settings

CASES: list[tuple[int, Any, str]] = [
    (400, {"error": {"code": "context_length_exceeded", "message": "too many tokens"}}, "context_length"),
    (400, {"error": {"message": "maximum context length exceeded"}}, "context_length"),
    (400, {"error": {"message": "bad field"}}, "bad_request"),
    (401, {"error": {"message": "invalid key"}}, "auth"),
    (403, {"error": "forbidden"}, "auth"),
    (404, {"error": {"message": "no such model"}}, "not_found"),
    (418, {"error": {"message": "teapot"}}, "http"),
    (429, {"error": {"message": "slow down"}}, "rate_limit"),
    (503, {"error": {"message": "overloaded"}}, "server"),
]


def _over_http(status: int, body: Any) -> str:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(status, json=body))
    settings = Settings(base_url="http://127.0.0.1:9/v1", model="m", retries=0)

    async def go() -> str:
        t = Transport(settings, transport=transport)
        try:
            await t.get("/models")
        except EndpointError as exc:
            return exc.kind
        finally:
            await t.aclose()
        raise AssertionError("no error")

    return asyncio.run(go())


def _in_a_batch(tmp_path: Path, status: int, body: Any) -> str:
    out = tmp_path / f"out{status}.jsonl"
    out.write_text(json.dumps({"custom_id": "a", "response": {"status_code": status, "body": body}, "error": None}) + "\n")
    with BatchOutput([out]) as answers, pytest.raises(EndpointError) as caught:
        answers.completion("a")
    return caught.value.kind


@pytest.mark.parametrize(("status", "body", "kind"), CASES)
def test_a_status_is_the_same_kind_over_http_and_in_a_batch_output(tmp_path: Path, status: int, body: Any, kind: str) -> None:
    assert _over_http(status, body) == kind
    assert _in_a_batch(tmp_path, status, body) == kind
