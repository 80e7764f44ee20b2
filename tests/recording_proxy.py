"""A loopback HTTP proxy that relays to an OpenAI-compatible server and keeps what passed:
the live tests read which requests a real server cut at ``max_tokens``, the engine benchmark
captures the requests a run sends (to replay them bare).

Servers it starts listen on 127.0.0.1 only and stop when its ``with`` block ends.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
from typing import Any

__all__ = ["RecordingProxy"]


class RecordingProxy:
    """A loopback HTTP proxy in front of ``upstream`` that keeps every chat completion's
    request body with its ``finish_reason`` and usage, to name the requests a server cut at
    ``max_tokens`` (an optional request's cut answer does not fail its paper), or to replay
    them (``benchmarks/engines.py``). It adds ``api_key``, the server's, to what it relays."""

    def __init__(self, upstream: str, api_key: str = "", timeout: float = 900) -> None:
        self.upstream = upstream.rstrip("/").removesuffix("/v1")  # requests carry their /v1 path
        self.api_key = api_key
        self.exchanges: list[dict[str, Any]] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _relay(self, body: bytes | None) -> None:
                request = urllib.request.Request(proxy.upstream + self.path, data=body, method=self.command)
                request.add_header("content-type", "application/json")
                if proxy.api_key:
                    request.add_header("Authorization", f"Bearer {proxy.api_key}")
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                try:
                    with opener.open(request, timeout=timeout) as resp:
                        status, payload = resp.status, resp.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                if body is not None and self.path.endswith("/chat/completions"):
                    proxy._keep(body, status, payload)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._relay(None)

            def do_POST(self) -> None:
                self._relay(self.rfile.read(int(self.headers.get("content-length", 0))))

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _keep(self, body: bytes, status: int, payload: bytes) -> None:
        try:
            answer = json.loads(payload)
            choice = answer["choices"][0] if status == 200 else {}
            finish, usage = choice.get("finish_reason", f"HTTP {status}"), answer.get("usage", {})
            content = (choice.get("message") or {}).get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            finish, usage, content = f"HTTP {status}", {}, None
        self.exchanges.append({"request": json.loads(body), "finish_reason": finish, "usage": usage, "content": content})

    def cut(self) -> list[dict[str, Any]]:
        """The exchanges the server cut at max_tokens."""
        return [e for e in self.exchanges if e["finish_reason"] == "length"]

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
