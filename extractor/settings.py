"""One settings object for the endpoint, the model, sampling, retries, cache and batch.

Precedence, highest first: **flag > environment variable > config file > default**.

Environment variables are ``EXTRACTOR_<FIELD>`` (e.g. ``EXTRACTOR_BASE_URL``,
``EXTRACTOR_MODEL``, ``EXTRACTOR_CONCURRENCY``). The endpoint and key fall back to the
OpenAI SDK's own ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``. The config file is TOML with
the same field names at top level; it is read from ``--config``, else
``EXTRACTOR_CONFIG``, else ``<user config dir>/extractor/config.toml`` when it exists.

Several replicas of one deployment: ``--base-url`` given more than once, URLs separated by
commas in ``EXTRACTOR_BASE_URL`` / ``OPENAI_BASE_URL``, or a list in the config file
(``base_url = ["http://gpu1:8000/v1", "http://gpu2:8000/v1"]``). ``base_url`` then holds
them joined by commas and :attr:`Settings.base_urls` lists them (see
:mod:`extractor.http.replicas` for how requests are spread).

:class:`Settings` is the one declaration of every setting: its type, default, bounds and
description, and (as :class:`Flag` metadata) which commands take it as a flag. The command
line's flags and their help are generated from it.

:func:`load_settings` also records where every value came from, which
``extractor doctor`` prints.

Example:
    >>> s = load_settings({"model": "qwen2.5"}, env={"EXTRACTOR_BASE_URL": "http://127.0.0.1:8080/v1"})
    >>> s.model, s.base_url, s.origin["base_url"]
    ('qwen2.5', 'http://127.0.0.1:8080/v1', 'env EXTRACTOR_BASE_URL')
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit, urlunsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .errors import ConfigError

__all__ = [
    "CONFIG_ENV", "DEFAULT_CACHE_DIR", "MODEL_COMMANDS", "NOT_A_FLAG", "Flag", "Mode", "Settings",
    "default_config_file", "default_library", "display_url", "env_names", "flag_of", "load_settings",
]  # fmt: skip

Mode = Literal["auto", "tools", "json_schema", "json", "md_json"]
Grounding = Literal["check", "span", "off"]
Policy = Literal["auto", "rules-first", "model-first", "model", "rules"]

DEFAULT_CACHE_DIR = Path(platformdirs.user_cache_dir("extractor"))
CONFIG_ENV = "EXTRACTOR_CONFIG"

# The commands that ask a model: each takes every setting's flag unless a field says otherwise.
MODEL_COMMANDS: tuple[str, ...] = ("run", "summarize", "eval", "doctor", "batch", "ray", "daily")


@dataclass(frozen=True)
class Flag:
    """Which commands take a :class:`Settings` field as a flag (``--field-name``; a bool is
    ``--name/--no-name``). Given as ``Annotated`` metadata; a field without it is a flag of
    every command in :data:`MODEL_COMMANDS`."""

    commands: tuple[str, ...] = MODEL_COMMANDS
    multiple: bool = False  # the flag may be repeated (its values form a list)


NOT_A_FLAG = Flag(commands=())


def default_config_file() -> Path:
    """``<user config dir>/extractor/config.toml`` (read only when it exists)."""
    return Path(platformdirs.user_config_dir("extractor")) / "config.toml"


def default_library() -> Path:
    """``<user data dir>/extractor/library.db``: the library `extractor daily`, `search` and
    `library` use when the ``library`` setting is not set (``XDG_DATA_HOME`` is honoured)."""
    return Path(platformdirs.user_data_dir("extractor")) / "library.db"

# Environment names read besides EXTRACTOR_<FIELD>, in order.
_ENV_FALLBACKS: dict[str, tuple[str, ...]] = {
    "base_url": ("OPENAI_BASE_URL",),
    "api_key": ("OPENAI_API_KEY",),
}


def env_names(field: str) -> tuple[str, ...]:
    """The environment variables a setting is read from, first found wins."""
    return (f"EXTRACTOR_{field.upper()}", *_ENV_FALLBACKS.get(field, ()))


class Settings(BaseModel):
    """Everything that shapes a run. Build it with :func:`load_settings` to get the
    documented precedence, or directly (``Settings(base_url=..., model=...)``) in code."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # The endpoint.
    base_url: Annotated[str | None, Flag(MODEL_COMMANDS, multiple=True)] = Field(
        None,
        description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1; repeat it (or separate URLs "
        "with commas) for several replicas of one deployment; if unset, the OpenAI API when a key is set, "
        "else the bundled model.",
    )
    model: str | None = Field(None, description="Model name; if unset, the endpoint's only/first model.")
    api_key: SecretStr | None = Field(None, description="API key; never written to records, logs or cache keys.")
    mode: Mode = Field(
        "auto", description="How the schema is enforced; auto probes the endpoint once and remembers the answer."
    )
    timeout: float = Field(120.0, gt=0, description="Seconds to wait for one response.")

    # Sampling and validation.
    temperature: float = Field(0.0, ge=0, description="Sampling temperature.")
    max_tokens: int = Field(
        1000, gt=0, description="Completion token limit per request (lower when the schema's bounds allow fewer)."
    )
    max_reasks: int = Field(2, ge=0, description="Re-asks after a schema validation failure.")
    context_budget: int = Field(
        6000, gt=200, description="Abstracts longer than this many characters are split and merged."
    )
    grounding: Grounding = Field(
        "check",
        description="check: values checked against the abstract, re-asked, dropped if absent; "
        "span: the model chooses among the abstract's own spans (best for small models, the bundled "
        "model's unless this is set); off.",
    )
    policy: Policy = Field(
        "auto",
        description="Which source each field trusts first: rules-first (the bundled model's default), "
        "model-first (a configured endpoint's default), model, or rules (no model at all; extractive summaries).",
    )

    # Transport retries (tenacity), separate from re-asks.
    retries: int = Field(5, ge=0, description="Retries of 429/5xx/timeouts/dropped connections.")
    retry_max_seconds: float = Field(120.0, gt=0, description="Total time budget for retries of one request.")
    retry_backoff: float = Field(0.5, ge=0, description="First retry wait in seconds; doubles, with jitter.")

    # Batch.
    concurrency: Annotated[int, Flag(("run", "eval", "ray", "daily"))] = Field(
        8, ge=1, le=1024, description="Requests in flight; the bundled server takes 1 unless this is set."
    )
    rpm: Annotated[float | None, Flag(("run", "daily"))] = Field(None, gt=0, description="Requests-per-minute limit.")

    # Cache.
    cache: bool = Field(True, description="Read and write the answer cache.")
    cache_dir: Annotated[Path, Flag((*MODEL_COMMANDS, "cache"))] = Field(
        DEFAULT_CACHE_DIR, description="Cache location."
    )

    # The library across days (extractor.library).
    library: Annotated[Path | None, Flag(("run", "daily", "search", "library"))] = Field(
        None,
        description="The SQLite library of papers across days: `run` adds its records to it when this is set; "
        "`daily`, `search` and `library` use it, by default <user data dir>/extractor/library.db.",
    )

    # Set by load_settings: field -> "flag", "env NAME", "file PATH" or "default".
    origin: Annotated[dict[str, str], NOT_A_FLAG] = Field(default_factory=dict, exclude=True, repr=False)

    @field_validator("base_url", mode="before")
    @classmethod
    def _http_urls(cls, value: Any) -> str | None:
        """One http(s) URL with a host, or several (a list, or separated by commas), each
        checked: anything else is refused here, not reported later as a host that cannot
        be reached. Several are kept joined by commas, a repeated one once."""
        if value is None:
            return None
        items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else None
        if items is None or not all(isinstance(item, str) for item in items):
            raise ValueError("give a URL, or a list of URLs")
        urls: list[str] = []
        for item in items:
            for part in item.split(","):
                url = _http_url(part)
                if url not in urls:
                    urls.append(url)
        return ",".join(urls) if urls else None

    @property
    def base_urls(self) -> tuple[str, ...]:
        """Every configured base URL, one per replica (none when ``base_url`` is unset).

        Example:
            >>> Settings(base_url="http://a:8000/v1, http://b:8000/v1").base_urls
            ('http://a:8000/v1', 'http://b:8000/v1')
        """
        return tuple(self.base_url.split(",")) if self.base_url else ()

    @property
    def endpoint_host(self) -> str:
        """The endpoint's host[:port] only: safe to record and show (no credentials, path
        or query); the replicas' joined by commas when there are several."""
        if not self.base_url:
            return "api.openai.com"
        return ",".join(_host_port(urlsplit(url)) for url in self.base_urls)

    @property
    def endpoint_display(self) -> str:
        """The base URL as it may be shown: without credentials, query or fragment (the
        replicas' joined by ", ")."""
        return ", ".join(display_url(url) for url in self.base_urls) if self.base_url else "https://api.openai.com/v1"

    @property
    def library_path(self) -> Path:
        """The library to use: ``library`` when set, else :func:`default_library`."""
        return self.library or default_library()

    def api_key_value(self) -> str:
        """The key to send; local servers accept any, so a placeholder when unset."""
        return self.api_key.get_secret_value() if self.api_key else "not-needed"


def _http_url(value: str) -> str:
    """``value`` stripped, if it is an http(s) URL with a host; else ValueError."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        scheme, host = parts.scheme.lower(), parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:  # an unparsable URL or port
        scheme = host = None
    if scheme not in ("http", "https") or not host or any(c.isspace() for c in value):
        raise ValueError(f"{display_url(value)!r} is not an http(s) URL; give one like http://127.0.0.1:8080/v1")
    return value


def _host_port(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port is not None else host


def display_url(url: str) -> str:
    """``url`` without what must not be shown or stored: the user and password before
    ``@``, the query string and the fragment (they may hold keys or tokens).

    Example:
        >>> display_url("http://user:SECRET@host:8080/v1?key=SECRET")
        'http://host:8080/v1'
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "(unparsable URL)"
    if not parts.netloc:  # not a URL at all: show it up to a query string
        return parts.path.split("@")[-1]
    return urlunsplit((parts.scheme, _host_port(parts), parts.path, "", ""))


def flag_of(field: str) -> Flag:
    """The :class:`Flag` declared on a :class:`Settings` field (the default when none is)."""
    return next((m for m in Settings.model_fields[field].metadata if isinstance(m, Flag)), Flag())


def _env_value(field: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    for name in env_names(field):
        value = env.get(name)
        if value not in (None, ""):
            return name, value  # type: ignore[return-value]
    return None


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config: str | Path | None = None,
) -> Settings:
    """Merge flags, environment and config file into one :class:`Settings`.

    ``flags`` holds values given on the command line or in code; ``None`` values are
    treated as not given. ``env`` defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    config_path: Path | None
    if config is not None:
        config_path = Path(config)
    elif env.get(CONFIG_ENV):
        config_path = Path(env[CONFIG_ENV])
    else:
        default = default_config_file()
        config_path = default if default.is_file() else None
    from_file = _read_config(config_path) if config_path else {}

    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for field in Settings.model_fields:
        if field == "origin":
            continue
        if field in flags:
            values[field], origin[field] = flags[field], "flag"
        elif (found := _env_value(field, env)) is not None:
            values[field], origin[field] = found[1], f"env {found[0]}"
        elif field in from_file:
            values[field], origin[field] = from_file[field], f"file {config_path}"
        else:
            origin[field] = "default"
    unknown = set(from_file) - set(Settings.model_fields)
    if unknown:
        raise ConfigError(f"{config_path}: unknown setting(s) {', '.join(sorted(unknown))}")
    try:
        return Settings(**values, origin=origin)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        raise ConfigError(f"setting {field!r} from {origin.get(field, '?')}: {err['msg']}") from exc
