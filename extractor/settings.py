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

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from .endpoint_urls import display_url, host_port, http_url
from .errors import ConfigError

__all__ = [
    "CONFIG_ENV", "DEFAULT_CACHE_DIR", "EXTRACTING", "MODEL_COMMANDS", "NOT_A_FLAG", "PAGE_COMMANDS", "Flag", "Grounding",
    "Mode", "Settings", "Policy", "PolicySetting", "default_config_file", "default_library", "display_url", "env_names",
    "flag_of", "load_settings",
]  # fmt: skip

Mode = Literal["auto", "tools", "json_schema", "json", "md_json"]
Grounding = Literal["check", "span", "off"]
#: Which source each field trusts first (see :mod:`extractor.extraction.policy`).
Policy = Literal["rules-first", "model-first", "model", "rules"]
#: The policy setting: one of :data:`Policy`, or ``auto`` (chosen by the endpoint).
PolicySetting = Literal["auto", Policy]


def resolve_policy(setting: PolicySetting, *, bundled: bool) -> Policy:
    """The policy in force: ``auto`` is ``rules-first`` for the bundled model, else
    ``model-first``."""
    if setting == "auto":
        return "rules-first" if bundled else "model-first"
    return setting  # type: ignore[return-value]

DEFAULT_CACHE_DIR = Path(platformdirs.user_cache_dir("extractor"))
CONFIG_ENV = "EXTRACTOR_CONFIG"

# The numeric settings: a bool is refused for them (pydantic would read true as 1).
_NUMBERS = ("timeout", "temperature", "max_tokens", "max_reasks", "context_budget", "retries", "retry_max_seconds",
            "retry_backoff", "concurrency", "rpm")  # fmt: skip

