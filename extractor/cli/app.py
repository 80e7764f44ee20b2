"""The ``extractor`` command group and what its commands share: settings flags, signals,
exit codes and one-line errors on stderr.

Exit codes (when several apply, the first of this list that does):
    130  interrupted (Ctrl-C / SIGTERM); finished records are saved, re-run to resume
    2  usage or configuration error, or the endpoint refused the batch (bad key,
       unknown model, unreachable): nothing more could be done
    3  no input could be read
    4  some input was lost: a file, a line or a row could not be read and was skipped
       (each is an ``error:`` line above); everything read was done. A ``warning:`` line
       (a line read with a change, nothing lost) does not count
    1  some papers failed (their records carry ``error``; re-run to retry only those)
    0  everything asked for was done
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import click
from pydantic.fields import FieldInfo

from ..version import __version__
from ..errors import ExtractorError, InputError, InputWarning
from ..sync import SyncLoop
from ..settings import CONFIG_ENV, Settings, default_config_file, env_names, flag_of, load_settings

__all__ = [
    "EXIT_INPUT_LOST",
    "EXIT_INTERRUPTED",
    "EXIT_NO_INPUT",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "Terminated",
    "err",
    "exit_code",
    "input_error",
    "main",
    "run_stoppable",
    "settings_from",
    "settings_options",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_NO_INPUT, EXIT_INPUT_LOST, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


def exit_code(*, read: int, lost: int, failed: int = 0, interrupted: bool = False, stopped: bool = False) -> int:
    """The exit code of a command that read ``read`` papers, lost ``lost`` pieces of input
    and wrote ``failed`` error records (see the module docstring for the order)."""
    if interrupted:
        return EXIT_INTERRUPTED
    if stopped:
        return EXIT_USAGE
    if read == 0 and lost:
        return EXIT_NO_INPUT
    if lost:
        return EXIT_INPUT_LOST
    return EXIT_PARTIAL if failed else EXIT_OK


def err(message: str) -> None:
    click.echo(message, err=True)


def input_error(error: InputError) -> None:
    """One input problem on stderr: ``error:`` when input was lost, ``warning:`` when it
    was read with a change (an :class:`~extractor.errors.InputWarning`)."""
    err(f"{'warning' if isinstance(error, InputWarning) else 'error'}: {error}")


class Terminated(SystemExit):
    """SIGTERM while a bundled server runs, turned into a clean exit (status 128 + 15)."""


def _stop_all_servers() -> None:
    local = sys.modules.get("extractor.local.server")  # never imported: no server was started
    if local is not None:
        local.stop_all()


def _stop_servers_on_exit() -> Callable[[], None]:
    """Stop bundled servers however the command ends; returns the undo.

    SIGTERM while a server runs exits cleanly (``finally`` blocks stop the server and
    save the work); with none running it acts as if we had no handler. A handler someone
    else installed is kept. Any server still running at interpreter exit is stopped (on
    Linux the kernel also kills it when we die: see :mod:`extractor.local.server`).
    """
    atexit.unregister(_stop_all_servers)  # once, however many commands run in this process
    atexit.register(_stop_all_servers)
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None

    def on_sigterm(signum: int, frame: Any) -> None:
        local = sys.modules.get("extractor.local.server")
        if local is not None and local.running_servers():
            raise Terminated(128 + signum)
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
    default = info.get_default(call_default_factory=True)
    notes = [] if default in (None, []) else [f"default: {_shown(default)}"]
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


def settings_from(kwargs: dict[str, Any]) -> Settings:
    """Settings from the flags of :func:`settings_options` (popped from ``kwargs``)."""
    flags = {name: kwargs.pop(name) for name in list(kwargs) if name in Settings.model_fields}
    flags = {name: (list(v) or None) if isinstance(v, tuple) else v for name, v in flags.items()}  # repeated flags
    return load_settings(flags, config=kwargs.pop("config", None))


def run_stoppable(start: Callable[..., Coroutine[Any, Any, T]], grace: float) -> T:
    """Run ``start(stop=stop)`` on its own event loop (:class:`~extractor.sync.SyncLoop`),
    Ctrl-C and SIGTERM turned into a clean stop: the first sets ``stop`` (no new requests;
    those in flight get ``grace`` seconds), the second cancels the rest, the third exits at
    once (130). Whatever ends the run, what is still pending is cancelled and awaited
    before the loop closes (no "Task was destroyed" after an error)."""
    stop = asyncio.Event()
    task: asyncio.Task[T] | None = None
    interrupts = 0

    async def main() -> T:
        nonlocal task
        task = asyncio.current_task()  # type: ignore[assignment]
        return await start(stop=stop)

    def on_signal() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            err(f"stopping: no new requests, {grace:g}s for those in flight (Ctrl-C again: stop now)")
            stop.set()
        elif interrupts == 2:
            if task is not None:
                task.cancel()
        else:
            raise SystemExit(EXIT_INTERRUPTED)

    with SyncLoop() as runner:
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                runner.loop.add_signal_handler(sig, on_signal)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
                pass
        try:
            return runner.run(main())
        finally:
            for sig in installed:
                runner.loop.remove_signal_handler(sig)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ExtractorError as exc:
            err(f"error: {exc}")
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="extractor")
def main() -> None:
    """Extract task, method, claimed gains and code link from paper abstracts with any
    OpenAI-compatible LLM (OpenAI, llama.cpp, Ollama, vLLM...).

    Settings precedence: flag > environment variable > config file > default.
    Exit codes: 0 ok, 1 some papers failed, 2 usage/config/endpoint error,
    3 no input readable, 4 some input lost (skipped lines or files, shown as
    error: lines), 130 interrupted (re-run to resume).
    """
    click.get_current_context().call_on_close(_stop_servers_on_exit())
