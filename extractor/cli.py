"""The ``extractor`` command line: parses arguments, calls the library, prints.

Exit codes:
    0  everything asked for was done
    1  some papers failed (their records carry ``error``; re-run to retry only those)
    2  usage or configuration error, or the endpoint refused the batch (bad key,
       unknown model, unreachable): nothing more could be done
    3  no input could be read
    130  interrupted (Ctrl-C / SIGTERM); finished records are saved, re-run to resume
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import click
from pydantic.fields import FieldInfo

from . import __version__
from .errors import ExtractorError, InputError
from .settings import CONFIG_ENV, Settings, default_config_file, env_names, flag_of, load_settings

__all__ = ["main", "settings_options"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_NO_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _err(message: str) -> None:
    click.echo(message, err=True)


def _input_error(err: InputError) -> None:
    _err(f"error: {err}")


class _Terminated(SystemExit):
    """SIGTERM while a bundled server runs, turned into a clean exit (status 128 + 15)."""


def _stop_all_servers() -> None:
    local = sys.modules.get("extractor.local")  # never imported: no server was started
    if local is not None:
        local.stop_all()


def _stop_servers_on_exit() -> Callable[[], None]:
    """Stop bundled servers however the command ends; returns the undo.

    SIGTERM while a server runs exits cleanly (``finally`` blocks stop the server and
    save the work); with none running it acts as if we had no handler. A handler someone
    else installed is kept. Any server still running at interpreter exit is stopped (on
    Linux the kernel also kills it when we die: see :mod:`extractor.local`).
    """
    atexit.unregister(_stop_all_servers)  # once, however many commands run in this process
    atexit.register(_stop_all_servers)
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None

    def on_sigterm(signum: int, frame: Any) -> None:
        local = sys.modules.get("extractor.local")
        if local is not None and local.running_servers():
            raise _Terminated(128 + signum)
        signal.signal(signum, signal.SIG_DFL)  # no server: die of it, as without a handler
        os.kill(os.getpid(), signum)

    def undo() -> None:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:  # nobody replaced it meanwhile
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, on_sigterm)
    return undo


def _shown(value: Any) -> str:
    """A default as help shows it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    home = os.path.expanduser("~")
    if isinstance(value, Path) and str(value).startswith(home + os.sep):
        return "~" + str(value)[len(home) :]
    return str(value)


def _flag_help(name: str, info: FieldInfo) -> str:
    """The field's description, then its default (when it has one) and environment variables."""
    notes = [] if info.default is None else [f"default: {_shown(info.default)}"]
    notes.append("env " + ", ".join(env_names(name)))
    return f"{(info.description or '').rstrip('.')} [{'; '.join(notes)}]"


def _flag_type(annotation: Any) -> click.ParamType:
    """A Literal's choices, a path, an int or a float, else text (``X | None`` as ``X``)."""
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Literal:
        return click.Choice(get_args(annotation))
    if annotation is Path:  # made only when needed: each click.Path looks up translations (~0.1 ms)
        return click.Path(path_type=Path)
    return {int: click.INT, float: click.FLOAT}.get(annotation, click.STRING)


def settings_options(command: str) -> Callable[[F], F]:
    """The flags of every :class:`Settings` field that ``command`` takes (the field's
    ``Flag``), made from its name, type, default and description, and ``--config``.
    ``--field-name VALUE`` (repeatable when the ``Flag`` says ``multiple``), or
    ``--name/--no-name`` for a bool; not given, it is None."""

    def decorate(func: F) -> F:
        config_help = f"TOML config file [env {CONFIG_ENV}; default: {_shown(default_config_file())} if it exists]"
        func = click.option("--config", type=click.Path(path_type=Path), help=config_help)(func)
        for name, info in reversed(Settings.model_fields.items()):
            if command not in flag_of(name).commands:
                continue
            flag = "--" + name.replace("_", "-")
            if info.annotation is bool:
                option = click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=_flag_help(name, info))
            else:
                option = click.option(flag, name, type=_flag_type(info.annotation), help=_flag_help(name, info),
                                      multiple=flag_of(name).multiple)  # fmt: skip
            func = option(func)
        return func

    return decorate


