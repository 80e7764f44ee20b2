"""One error hierarchy for `extractor`, rooted in :class:`ExtractorError`.

Every message says what failed, where (file and line, or paper id) and, when there is
one, what to do next, in a single line fit for a terminal.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ERROR_KINDS",
    "ConfigError",
    "EndpointError",
    "ErrorKind",
    "ExtractorError",
    "FatalEndpointError",
    "InputError",
    "InputWarning",
    "LibraryError",
    "LocalServerError",
    "ServerGoneError",
    "SourceError",
]


#: Why a paper has no extraction, declared once: a record's ``error.kind`` and an
#: :class:`EndpointError`'s ``kind`` are one of these.
ErrorKind = Literal[
    # the endpoint answered an error status (extractor.http.status maps each)
    "auth", "not_found", "bad_request", "context_length", "rate_limit", "server", "http",
    # the request never got an answer, or one that was not JSON
    "timeout", "connection", "bad_response",
    # the model's answer: it failed the schema, was cut at max_tokens, or declined
    "validation", "length", "refusal",
    # the input, or a Batch API output file
    "too_long", "input", "missing", "batch_error", "mismatch",
    # a bug of ours, kept to one paper
    "internal",
]  # fmt: skip
ERROR_KINDS: tuple[str, ...] = ErrorKind.__args__  # type: ignore[attr-defined]


class ExtractorError(Exception):
    """Base class of every error `extractor` raises on purpose. Pickles whole (message and
    attributes, whatever ``__init__`` takes), so one raised in a Ray actor reaches the driver
    as itself."""

    def __reduce__(self) -> tuple[object, ...]:
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[ExtractorError], args: tuple[object, ...], state: dict[str, object]) -> ExtractorError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(ExtractorError):
    """Settings are missing or contradictory (no endpoint, unreadable config file...)."""


class InputError(ExtractorError):
    """An input could not be read. ``path`` and ``line`` say where (line 0: whole file)."""

    def __init__(self, path: str, message: str, line: int = 0) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class InputWarning(InputError):
    """Part of an input was read with a change, and nothing was lost (say, a line that is
    not UTF-8, decoded as cp1252). Passed to ``on_error`` like the errors; raised by
    nothing: without ``on_error`` it is issued as a Python warning."""


class EndpointError(ExtractorError):
    """The endpoint failed for one request. ``kind`` is a short machine-readable label."""

    def __init__(self, kind: ErrorKind, message: str, attempts: int = 0) -> None:
        self.kind: ErrorKind = kind
        self.attempts = attempts
        super().__init__(message)


class FatalEndpointError(EndpointError):
    """An endpoint error that retrying cannot fix and that would fail every paper the same
    way (bad key, unknown model, wrong URL): the batch stops at once."""


class ServerGoneError(EndpointError):
    """The endpoint answered earlier in this run and now refuses connections: the server
    stopped. The bundled server is restarted; for others, a few in a row stop the batch."""

    def __init__(self, message: str, attempts: int = 0) -> None:
        super().__init__("connection", message, attempts)


class LocalServerError(ExtractorError):
    """The bundled llama.cpp server could not be started or stopped."""


class SourceError(ExtractorError):
    """A listing could not be fetched from its source (Hugging Face, arXiv): unreachable
    after the retries, an HTTP error, an answer that is not a listing. ``source`` names it."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")


class LibraryError(ExtractorError):
    """The library file cannot be used: not an SQLite file, another program's database, a
    newer schema than this release knows, damaged. ``path`` names it; it is never written."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def one_line(text: str, limit: int = 240) -> str:
    """``text`` on one line of at most ``limit`` characters, for an error message.

    Example:
        >>> one_line("a\\n  b  c", 4)
        'a b…'
    """
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
