"""``tests/stub_server.py`` that can also record every chat request body (for prompt tokens).

Same command line as the stub server plus ``--capture FILE``: while capturing is on,
each ``POST /chat/completions`` body is appended to FILE as one JSON line. ``POST
/_bench/capture`` with ``{"file": PATH}`` (or ``{"file": null}``) switches the file at
run time. Recording happens in this process, so it costs the server, not the client.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import IO, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from aiohttp import web  # noqa: E402
from stub_server import StubProcess, StubServer, _serve, arg_parser, server_options  # noqa: E402

__all__ = ["CaptureStubProcess", "CaptureStubServer"]


class CaptureStubServer(StubServer):
    def __init__(self, *args, capture: Optional[str] = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._capture: Optional[IO[bytes]] = None
        self.set_capture(capture)

    def set_capture(self, path: Optional[str]) -> None:
        if self._capture is not None:
            self._capture.close()
        self._capture = open(path, "ab") if path else None

    def make_app(self) -> web.Application:
        app = super().make_app()
        app.router.add_post("/_bench/capture", self._http_capture)
        return app

    async def _http_capture(self, request: web.Request) -> web.Response:
        cfg = await request.json()
        self.set_capture(cfg.get("file"))
        return web.json_response({"ok": True})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if self._capture is not None:
            raw = await request.read()  # aiohttp keeps the body: the handler reads it again
            self._capture.write(raw.replace(b"\n", b" ") + b"\n")
            self._capture.flush()
        return await super()._chat(request)


class CaptureStubProcess(StubProcess):
    """:class:`StubProcess` running this file; ``capture(path)`` switches the capture file."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.args[1] = str(Path(__file__).resolve())

    def capture(self, path: Optional[str]) -> None:
        self._call("POST", "/_bench/capture", {"file": path})


def main(argv: Optional[list[str]] = None) -> int:
    parser = arg_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--capture", default=None)
    args = parser.parse_args(argv)
    asyncio.run(_serve(CaptureStubServer(args.port, capture=args.capture, **server_options(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
