"""The answer cache: one ``diskcache`` directory, on by default.

A key covers everything that changes the answer — model, sampling parameters, mode,
prompt hash, the response schema's JSON Schema and the exact messages sent (so the input
text) — and never the API key or the endpoint address (the same model behind another
URL gives the same answer). Values are the validated answer plus its token counts.

The location is ``--cache-dir``, else ``EXTRACTOR_CACHE_DIR``, else the user cache
directory (``~/.cache/extractor`` on Linux); ``--no-cache`` turns it off.

Example:
    >>> import tempfile
    >>> c = ResultCache(tempfile.mkdtemp())
    >>> k = c.key({"model": "m", "messages": []})
    >>> c.get(k) is None
    True
    >>> c.set(k, {"answer": 1}); c.get(k)
    {'answer': 1}
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import diskcache

__all__ = ["CacheInfo", "ResultCache"]

_STATS_KEY = "__extractor_last_run__"


class CacheInfo(dict[str, Any]):
    """Entries, bytes on disk, and hits/misses of the last run that recorded them."""


class ResultCache:
    """A thin typed wrapper over ``diskcache.Cache`` that counts hits and misses."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._cache = diskcache.Cache(str(self.directory), size_limit=2**33)
        self._meta: diskcache.Cache | None = None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(parts: dict[str, Any]) -> str:
        """A stable hex key of everything that changes the answer."""
        blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._cache.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value  # type: ignore[no-any-return]

    def set(self, key: str, value: dict[str, Any]) -> None:
        self._cache.set(key, value)

    def _meta_cache(self) -> diskcache.Cache:
        if self._meta is None:
            self._meta = diskcache.Cache(str(self.directory / "meta"))
        return self._meta

    def get_meta(self, key: str) -> dict[str, Any] | None:
        """A remembered fact about an endpoint (e.g. the mode its probe found); not an
        answer, so neither counted as a hit or miss nor listed as an entry."""
        return self._meta_cache().get(key)  # type: ignore[no-any-return]

    def set_meta(self, key: str, value: dict[str, Any]) -> None:
        self._meta_cache().set(key, value)

    def record_run(self) -> None:
        """Remember this run's hit and miss counts for ``extractor cache info``."""
        self._cache.set(_STATS_KEY, {"hits": self.hits, "misses": self.misses})

    def info(self) -> CacheInfo:
        last = self._cache.get(_STATS_KEY)
        entries = len(self._cache) - (1 if last is not None else 0)
        last = last or {}
        hits, misses = last.get("hits", 0), last.get("misses", 0)
        return CacheInfo(
            directory=str(self.directory),
            entries=entries,
            size_bytes=self._cache.volume(),
            last_run_hits=hits,
            last_run_misses=misses,
            last_run_hit_rate=(hits / (hits + misses)) if hits + misses else None,
        )

    def clear(self) -> int:
        """Remove every answer (and the last run's counts); return how many answers there were."""
        had_stats = _STATS_KEY in self._cache
        self._meta_cache().clear()
        return max(0, self._cache.clear() - (1 if had_stats else 0))

    def close(self) -> None:
        self._cache.close()
        if self._meta is not None:
            self._meta.close()