def _settings(kwargs: dict[str, Any]) -> Settings:
    """Settings from the flags of :func:`settings_options` (popped from ``kwargs``)."""
    flags = {name: kwargs.pop(name) for name in list(kwargs) if name in Settings.model_fields}
    flags = {name: (list(v) or None) if isinstance(v, tuple) else v for name, v in flags.items()}  # repeated flags
    return load_settings(flags, config=kwargs.pop("config", None))


def _run_stoppable(start: Callable[..., Coroutine[Any, Any, T]], grace: float) -> T:
    """Run ``start(stop=stop)`` on its own event loop, Ctrl-C and SIGTERM turned into a clean
    stop: the first sets ``stop`` (no new requests; those in flight get ``grace`` seconds),
    the second cancels the rest, the third exits at once (130)."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    task = loop.create_task(start(stop=stop))
    interrupts = 0

    def on_signal() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            _err(f"stopping: no new requests, {grace:g}s for those in flight (Ctrl-C again: stop now)")
            stop.set()
        elif interrupts == 2:
            task.cancel()
        else:
            raise SystemExit(EXIT_INTERRUPTED)

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    try:
        return loop.run_until_complete(task)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        loop.close()


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ExtractorError as exc:
            _err(f"error: {exc}")
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="extractor")
def main() -> None:
    """Extract task, method, claimed gains and code link from paper abstracts with any
    OpenAI-compatible LLM (OpenAI, llama.cpp, Ollama, vLLM...).

    Settings precedence: flag > environment variable > config file > default.
    Exit codes: 0 ok, 1 some papers failed, 2 usage/config/endpoint error,
    3 no input readable, 130 interrupted (re-run to resume).
    """
    click.get_current_context().call_on_close(_stop_servers_on_exit())


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Record file (.jsonl or .csv).")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), help="Output format (default: by -o extension).")
@click.option("--input-format", type=click.Choice(["text", "jsonl", "csv"]), help="Input format (default: by extension).")
@click.option("--title-key", default="title", show_default=True, help="JSONL/CSV title field.")
@click.option("--abstract-key", default="abstract", show_default=True, help="JSONL/CSV abstract field.")
@click.option("--limit", type=int, help="Only the first N distinct papers (try a few first).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@click.option("-v", "--verbose", is_flag=True, help="Log each paper's request.")
@click.option("--stats-json", type=click.Path(path_type=Path), help="Also write the closing summary as JSON.")
@click.option("--digest", "digest_path", type=click.Path(dir_okay=False, path_type=Path),
              help="At the end, also write a digest of OUTPUT: a page (.html) or Markdown (.md).")  # fmt: skip
@settings_options("run")
def run(inputs: tuple[str, ...], output: Path, **kwargs: Any) -> None:
    """Extract every paper in INPUTS (files, folders or - for stdin) into OUTPUT.

    Re-running with the same OUTPUT resumes: papers already there are skipped and
    failed ones retried.

    \b
    Example:
      extractor run seeds/ -o results.jsonl --limit 5
    """
    from .batch import BatchOptions, arun_batch
    from .output import output_format_for

    options = BatchOptions(
        input_format=kwargs.pop("input_format"),
        title_key=kwargs.pop("title_key"),
        abstract_key=kwargs.pop("abstract_key"),
        output_format=kwargs.pop("output_format"),
        limit=kwargs.pop("limit"),
        quiet=kwargs.pop("quiet"),
        verbose=kwargs.pop("verbose"),
    )
    stats_json = kwargs.pop("stats_json")
    digest_path = kwargs.pop("digest_path")
    if digest_path and output_format_for(output, options.output_format) != "jsonl":
        raise click.UsageError("--digest reads the records back: write them as JSONL (-o results.jsonl)")
    settings = _settings(kwargs)
    batch = partial(arun_batch, list(inputs), output, settings, options, on_input_error=_input_error, announce=_err)
    stats = _run_stoppable(batch, options.stop_grace_s)
    _err(stats.summary())
    if stats_json:
        stats_json.write_text(json.dumps(stats.to_dict(), indent=2))
    if digest_path and output.exists():
        _write_digest([output], digest_path)
    if stats.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if stats.stopped_by:
        sys.exit(EXIT_USAGE)
    if stats.read == 0 and stats.input_errors:
        sys.exit(EXIT_NO_INPUT)
    sys.exit(EXIT_PARTIAL if stats.failed else EXIT_OK)


@main.command("ray")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Output directory (local or an object storage URI).")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True,
              help="Record files to write.")  # fmt: skip
@click.option("--input-format", type=click.Choice(["jsonl", "parquet", "csv", "text"]), help="Input format (default: by extension).")
@click.option("--title-key", default="title", show_default=True, help="Title column.")
@click.option("--abstract-key", default="abstract", show_default=True, help="Abstract column.")
@click.option("--actors", type=click.IntRange(min=1), default=2, show_default=True,
              help="Actors, each with its own extractor and --concurrency requests in flight.")  # fmt: skip
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="Papers per actor call.")
@click.option("--num-cpus", type=click.FloatRange(min=0), default=0.5, show_default=True, help="CPUs per actor.")
@click.option("--limit", type=int, help="Only the first N papers.")
@click.option("--address", help="Ray cluster to join [default: $RAY_ADDRESS, else a local cluster on this machine].")
@settings_options("ray")
def ray_command(inputs: tuple[str, ...], output: str, address: str | None, **kwargs: Any) -> None:
    """Extract INPUTS with Ray Data into the directory OUTPUT (pip install 'extractor[ray]').

    INPUTS: JSONL, Parquet or CSV with title and abstract columns (local paths, folders or
    URIs such as s3://bucket/papers/), or local text listings. Records are what `extractor
    run` writes. Re-running resumes: papers already in OUTPUT are skipped, failed ones
    retried. --concurrency is per actor.

    \b
    Example:
      extractor ray papers.jsonl -o records/ --base-url http://10.0.0.5:8000/v1 --actors 4 --concurrency 16
    """
    from .raydata import RayOptions, require_ray, run_ray

    ray = require_ray()
    options = RayOptions(**{name: kwargs.pop(name) for name in (
        "output_format", "input_format", "title_key", "abstract_key", "actors", "batch_size", "num_cpus", "limit")})  # fmt: skip
    settings = _settings(kwargs)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report leaves the machine unless asked
    started = not ray.is_initialized()  # a caller (a notebook, a test) may have joined a cluster already
    if started:
        ray.init(address=address, include_dashboard=False)
    try:
        stats = run_ray(list(inputs), output, settings, options)
    finally:
        if started:
            ray.shutdown()
    _err(stats.summary())
    sys.exit(EXIT_PARTIAL if stats.failed else EXIT_OK)


def _write_digest(records: list[Path], output: Path, title: str | None = None, fmt: str | None = None) -> None:
    from .digests import digest_files

    summary = digest_files(records, output, title=title, fmt=fmt, on_error=_input_error)
    _err(f"wrote {output}: {summary.papers} records, {summary.unique} papers, {summary.failed} failed")


@main.command("digest")
@click.argument("records", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="digest.html (one self-contained page) or digest.md (Markdown).")  # fmt: skip
@click.option("--format", "digest_format", type=click.Choice(["html", "md"]), help="Format (default: by -o extension).")
@click.option("--title", help="Title of the digest (default: Paper digest · DATE).")
def digest_command(records: tuple[Path, ...], output: Path, digest_format: str | None, title: str | None) -> None:
    """Write a digest of RECORDS (JSONL files of `extractor run`) to OUTPUT, to read
    rather than parse: counts and charts, then one card per paper with its gains and
    their evidence, code and links; search, filters and sorting; failed papers apart.
    The HTML page is one file that needs no network; .md gives Markdown for email,
    Slack or a GitHub issue. A paper in several files is shown once.

    \b
    Example:
      extractor digest results.jsonl -o digest.html
    """
    try:
        _write_digest(list(records), output, title, digest_format)
    except InputError as exc:
        _input_error(exc)
        sys.exit(EXIT_NO_INPUT)


@main.command()
@click.argument("text")
@click.option("--title", help="The paper's title, if known.")
@settings_options("summarize")
def summarize(text: str, title: str | None, **kwargs: Any) -> None:
    """Extract one abstract (TEXT, or - to read it from stdin) and print its record as JSON."""
    from .extract import open_extractor
    from .listings import paper_from_text

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise click.UsageError("the abstract is empty")
    settings = _settings(kwargs)

    async def go() -> Any:
        async with open_extractor(settings, announce=_err) as ex:
            return await ex.aextract(paper_from_text(text, title=title))

    record = asyncio.run(go())
    click.echo(record.model_dump_json(indent=2))
    sys.exit(EXIT_PARTIAL if record.error else EXIT_OK)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--input-format", type=click.Choice(["text", "jsonl", "csv"]), help="Input format (default: by extension).")
@click.option("--title-key", default="title", show_default=True)
@click.option("--abstract-key", default="abstract", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the unique papers as JSONL instead of counts.")
def papers(inputs: tuple[str, ...], input_format: str | None, title_key: str, abstract_key: str, as_json: bool) -> None:
    """Show what the listing reader finds in INPUTS, without calling any model."""
    from .listings import survey

    report = survey(
        list(inputs), fmt=input_format, title_key=title_key, abstract_key=abstract_key, on_error=_input_error
    )
    if as_json:
        for paper in report.papers:
            click.echo(paper.model_dump_json())
    else:
        click.echo(report.describe())
    if report.read == 0:
        sys.exit(EXIT_NO_INPUT)


@main.command("eval")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pred", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Score these records instead of extracting.")
@click.option("--sample", type=int, help="Score a reproducible sample of N gold papers.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option("--save", type=click.Path(path_type=Path), help="Also write the extracted records here (JSONL).")
@click.option("--links-only", is_flag=True, help="Score the link finder alone (no model).")
@click.option("--baseline", type=click.Choice(["rules"]),
              help="Also score the rules alone (no model) on the same papers, side by side.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@settings_options("eval")
def evaluate(gold: Path, pred: Path | None, sample: int | None, seed: int, save: Path | None, links_only: bool,
             baseline: str | None, as_json: bool, quiet: bool, **kwargs: Any) -> None:  # fmt: skip
    """Score records against GOLD (the format of shared/eval): per field precision,
    recall and F1, per source and overall. Without --pred, extracts the gold abstracts
    first (the cache applies)."""
    from . import evaluate as ev
    from . import goldrun

    papers = ev.gold_sample(ev.load_gold(gold), sample, seed)
    settings = _settings(kwargs)
    if links_only:
        records = goldrun.links_only_records(papers)
    elif pred is not None:
        records = ev.load_records(pred)
    else:
        records = asyncio.run(goldrun.aextract_gold(papers, settings, announce=_err, save=save, quiet=quiet))
    report = ev.score(papers, records)
    if baseline is None:
        click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.to_markdown())
        return
    rules = settings.model_copy(update={"policy": "rules"})
    base = ev.score(papers, asyncio.run(goldrun.aextract_gold(papers, rules, quiet=True)))
    if as_json:
        click.echo(json.dumps({"report": report.to_dict(), "baseline_rules": base.to_dict()}, indent=2))
    else:
        click.echo(report.to_markdown() + "\n" + ev.side_by_side(report, base, "rules alone (no model)"))


@main.command()
@click.option("--port", type=int, default=8080, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--model", "model_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A GGUF file to serve instead of the bundled model.")  # fmt: skip
@click.option("--n-ctx", type=int, default=4096, show_default=True, help="Context size in tokens.")
@click.option("--engine", type=click.Choice(["auto", "llama-server", "llama-cpp-python"]), default="auto",
              show_default=True, help="auto: $EXTRACTOR_ENGINE, else llama-server if built, else llama-cpp-python.")  # fmt: skip
def serve(port: int, host: str, model_file: Path | None, n_ctx: int, engine: str) -> None:
    """Run the bundled llama.cpp server in the foreground, for any OpenAI client."""
    from . import local

    path = model_file or local.find_model()
    alias = None if model_file else local.DEFAULT_MODEL
    server = local.LocalServer(path, port or None, host=host, n_ctx=n_ctx, model_alias=alias, engine=engine)
    try:
        try:
            server.start()
        except ExtractorError as exc:
            _err(f"extractor serve: {exc}")
            sys.exit(1)
        url = server.base_url
        _err(f"extractor serve: {server.model_name} ready at {url} ({server.describe()}; "
             f"started in {server.startup_seconds:.1f} s; Ctrl-C to stop)")  # fmt: skip
        _err(f"  extractor run --base-url {url} --mode {server.mode} --concurrency {server.slots} ...")
        _err("  # or, from Python:")
        for line in local.client_snippet(url, server.model_name).splitlines():
            _err(f"  {line}")
        code = server.wait()
        tail = "\n".join(f"    {line}" for line in server.log_tail()) or "    (no output)"
        _err(f"extractor serve: the server exited with code {code}; last log lines:\n{tail}")
        sys.exit(code if code >= 0 else 128 - code)
    except (KeyboardInterrupt, _Terminated):
        _err("\nextractor serve: stopping")
        sys.exit(EXIT_OK)
    finally:
        server.stop()


@main.command()
@settings_options("doctor")
def doctor(**kwargs: Any) -> None:
    """Check the setup: endpoint and where it was configured, whether it answers, its
    models, the structured-output mode it honours, the cache, the installed extras."""
    from .doctor import diagnose

    settings = _settings(kwargs)
    ok = True
    for line, good in diagnose(settings):
        click.echo(line)
        ok = ok and good
    sys.exit(EXIT_OK if ok else EXIT_USAGE)


@main.group("batch")
def batch_group() -> None:
    """The Batch API: prepare a request file, submit it, fetch the answers, ingest them.

    \b
    Example (OpenAI's Batch API, half the price, answers within 24 h):
      extractor batch prepare seeds/ -o requests.jsonl --model gpt-4o-mini
      extractor batch submit requests.jsonl            # prints the batch id
      extractor batch status BATCH_ID
      extractor batch fetch BATCH_ID -o output.jsonl
      extractor batch ingest output.jsonl --input seeds/ -o records.jsonl --model gpt-4o-mini
    The same request file runs through `vllm run-batch -i requests.jsonl -o output.jsonl --model ...`.
    """


def _reading_options(func: F) -> F:
    for option in reversed([
        click.option("--input-format", type=click.Choice(["text", "jsonl", "csv"]), help="Input format (default: by extension)."),
        click.option("--title-key", default="title", show_default=True, help="JSONL/CSV title field."),
        click.option("--abstract-key", default="abstract", show_default=True, help="JSONL/CSV abstract field."),
        click.option("--limit", type=int, help="Only the first N distinct papers."),
    ]):  # fmt: skip
        func = option(func)
    return func


def _batch_options(kwargs: dict[str, Any], **extra: Any) -> Any:
    from .batch import BatchOptions

    names = ("input_format", "title_key", "abstract_key", "limit")
    return BatchOptions(**{name: kwargs.pop(name) for name in names}, **extra)


@batch_group.command("prepare")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The request file to write (JSONL).")  # fmt: skip
@click.option("--skip-done", type=click.Path(dir_okay=False, path_type=Path),
              help="A record file: leave out the papers it holds a success of (submit only what is left).")  # fmt: skip
@_reading_options
@settings_options("batch")
def batch_prepare(inputs: tuple[str, ...], output: Path, skip_done: Path | None, **kwargs: Any) -> None:
    """Write the Batch API request file of INPUTS: one line per request `extractor run`
    would send (custom_id = paper id). Needs --model; --mode is json_schema unless given."""
    from .batchfile import prepare_requests

    options = _batch_options(kwargs)
    stats = prepare_requests(
        list(inputs), output, _settings(kwargs), options, skip_done=skip_done, on_input_error=_input_error
    )
    _err(stats.summary())
    _err(f"wrote {output}")
    sys.exit(EXIT_NO_INPUT if stats.read == 0 and stats.input_errors else EXIT_OK)


@batch_group.command("ingest")
@click.argument("answers", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--input", "inputs", multiple=True, required=True, help="The inputs the requests were prepared from (repeat for several).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Record file (.jsonl or .csv); resumes.")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), help="Output format (default: by -o extension).")
@click.option("--requests", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The request file submitted: check these settings make the same requests.")  # fmt: skip
@_reading_options
@settings_options("batch")
def batch_ingest(answers: tuple[Path, ...], inputs: tuple[str, ...], output: Path, requests: Path | None,
                 **kwargs: Any) -> None:  # fmt: skip
    """Write the records of the papers of --input from the batch output file(s) ANSWERS, as
    `extractor run` would from the same answers. Give the settings prepare had. A paper
    without a good answer is an error record; the answers also fill the cache."""
    from .batchfile import ingest_answers

    options = _batch_options(kwargs, output_format=kwargs.pop("output_format"))
    settings = _settings(kwargs)
    stats = ingest_answers(
        list(answers), list(inputs), output, settings, options, requests=requests, on_input_error=_input_error
    )
    _err(stats.summary())
    if stats.read == 0 and stats.input_errors:
        sys.exit(EXIT_NO_INPUT)
    sys.exit(EXIT_PARTIAL if stats.failed else EXIT_OK)


def _batch_client(kwargs: dict[str, Any]) -> Any:
    from .batchapi import BatchClient

    return BatchClient(_settings(kwargs))


@batch_group.command("submit")
@click.argument("requests", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--completion-window", default="24h", show_default=True, help="How long the server may take.")
@settings_options("batch")
def batch_submit(requests: Path, completion_window: str, **kwargs: Any) -> None:
    """Upload REQUESTS and start a batch on the endpoint's Batch API; prints the batch id."""

    async def go() -> Any:
        async with _batch_client(kwargs) as client:
            return await client.submit(requests, completion_window=completion_window)

    info = asyncio.run(go())
    _err(info.describe())
    click.echo(info.id)


@batch_group.command("status")
@click.argument("batch_id")
@click.option("--wait", is_flag=True, help="Poll until the batch is done.")
@click.option("--poll", type=float, default=30.0, show_default=True, help="Seconds between polls with --wait.")
@settings_options("batch")
def batch_status(batch_id: str, wait: bool, poll: float, **kwargs: Any) -> None:
    """Say where batch BATCH_ID is (exit 0 when done, 1 while it runs)."""

    async def go() -> Any:
        async with _batch_client(kwargs) as client:
            return await (client.wait(batch_id, poll_s=poll) if wait else client.status(batch_id))

    info = asyncio.run(go())
    click.echo(info.describe())
    sys.exit(EXIT_OK if info.done else EXIT_PARTIAL)


@batch_group.command("fetch")
@click.argument("batch_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the answers (the output file's lines, then the error file's).")  # fmt: skip
@settings_options("batch")
def batch_fetch(batch_id: str, output: Path, **kwargs: Any) -> None:
    """Download the answers of batch BATCH_ID (exit 1 while it still runs)."""
    from .batchapi import BatchNotDone

    async def go() -> Any:
        async with _batch_client(kwargs) as client:
            return await client.fetch(batch_id, output)

    try:
        fetched = asyncio.run(go())
    except BatchNotDone as exc:
        _err(f"extractor batch fetch: {exc}")
        sys.exit(EXIT_PARTIAL)
    _err(fetched.batch.describe())
    _err(f"wrote {output}: {fetched.answers} answer lines, {fetched.errors} error lines")


@main.group()
def cache() -> None:
    """Inspect or clear the answer cache."""


def _open_cache(kwargs: dict[str, Any]) -> Any:
    from .cache import ResultCache

    return ResultCache(_settings(kwargs).cache_dir)


@cache.command("info")
@settings_options("cache")
def cache_info(**kwargs: Any) -> None:
    """Entries, size and the hit rate of the last run."""
    with contextlib.closing(_open_cache(kwargs)) as c:
        info = c.info()
    for key, value in info.items():
        click.echo(f"{key}: {value}")


@cache.command("clear")
@settings_options("cache")
def cache_clear(**kwargs: Any) -> None:
    """Remove every cached answer."""
    with contextlib.closing(_open_cache(kwargs)) as c:
        removed = c.clear()
        click.echo(f"removed {removed} entries from {c.directory}")


if __name__ == "__main__":  # pragma: no cover
    main()
