"""``extractor serve``, ``doctor`` and ``cache``: the bundled server, the set-up check and the answer cache."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ExtractorError
from .app import EXIT_OK, EXIT_USAGE, Terminated, err, main, settings_from, settings_options


@main.command()
@click.option("--port", type=int, default=8080, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--model", "model_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A GGUF file to serve instead of the bundled model.")  # fmt: skip
@click.option("--n-ctx", type=int, default=4096, show_default=True, help="Context of each slot, in tokens.")
@click.option("--slots", type=int, default=None, help="Requests served at once (default: 2, tuned for 2 cores).")
@click.option("--threads", type=int, default=None, help="CPU threads (default: 1, tuned for 2 shared cores).")
@click.option("--engine", type=click.Choice(["auto", "xllamacpp", "llama-server"]), default="auto", show_default=True,
              help="auto: $EXTRACTOR_ENGINE, else $EXTRACTOR_LLAMA_SERVER if set, else xllamacpp.")  # fmt: skip
@click.option("--api-key", envvar="EXTRACTOR_SERVE_API_KEY", default=None,
              help="The key clients must send [env EXTRACTOR_SERVE_API_KEY]; default: a new random one, shown once.")  # fmt: skip
def serve(
    port: int, host: str, model_file: Path | None, n_ctx: int, slots: int | None, threads: int | None, engine: str,
    api_key: str | None,
) -> None:
    """Run the bundled llama.cpp server in the foreground, for any OpenAI client."""
    from ..local import server as local
    from ..local.models import fetch_notice

    try:
        if model_file is None:
            fetching = fetch_notice()
            if fetching:
                err(fetching)
            model_file = local.find_model()
            alias = local.DEFAULT_MODEL
        else:
            alias = None
        server = local.LocalServer(model_file, port or None, host=host, n_ctx=n_ctx, model_alias=alias, engine=engine,
                                   slots=slots, n_threads=threads, api_key=api_key)  # fmt: skip
    except ExtractorError as exc:
        err(f"extractor serve: {exc}")
        sys.exit(1)
    try:
        try:
            server.start()
        except ExtractorError as exc:
            err(f"extractor serve: {exc}")
            sys.exit(1)
        url = server.base_url
        err(f"extractor serve: {server.model_name} ready at {url} ({server.describe()}; "
             f"started in {server.startup_seconds:.1f} s; Ctrl-C to stop)")  # fmt: skip
        # `serve` is for other clients: its key has to be shown (a run's never is).
        key = server.api_key or "not-needed"
        err(f"  API key: {key}" + ("" if api_key else " (new at every start; --api-key or EXTRACTOR_SERVE_API_KEY fix one)"))
        err(f"  EXTRACTOR_API_KEY={key} extractor run --base-url {url} --mode {server.mode} "
            f"--concurrency {server.slots} ...")  # fmt: skip
        err("  # or, from Python:")
        for line in local.client_snippet(url, server.model_name, key).splitlines():
            err(f"  {line}")
        code = server.wait()
        tail = "\n".join(f"    {line}" for line in server.log_tail()) or "    (no output)"
        err(f"extractor serve: the server exited with code {code}; last log lines:\n{tail}")
        sys.exit(code if code >= 0 else 128 - code)
    except (KeyboardInterrupt, Terminated):
        err("\nextractor serve: stopping")
        sys.exit(EXIT_OK)
    finally:
        server.stop()


@main.command()
@settings_options("doctor")
def doctor(**kwargs: Any) -> None:
    """Check the setup: endpoint and where it was configured, whether it answers, its
    models, the structured-output mode it honours, the cache, the installed extras."""
    from ..runs.doctor import diagnose

    settings = settings_from(kwargs)
    ok = True
    for line, good in diagnose(settings):
        click.echo(line)
        ok = ok and good
    sys.exit(EXIT_OK if ok else EXIT_USAGE)



@main.group()
def cache() -> None:
    """Inspect or clear the answer cache."""


def _open_cache(kwargs: dict[str, Any]) -> Any:
    from ..llm.cache import ResultCache

    return ResultCache(settings_from(kwargs).cache_dir, on_broken=lambda message: None)  # info says what is wrong


@cache.command("info")
@settings_options("cache")
def cache_info(**kwargs: Any) -> None:
    """Entries, size and the hit rate of the last run (exit 2 when the cache cannot be used:
    a ``problem`` line says why)."""
    with contextlib.closing(_open_cache(kwargs)) as c:
        info = c.info()
    for key, value in info.items():
        click.echo(f"{key}: {value}")
    sys.exit(EXIT_USAGE if "problem" in info else EXIT_OK)


@cache.command("clear")
@settings_options("cache")
def cache_clear(**kwargs: Any) -> None:
    """Remove every cached answer; a damaged cache is repaired (made anew)."""
    with contextlib.closing(_open_cache(kwargs)) as c:
        removed = c.clear()
        if removed is None:
            click.echo(f"repaired {c.directory}: the damaged cache was removed and made anew")
        else:
            click.echo(f"removed {removed} entries from {c.directory}")