# The commands that ask a model: each takes every setting's flag unless a field says otherwise.
MODEL_COMMANDS: tuple[str, ...] = ("run", "summarize", "eval", "doctor", "batch", "ray", "daily")
# Those that extract: the sampling, validation and grounding settings are theirs (doctor
# checks the endpoint, and extracts nothing).
EXTRACTING: tuple[str, ...] = ("run", "summarize", "eval", "batch", "ray", "daily")
# Those that write pages people read.
PAGE_COMMANDS: tuple[str, ...] = ("digest", "daily", "site")


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

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

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
    temperature: Annotated[float, Flag(EXTRACTING)] = Field(0.0, ge=0, description="Sampling temperature.")
    max_tokens: Annotated[int, Flag(EXTRACTING)] = Field(
        1000, gt=0, description="Completion token limit per request (lower when the schema's bounds allow fewer)."
    )
    max_reasks: Annotated[int, Flag(EXTRACTING)] = Field(2, ge=0, description="Re-asks after a schema validation failure.")
    context_budget: Annotated[int, Flag(EXTRACTING)] = Field(
        6000, gt=200, description="Abstracts longer than this many characters are split and merged."
    )
    grounding: Annotated[Grounding, Flag(EXTRACTING)] = Field(
        "check",
        description="check: values checked against the abstract, re-asked, dropped if absent; "
        "span: the model chooses among the abstract's own spans (best for small models, the bundled "
        "model's unless this is set); off.",
    )
    policy: PolicySetting = Field(
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
        8,
        ge=1,
        le=1024,
        description="Requests in flight; unless this is set, the bundled server takes as many as its engine "
        "serves at once (its slots: 2).",
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

    # The pages people read (extractor.pages): the watchlist, and the site `daily` refreshes.
    watch_keywords: Annotated[list[str], Flag(PAGE_COMMANDS, multiple=True)] = Field(
        default_factory=list,
        description="Words whose papers the pages mark and rank first (title, abstract, task, method or name, "
        "as whole words, ignoring case); a list in the config file, commas in the environment.",
    )
    watch_authors: Annotated[list[str], Flag(PAGE_COMMANDS, multiple=True)] = Field(
        default_factory=list,
        description="Authors whose papers the pages mark and rank first (a full name, or its end: LeCun).",
    )
    watch_organizations: Annotated[list[str], Flag(PAGE_COMMANDS, multiple=True)] = Field(
        default_factory=list,
        description="Organisations (as the listing names them) whose papers the pages mark and rank first.",
    )
    site: Annotated[Path | None, Flag(("daily",))] = Field(
        None,
        description="A static site (what `extractor site` writes) that `daily` refreshes after each day: "
        "the day's page, its neighbours, the index and the feed.",
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
                url = http_url(part)
                if url not in urls:
                    urls.append(url)
        return ",".join(urls) if urls else None

    @field_validator("watch_keywords", "watch_authors", "watch_organizations", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        """A list as it is; a string (the environment) split on commas; None as empty."""
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(*_NUMBERS, mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        """``concurrency = true`` in a config file is a mistake, not 1."""
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {str(value).lower()}")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> Settings:
        """Credentials in the base URL and an API key cannot both be sent (one is Basic
        auth, the other a Bearer token, and a request carries one Authorization header)."""
        if self.api_key is not None and any(urlsplit(url).username is not None for url in self.base_urls):
            raise ValueError(
                "the base URL carries credentials (user:password@) and an API key is set too: give one of them "
                "(unset the key, e.g. OPENAI_API_KEY, or take the credentials out of the URL)"
            )
        return self

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
        return ",".join(host_port(urlsplit(url)) for url in self.base_urls)

    @property
    def endpoint_display(self) -> str:
        """The base URL as it may be shown: without credentials, query or fragment (the
        replicas' joined by ", ")."""
        return ", ".join(display_url(url) for url in self.base_urls) if self.base_url else "https://api.openai.com/v1"

    @property
    def library_path(self) -> Path:
        """The library to use: ``library`` when set, else :func:`default_library`."""
        return self.library or default_library()

    @property
    def uses_model(self) -> bool:
        """Whether this run asks a model at all (not under policy ``rules``): the one answer
        to "does it need an endpoint, a bundled server, a model name?"."""
        return self.policy != "rules"

    def api_key_value(self) -> str:
        """The key to send; local servers accept any, so a placeholder when unset."""
        return self.api_key.get_secret_value() if self.api_key else "not-needed"


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
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a TOML text file (byte 0x{exc.object[exc.start]:02x} is not UTF-8)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc


def _unknown(names: set[str], where: str) -> ConfigError:
    """The error for settings that do not exist, each with the closest that does."""
    known = [name for name in Settings.model_fields if name != "origin"]
    said = []
    for name in sorted(names):
        close = difflib.get_close_matches(name, known, n=1)
        said.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    return ConfigError(f"{where}unknown setting {', '.join(said)}; the settings are: {', '.join(known)}")


def _validation_error(exc: ValidationError, origin: dict[str, str]) -> ConfigError:
    """One line for what pydantic refused, naming the setting and where it came from."""
    err = exc.errors()[0]
    message = str(err["ctx"]["error"]) if err["type"] == "value_error" and "ctx" in err else err["msg"]
    if not err["loc"]:  # a rule across settings
        sources = ", ".join(f"{name} from {origin.get(name, 'code')}" for name in ("base_url", "api_key"))
        return ConfigError(f"{message} ({sources})")
    field = str(err["loc"][0])
    return ConfigError(f"setting {field!r} from {origin.get(field, '?')}: {message}")


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config: str | Path | None = None,
) -> Settings:
    """Merge flags, environment and config file into one :class:`Settings`.

    ``flags`` holds values given on the command line or in code; ``None`` values are
    treated as not given. ``env`` defaults to ``os.environ``. A name that is no setting
    (``concurency=4``), in ``flags`` or in the config file, is refused with the closest
    one, and every refused value is one :class:`~extractor.errors.ConfigError` naming the
    setting and where it came from.
    """
    env = os.environ if env is None else env
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    if unknown_flags := set(flags) - set(Settings.model_fields) | ({"origin"} & set(flags)):
        raise _unknown(unknown_flags, "")
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
    unknown = set(from_file) - set(Settings.model_fields) | ({"origin"} & set(from_file))
    if unknown:
        raise _unknown(unknown, f"{config_path}: ")
    try:
        return Settings(**values, origin=origin)
    except ValidationError as exc:
        raise _validation_error(exc, origin) from exc
