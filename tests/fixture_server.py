"""A loopback HTTP server that answers like the Hugging Face Daily Papers API and the arXiv
API, from the fixtures in tests/data/daily/ (see its README for where they come from).

* ``GET /api/daily_papers?date=D`` (and ``p``, ``limit``, ``week``, ``month``, ``sort``):
  the items of ``hf_daily_papers_D.json`` a page at a time; ``week``/``month`` gather the
  days of that week/month the fixtures hold; a day without a file is ``[]``, as the Hub
  answers for a day with no papers.
* ``GET /api/query?search_query=...&start=N&max_results=M``: ``arxiv_cs.CL_query.atom.xml``
  for ``cat:cs.CL`` at ``start=0``, the empty page after it; HTTP 400 with arXiv's error
  feed for any other category.

Faults, set per test: ``fail_next(n, status)`` answers the next ``n`` requests with that
HTTP status (``0``: the connection is closed without an answer). Every request is logged
(path, query, whether it carried an Authorization header and its value) in ``requests``.

    with FixtureServer() as server:
        HfApi(endpoint=server.url) ... / FetchOptions(endpoint=server.url)
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).resolve().parent / "data" / "daily"


class FixtureServer:
    """The server, on 127.0.0.1 and a free port, in a thread; stopped on exit."""

    def __init__(self, data: Path = DATA) -> None:
        self.data = data
        self.requests: list[dict[str, Any]] = []
        self._faults: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, n: int, status: int = 503) -> None:
        with self._lock:
            self._faults.extend([status] * n)

    def paths(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    # -- answers ------------------------------------------------------------------------

    def _days(self, query: dict[str, str]) -> list[str]:
        files = sorted(p.name[len("hf_daily_papers_") : -len(".json")] for p in self.data.glob("hf_daily_papers_????-??-??.json"))
        if "date" in query:
            return [query["date"]] if query["date"] in files else []
        if "week" in query:
            year, week = query["week"].split("-W")
            return [d for d in files if dt.date.fromisoformat(d).isocalendar()[:2] == (int(year), int(week))]
        if "month" in query:
            return [d for d in files if d.startswith(query["month"])]
        return files[-1:]

    def _hf(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        items: list[Any] = []
        for day in self._days(query):
            items += json.loads((self.data / f"hf_daily_papers_{day}.json").read_text())
        page, size = int(query.get("p", 0)), int(query.get("limit", 50))
        body = json.dumps(items[page * size : (page + 1) * size]).encode()
        return 200, "application/json; charset=utf-8", body

    def _arxiv(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        search = query.get("search_query", "")
        if not search.startswith("cat:cs.CL "):
            return 400, "application/atom+xml; charset=UTF-8", (self.data / "arxiv_error_400.atom.xml").read_bytes()
        name = "arxiv_cs.CL_query.atom.xml" if int(query.get("start", 0)) == 0 else "arxiv_empty_page.atom.xml"
        return 200, "application/atom+xml; charset=UTF-8", (self.data / name).read_bytes()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                auth = self.headers.get("authorization")
                server.requests.append({"path": parts.path, "query": query, "authorization": auth,
                                        "user_agent": self.headers.get("user-agent")})  # fmt: skip
                with server._lock:
                    fault = server._faults.pop(0) if server._faults else None
                if fault == 0:
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault is not None:
                    status, kind, body = fault, "application/json", json.dumps({"error": f"injected {fault}"}).encode()
                elif parts.path == "/api/daily_papers":
                    status, kind, body = server._hf(query)
                elif parts.path == "/api/query":
                    status, kind, body = server._arxiv(query)
                else:
                    status, kind, body = 404, "application/json", b'{"error":"not found"}'
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

        return Handler
