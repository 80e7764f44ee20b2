"""The bundled engine's child process: llama.cpp's own HTTP server, from the prebuilt
``xllamacpp`` wheel, serving one GGUF file until told to stop.

    python -m extractor.local.xlc_child --model M.gguf --alias smollm2-135m [--port 0] ...

:class:`~extractor.local.server.LocalServer` runs it as a child process (engine
``xllamacpp``); nothing else needs to. It listens on 127.0.0.1 only (``--host`` is refused
for anything else unless ``--allow-remote``), with CORS off (no origin is allowed) and, when
``EXTRACTOR_SERVER_API_KEY`` is in its environment, that API key required on every endpoint
but ``/health`` (HTTP 401 otherwise). The key is read from the environment, not the command
line, so that ``ps`` does not show it, and removed from the environment once read.

Once listening it prints one line, ``extractor-server: listening on http://HOST:PORT``
(``--port 0``: a port the OS chose, free by construction), then waits for SIGTERM, SIGINT
or SIGHUP. Stopping destroys the server; llama.cpp's destructor was seen to hang forever
when it runs right after start-up (4 of 6 runs in one script), so it is given
:data:`STOP_SECONDS` and the process then exits anyway.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

KEY_ENV = "EXTRACTOR_SERVER_API_KEY"
LISTENING = "extractor-server: listening on "
STOP_SECONDS = 2.0  # within LocalServer.stop's grace (3 s), after which it sends SIGKILL
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m extractor.local.xlc_child", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="The GGUF file.")
    parser.add_argument("--alias", help="The model id /v1/models lists (default: the file's path).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--allow-remote", action="store_true", help="Allow a --host that is not loopback.")
    parser.add_argument("--port", type=int, default=0, help="0: a free port chosen by the OS.")
    parser.add_argument("--slots", type=int, default=2, help="Requests served at once (continuous batching).")
    parser.add_argument("--ctx-per-slot", type=int, default=4096, help="Context of each slot, in tokens.")
    parser.add_argument("--threads", type=int, default=1, help="Threads for generation.")
    parser.add_argument("--threads-batch", type=int, default=None, help="Threads for prompts (default: --threads).")
    parser.add_argument("--batch", type=int, default=512, help="Logical batch size (n_batch).")
    parser.add_argument("--ubatch", type=int, default=512, help="Physical batch size (n_ubatch).")
    parser.add_argument("--chat-template", default="", help="A template name or Jinja text; default: the file's own.")
    parser.add_argument("--no-jinja", action="store_true", help="Use llama.cpp's built-in templates, not Jinja.")
    parser.add_argument("--verbosity", type=int, default=2, help="0/1 silent, 2 warnings, 3 info, 4-5 debug.")
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK and not args.allow_remote:
        parser.error(f"--host {args.host} is not a loopback address (use --allow-remote to mean it)")
    return args


def params(args: argparse.Namespace, api_key: str | None) -> object:
    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = args.model
    if args.alias:
        p.model_alias = {args.alias}
    p.hostnames = [args.host]
    p.port = args.port
    p.n_parallel = args.slots
    p.n_ctx = args.ctx_per_slot * args.slots  # the total: each slot gets n_ctx / n_parallel
    p.n_batch = args.batch
    p.n_ubatch = min(args.ubatch, args.batch)
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads_batch or args.threads
    p.cont_batching = True
    p.cache_prompt = True  # a request reuses the KV cache of the prefix it shares with its slot's last one
    p.use_jinja = not args.no_jinja
    if args.chat_template:
        p.chat_template = args.chat_template
    p.warmup = True
    p.ui = False
    p.endpoint_slots = False  # /slots would show other requests' prompts
    p.endpoint_props = False
    p.endpoint_metrics = False
    p.verbosity = args.verbosity
    # CORS off: no origin is allowed (the header is sent empty, which browsers refuse).
    p.cors_origins = ""
    p.cors_origins_explicit = True
    if api_key:
        p.api_keys = [api_key]
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    api_key = os.environ.pop(KEY_ENV, "") or None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    # The wheel's llama.cpp uses OpenMP, whose threads spin while they wait for each other.
    # On cores shared with other work a spinning thread burns the time slice the thread it
    # waits for needs: with 2 threads on 2 busy cores, generation fell to 1-4 tokens/s
    # (from about 45). Passive waiting sleeps instead (benchmarks/results.md). Read when the
    # OpenMP runtime loads, so set before the import; a value of the user's is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import xllamacpp as xlc

    try:
        server = xlc.Server(params(args, api_key))  # returns once the model is loaded and listening
    except RuntimeError as exc:  # a wrong path or a file that is not a model; the reason is above at -v 3
        print(f"extractor-server: failed to load model {args.model}: {exc}", flush=True)
        return 1
    print(LISTENING + server.listening_address, flush=True)
    stop.wait()
    done = threading.Event()
    holder = [server]
    del server

    def close() -> None:
        holder.clear()  # the last reference: ~Server stops the loop and joins its threads
        done.set()

    threading.Thread(target=close, daemon=True).start()
    clean = done.wait(STOP_SECONDS)
    sys.stdout.flush()
    os._exit(0 if clean else 3)


if __name__ == "__main__":
    raise SystemExit(main())
